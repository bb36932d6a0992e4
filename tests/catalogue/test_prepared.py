"""The place page's statement and the directory's page of places are prepared on
PostgreSQL (catalogue/prepared.py), and the choice labels come from tables built once per
field (catalogue/display.py): the pages show what they showed before."""

import pytest
from django.core.cache import cache
from django.db import connection
from django.db.models import F
from django.utils import translation

from catalogue import prepared
from catalogue.models import Lesson, Place
from catalogue.place_page import _constants_written, places_by_ids

PREPARED = (
    "SELECT coalesce(sum(generic_plans + custom_plans), 0) FROM pg_prepared_statements "
    "WHERE statement LIKE %s"
)


def executions_prepared(pattern='%"catalogue_place"."slug" = $1%'):
    """How many times this connection ran a statement (by default the place page's) as
    prepared."""
    with connection.cursor() as cursor:
        cursor.execute(PREPARED, [pattern])
        return cursor.fetchone()[0]


def place_page(client, place):
    cache.clear()  # drawn, not taken from the page cache
    response = client.get(place.get_absolute_url())
    assert response.status_code == 200
    return response.content.decode()


def test_the_place_statement_is_prepared_once_and_run_for_each_place(
    postgres, client, corpus, django_assert_max_num_queries
):
    assert prepared.enabled(connection)
    places = list(Place.objects.published().order_by("slug")[:3])
    client.get(places[0].get_absolute_url())  # the facet index, built once per data change
    before = executions_prepared()
    for place in places:
        with django_assert_max_num_queries(6) as queries:
            html = place_page(client, place)
        assert f"<h1>{place.name}</h1>" in html
        # Logged as Django logs its own queries.
        # Logged as Django logs its own queries, parameters in place.
        assert any(
            f'"catalogue_place"."slug" = \'{place.slug}\'' in q["sql"]
            for q in queries.captured_queries
        )
    assert executions_prepared() == before + len(places)


def test_a_statement_keeps_one_parameter_its_constants_written_in(postgres):
    # catalogue.place_page.Statement: the constants of the place page's statement are
    # written into it; percent signs in them or in the SQL must come back as they were.
    sql, params, position = _constants_written(
        connection, "SELECT %s, '%%', %s, %s", ["50 % 'public'", None, "marker"], 2
    )
    assert (params, position) == (["marker"], 0)
    with connection.cursor() as cursor:
        cursor.execute(sql, ["a %s b"])
        assert cursor.fetchone() == ("50 % 'public'", "%", None, "a %s b")


def test_without_prepared_statements_the_place_page_is_the_same(
    postgres, client, corpus, monkeypatch
):
    place = Place.objects.get(slug="fab-lab-crest")
    with_them = place_page(client, place)
    before = executions_prepared()
    monkeypatch.setitem(connection.settings_dict["OPTIONS"], "prepare_threshold", None)
    assert not prepared.enabled(connection)
    without = place_page(client, place)
    assert executions_prepared() == before
    assert without == with_them
    assert "<h1>8 FabLab</h1>" in without


def test_prepared_cursors_are_ordinary_cursors_on_sqlite(db):
    if connection.vendor == "postgresql":
        pytest.skip("SQLite only")
    assert not prepared.enabled(connection)
    with prepared.cursor(connection) as cursor:
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)


def test_choice_labels_follow_the_language(db):
    place = Place(setting="periurbain", legal_form="scic", status="closed")
    lesson = Lesson(kind="difficulty", theme="governance")
    with translation.override("fr"):
        assert place.get_setting_display() == "Périurbain"
        assert place.get_legal_form_display() == "SCIC (société coopérative d'intérêt collectif)"
        assert place.get_status_display() == "Fermé"
        assert (lesson.get_kind_display(), lesson.get_theme_display()) == (
            "Difficulté",
            "Gouvernance",
        )
    with translation.override("en"):
        assert place.get_setting_display() == "Peri-urban"
        assert place.get_status_display() == "Closed"
        assert (lesson.get_kind_display(), lesson.get_theme_display()) == (
            "Difficulty",
            "Governance",
        )


def test_a_value_outside_the_choices_shows_as_it_is(db):
    assert Place(setting="lunaire").get_setting_display() == "lunaire"
    assert Place(setting="").get_setting_display() == ""
    assert Place(year_opened=None).get_legal_form_display() == ""


def test_histories_have_the_same_labels(db):
    historical = Place.history.model(setting="rural", status="closed")
    with translation.override("en"):
        assert (historical.get_setting_display(), historical.get_status_display()) == (
            "Rural",
            "Closed",
        )


@pytest.mark.parametrize("passages", [False, True])
def test_a_page_of_places_is_read_as_the_orm_reads_it(
    postgres, corpus, passages, django_assert_num_queries
):
    ids = list(Place.objects.order_by("-pk").values_list("pk", flat=True)[:20]) + [0]
    listed = Place.objects.filter(pk__in=ids)
    if passages:
        listed = listed.annotate(search_passages=F("search_text__passages"))
    expected = {place.pk: place for place in listed}
    before = executions_prepared("%= ANY($1::bigint[])%")
    found = places_by_ids(ids, passages=passages)
    assert executions_prepared("%= ANY($1::bigint[])%") == before + 1
    assert found.keys() == expected.keys() and len(found) == 20
    for pk, place in found.items():
        for field in Place._meta.concrete_fields:
            value, wanted = getattr(place, field.attname), getattr(expected[pk], field.attname)
            assert (type(value), value) == (type(wanted), wanted), field.attname
        assert hasattr(place, "search_passages") == passages
        if passages:
            assert place.search_passages == expected[pk].search_passages
    with django_assert_num_queries(0):
        assert places_by_ids([]) == {}
