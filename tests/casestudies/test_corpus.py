"""The shipped corpus: it loads, it is valid, reloading is a no-op, the export keeps its shape."""

import io
import json

import pytest
from django.apps import apps
from django.core.management import call_command

from casestudies.corpus import load_corpus
from casestudies.models import CaseStudy, ComparisonTable
from catalogue.models import Place


@pytest.fixture
def export(corpus):
    out = io.StringIO()
    call_command("export_catalogue", stdout=out)
    return json.loads(out.getvalue())


def test_every_object_of_the_corpus_passes_model_validation(corpus):
    checked = 0
    for model in [
        *apps.get_app_config("catalogue").get_models(),
        *apps.get_app_config("casestudies").get_models(),
    ]:
        if model.__name__.startswith("Historical"):
            continue  # history rows are written by django-simple-history, never by a form
        for obj in model.objects.all():
            obj.full_clean()
            checked += 1
    assert checked > 500


def test_loading_the_corpus_twice_changes_nothing(corpus, export):
    report = load_corpus()
    assert report.writes == 0, (report.created, report.updated, report.deleted)
    out = io.StringIO()
    call_command("load_corpus", stdout=out)
    assert "nothing changed" in out.getvalue()
    again = io.StringIO()
    call_command("export_catalogue", stdout=again)
    assert json.loads(again.getvalue()) == export


def test_the_memento_brings_its_nine_places_with_their_monographs(corpus):
    memento = Place.objects.filter(sources__slug="memento-lieux-innovation")
    assert memento.count() == 9
    for place in memento:
        assert place.case_studies.filter(
            kind=CaseStudy.Kind.MONOGRAPH, source__slug="memento-lieux-innovation"
        ).exists(), place
    assert ComparisonTable.objects.filter(source__slug="memento-lieux-innovation").exists()


PLACE_FIELDS = {
    "slug": str,
    "name": str,
    "aliases": list,
    "kinds": list,
    "setting": str,
    "setting_as_stated": str,
    "commune": (str, type(None)),
    "departement": (str, type(None)),
    "region": (str, type(None)),
    "territory": (dict, type(None)),
    "legal_form": str,
    "year_opened": (int, type(None)),
    "figures": list,
    "funders": list,
    "services": list,
    "lessons": list,
    "case_studies": list,
    "sources": list,
}
FIGURE_FIELDS = {
    "indicator": str,
    "value": (int, float),
    "value_max": (int, float, type(None)),
    "year": (int, type(None)),
    "label": str,
    "headline": bool,
    "source": str,
    "section": str,
}
FUNDER_FIELDS = {
    "name": str,
    "kind": str,
    "purpose": str,
    "amount_eur": (int, float, type(None)),
    "share_pct": (int, float, type(None)),
}


def assert_shape(record, fields):
    for name, expected in fields.items():
        assert name in record, f"missing {name}"
        assert isinstance(record[name], expected), (name, record[name])


def test_export_follows_the_catalogue_contract(export):
    assert set(export) == {"sources", "places", "case_studies"}
    assert export["places"] and export["case_studies"] and export["sources"]
    slugs = [place["slug"] for place in export["places"]]
    assert slugs == sorted(slugs), "places come in a stable order"
    for place in export["places"]:
        assert_shape(place, PLACE_FIELDS)
        if place["territory"]:
            assert set(place["territory"]) >= {"name", "kind", "population"}
        for figure in place["figures"]:
            assert_shape(figure, FIGURE_FIELDS)
        for funder in place["funders"]:
            assert_shape(funder, FUNDER_FIELDS)
        for lesson in place["lessons"]:
            assert set(lesson) == {"kind", "theme", "text", "text_en"}
    for case in export["case_studies"]:
        assert_shape(
            case,
            {
                "slug": str,
                "title": str,
                "kind": str,
                "places": list,
                "source": str,
                "sections": list,
            },
        )
        for section in case["sections"]:
            assert set(section) == {"kind", "heading", "heading_en", "body"}
    known_places = set(slugs)
    assert all(set(case["places"]) <= known_places for case in export["case_studies"])


def test_export_leaves_out_drafts(corpus, make_place):
    make_place(name="Brouillon secret", editorial_status=Place.EditorialStatus.DRAFT)
    out = io.StringIO()
    call_command("export_catalogue", stdout=out)
    assert "Brouillon secret" not in out.getvalue()
