"""PostgreSQL's French full-text search (SQLite follows the same rules with FTS5:
test_search_quality.py runs on both).

These tests need PostgreSQL; on CI's PostgreSQL run they fail rather than skip if the
database is not PostgreSQL.
"""

import pytest
from django.db import connection
from django.urls import reverse

from catalogue import facet_index, search, versioning
from catalogue.models import Place
from catalogue.search import reindex

URL = reverse("catalogue:place-list")


def slugs(client, **params):
    response = client.get(URL, {"per_page": 100, **params})
    return [place.slug for place, _name, _summary in response.context["results"]]


def test_french_stemming_matches_other_word_forms(postgres, client, make_place):
    place = make_place(name="Atelier partagé", summary="Les coopératives agricoles du pays.")
    reindex(Place.objects.filter(pk=place.pk))
    # "coopération" and "coopératives" share their French stem.
    assert place.slug in slugs(client, q="coopération")
    assert place.slug in slugs(client, q="AGRICOLE")


def test_web_search_syntax_quotes_and_exclusion(postgres, client, make_place):
    yes = make_place(summary="Une maison de santé rurale ouverte en 2019.")
    no = make_place(summary="Une maison des associations, pas de santé ici.")
    reindex(Place.objects.filter(pk__in=[yes.pk, no.pk]))
    found = slugs(client, q='"maison de santé"')
    assert yes.slug in found and no.slug not in found
    found = slugs(client, q="maison -associations")
    assert yes.slug in found and no.slug not in found


def test_name_matches_rank_above_body_matches(postgres, client, make_place):
    in_body = make_place(name="Atelier Alpha", summary="Un projet de vannerie contemporaine.")
    in_name = make_place(name="Vannerie de Bresse", summary="Un atelier partagé.")
    reindex(Place.objects.filter(pk__in=[in_body.pk, in_name.pk]))
    found = slugs(client, q="vannerie")
    assert found.index(in_name.slug) < found.index(in_body.slug)


def test_search_vector_is_stored_with_unaccented_lexemes(postgres, make_place):
    place = make_place(name="Pépinière d'Été", summary="")
    reindex(Place.objects.filter(pk=place.pk))
    vector = Place.objects.values_list("search__vector", flat=True).get(pk=place.pk)
    assert "pepinier" in vector and "é" not in vector


def test_trigram_index_finds_misspelt_names(postgres, client, make_place):
    place = make_place(name="Vannerie Bressane")
    reindex(Place.objects.filter(pk=place.pk))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'catalogue_searchword_word_trgm'"
        )
        assert "gin_trgm_ops" in cursor.fetchone()[0]
    assert slugs(client, q="Vanerie")[:1] == [place.slug]


def test_sort_keys_computed_late_order_the_hits_as_keys_computed_at_once(postgres, corpus):
    # With other filters, the directory asks for the matches alone, then the sort keys of
    # the places those filters leave (catalogue.search.Hits.order).
    for text in ("coworking", "tiers lieu", "Paris", "économie sociale", "lab"):
        search.forget_recent_hits()
        at_once = search.ranked_hits(text)
        search.forget_recent_hits()
        late = search.ranked_hits(text, keyed=False)
        assert set(late) == set(at_once) and len(at_once) > 1, text
        assert all(key is None for key in late.values())
        first = min(late)
        assert list(late.order([first])) == [first]
        assert [pk for pk, key in late.items() if key is not None] == [first]  # that one only
        some = sorted(late)[::2]
        assert list(late.order(some)) == list(at_once.order(some)), text
        assert list(late.order(sorted(late))) == list(at_once.order(sorted(at_once))), text
    search.forget_recent_hits()


def test_a_filtered_search_lists_the_best_matches_first(postgres, client, corpus):
    search.forget_recent_hits()
    listed = slugs(client, q="coworking", area="rural")
    keys = search.ranked_hits("coworking")
    ids = dict(Place.objects.filter(slug__in=listed).values_list("slug", "pk"))
    assert listed and [keys[ids[slug]] for slug in listed] == sorted(
        (keys[ids[slug]] for slug in listed), reverse=True
    )


def test_kept_hits_are_matched_again_only_where_search_documents_changed(
    postgres, corpus, make_place, monkeypatch
):
    # An editor's save changes a few search documents: a search kept by the process is
    # checked again on those places only (catalogue.search._patched), and must then equal
    # the same search made afresh, bit set included.
    leaving = make_place(name="Coworking des Tilleuls", summary="Un lieu.")
    reindex(Place.objects.filter(pk=leaving.pk))
    search.forget_recent_hits()
    kept = search.ranked_hits("coworking")
    kept.mask_in(facet_index.get_index())  # as the directory's facets do
    assert leaving.pk in kept

    leaving.name = "Atelier des Tilleuls"
    leaving.save()
    # (in the same commune: a new territory would rebuild everything)
    joining = Place.objects.create(
        slug="coworking-des-acacias",
        name="Coworking des Acacias",
        summary="Un lieu.",
        territory=leaving.territory,
        editorial_status="published",
    )
    reindex(Place.objects.filter(pk__in=[leaving.pk, joining.pk]))
    index = facet_index.get_index()
    assert {leaving.pk, joining.pk} <= next(reversed(index.search_history.values()))

    def no_full_search(*args, **kwargs):
        raise AssertionError("searched again in full")

    with monkeypatch.context() as patch:
        patch.setattr(search, "_ranked_hits", no_full_search)
        again = search.ranked_hits("coworking")
    assert leaving.pk not in again and joining.pk in again
    search.forget_recent_hits()
    fresh = search.ranked_hits("coworking")
    assert again.keys() == fresh.keys()
    assert all(again[pk] == pytest.approx(fresh[pk]) for pk in fresh)
    assert again.mask_in(index) == index.mask_of(fresh)
    # A change to any place's document (a full rebuild) empties the history.
    versioning.record(search=True)
    assert not facet_index.get_index().search_history
    search.forget_recent_hits()
