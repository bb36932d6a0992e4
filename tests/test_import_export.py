"""Places imported from CSV or XLSX through the admin (preview, then confirm) and the
changelist exported as CSV and XLSX."""

import csv
import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from catalogue.models import Figure, Place, PlaceSearch

from .editing_helpers import page_text

HEADERS = [
    "slug",
    "name",
    "aliases",
    "kinds",
    "services",
    "territory",
    "setting",
    "year_opened",
    "latitude",
    "longitude",
    "summary",
]

GOOD_ROWS = [
    [
        "la-fabrique-du-vigan",
        "La Fabrique du Vigan",
        "La Fabrique; Fabrique du Vigan",
        "tiers-lieu; fab-lab",
        "coworking",
        "drome-26",
        "rural",
        "2019",
        "44,99",
        "3,6",
        "Un tiers-lieu créé par des habitants.",
    ],
    [
        "",
        "Atelier des Possibles",
        "",
        "coworking",
        "",
        "drome-26",
        "petite-ville",
        "",
        "",
        "",
        "Un espace de travail partagé.",
    ],
]


@pytest.fixture
def editor(client, django_user_model, corpus):
    user = django_user_model.objects.create_superuser("importatrice", "i@example.org", "pw")
    client.force_login(user)
    client.user = user
    return client


def csv_file(rows, headers=HEADERS, name="lieux.csv"):
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headers)
    writer.writerows(rows)
    return SimpleUploadedFile(name, out.getvalue().encode(), content_type="text/csv")


def xlsx_file(rows, headers=HEADERS, name="lieux.xlsx"):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return SimpleUploadedFile(
        name,
        out.getvalue(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


def format_index(response, label):
    """The import form's choice for a format (« csv », « xlsx »)."""
    choices = response.context["form"].fields["format"].choices
    return next(value for value, text in choices if text.lower() == label)


def preview(editor, upload, label):
    url = reverse("admin:catalogue_place_import")
    page = editor.get(url)
    return editor.post(url, {"format": format_index(page, label), "import_file": upload})


def confirm(editor, response):
    confirm_form = response.context["confirm_form"]
    data = {name: confirm_form[name].value() for name in confirm_form.fields}
    return editor.post(reverse("admin:catalogue_place_process_import"), data, follow=True)


def test_a_csv_of_places_is_previewed_then_imported_as_drafts_of_the_importing_user(editor):
    response = preview(editor, csv_file(GOOD_ROWS), "csv")
    assert response.status_code == 200
    assert response.context["confirm_form"] is not None
    text = page_text(response)
    assert "Aperçu" in text and "La Fabrique du Vigan" in text
    # The preview wrote nothing.
    assert not Place.objects.filter(name="La Fabrique du Vigan").exists()

    done = confirm(editor, response)
    assert "2 nouveaux" in page_text(done)
    place = Place.objects.get(slug="la-fabrique-du-vigan")
    assert place.editorial_status == Place.EditorialStatus.DRAFT
    assert place.created_by == editor.user
    assert place.aliases == ["La Fabrique", "Fabrique du Vigan"]
    assert sorted(place.kinds.values_list("slug", flat=True)) == ["fab-lab", "tiers-lieu"]
    assert list(place.services.values_list("slug", flat=True)) == ["coworking"]
    assert place.year_opened == 2019
    assert str(place.latitude) == "44.99000"
    assert place.departement.slug == "drome-26"
    # A row without a slug gets one from its name.
    assert Place.objects.get(slug="atelier-des-possibles").editorial_status == "draft"
    # Their search documents are built, and their history names the importer.
    assert PlaceSearch.objects.filter(place=place).exclude(digest="").exists()
    assert place.history.first().history_user == editor.user


def test_an_xlsx_with_an_unknown_kind_and_a_year_out_of_range_shows_each_rows_errors(editor):
    rows = [
        [*GOOD_ROWS[0][:3], "tiers-lieu; fablab-inconnu", *GOOD_ROWS[0][4:]],
        [
            "le-vieux-moulin",
            "Le Vieux Moulin",
            "",
            "tiers-lieu",
            "",
            "drome-26",
            "rural",
            1492,
            "",
            "",
            "Un moulin.",
        ],
        [
            "lieu-sans-territoire",
            "Lieu perdu",
            "",
            "tiers-lieu",
            "",
            "nulle-part",
            "rural",
            "",
            "",
            "",
            "",
        ],
    ]
    response = preview(editor, xlsx_file(rows), "xlsx")
    assert response.status_code == 200
    assert response.context.get("confirm_form") is None
    invalid = {row.number: row for row in response.context["result"].invalid_rows}
    assert sorted(invalid) == [1, 2, 3]
    kinds_error = " ".join(invalid[1].field_specific_errors["kinds"])
    assert "Type de lieu inconnu : « fablab-inconnu »" in kinds_error
    assert "tiers-lieu" in kinds_error  # the known kinds are listed
    year_error = " ".join(invalid[2].field_specific_errors["year_opened"])
    assert (
        year_error == "1492 n'est pas une année plausible : saisissez une année entre 1800 et 2100."
    )
    territory_error = " ".join(invalid[3].field_specific_errors["territory"])
    assert "Territoire inconnu : « nulle-part »" in territory_error
    text = page_text(response)
    assert "Type de lieu inconnu" in text and "saisissez une année entre 1800 et 2100" in text
    assert not Place.objects.filter(slug__in=["la-fabrique-du-vigan", "le-vieux-moulin"]).exists()


def test_a_territory_is_found_by_its_insee_code(editor):
    rows = [["lieu-drome", "Lieu drômois", "", "tiers-lieu", "", "26", "rural", "", "", "", ""]]
    response = preview(editor, csv_file(rows), "csv")
    assert response.context["confirm_form"] is not None
    confirm(editor, response)
    assert Place.objects.get(slug="lieu-drome").territory.slug == "drome-26"


def test_a_row_for_an_existing_place_is_skipped_and_reported_never_applied(editor):
    existing = Place.objects.get(slug="fab-lab-crest")
    summary = existing.summary
    rows = [
        [
            "fab-lab-crest",
            "Nom écrasé",
            "",
            "tiers-lieu",
            "",
            "drome-26",
            "rural",
            "",
            "",
            "",
            "Résumé écrasé.",
        ],
        GOOD_ROWS[0],
    ]
    response = preview(editor, csv_file(rows), "csv")
    assert "1 ligne désigne un lieu déjà dans le catalogue : elle sera ignorée" in page_text(
        response
    )
    done = confirm(editor, response)
    existing.refresh_from_db()
    assert (existing.name, existing.summary) != ("Nom écrasé", "Résumé écrasé.")
    assert existing.summary == summary
    text = page_text(done)
    assert "Laissé tel quel, déjà dans le catalogue" in text and existing.name in text
    assert Place.objects.filter(slug="la-fabrique-du-vigan").exists()


def export(editor, url, label, query=""):
    page = editor.get(url + query)
    form = page.context["form"]
    data = {
        name: "on"
        for name, field in form.fields.items()
        if name.startswith(("placeresource_", "figureresource_"))
    }
    choices = form.fields["format"].choices
    data["format"] = next(value for value, text in choices if text.lower() == label)
    return editor.post(url + query, data)


def test_the_places_changelist_exports_as_csv_with_kinds_separated_by_semicolons(editor):
    url = reverse("admin:catalogue_place_export")
    response = export(editor, url, "csv", "?editorial_status__exact=published")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    crest = next(row for row in rows if row["slug"] == "fab-lab-crest")
    place = Place.objects.get(slug="fab-lab-crest")
    assert crest["name"] == place.name
    assert crest["kinds"] == "; ".join(place.kinds.values_list("slug", flat=True))
    assert crest["region"] == place.region.name
    assert len(rows) == Place.objects.published().count()


def test_the_places_changelist_exports_as_xlsx_readable_by_a_spreadsheet(editor):
    response = export(editor, reverse("admin:catalogue_place_export"), "xlsx")
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("slug", "name", "aliases")
    assert len(rows) - 1 == Place.objects.count()


def test_figures_export_as_csv_with_their_place_and_source(editor):
    response = export(editor, reverse("admin:catalogue_figure_export"), "csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert len(rows) == Figure.objects.count()
    figure = Figure.objects.select_related("place", "source", "indicator").first()
    assert any(
        row["place"] == figure.place.slug
        and row["indicator"] == figure.indicator.slug
        and row["source"] == figure.source.slug
        for row in rows
    )


def test_the_import_page_explains_the_columns_and_the_create_only_rule(editor):
    text = page_text(editor.get(reverse("admin:catalogue_place_import")))
    assert "séparés par « ; »" in text
    assert "L'import ne fait que créer des lieux, en brouillon" in text
