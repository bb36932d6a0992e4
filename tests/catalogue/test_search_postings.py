"""The places of frequent search words, kept by each process as bit sets
(catalogue/postings.py), match what PostgreSQL matches, before and after edits.

The corpus has 46 places: words found in 25 of them or more count as frequent here (« lieu »,
« entreprises », « projet », « territoire », « coopératives », « réseau »…).
"""

import threading

import pytest
from django.urls import reverse
from django.utils.text import slugify

from catalogue import facet_index, postings, search
from catalogue.models import Place
from catalogue.search import parse, reindex

URL = reverse("catalogue:place-list")
FREQUENT = 25


@pytest.fixture
def frequent(postgres, corpus, settings, monkeypatch):
    """The current index with the postings of the corpus's frequent words, read here (not
    in a thread, whose connection would not see the test's transaction)."""
    settings.SEARCH_POSTINGS_MIN_PLACES = FREQUENT
    scheduled = []
    monkeypatch.setattr(postings, "schedule", scheduled.append)
    monkeypatch.setattr(facet_index, "_current", None)
    index = facet_index.get_index()
    assert scheduled == [index] and index.postings is None
    postings.ensure(index)
    assert index.postings is not None
    search.forget_recent_hits()
    return scheduled


def database_mask(text, index):
    """The places PostgreSQL matches, as a bit set of ``index``."""
    return index.mask_of(search._match(parse(text), keyed=False))


MATCHED_HERE = [
    "lieu",
    "coopération",  # the stem of « coopératives »
    "Entreprises",
    "projet territoire",  # two words, and « projetterritoire » tried as one
    "réseau entreprises coopératives",
    "lieu vannerie",  # a rare word: PostgreSQL finds its places
    "entreprises zzzyx",  # a word found nowhere: nothing
]


@pytest.mark.parametrize("text", MATCHED_HERE)
def test_frequent_words_match_what_postgresql_matches(frequent, text):
    index = facet_index.get_index()
    mask = postings.match(parse(text), index)
    assert mask is not None, "answered from the postings"
    assert mask == database_mask(text, index)


@pytest.mark.parametrize(
    "text", ['"réseau des entreprises"', "lieu -coopératives", "vannerie", "le"]
)
def test_phrases_exclusions_and_rare_words_go_to_postgresql(frequent, text):
    assert postings.match(parse(text), facet_index.get_index()) is None


def new_place(name, summary):
    """A published place in an existing commune (a new territory rebuilds the index)."""
    return Place.objects.create(
        slug=slugify(name),
        name=name,
        summary=summary,
        setting="rural",
        territory=Place.objects.get(slug="mecateam").territory,
        editorial_status="published",
    )


def results(client, **params):
    response = client.get(URL, {"per_page": 100, **params})
    context = response.context
    names = [place.name for place, _name, _summary in context["results"]]
    counts = {
        (facet.name, option.value): option.count
        for facet in context["facets"].values()
        for option in facet.options
    }
    return names, counts, response.content.decode()


@pytest.mark.parametrize(
    "params",
    [
        {"q": "coopératives", "setting": "rural"},
        {"q": "projet territoire", "kind": "fab-lab"},
        {"q": "entreprises", "region": "84"},
    ],
)
def test_the_directory_shows_the_same_places_and_counts_either_way(
    frequent, client, monkeypatch, params
):
    index = facet_index.get_index()
    asked = []
    real_match = search._match

    def match(query, keyed=None, **kwargs):
        asked.append(keyed)
        return real_match(query, keyed, **kwargs)

    monkeypatch.setattr(search, "_match", match)
    names, counts, page = results(client, **params)
    assert names, "the search finds places"
    assert False not in asked, "the matches came from the postings"

    search.forget_recent_hits()
    monkeypatch.setattr(index, "postings", None)
    assert results(client, **params)[:2] == (names, counts)
    assert False in asked, "without postings, PostgreSQL matched"


def test_postings_follow_edits_without_being_read_again(frequent, client, monkeypatch):
    def no_read(index):
        raise AssertionError("the postings were read again in full")

    monkeypatch.setattr(postings, "read", no_read)
    text = "vannerie coopératives"

    def check():
        index = facet_index.get_index()
        assert index.postings is not None
        assert postings.match(parse(text), index) == database_mask(text, index)
        return set(index.members(postings.match(parse(text), index)))

    weaver = new_place("Vannerie du Bocage", "Un atelier de vannerie.")
    reindex(Place.objects.filter(pk=weaver.pk))
    assert weaver.pk not in check()

    # An editor's summary now names the word: the place's search document is read again.
    weaver.summary = "Un atelier de vannerie tenu par des coopératives agricoles."
    weaver.save()
    reindex(Place.objects.filter(pk=weaver.pk))
    assert weaver.pk in check()
    assert "Vannerie du Bocage" in results(client, q=text)[0]

    # A new place, added to the index since the postings were read, is found too.
    newcomer = new_place("Osier et Cie", "Vannerie en coopératives.")
    reindex(Place.objects.filter(pk=newcomer.pk))
    assert {weaver.pk, newcomer.pk} <= check()

    # The word taken out again.
    weaver.summary = "Un atelier de vannerie."
    weaver.save()
    reindex(Place.objects.filter(pk=weaver.pk))
    assert weaver.pk not in check() and newcomer.pk in check()
    names = results(client, q=text)[0]
    assert "Osier et Cie" in names and "Vannerie du Bocage" not in names


def test_postings_read_while_the_catalogue_changed_are_brought_up_to_date(frequent):
    index = facet_index.get_index()
    found = postings.read(index)  # as a thread would, taking its time
    place = new_place("Lieu tardif", "Des coopératives et des entreprises.")
    reindex(Place.objects.filter(pk=place.pk))
    current = facet_index.get_index()
    current.postings = None  # not read yet
    assert facet_index.attach_postings(index, found) is None
    text = "coopératives entreprises"
    assert place.pk in current.members(postings.match(parse(text), current))
    assert postings.match(parse(text), current) == database_mask(text, current)

    # Postings read for an index since rebuilt are dropped: the rebuild reads its own.
    facet_index._current = None
    rebuilt = facet_index.get_index()
    assert frequent[-1] is rebuilt
    assert facet_index.attach_postings(index, found) is None
    assert rebuilt.postings is None


def test_any_search_document_changed_reads_them_again(frequent):
    from catalogue import versioning

    versioning.record(search=True)
    index = facet_index.get_index()
    assert index.postings is None and frequent[-1] is index


@pytest.mark.django_db(transaction=True)
def test_a_rebuilt_index_reads_its_postings_in_a_thread(postgres, corpus, settings, monkeypatch):
    settings.SEARCH_POSTINGS_MIN_PLACES = FREQUENT
    monkeypatch.setattr(facet_index, "_current", None)
    started = threading.Event()
    real_read = postings.read

    def read(index):
        started.set()
        assert threading.current_thread() is not threading.main_thread()
        return real_read(index)

    monkeypatch.setattr(postings, "read", read)
    index = facet_index.get_index()  # answers at once; the postings follow
    assert started.wait(10)
    assert postings._building.acquire(timeout=30)
    postings._building.release()
    assert index.postings is not None and "lieu" in index.postings.masks
    text = "lieu projet"
    assert postings.match(parse(text), index) == database_mask(text, index)


def test_a_process_reads_the_postings_as_it_starts(postgres, corpus, settings, monkeypatch):
    # At a web process's start (innovplaces/wsgi.py), before any visitor: not in a thread.
    settings.SEARCH_POSTINGS_MIN_PLACES = FREQUENT
    monkeypatch.setattr(facet_index, "_current", None)
    monkeypatch.setattr(postings, "schedule", lambda index: None)
    index = facet_index.warm_up()
    assert index.postings is not None and "lieu" in index.postings.masks
    assert postings.match(parse("lieu"), index) == database_mask("lieu", index)
    # Too few places for any word to be that frequent: none are read.
    settings.SEARCH_POSTINGS_MIN_PLACES = 100_000
    monkeypatch.setattr(facet_index, "_current", None)
    assert not facet_index.warm_up().postings.masks
