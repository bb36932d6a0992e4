"""Every change is kept with who, when and what; any version can be restored."""

import datetime

import pytest
from django.contrib import admin
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from casestudies.models import CaseStudy, Section
from catalogue.models import Figure, Place, PlaceKind

from .editing_helpers import form_data, page_text

OLD_DAY = datetime.datetime(2025, 1, 15, 10, 0, tzinfo=datetime.UTC)


@pytest.fixture
def camille(django_user_model, corpus):
    user = django_user_model.objects.create_superuser(
        "camille", "camille@example.org", "pw", first_name="Camille", last_name="Roux"
    )
    client = Client()
    client.force_login(user)
    client.user = user
    return client


def change_url(obj):
    opts = obj._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])


def history_url(obj):
    opts = obj._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_history", args=[obj.pk])


def edit(client, obj, **changes):
    data = form_data(client.get(change_url(obj)))
    data.update(changes)
    response = client.post(change_url(obj), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    return response


def test_an_edit_in_the_admin_appears_in_the_history_with_its_author_and_old_and_new_values(
    camille, make_place
):
    place = make_place(name="Fabrique de Nyons", summary="Ancien résumé.")
    edit(camille, place, name="Fabrique numérique de Nyons")
    response = camille.get(history_url(place))
    assert response.status_code == 200
    text = page_text(response)
    assert "Nom : Fabrique de Nyons → Fabrique numérique de Nyons" in text or (
        "Nom: Fabrique de Nyons → Fabrique numérique de Nyons" in text
    )
    assert "camille" in text  # who
    record = place.history.latest()
    assert record.history_user == camille.user
    assert record.history_type == "~"


def test_restoring_an_earlier_version_brings_back_its_values_and_is_itself_recorded(
    camille, make_place
):
    place = make_place(name="Tiers-lieu des Baronnies", kinds=("tiers-lieu",))
    first = place.history.latest()
    edit(
        camille,
        place,
        name="Tiers-lieu renommé",
        kinds=[str(PlaceKind.objects.get(slug="coworking").pk)],
    )
    place.refresh_from_db()
    assert place.name == "Tiers-lieu renommé"

    revert_url = reverse("admin:catalogue_place_simple_history", args=[place.pk, first.pk])
    page = camille.get(revert_url)
    assert page.status_code == 200
    assert "Rétablir" in page_text(page)
    response = camille.post(revert_url, form_data(page))
    assert response.status_code == 302

    place.refresh_from_db()
    assert place.name == "Tiers-lieu des Baronnies"
    assert [k.slug for k in place.kinds.all()] == ["tiers-lieu"]
    latest = place.history.latest()
    assert latest.history_user == camille.user
    assert latest.history_change_reason.startswith("Version du ")
    assert "restaurée" in latest.history_change_reason
    text = page_text(camille.get(history_url(place)))
    assert "Tiers-lieu renommé → Tiers-lieu des Baronnies" in text


def test_a_stale_revert_form_is_refused_like_any_other(camille, make_place):
    place = make_place(name="Premier nom")
    first = place.history.latest()
    edit(camille, place, name="Deuxième nom")
    revert_url = reverse("admin:catalogue_place_simple_history", args=[place.pk, first.pk])
    page = camille.get(revert_url)
    edit(camille, Place.objects.get(pk=place.pk), name="Troisième nom")  # meanwhile
    response = camille.post(revert_url, form_data(page))
    assert response.status_code == 200
    assert "après que vous l'avez ouverte" in page_text(response)
    place.refresh_from_db()
    assert place.name == "Troisième nom"


def test_the_place_history_page_lists_the_changes_of_its_figures(camille, make_place, make_figure):
    place = make_place()
    figure = make_figure(place, indicator="staff", value=4)
    data = form_data(camille.get(change_url(place)))
    index = next(
        key.split("-")[1]
        for key, value in data.items()
        if key.startswith("figures-") and key.endswith("-id") and value == str(figure.pk)
    )
    data[f"figures-{index}-value"] = "6"
    assert camille.post(change_url(place), data).status_code == 302
    text = page_text(camille.get(history_url(place)))
    assert "Historique de ses chiffres" in text
    children = text[text.index("Historique de ses chiffres") :]
    assert "Valeur: 4.00 → 6.00" in children or "Valeur : 4,00 → 6,00" in children
    assert "Libellé" not in children  # only what changed
    assert "None" not in text
    figure_history = reverse("admin:catalogue_figure_history", args=[figure.pk])
    assert figure_history in camille.get(history_url(place)).content.decode()


def test_a_section_can_be_restored_from_its_own_history(camille, make_case_study):
    case = make_case_study(sections=1)
    section = case.sections.get()
    first = section.history.latest()
    data = form_data(camille.get(change_url(case)))
    data["sections-0-body"] = "Texte remplacé."
    assert camille.post(change_url(case), data).status_code == 302
    text = page_text(camille.get(history_url(case)))
    assert "Historique de ses sections" in text
    assert "Texte de la partie 1. → Texte remplacé." in text

    revert_url = reverse("admin:casestudies_section_simple_history", args=[section.pk, first.pk])
    page = camille.get(revert_url)
    assert camille.post(revert_url, form_data(page)).status_code == 302
    assert Section.objects.get(pk=section.pk).body == "Texte de la partie 1."


def set_history_dates(obj, when):
    """Pretend the record and its children were last changed on ``when``."""
    obj.history.model.objects.filter(id=obj.pk).update(history_date=when)
    if isinstance(obj, Place):
        Figure.history.model.objects.filter(place_id=obj.pk).update(history_date=when)
    else:
        Section.history.model.objects.filter(case_study_id=obj.pk).update(history_date=when)


def test_the_place_page_shows_when_it_was_last_modified_and_a_figure_edit_moves_it(
    client, make_place, make_figure
):
    place = make_place()
    figure = make_figure(place)
    set_history_dates(place, OLD_DAY)
    text = page_text(client.get(place.get_absolute_url()))
    assert "Dernière vérification d'après ses sources" in text or "vérifi" in text
    assert "Dernière modification 15 janvier 2025" in text

    figure.value = 1234
    figure.save()
    text = page_text(client.get(place.get_absolute_url()))
    assert "15 janvier 2025" not in text
    today = datetime.date.today()
    assert f"Dernière modification {today.day}" in text
    english = page_text(client.get("/en" + place.get_absolute_url()))
    assert "Last modified" in english


def test_the_case_study_page_shows_when_it_or_its_sections_last_changed(client, make_case_study):
    case = make_case_study(sections=2)
    set_history_dates(case, OLD_DAY)
    text = page_text(client.get(case.get_absolute_url()))
    assert "Dernière modification le 15 janvier 2025" in text
    section = case.sections.first()
    section.body = "Nouveau texte."
    section.save()
    text = page_text(client.get(case.get_absolute_url()))
    assert "Dernière modification le 15 janvier 2025" not in text
    assert "Dernière modification le" in text


def test_every_history_page_answers_with_its_diff(camille):
    """Each admin with history, on a record of the corpus."""
    for model in admin.site._registry:
        if not hasattr(model, "history") or model._meta.app_label not in (
            "catalogue",
            "casestudies",
        ):
            continue
        obj = model.objects.first()
        response = camille.get(history_url(obj))
        assert response.status_code == 200, model
        assert "Modifications" in page_text(response), model


def test_the_place_history_page_costs_a_fixed_number_of_queries(camille, make_place, make_figure):
    place = make_place()
    for value in (1, 2, 3):
        figure = make_figure(place, indicator="staff", value=value, headline=value == 1)
        figure.value += 10
        figure.save()
    camille.get(history_url(place))
    with CaptureQueriesContext(connection) as few:
        camille.get(history_url(place))
    for value in (4, 5, 6):
        figure = make_figure(place, indicator="members", value=value, headline=False)
        figure.value += 10
        figure.save()
    with CaptureQueriesContext(connection) as more:
        camille.get(history_url(place))
    assert len(more) == len(few)


def test_case_study_models_keep_their_history(make_case_study):
    case = make_case_study(sections=1)
    assert CaseStudy.history.filter(id=case.pk).count() >= 1


def history_admins():
    return [
        model
        for model in admin.site._registry
        if hasattr(model, "history") and model._meta.app_label in ("catalogue", "casestudies")
    ]


@pytest.mark.parametrize("model", history_admins(), ids=lambda m: m._meta.label)
def test_every_kind_of_record_is_restored_through_its_version_page(camille, model):
    """The path of a restore, on each model with history (earlier versions of places and
    sections are restored in the tests above)."""
    obj = model.objects.first()
    first = obj.history.latest()
    opts = model._meta
    url = reverse(
        f"admin:{opts.app_label}_{opts.model_name}_simple_history", args=[obj.pk, first.pk]
    )
    page = camille.get(url)
    assert page.status_code == 200
    # The page names the version in French, not « Historical chiffres ».
    assert "Historical" not in page_text(page)
    assert "version" in page_text(page).lower()
    response = camille.post(url, form_data(page))
    assert response.status_code == 302, response.context["adminform"].form.errors
    latest = obj.history.latest()
    assert "restaurée" in latest.history_change_reason
    assert latest.history_user == camille.user
