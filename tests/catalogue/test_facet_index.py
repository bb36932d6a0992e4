"""The facet index follows every change by applying the change log, and ends up exactly as
an index built from scratch would be."""

import random
import time

import pytest
from django.db import connection
from django.http import QueryDict

from catalogue import facet_index, search, versioning
from catalogue.facets import filter_masks
from catalogue.models import (
    DataChange,
    Funding,
    Organisation,
    Place,
    PlaceKind,
    Service,
)
from catalogue.selection import select_places
from tests.editing_helpers import save_place_in_another_process

BUILD = facet_index.build  # before any test replaces it


def as_sets(index):
    """The index's content, independent of bit positions: {facet: {value: {ids}}}."""
    return {
        facet: {value: set(index.members(mask)) for value, mask in values.items()}
        for facet, values in index.masks.items()
    }, {
        facet: {value: index.labels[facet][value] for value in values}
        for facet, values in index.masks.items()
    }


def by_id(index, values):
    """{place id: value} of one of the index's per-position lists, published places only."""
    return {pk: values[index.positions[pk]] for pk in index.members(index.all)}


def assert_same_as_rebuilt(index):
    fresh = BUILD(index.version, index.seq)
    assert as_sets(index) == as_sets(fresh)
    assert set(index.members(index.all)) == set(fresh.members(fresh.all))
    # The names and slugs that sorting and the similar places read.
    for values in ("names", "slugs"):
        assert by_id(index, getattr(index, values)) == by_id(fresh, getattr(fresh, values))


@pytest.fixture
def no_rebuild(monkeypatch):
    """After this, building the index from scratch fails the test."""
    facet_index.get_index()

    def refuse(*args, **kwargs):
        raise AssertionError("the index was rebuilt instead of updated")

    monkeypatch.setattr(facet_index, "build", refuse)


def kind_members(slug):
    index = facet_index.get_index()
    return {Place.objects.get(pk=pk).name for pk in index.members(index.masks["kind"].get(slug, 0))}


def test_a_place_edit_is_applied_without_rebuilding(
    corpus, no_rebuild, django_assert_max_num_queries
):
    place = Place.objects.get(slug="mecateam")
    fab_lab = PlaceKind.objects.get(slug="fab-lab")
    assert place.name not in kind_members("fab-lab")

    place.kinds.add(fab_lab)
    place.setting = "metropole"
    place.save()
    # The version row, the log, then the place's rows: 6 queries (places, 3 links, funders).
    with django_assert_max_num_queries(8):
        index = facet_index.get_index()

    assert place.name in kind_members("fab-lab")
    assert place.pk in index.members(index.masks["setting"]["metropole"])


def test_incremental_index_equals_a_rebuilt_one_after_many_kinds_of_edits(corpus, monkeypatch):
    index = facet_index.get_index()
    built = []
    real_build = facet_index.build
    monkeypatch.setattr(
        facet_index, "build", lambda *a, **k: built.append(1) or real_build(*a, **k)
    )
    mecateam = Place.objects.get(slug="mecateam")
    inkub = Place.objects.get(slug="linkub-nevers")
    draft = Place.objects.published().exclude(pk__in=[mecateam.pk, inkub.pk]).first()

    # Kinds and services added and removed; a place renamed, with a new address.
    mecateam.services.clear()
    mecateam.name, mecateam.slug = "Mecateam Cluster (renommé)", "mecateam-renomme"
    mecateam.save()
    inkub.kinds.add(PlaceKind.objects.get(slug="coworking"))
    inkub.services.add(*Service.objects.all()[:2])
    # A funding from an existing funder; a place unpublished, then a new published place.
    funding = Funding.objects.first()
    Funding.objects.create(
        place=inkub, organisation=Organisation.objects.last(), source=funding.source, section="1"
    )
    draft.editorial_status = Place.EditorialStatus.DRAFT
    draft.save()
    new = Place.objects.create(
        name="Lieu neuf",
        slug="lieu-neuf",
        setting="rural",
        editorial_status=Place.EditorialStatus.PUBLISHED,
    )
    new.kinds.add(PlaceKind.objects.get(slug="fab-lab"))
    index = facet_index.get_index()
    assert not built, "these edits are applied from the log"
    assert_same_as_rebuilt(index)
    assert draft.pk not in index.members(index.all)
    assert new.pk in index.members(index.masks["kind"]["fab-lab"])

    # A deleted place leaves every facet.
    new.delete()
    index = facet_index.get_index()
    assert not built
    assert new.pk not in index.members(index.all)
    assert_same_as_rebuilt(index)


def test_a_vocabulary_change_rebuilds_the_index(corpus):
    before = facet_index.get_index()
    kind = PlaceKind.objects.get(slug="fab-lab")
    kind.name = "Atelier de fabrication"
    kind.save()
    after = facet_index.get_index()
    assert after is not before
    assert after.labels["kind"]["fab-lab"][0] == "Atelier de fabrication"
    assert_same_as_rebuilt(after)


def test_a_figure_change_moves_the_token_but_keeps_the_masks(corpus, no_rebuild):
    before = facet_index.get_index()
    figure = Place.objects.get(slug="mecateam").figures.first()
    figure.label = figure.label + " (révisé)"
    figure.save()
    after = facet_index.get_index()
    assert after.version != before.version
    assert as_sets(after) == as_sets(before)


def test_a_pruned_log_makes_a_process_rebuild(corpus, monkeypatch):
    index = facet_index.get_index()
    place = Place.objects.get(slug="mecateam")
    place.setting = "metropole"
    place.save()
    DataChange.objects.all().delete()  # as if this process had been asleep for long
    built = []
    real_build = facet_index.build
    monkeypatch.setattr(
        facet_index, "build", lambda *a, **k: built.append(1) or real_build(*a, **k)
    )
    index = facet_index.get_index()
    assert built
    assert place.pk in index.members(index.masks["setting"]["metropole"])


def test_changes_are_numbered_and_logged_in_the_writers_transaction(corpus):
    _token, seq, _at = versioning.current()
    place = Place.objects.get(slug="mecateam")
    place.name = "Mecateam, cluster ferroviaire"
    place.save()
    _token, after, changed_at = versioning.current()
    assert after > seq
    assert changed_at is not None
    logged = DataChange.objects.filter(seq__gt=seq)
    assert set(logged.values_list("scope", "place_id")) >= {("places", place.pk)}


@pytest.mark.django_db(transaction=True)
def test_a_change_made_by_another_process_is_seen_within_a_second():
    """Two processes: this one holds an index; another one edits a place and commits."""
    if connection.vendor != "postgresql":
        pytest.skip("needs a database two processes share (the PostgreSQL run)")
    from casestudies.corpus import load_corpus

    if not Place.objects.exists():
        load_corpus()
    facet_index.get_index()
    place = Place.objects.get(slug="mecateam")
    assert place.setting != "metropole"
    save_place_in_another_process("mecateam", setting="metropole")
    committed = time.monotonic()
    index = facet_index.get_index()
    seen = time.monotonic() - committed
    assert place.pk in index.members(index.masks["setting"]["metropole"])
    assert seen < 1


SORTS = ["-year", "year", "-investment", "investment", "-budget", "budget"]
SORTS += ["-population", "population"]


@pytest.mark.parametrize("sort", SORTS)
def test_the_index_sorts_by_a_number_as_the_database_does(corpus, sort):
    selection = select_places(QueryDict(f"sort={sort}"))
    by_database = list(selection.places.values_list("pk", flat=True))
    by_index, total = selection.listing()
    assert total == len(by_database) > 40
    assert list(by_index[:]) == by_database
    assert list(by_index[:20]) == by_database[:20]  # the partial sort of a first page
    assert by_index[3] == by_database[3]


@pytest.mark.parametrize(
    "query",
    [
        "investment_min=100000",
        "budget_max=500000&investment_min=1",
        "staff_min=2&staff_max=10",
        "year_min=2010&year_max=2016",
        "population_min=10000&population_max=200000",
    ],
)
def test_ranges_from_the_index_select_what_the_database_selects(corpus, query):
    selection = select_places(QueryDict(query))
    expected = set(selection.places.values_list("pk", flat=True))
    _ordered, total = selection.listing()
    index = facet_index.get_index()
    mask = filter_masks(selection.filterset, selection.base, index, scoped=False)["_ranges"]
    assert set(index.members(mask)) == expected
    assert total == len(expected) > 0


def test_a_changed_number_moves_the_place_in_the_sorted_directory(client, corpus, make_figure):
    before = client.get("/lieux/", {"sort": "-investment", "per_page": 100})
    place = before.context["page_obj"].object_list[-1]  # no investment figure: last
    assert place.headline_investment is None
    make_figure(place, indicator="investment_eur", value=10**11)  # a headline figure
    listed = client.get("/lieux/", {"sort": "-investment"}).context["page_obj"].object_list
    assert listed[0] == place


def test_a_query_asked_again_in_the_same_data_version_is_not_searched_again(
    client, corpus, make_place, django_assert_max_num_queries
):
    first = client.get("/lieux/", {"q": "coworking"})
    with django_assert_max_num_queries(2):  # the version, the page of places
        again = client.get("/lieux/", {"q": "coworking", "page": 1})
    assert [p.pk for p in again.context["page_obj"]] == [p.pk for p in first.context["page_obj"]]
    # A change of data: searched again, and the new place is found.
    search.reindex(Place.objects.filter(pk=make_place(name="Coworking du Vercors").pk))
    names = [p.name for p in client.get("/lieux/", {"q": "coworking"}).context["page_obj"]]
    assert "Coworking du Vercors" in names  # its name matches: on the first page


def test_renamed_and_new_places_keep_the_name_order_without_sorting_again(corpus):
    index = facet_index.get_index()
    ranks = index.name_ranks()
    place = Place.objects.get(slug="mecateam")
    place.name = "Aaa, premier par le nom"
    place.save()
    # (in an existing commune: a new territory would rebuild the index)
    for name, slug in (("Zzz, dernier par le nom", "zzz"), ("Mmm, au milieu", "mmm")):
        Place.objects.create(
            name=name, slug=slug, territory=place.territory, editorial_status="published"
        )
    index = facet_index.get_index()
    assert index.name_ranks() is ranks  # moved in place, not computed again
    selection = select_places(QueryDict("sort=name"))
    by_database = list(selection.places.values_list("pk", flat=True))
    assert list(index.ordered(index.all, "name")[:]) == by_database


def test_bit_sets_hold_the_given_places_and_only_those(corpus):
    index = facet_index.get_index()
    rng = random.Random(7)
    chosen = rng.sample(index.ids, len(index.ids) // 2)
    mask = index.mask_of([*chosen, 10**9, -1])  # unknown ids are left out
    assert mask == sum(1 << index.positions[pk] for pk in chosen)
    assert sorted(index.members(mask)) == sorted(chosen)
    assert index.positions_of(mask) == sorted(index.positions[pk] for pk in chosen)
    assert index.first_members(mask, 5) == index.members(mask)[:5]
    assert index.first_members(mask, len(chosen) + 3) == index.members(mask)
    assert index.mask_of([]) == 0 and index.members(0) == [] and index.first_members(0, 3) == []
    few = rng.sample(index.ids, 2)  # read byte by byte rather than digit by digit
    assert index.members(index.mask_of(few)) == sorted(few, key=index.positions.get)
    assert index.first_members(mask, 0) == [] and index.first_members(1 << 9, 4) == [index.ids[9]]


def test_the_byte_copies_kept_with_an_index_follow_its_changes(corpus):
    index = facet_index.get_index()
    place = Place.objects.published().filter(setting="rural").first()
    position = index.positions[place.pk]
    rural = index.byte_mask("setting", "rural")
    assert rural == facet_index.mask_bytes(index.masks["setting"]["rural"])
    assert index.byte_mask("setting", "rural") is rural  # kept
    assert facet_index.has_bit(rural, position)
    assert index.published_bytes() == facet_index.mask_bytes(index.all)
    place.setting = "metropole"
    place.save()
    changed = facet_index.get_index()
    assert changed is not index
    assert not facet_index.has_bit(changed.byte_mask("setting", "rural"), position)
    assert facet_index.has_bit(changed.byte_mask("setting", "metropole"), position)
    assert facet_index.has_bit(rural, position)  # the older index, still read, unchanged
    place.editorial_status = "archived"
    place.save()
    assert not facet_index.has_bit(facet_index.get_index().published_bytes(), position)
    assert facet_index.has_bit(changed.published_bytes(), position)
