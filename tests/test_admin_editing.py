"""The admin as an editing tool: provenance of what editors add, sensible defaults, errors
in words next to their field, near-duplicates, stale quotes of a changed figure."""

import datetime
import html
import re
import time
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils.text import slugify

from casestudies.models import ComparisonTable, Section
from catalogue.models import (
    Figure,
    Funding,
    Indicator,
    Lesson,
    Organisation,
    Place,
    PlaceKind,
    Source,
    Territory,
)
from catalogue.quotes import value_pattern

from .editing_helpers import form_data, page_text


@pytest.fixture
def editor(client, django_user_model, corpus):
    user = django_user_model.objects.create_superuser("editrice", "e@example.org", "pw")
    client.force_login(user)
    client.user = user
    return client


def error_next_to(response, field_id):
    """The text of the error list Django renders next to the field whose id is `field_id`
    (`id_year_opened`, `id_figures-0-section`), or ""."""
    content = response.content.decode()
    match = re.search(
        rf'<ul class="errorlist"[^>]*id="{re.escape(field_id)}_error"[^>]*>(.*?)</ul>',
        content,
        re.S,
    )
    if not match:
        return ""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", match.group(1))).split())


def no_constraint_message(response):
    text = page_text(response)
    return "contrainte" not in text.lower() and "constraint" not in text.lower()


def place_data(**fields):
    """An add form for a place in the Drôme, without figures, fundings or lessons."""
    data = {
        "name": "La Fabrique du Vigan",
        "slug": "la-fabrique-du-vigan",
        "aliases": "",
        "kinds": [PlaceKind.objects.get(slug="tiers-lieu").pk],
        "editorial_status": "draft",
        "territory": Territory.objects.get(slug="drome-26").pk,
        "setting": "rural",
        "status": "active",
        "summary": "Un tiers-lieu créé par des habitants.",
    }
    for prefix in ("figures", "fundings", "lessons"):
        data[f"{prefix}-TOTAL_FORMS"] = "0"
        data[f"{prefix}-INITIAL_FORMS"] = "0"
    data.update(fields)
    return data


def with_figures(data, *figures):
    data["figures-TOTAL_FORMS"] = str(len(figures))
    for index, figure in enumerate(figures):
        for name, value in figure.items():
            data[f"figures-{index}-{name}"] = value
    return data


def indicator(slug):
    return Indicator.objects.get(slug=slug).pk


def memento():
    return Source.objects.get(kind=Source.Kind.MEMENTO)


@pytest.fixture
def interview(corpus):
    return Source.objects.create(
        slug="entretien-dupont-2026",
        title="Entretien sur la Fabrique",
        kind=Source.Kind.INTERVIEW,
        authors="Marie Dupont",
        date=datetime.date(2026, 3, 12),
    )


# -- aliases, kinds, defaults ---------------------------------------------------------------


def test_aliases_typed_one_per_line_are_stored_as_a_list_and_shown_back_one_per_line(editor):
    # Blank lines and exact repeats go; a name in other capitals is another spelling the
    # sources use (« SAMOA » and « Samoa »), and stays.
    aliases = "La Fabrique\n\n  Fabrique  du Vigan \nLa Fabrique\nLA FABRIQUE\n"
    response = editor.post(reverse("admin:catalogue_place_add"), place_data(aliases=aliases))
    assert response.status_code == 302, response.context["adminform"].form.errors
    place = Place.objects.get(slug="la-fabrique-du-vigan")
    assert place.aliases == ["La Fabrique", "Fabrique du Vigan", "LA FABRIQUE"]
    assert place.editorial_status == Place.EditorialStatus.DRAFT
    page = editor.get(reverse("admin:catalogue_place_change", args=[place.pk]))
    textarea = re.search(
        r'<textarea name="aliases"[^>]*>(.*?)</textarea>', page.content.decode(), re.S
    )
    assert html.unescape(textarea.group(1)).strip() == "La Fabrique\nFabrique du Vigan\nLA FABRIQUE"


def test_kinds_and_services_are_checkboxes_and_the_territory_an_autocomplete(editor):
    content = editor.get(reverse("admin:catalogue_place_add")).content.decode()
    assert re.search(r'<input type="checkbox" name="kinds" value="\d+"', content)
    assert re.search(r'<input type="checkbox" name="services" value="\d+"', content)
    # One box to tick is enough: no `required` on each of them.
    assert not re.search(r'<input type="checkbox" name="kinds"[^>]*required', content)
    territory = re.search(r'<select name="territory"[^>]*>', content).group(0)
    assert "admin-autocomplete" in territory
    # The territory select starts empty: 35,000 communes are never listed in the page.
    options = re.search(r'<select name="territory".*?</select>', content, re.S).group(0)
    assert options.count("<option") <= 1


def test_every_non_obvious_place_field_has_a_french_help_text(editor):
    form = editor.get(reverse("admin:catalogue_place_add")).context["adminform"].form
    for name in ("aliases", "territory", "year_opened", "latitude", "summary", "kinds"):
        assert form.fields[name].help_text, name
    assert "une ligne par nom" in str(form.fields["aliases"].help_text).lower() or (
        "un nom par ligne" in str(form.fields["aliases"].help_text).lower()
    )


def test_a_new_place_is_a_draft_created_by_its_editor(editor):
    data = place_data()
    del data["editorial_status"]
    editor.post(reverse("admin:catalogue_place_add"), data)
    form = editor.get(reverse("admin:catalogue_place_add")).context["adminform"].form
    assert form["editorial_status"].value() == "draft"


# -- provenance -----------------------------------------------------------------------------


def test_the_source_popup_offers_a_short_form_without_document_kinds(editor):
    url = reverse("admin:catalogue_source_add") + "?_to_field=id&_popup=1"
    form = editor.get(url).context["adminform"].form
    assert list(form.fields) == ["kind", "title", "authors", "publishers", "date", "url", "slug"]
    kinds = [value for value, _label in form.fields["kind"].choices]
    assert "interview" in kinds and "visit" in kinds and "website" in kinds
    assert "memento" not in kinds and "study" not in kinds


def test_an_interview_source_created_in_the_popup_gets_a_slug_from_its_title(editor):
    url = reverse("admin:catalogue_source_add") + "?_to_field=id&_popup=1"
    data = {
        "_popup": "1",
        "_to_field": "id",
        "kind": "interview",
        "title": "Entretien avec la directrice",
        "authors": "Marie Dupont",
        "date": "2026-03-12",
        "url": "",
        "slug": "",
    }
    response = editor.post(url, data)
    assert response.status_code == 200
    source = Source.objects.get(title="Entretien avec la directrice")
    assert source.slug == "entretien-avec-la-directrice-2026-03-12"
    # The popup closes by handing the new source to the row that opened it.
    assert "popup_response" in response.templates[0].name
    assert str(source.pk) in response.content.decode()


def test_an_interview_without_a_date_or_a_person_is_refused_next_to_those_fields(editor):
    url = reverse("admin:catalogue_source_add") + "?_popup=1"
    data = {"_popup": "1", "kind": "interview", "title": "Entretien", "authors": "", "date": ""}
    response = editor.post(url, data)
    assert response.status_code == 200
    assert "Donnez la date de l'entretien." in error_next_to(response, "id_date")
    assert "Nommez la ou les personnes interrogées." in error_next_to(response, "id_authors")
    assert not Source.objects.filter(title="Entretien").exists()


def test_a_figure_from_an_interview_saves_without_a_section_and_becomes_the_headline(
    editor, interview
):
    data = with_figures(
        place_data(editorial_status="published"),
        {"indicator": indicator("surface_m2"), "value": "420", "source": interview.pk},
    )
    response = editor.post(reverse("admin:catalogue_place_add"), data, follow=True)
    assert response.redirect_chain, response.context["adminform"].form.errors
    figure = Figure.objects.get(place__slug="la-fabrique-du-vigan")
    assert figure.section == ""
    assert figure.headline is True
    assert "est désormais la valeur de référence" in page_text(response)


def test_numbers_are_typed_the_french_way_and_shown_back_so(editor, interview):
    data = with_figures(
        place_data(latitude="43,99", longitude="3,6"),
        {"indicator": indicator("staff"), "value": "12,5", "source": interview.pk},
    )
    response = editor.post(reverse("admin:catalogue_place_add"), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    place = Place.objects.get(slug="la-fabrique-du-vigan")
    assert place.latitude == Decimal("43.99")
    assert Figure.objects.get(place=place).value == Decimal("12.5")
    page = editor.get(reverse("admin:catalogue_place_change", args=[place.pk]))
    html = page.content.decode()
    # A text input showing the French decimal comma, not a number input.
    assert 'name="figures-0-value" value="12,50"' in html
    assert 'type="number" name="figures-0-value"' not in html


def test_the_public_page_says_an_interview_figure_comes_from_the_interview(
    client, make_place, interview
):
    place = make_place(name="La Fabrique du Vigan")
    Figure.objects.create(
        place=place,
        indicator=Indicator.objects.get(slug="surface_m2"),
        value=Decimal(420),
        headline=True,
        source=interview,
    )
    visit = Source.objects.create(
        slug="visite-2026", title="Visite", kind=Source.Kind.VISIT, date=datetime.date(2026, 2, 3)
    )
    website = Source.objects.create(
        slug="site-fabrique",
        title="La Fabrique du Vigan",
        kind=Source.Kind.WEBSITE,
        url="https://fabrique.example.org",
        date=datetime.date(2026, 1, 15),
    )
    Funding.objects.create(
        place=place,
        organisation=Organisation.objects.get(name="Région Bretagne"),
        amount_eur=Decimal(15000),
        source=website,
    )
    Lesson.objects.create(place=place, kind="success_factor", text="Des bénévoles.", source=visit)
    response = client.get(place.get_absolute_url())
    text = page_text(response)
    assert "Entretien avec Marie Dupont, 12 mars 2026" in text
    assert "Site web de La Fabrique du Vigan consulté le 15 janvier 2026" in text
    assert "Visite du 3 février 2026" in text
    assert "— ," not in text
    # A figure's source is a link to the source's page; a funding's and a lesson's are not.
    html = response.content.decode()
    assert (
        f'<a href="{interview.get_absolute_url()}">Entretien avec Marie Dupont, 12 mars 2026</a>'
        in html
    )
    funders = html.split('id="funders"')[1].split("</table>")[0]
    assert "Site web de La Fabrique du Vigan" in funders
    assert f'<a href="{website.get_absolute_url()}">' not in funders


def test_a_figure_from_a_document_still_names_its_section_on_the_public_page(client, corpus):
    figure = Figure.objects.filter(
        source__kind=Source.Kind.MEMENTO, place__editorial_status="published", headline=True
    ).first()
    text = page_text(client.get(figure.place.get_absolute_url()))
    assert f"{figure.source} — {figure.section}" in text


def test_a_figure_from_a_memento_without_a_section_is_refused_next_to_the_section(editor):
    source = memento()
    data = with_figures(
        place_data(),
        {"indicator": indicator("surface_m2"), "value": "420", "source": source.pk},
    )
    response = editor.post(reverse("admin:catalogue_place_add"), data)
    assert response.status_code == 200
    message = error_next_to(response, "id_figures-0-section")
    assert f"« {source} » est un document" in message
    assert "indiquez la section" in message
    assert not Place.objects.filter(slug="la-fabrique-du-vigan").exists()


# -- headlines ------------------------------------------------------------------------------


def test_the_only_figure_of_an_indicator_is_its_headline_and_two_without_one_are_flagged(
    editor, interview
):
    data = with_figures(
        place_data(),
        {"indicator": indicator("surface_m2"), "value": "420", "source": interview.pk},
        {"indicator": indicator("staff"), "value": "3", "year": "2024", "source": interview.pk},
        {"indicator": indicator("staff"), "value": "4", "year": "2025", "source": interview.pk},
    )
    response = editor.post(reverse("admin:catalogue_place_add"), data, follow=True)
    place = Place.objects.get(slug="la-fabrique-du-vigan")
    assert place.figures.get(indicator__slug="surface_m2").headline is True
    assert not place.figures.filter(indicator__slug="staff", headline=True).exists()
    text = page_text(response)
    staff = Indicator.objects.get(slug="staff")
    assert f"« {staff} » a 2 chiffres et aucune valeur de référence" in text


def test_two_headlines_for_one_indicator_are_refused_on_the_second_row_naming_the_first(
    editor, interview
):
    data = with_figures(
        place_data(),
        {"indicator": indicator("staff"), "value": "3", "headline": "on", "source": interview.pk},
        {"indicator": indicator("staff"), "value": "4", "headline": "on", "source": interview.pk},
    )
    response = editor.post(reverse("admin:catalogue_place_add"), data)
    assert response.status_code == 200
    message = error_next_to(response, "id_figures-1-headline")
    assert "« 3 » est déjà la valeur de référence" in message
    assert error_next_to(response, "id_figures-0-headline") == ""
    assert no_constraint_message(response)


def test_the_headline_moves_from_one_figure_to_another_in_one_save(
    editor, make_place, make_figure, interview
):
    place = make_place()
    first = make_figure(place, indicator="staff", value=3, headline=True, source=interview)
    second = make_figure(place, indicator="staff", value=4, headline=False, source=interview)
    url = reverse("admin:catalogue_place_change", args=[place.pk])
    data = form_data(editor.get(url))
    index = {
        data[k]: k.split("-")[1] for k in data if k.startswith("figures-") and k.endswith("-id")
    }
    data.pop(f"figures-{index[str(first.pk)]}-headline", None)
    data[f"figures-{index[str(second.pk)]}-headline"] = "on"
    response = editor.post(url, data)
    assert response.status_code == 302, response.context["inline_admin_formsets"][0].formset.errors
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.headline, second.headline) == (False, True)


def test_deleting_the_headline_figure_makes_the_one_left_the_headline(
    editor, make_place, make_figure, interview
):
    place = make_place()
    first = make_figure(place, indicator="staff", value=3, headline=True, source=interview)
    second = make_figure(place, indicator="staff", value=4, headline=False, source=interview)
    response = editor.post(
        reverse("admin:catalogue_figure_delete", args=[first.pk]), {"post": "yes"}, follow=True
    )
    second.refresh_from_db()
    assert second.headline is True
    assert "est désormais la valeur de référence" in page_text(response)


def test_deleting_the_headline_among_three_figures_says_one_must_be_chosen(
    editor, make_place, make_figure, interview
):
    place = make_place()
    figures = [
        make_figure(place, indicator="staff", value=v, headline=v == 3, source=interview)
        for v in (3, 4, 5)
    ]
    url = reverse("admin:catalogue_place_change", args=[place.pk])
    data = form_data(editor.get(url))
    row = next(
        k.split("-")[1] for k, v in data.items() if k.endswith("-id") and v == str(figures[0].pk)
    )
    data[f"figures-{row}-DELETE"] = "on"
    response = editor.post(url, data, follow=True)
    assert "a 2 chiffres et aucune valeur de référence" in page_text(response)


def test_a_figure_edited_on_its_own_page_cannot_take_the_headline_of_another(
    editor, make_place, make_figure, interview
):
    place = make_place()
    make_figure(place, indicator="staff", value=3, headline=True, source=interview, label="ETP")
    data = {
        "place": place.pk,
        "indicator": indicator("staff"),
        "value": "5",
        "headline": "on",
        "source": interview.pk,
    }
    response = editor.post(reverse("admin:catalogue_figure_add"), data)
    assert response.status_code == 200
    assert "« 3 (ETP) » est déjà la valeur de référence" in error_next_to(response, "id_headline")
    assert no_constraint_message(response)


# -- errors in words, next to the field -----------------------------------------------------


def test_out_of_range_values_are_refused_next_to_their_fields_with_the_allowed_range(
    editor, interview
):
    data = place_data(year_opened="1492", latitude="95", longitude="-200")
    with_figures(
        data,
        {
            "indicator": indicator("investment_eur"),
            "value": "500000",
            "value_max": "400000",
            "year": "3000",
            "source": interview.pk,
        },
        {"indicator": indicator("staff"), "value": "-2", "source": interview.pk},
    )
    data.update(
        {
            "fundings-TOTAL_FORMS": "1",
            "fundings-0-organisation": Organisation.objects.get(name="Région Bretagne").pk,
            "fundings-0-purpose": "investment",
            "fundings-0-amount_eur": "-10",
            "fundings-0-share_pct": "120",
            "fundings-0-source": interview.pk,
        }
    )
    response = editor.post(reverse("admin:catalogue_place_add"), data)
    assert response.status_code == 200
    expected = {
        "id_year_opened": (
            "1492 n'est pas une année plausible : saisissez une année entre 1800 et 2100."
        ),
        "id_latitude": "Une latitude est comprise entre −90 et 90 degrés",
        "id_longitude": "Une longitude est comprise entre −180 et 180 degrés",
        "id_figures-0-year": "saisissez une année entre 1800 et 2100",
        "id_figures-0-value_max": (
            "La borne supérieure (400 000) doit être supérieure ou égale à la valeur (500 000)"
        ),
        "id_figures-1-value": "Un chiffre ne peut pas être négatif",
        "id_fundings-0-amount_eur": "Un montant ne peut pas être négatif",
        "id_fundings-0-share_pct": "Une part est un pourcentage entre 0 et 100 %",
    }
    for field_id, message in expected.items():
        assert message in error_next_to(response, field_id), field_id
    assert no_constraint_message(response)
    assert not Place.objects.filter(slug="la-fabrique-du-vigan").exists()


def test_the_model_checks_hold_outside_the_admin(corpus):
    from django.core.exceptions import ValidationError

    place = Place(slug="x", name="X", year_opened=1492)
    with pytest.raises(ValidationError) as error:
        place.full_clean()
    assert "year_opened" in error.value.message_dict


def test_a_taken_slug_names_the_place_that_has_it(editor):
    other = Place.objects.get(slug="fab-lab-crest")
    response = editor.post(reverse("admin:catalogue_place_add"), place_data(slug="fab-lab-crest"))
    assert response.status_code == 200
    message = error_next_to(response, "id_slug")
    assert f"déjà utilisé par {other.name}" in message


def test_section_orders_repeated_in_a_case_study_are_refused_next_to_the_order(
    editor, make_case_study
):
    case = make_case_study(sections=2)
    url = reverse("admin:casestudies_casestudy_change", args=[case.pk])
    data = form_data(editor.get(url))
    data["sections-1-order"] = data["sections-0-order"]
    response = editor.post(url, data)
    assert response.status_code == 200
    assert "L'ordre 1 est déjà pris par la section « Partie 1 »" in error_next_to(
        response, "id_sections-1-order"
    )
    assert no_constraint_message(response)


def test_two_sections_swap_their_order_in_one_save(editor, make_case_study):
    case = make_case_study(sections=2)
    url = reverse("admin:casestudies_casestudy_change", args=[case.pk])
    data = form_data(editor.get(url))
    data["sections-0-order"], data["sections-1-order"] = "2", "1"
    assert editor.post(url, data).status_code == 302
    assert [s.heading for s in Section.objects.filter(case_study=case)] == ["Partie 2", "Partie 1"]


def test_a_headline_figure_column_without_an_indicator_is_refused_next_to_it(editor, corpus):
    table = ComparisonTable.objects.first()
    url = reverse("admin:casestudies_comparisontable_change", args=[table.pk])
    data = form_data(editor.get(url))
    total = int(data["columns-TOTAL_FORMS"])
    data["columns-TOTAL_FORMS"] = str(total + 1)
    data.update(
        {
            f"columns-{total}-order": "99",
            f"columns-{total}-key": "nouvelle",
            f"columns-{total}-label": "Nouvelle",
            f"columns-{total}-kind": "indicator",
        }
    )
    response = editor.post(url, data)
    assert response.status_code == 200
    assert "choisissez-le" in error_next_to(response, f"id_columns-{total}-indicator")
    assert no_constraint_message(response)


# -- territory and near-duplicates ----------------------------------------------------------


def test_the_territory_endpoint_gives_its_departement_and_region_to_staff_only(
    client, editor, make_territory, django_user_model
):
    commune = make_territory(name="Saillans")
    url = reverse("admin:catalogue_place_territory_info")
    answer = editor.get(url, {"id": commune.pk}).json()
    assert answer["departement"]["name"] == "Drôme (26)"
    assert answer["region"]["name"] == "Auvergne-Rhône-Alpes"
    assert answer["region"]["url"].startswith("/admin/catalogue/territory/")
    assert editor.get(url, {"id": "abc"}).status_code == 400
    assert editor.get(url, {"id": "999999"}).status_code == 404

    editor.logout()
    anonymous = client.get(url, {"id": commune.pk})
    assert anonymous.status_code == 302 and "/login/" in anonymous["Location"]
    visitor = django_user_model.objects.create_user("visiteur", password="pw")
    client.force_login(visitor)
    assert client.get(url, {"id": commune.pk}).status_code == 302


def test_the_place_form_loads_the_territory_script_and_tells_it_where_to_ask(editor):
    content = editor.get(reverse("admin:catalogue_place_add")).content.decode()
    assert "admin/js/innovplaces-place.js" in content
    assert f'data-territory-info-url="{reverse("admin:catalogue_place_territory_info")}"' in content


def organisation_data(name, kind="region", **extra):
    return {"name": name, "slug": slugify(name), "kind": kind, **extra}


@pytest.mark.parametrize(
    ("existing", "typed", "kind"),
    [
        ("Région Occitanie", "Region Occitanie", "region"),
        ("Communauté de communes du Pays de Redon", "CC du Pays de Redon", "epci"),
        ("Fondation de France", "Fondation de France.", "foundation"),
    ],
)
def test_a_new_organisation_close_to_an_existing_one_needs_a_confirmation(
    editor, existing, typed, kind
):
    other = Organisation.objects.create(name=existing, slug="existant", kind=kind)
    url = reverse("admin:catalogue_organisation_add")
    data = organisation_data(typed, kind=kind, slug="nouveau")
    response = editor.post(url, data)
    assert response.status_code == 200
    message = error_next_to(response, "id_name")
    assert f"existe déjà sous un nom proche : {existing}" in message
    change = reverse("admin:catalogue_organisation_change", args=[other.pk])
    assert f'href="{change}"' in response.content.decode()
    assert "Je confirme que c'est un autre organisme" in page_text(response)
    assert not Organisation.objects.filter(slug="nouveau").exists()

    response = editor.post(url, {**data, "confirm_distinct": "on"})
    assert response.status_code == 302
    assert Organisation.objects.get(slug="nouveau").name == typed


def test_a_different_organisation_goes_through_without_a_question(editor):
    response = editor.post(
        reverse("admin:catalogue_organisation_add"),
        organisation_data("Fondation Crédit Agricole Pays de France", kind="foundation"),
    )
    assert response.status_code == 302
    # The same name under another kind is not compared.
    Organisation.objects.create(name="Occitanie", slug="occ", kind="other")
    response = editor.post(
        reverse("admin:catalogue_organisation_add"), organisation_data("Région Occitanie")
    )
    assert response.status_code == 302


def test_a_close_territory_is_flagged_among_its_siblings_only(editor, make_territory):
    drome = Territory.objects.get(slug="drome-26")
    make_territory(name="Saint-Martin-en-Vercors", parent=drome)
    url = reverse("admin:catalogue_territory_add")
    data = {"name": "St Martin en Vercors", "slug": "st-martin", "kind": "commune"}
    response = editor.post(url, {**data, "parent": drome.pk})
    assert "Saint-Martin-en-Vercors" in error_next_to(response, "id_name")
    assert "Je confirme que c'est un autre territoire" in page_text(response)
    other = Territory.objects.exclude(pk=drome.pk).filter(kind="departement").first()
    assert editor.post(url, {**data, "parent": other.pk}).status_code == 302


def test_the_duplicate_check_stays_fast_with_35000_communes(editor, corpus):
    from catalogue.duplicates import near_duplicates

    Territory.objects.bulk_create(
        Territory(slug=f"commune-{n}", name=f"Commune numéro {n}", kind="commune")
        for n in range(35_000)
    )
    Territory.objects.create(slug="sainte-colombe", name="Sainte-Colombe-sur-Gand", kind="commune")
    start = time.perf_counter()
    found = near_duplicates(Territory.objects.filter(kind="commune"), "Ste Colombe sur Gand")
    elapsed = time.perf_counter() - start
    assert [t.name for t in found] == ["Sainte-Colombe-sur-Gand"]
    assert elapsed < 2, elapsed


# -- old values still quoted ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "unit", "quoted"),
    [
        ("20000000", "eur", ["20 M€", "20 millions", "20 000 000", "20 000 000 €", "€20 million"]),
        ("1200000", "eur", ["1,2 M€", "1 200 000 €", "1,2 million d'euros"]),
        ("350000", "eur", ["350 k€", "350 000 €", "350 K€"]),
        ("35", "pct", ["35 %", "35%", "35 pour cent"]),
        ("350", "m2", ["350 m²", "350 m2"]),
    ],
)
def test_a_value_is_found_as_people_write_it(value, unit, quoted):
    pattern = value_pattern(Decimal(value), unit)
    for text in quoted:
        assert pattern.search(f"Le projet cite {text} dans son bilan."), text


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [
        ("20000000", "eur", "120 M€"),
        ("20000000", "eur", "20,5 M€"),
        ("1200000", "eur", "1,25 M€"),
        ("35", "pct", "135 %"),
        ("35", "pct", "35 salariés"),
        ("350000", "eur", "1 350 k€"),
    ],
)
def test_another_number_is_not_taken_for_the_value(value, unit, text):
    assert not value_pattern(Decimal(value), unit).search(text)


def test_changing_a_figure_lists_the_texts_that_still_quote_its_old_value(
    editor, make_place, make_figure, make_case_study, interview
):
    place = make_place(summary="Un bâtiment rénové pour 20 M€ en 2019.")
    figure = make_figure(place, value=20_000_000, source=interview, label="Travaux")
    make_figure(
        place,
        indicator="operating_budget_eur",
        value=500_000,
        source=interview,
        label="Hors investissement de 20 000 000 €",
    )
    case = make_case_study(places=[place], sections=2)
    Section.objects.filter(case_study=case, order=2).update(
        body="Le chantier a coûté 20 millions d'euros."
    )
    Lesson.objects.create(
        place=place, kind="difficulty", text="Un budget de 35 % trop court.", source=interview
    )
    url = reverse("admin:catalogue_place_change", args=[place.pk])
    data = form_data(editor.get(url))
    row = next(
        k.split("-")[1] for k, v in data.items() if k.endswith("-id") and v == str(figure.pk)
    )
    data[f"figures-{row}-value"] = "25000000"
    response = editor.post(url, data, follow=True)
    content = response.content.decode()
    text = page_text(response)
    assert "est passée de 20 000 000 € à 25 000 000 €" in text
    assert "ces textes citent encore l'ancienne valeur" in text
    assert "Résumé du lieu" in text and "20 M€" in text
    assert "Section « Partie 2 »" in text
    assert f'href="{url}#id_summary"' in content
    case_url = reverse("admin:casestudies_casestudy_change", args=[case.pk])
    assert f'href="{case_url}#sections-1"' in content
    assert "Hors investissement de" in text
    assert "35 %" not in text


def test_changing_a_figure_on_its_own_page_lists_the_stale_texts_too(
    editor, make_place, make_figure, interview
):
    place = make_place(summary="Une part publique de 35 % du budget.")
    figure = make_figure(place, indicator="public_funding_share_pct", value=35, source=interview)
    url = reverse("admin:catalogue_figure_change", args=[figure.pk])
    data = form_data(editor.get(url))
    data["value"] = "40"
    response = editor.post(url, data, follow=True)
    text = page_text(response)
    assert "est passée de 35 % à 40 %" in text
    assert "Résumé du lieu" in text


def test_an_interview_cited_only_by_a_draft_is_not_public_yet(client, interview, make_place):
    draft = make_place(name="Brouillon cité", editorial_status="draft")
    Figure.objects.create(
        place=draft, indicator_id=indicator("surface_m2"), value=300, source=interview
    )
    assert interview.title not in page_text(client.get(reverse("catalogue:source-list")))
    assert client.get(interview.get_absolute_url()).status_code == 404
    draft.editorial_status = "published"
    draft.save()
    assert interview.title in page_text(client.get(reverse("catalogue:source-list")))
    assert client.get(interview.get_absolute_url()).status_code == 200


def test_the_place_change_page_costs_the_same_queries_with_more_figures(
    editor, make_place, make_figure, make_source
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    place = make_place(name="Lieu aux nombreux chiffres")
    sources = [make_source() for _ in range(3)]
    url = reverse("admin:catalogue_place_change", args=[place.pk])

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert editor.get(url).status_code == 200
        return len(captured)

    make_figure(place, indicator="staff", source=sources[0])
    queries()  # the first request fills per-process caches (content types, permissions)
    few = queries()
    for index, slug in enumerate(["users", "members", "jobs", "surface_m2", "turnover_eur"]):
        make_figure(place, indicator=slug, source=sources[index % 3])
    assert queries() == few
