import pytest
from django.apps import apps
from django.contrib import admin
from django.urls import reverse


@pytest.fixture
def editor_client(client, django_user_model, corpus):
    user = django_user_model.objects.create_superuser("editor", "editor@example.org", "pw")
    client.force_login(user)
    return client


def registered_models():
    return [
        model
        for model in admin.site._registry
        if model._meta.app_label in {"catalogue", "casestudies"}
    ]


@pytest.mark.parametrize("model", registered_models(), ids=lambda m: m._meta.label)
def test_admin_changelist_add_and_change_pages_answer(editor_client, model):
    opts = model._meta
    changelist = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
    assert editor_client.get(changelist).status_code == 200
    assert editor_client.get(changelist, {"q": "énergie"}).status_code == 200
    add = reverse(f"admin:{opts.app_label}_{opts.model_name}_add")
    assert editor_client.get(add).status_code == 200
    obj = model.objects.first()
    if obj is None and opts.label == "catalogue.Proposal":
        # Proposals come from visitors, not from the corpus: receive one.
        obj = model.objects.create(kind="new-place", place_name="Lieu proposé", message="Un lieu.")
    assert obj is not None, f"the corpus has no {opts.verbose_name}"
    change = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
    assert editor_client.get(change).status_code == 200


def test_every_model_of_both_apps_is_in_the_admin():
    models = [
        *apps.get_app_config("catalogue").get_models(),
        *apps.get_app_config("casestudies").get_models(),
    ]
    # Edited through their parent's inlines, or derived (the search index).
    not_standalone = {
        "Section",
        "ComparisonRow",
        "ComparisonColumn",
        "ComparisonCell",
        "DataVersion",
        "DataChange",
        "PlaceSearch",
        "PlaceSearchText",
        "SearchWord",
        "CorpusRecord",
    }
    missing = [
        m.__name__
        for m in models
        if m not in admin.site._registry
        and m.__name__ not in not_standalone
        # Shown through their record's history page.
        and not m.__name__.startswith("Historical")
    ]
    assert missing == []


def test_an_editor_creates_a_place_with_a_figure_in_the_admin(editor_client):
    from catalogue.models import Indicator, Place, PlaceKind, Source, Territory

    url = reverse("admin:catalogue_place_add")
    source = Source.objects.first()
    data = {
        "name": "Tiers-lieu de Test",
        "slug": "tiers-lieu-de-test",
        "aliases": "[]",
        "kinds": [PlaceKind.objects.get(slug="tiers-lieu").pk],
        "editorial_status": "published",
        "territory": Territory.objects.get(slug="drome-26").pk,
        "setting": "rural",
        "status": "active",
        "summary": "Un lieu créé par un éditeur.",
        "figures-TOTAL_FORMS": "1",
        "figures-INITIAL_FORMS": "0",
        "figures-0-indicator": Indicator.objects.get(slug="surface_m2").pk,
        "figures-0-value": "350",
        "figures-0-headline": "on",
        "figures-0-source": source.pk,
        "figures-0-section": "Fiche d'identité",
        "fundings-TOTAL_FORMS": "0",
        "fundings-INITIAL_FORMS": "0",
        "lessons-TOTAL_FORMS": "0",
        "lessons-INITIAL_FORMS": "0",
    }
    response = editor_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    place = Place.objects.get(slug="tiers-lieu-de-test")
    assert place.figures.get().value == 350
    assert place.region.slug == "auvergne-rhone-alpes"


def test_an_editor_creates_a_case_study_with_sections_in_the_admin(editor_client):
    from casestudies.models import CaseStudy
    from catalogue.models import Source

    data = {
        "title": "Nouvelle étude",
        "slug": "nouvelle-etude",
        "kind": "monograph",
        "source": Source.objects.first().pk,
        "editorial_status": "published",
        "sections-TOTAL_FORMS": "2",
        "sections-INITIAL_FORMS": "0",
        "sections-0-order": "1",
        "sections-0-kind": "contexte",
        "sections-0-heading": "Contexte",
        "sections-0-body": "Un *texte*.",
        "sections-1-order": "2",
        "sections-1-kind": "services",
        "sections-1-heading": "Services",
        "sections-1-body": "Des services.",
    }
    response = editor_client.post(reverse("admin:casestudies_casestudy_add"), data)
    assert response.status_code == 302
    case = CaseStudy.objects.get(slug="nouvelle-etude")
    assert [s.heading for s in case.sections.all()] == ["Contexte", "Services"]


def test_a_place_edited_in_the_admin_is_found_by_search(editor_client):
    from catalogue.models import Place

    place = Place.objects.get(slug="fab-lab-crest")
    url = reverse("admin:catalogue_place_change", args=[place.pk])
    response = editor_client.get(url)
    form = response.context["adminform"].form
    data = {name: form[name].value() for name in form.fields if name != "image"}
    data = {k: ("" if v is None else v) for k, v in data.items()}
    data["summary"] = place.summary + " Un atelier de vannerie zoomorphique y a ouvert."
    for inline in response.context["inline_admin_formsets"]:
        management = inline.formset.management_form
        for name in management.fields:
            data[f"{inline.formset.prefix}-{name}"] = management[name].value()
        for index, inline_form in enumerate(inline.formset.forms):
            for name in inline_form.fields:
                value = inline_form[name].value()
                if value is None or value is False:
                    continue
                data[f"{inline.formset.prefix}-{index}-{name}"] = "on" if value is True else value
    assert editor_client.post(url, data).status_code == 302
    found = editor_client.get(reverse("catalogue:place-list"), {"q": "zoomorphique"})
    assert [p.slug for p, _n, _s in found.context["results"]] == ["fab-lab-crest"]
