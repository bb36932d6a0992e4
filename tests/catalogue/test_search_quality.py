"""What a reader finds when searching the directory, on the real corpus, on SQLite and
PostgreSQL alike (the suite runs on both): the place named or located in the query first,
few results for a town, multi-word queries meaning all their words, spelling variants and
small typos, and a snippet that shows why each place matched.
"""

import random
import re

import pytest
from django.urls import reverse

from catalogue import search as searching
from catalogue.facet_index import get_index
from catalogue.facets import ResultSet
from catalogue.models import Place
from catalogue.search import RankedIds, reindex

URL = reverse("catalogue:place-list")
PTCE = {
    "pole-sud-aquitain",
    "eco-domaine-bouquetot",
    "les-articulteurs",
    "eoliennes-en-pays-de-vilaine",
    "de-fil-en-reseaux",
    "lille-metropole-solidaire",
    "fontaine-o-livres",
    "paris-mix",
    "pole-sud-archer",
    "culture-et-cooperation",
    "domb-innov",
}
TIERS_LIEUX = {"level-laval", "filature-des-possibles", "la-station-saint-omer"}

# (query, the first results in this order, or a set from which the first three are drawn,
#  the most results a reader should get). Written from fixtures/corpus/*.yaml.
QUERIES = [
    # Towns: the place located there first, and only what is about it.
    ("Nevers", ["linkub-nevers"], 2),
    ("Nantes", ["samoa-quartier-creation"], 2),
    ("Mutzig", ["tremplin-entreprises-pays-bruche"], 2),
    ("Arles", ["archeomed"], 2),
    ("Poitiers", ["spn-poitiers"], 2),
    ("Aubusson", ["villa-chateaufavier"], 3),
    ("Rochefort", {"arsenal-rochefort", "technopole-arsenal-rochefort"}, 3),
    # A name first (Paris Mix), then the places in Paris.
    ("Paris", ["paris-mix"], 10),
    # Aliases.
    ("Silicon Sentier", ["numa-paris"], 1),
    ("La Cantine", ["numa-paris"], 3),
    ("Pays Bruche", ["tremplin-entreprises-pays-bruche"], 3),
    ("SAMOA", ["samoa-quartier-creation"], 3),
    ("Mécateam", ["mecateam"], 2),
    # Sectors.
    ("ferroviaire", ["mecateam"], 2),
    ("éolien", ["eoliennes-en-pays-de-vilaine"], 4),
    ("éoliennes", ["eoliennes-en-pays-de-vilaine"], 4),
    # Several words: all of them.
    ("fab lab", ["fab-lab-crest"], 8),
    ("tiers lieu", TIERS_LIEUX | {"cocotte-minute-lesparre"}, 12),
    ("économie sociale", PTCE, 16),
    ("numérique Poitiers", ["spn-poitiers"], 2),
    ("pépinière Mutzig", ["tremplin-entreprises-pays-bruche"], 1),
    # Compounds and spacing variants.
    ("fablab", ["fab-lab-crest"], 3),
    ("tiers-lieux", TIERS_LIEUX | {"cocotte-minute-lesparre"}, 12),
    ("Ecodomaine", ["eco-domaine-bouquetot"], 1),
    ("Eco-Domaine", ["eco-domaine-bouquetot"], 3),
    ("L'Inkub", ["linkub-nevers"], 2),
    ("linkub", ["linkub-nevers"], 1),
    ("Paris Mix", ["paris-mix"], 2),
    ("ParisMix", ["paris-mix"], 1),
    # Small typos, in a name.
    ("Mecatem", ["mecateam"], 2),
    ("Silver Inov", ["silver-innov"], 4),
    ("Articulteur", ["les-articulteurs"], 3),
]


def search(client, query):
    response = client.get(URL, {"q": query, "per_page": 100})
    assert response.status_code == 200
    slugs = [place.slug for place, _name, _summary in response.context["results"]]
    assert response.context["paginator"].count == len(slugs)
    return response, slugs


@pytest.mark.parametrize(("query", "expected", "most"), QUERIES, ids=[q for q, *_ in QUERIES])
def test_search_finds_the_place_meant(client, corpus, query, expected, most):
    _response, slugs = search(client, query)
    assert slugs, f"nothing found for {query!r}"
    if isinstance(expected, set):
        top = slugs[: min(3, len(expected))]
        assert set(top) <= expected, (query, slugs)
    else:
        assert slugs[: len(expected)] == expected, (query, slugs)
    assert len(slugs) <= most, (query, slugs)


def test_a_town_does_not_bring_every_place_of_the_syntheses(client, corpus):
    # The memento's syntheses name its nine places, with their towns, in one paragraph:
    # « Nevers » belongs to L'Inkub's part of it only.
    _response, slugs = search(client, "Nevers")
    assert slugs == ["linkub-nevers"]
    _response, slugs = search(client, "ferroviaire")
    assert slugs == ["mecateam"]


def test_words_match_whole_words_not_substrings(client, make_place):
    labelled = make_place(
        name="Maison des services", kinds=(), summary="Une collaboration labellisée."
    )
    lab = make_place(name="Atelier partagé", kinds=(), summary="Un living lab de quartier.")
    reindex(Place.objects.filter(pk__in=[labelled.pk, lab.pk]))
    _response, slugs = search(client, "lab")
    assert lab.slug in slugs and labelled.slug not in slugs


def test_multi_word_queries_need_every_word(client, make_place):
    both = make_place(name="Halle A", summary="Une recyclerie et une vannerie.")
    one = make_place(name="Halle B", summary="Une recyclerie seulement.")
    reindex(Place.objects.filter(pk__in=[both.pk, one.pk]))
    _response, slugs = search(client, "vannerie recyclerie")
    assert both.slug in slugs and one.slug not in slugs


def test_cross_case_text_counts_where_it_names_the_place(client, make_place, make_case_study):
    named = make_place(name="Atelier Vannier", summary="Un atelier.")
    other = make_place(name="Ferme Grenier", summary="Une ferme.")
    alone = make_place(name="Moulin Tordu", summary="Un moulin de tonnellerie.")
    synthesis = make_case_study(places=[named, other], kind="synthesis", sections=1)
    synthesis.sections.update(
        body="L'Atelier Vannier pratique la tonnellerie.\n\nLa Ferme Grenier élève des chèvres."
    )
    reindex(Place.objects.filter(pk__in=[named.pk, other.pk, alone.pk]))
    _response, slugs = search(client, "tonnellerie")
    # The place's own text weighs more than what a synthesis says of another place.
    assert slugs.index(alone.slug) < slugs.index(named.slug)
    assert other.slug not in slugs
    _response, slugs = search(client, "chèvres")
    assert other.slug in slugs and named.slug not in slugs


def test_own_monograph_counts_whole_for_its_place_only(client, make_place, make_case_study):
    main = make_place(name="Tiers-lieu Sourcier", summary="Un lieu.")
    cited = make_place(name="Relais Cordier", summary="Un relais.")
    monograph = make_case_study(places=[main, cited], kind="monograph", sections=1)
    monograph.slug = main.slug  # the main place: the case study is named after it
    monograph.save()
    monograph.sections.update(body="On y répare des horloges comtoises.")
    reindex(Place.objects.filter(pk__in=[main.pk, cited.pk]))
    _response, slugs = search(client, "horloges")
    assert main.slug in slugs and cited.slug not in slugs


def test_quoted_words_and_excluded_words(client, make_place):
    yes = make_place(summary="Une maison de santé rurale ouverte en 2019.")
    no = make_place(summary="Une maison des associations, pas de santé ici.")
    reindex(Place.objects.filter(pk__in=[yes.pk, no.pk]))
    _response, found = search(client, '"maison de santé"')
    assert yes.slug in found and no.slug not in found
    _response, found = search(client, "maison -associations")
    assert yes.slug in found and no.slug not in found


def test_each_result_shows_why_it_matched(client, corpus):
    response, slugs = search(client, "ferroviaire")
    html = response.content.decode()
    snippets = re.findall(r'<p class="search-snippet">(.*?)</p>', html, re.S)
    assert len(snippets) == len(slugs) == 1
    assert re.search(r"<mark>ferroviaires?</mark>", snippets[0], re.I)
    words = re.sub(r"<[^>]+>", " ", snippets[0]).split()
    assert 5 < len(words) <= 35
    # Matched by its name only: the name is marked, no snippet needed.
    response, slugs = search(client, "Mecateamcluster")
    assert slugs[0] == "mecateam"
    assert "<mark>Mecateamcluster</mark>" in response.content.decode()


def test_snippet_escapes_the_text(client, make_place):
    place = make_place(summary="Un atelier <script>alert(1)</script> de vannerie.")
    reindex(Place.objects.filter(pk=place.pk))
    response, slugs = search(client, "vannerie")
    html = response.content.decode()
    assert slugs == [place.slug]
    assert "<script>alert(1)</script>" not in html
    assert "<mark>vannerie</mark>" in html


def test_facet_counts_follow_the_search_results(client, corpus):
    response, slugs = search(client, "tiers lieu")
    places = Place.objects.filter(slug__in=slugs).prefetch_related("kinds")
    facet = response.context["facets"]["kind"]
    for option in facet.options:
        expected = sum(1 for p in places if option.value in {k.slug for k in p.kinds.all()})
        assert option.count == expected, option.value


def test_directory_shows_the_count_of_matches(client, corpus):
    response, slugs = search(client, "Nevers")
    html = response.content.decode()
    assert re.search(r"\b1 lieu\b", html)


def test_a_first_page_of_ranked_hits_is_the_start_of_their_whole_order():
    # The first page is picked without sorting every hit (catalogue.search.RankedIds):
    # it must be the same places, ties in the same order.
    rng = random.Random(3)
    keys = {pk: rng.choice([0.25, 0.5, 1000.5, 1_000_000.0]) for pk in range(1, 600)}
    ids = list(keys)
    rng.shuffle(ids)
    whole = sorted(ids, key=keys.__getitem__, reverse=True)
    for stop in (0, 1, 20, 100, 200):
        assert RankedIds(ids, keys.__getitem__)[:stop] == whole[:stop]
    ranked = RankedIds(ids, keys.__getitem__)
    assert len(ranked) == len(ids) and ranked[20:40] == whole[20:40]
    assert list(ranked) == whole and ranked[0] == whole[0] and ranked[:20] == whole[:20]


def test_a_snippet_follows_the_text_it_is_cut_from():
    # Snippets are kept from one request to the next, by the text of the passages: an
    # edited passage gives a new snippet, the same passages the same one.
    before = [["A", "Atelier"], ["C", "Le lieu accueille des artisans et des associations."]]
    after = [["A", "Atelier"], ["C", "Des artisans du village y partagent un four."]]
    first = searching.snippet(before, "artisans")
    assert "<mark>artisans</mark>" in first and "associations" in first
    edited = searching.snippet(after, "artisans")
    assert "<mark>artisans</mark>" in edited and "village" in edited
    assert "associations" not in edited
    assert searching.snippet(before, "artisans") == first
    assert searching.snippet(before, "associations") != first
    # A passage the card already shows comes last: the same passages, another snippet.
    two = [["A", "Atelier"], ["C", "Des artisans ici."], ["D", "Des artisans là-bas."]]
    assert "ici" in searching.snippet(two, "artisans")
    assert "là-bas" in searching.snippet(two, "artisans", shown="Des artisans ici.")


def test_the_order_of_a_search_is_kept_for_the_same_results_only(corpus):
    index = get_index()
    hits = searching.ranked_hits("tiers lieu")
    everything = ResultSet(index, hits.mask_in(index))
    first = hits.ordered(everything)
    whole = list(first)
    assert len(whole) > 3 and whole == list(hits.order(everything.ids()))
    # The same places again (the next page, the same search): the same order, kept.
    assert hits.ordered(ResultSet(index, everything.mask)) is first
    # Fewer places (another filter): ordered again, the others in the same order.
    dropped = whole[0]
    fewer = ResultSet(index, everything.mask & ~index.mask_of([dropped]))
    assert list(hits.ordered(fewer)) == whole[1:]
    assert hits.ordered(everything) is not first and list(hits.ordered(everything)) == whole
