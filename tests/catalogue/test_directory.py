"""The directory: filters, facets, search, sorting and bad input."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from catalogue import versioning
from catalogue.models import Organisation, Place, Territory

URL = reverse("catalogue:place-list")


def result_slugs(response):
    return [place.slug for place, _name, _summary in response.context["results"]]


def test_filters_combine_kind_and_setting(client, make_place):
    crest_like = make_place(name="Atelier rural", kinds=("fab-lab",), setting="rural")
    make_place(name="Atelier urbain", kinds=("fab-lab",), setting="metropole")
    make_place(name="Pépinière rurale", kinds=("pepiniere",), setting="rural")
    response = client.get(URL, {"kind": "fab-lab", "setting": "rural", "per_page": 100})
    slugs = result_slugs(response)
    assert crest_like.slug in slugs
    assert all(
        Place.objects.get(slug=s).setting == "rural"
        and Place.objects.get(slug=s).kinds.filter(slug="fab-lab").exists()
        for s in slugs
    )


def test_several_kinds_widen_the_result(client, corpus):
    fab = client.get(URL, {"kind": "fab-lab"}).context["paginator"].count
    both = client.get(URL, {"kind": ["fab-lab", "ptce"]}).context["paginator"].count
    ptce = client.get(URL, {"kind": "ptce"}).context["paginator"].count
    assert both >= max(fab, ptce) and both > 0


def test_area_switch_groups_settings(client, make_place):
    rural = make_place(setting="petite-ville")
    urban = make_place(setting="metropole")
    slugs = result_slugs(client.get(URL, {"area": "rural", "per_page": 100}))
    assert rural.slug in slugs and urban.slug not in slugs


def test_region_and_departement_filters_use_insee_codes(client, make_place, make_territory):
    breton = make_place(
        territory=make_territory(parent=Territory.objects.get(slug="ille-et-vilaine-35"))
    )
    drome = make_place()
    slugs = result_slugs(client.get(URL, {"region": "53", "per_page": 100}))
    assert breton.slug in slugs and drome.slug not in slugs
    slugs = result_slugs(client.get(URL, {"departement": "26", "per_page": 100}))
    assert drome.slug in slugs and breton.slug not in slugs


def test_funder_and_funder_kind_filters(client, corpus):
    feder = Organisation.objects.get(slug="feder")
    response = client.get(URL, {"funder": "feder", "per_page": 100})
    expected = set(
        Place.objects.published()
        .filter(fundings__organisation=feder)
        .values_list("slug", flat=True)
    )
    assert set(result_slugs(response)) == expected and expected
    response = client.get(URL, {"funder_kind": "eu", "per_page": 100})
    assert set(result_slugs(response)) >= expected


def test_ranges_on_headline_figures_and_years(client, make_place, make_figure):
    big = make_place(year_opened=2015)
    small = make_place(year_opened=2005)
    make_figure(big, value=5_000_000)
    make_figure(small, value=50_000)
    slugs = result_slugs(client.get(URL, {"investment_min": 1_000_000, "per_page": 100}))
    assert big.slug in slugs and small.slug not in slugs
    slugs = result_slugs(client.get(URL, {"year_max": 2010, "per_page": 100}))
    assert small.slug in slugs and big.slug not in slugs


def test_sorting_by_investment_puts_places_without_figure_last(client, make_place, make_figure):
    a, b = make_place(name="Zèbre"), make_place(name="Ablette")
    make_figure(a, value=900_000_000)
    make_figure(b, value=800_000_000)
    slugs = result_slugs(client.get(URL, {"sort": "-investment", "per_page": 100}))
    assert slugs[:2] == [a.slug, b.slug]
    investments = [Place.objects.get(slug=s).headline_investment for s in slugs]
    assert all(v is None for v in investments[investments.index(None) :])


def test_search_folds_accents_and_highlights(client, corpus):
    response = client.get(URL, {"q": "pepiniere"})
    assert response.context["paginator"].count > 0
    assert "<mark>" in response.content.decode()
    upper = client.get(URL, {"q": "PÉPINIÈRE"}).context["paginator"].count
    assert upper == response.context["paginator"].count


def test_search_understands_plural_forms(client, corpus):
    singular = set(result_slugs(client.get(URL, {"q": "coopérative", "per_page": 100})))
    plural = set(result_slugs(client.get(URL, {"q": "coopératives", "per_page": 100})))
    assert singular and plural == singular


def test_search_reaches_lessons_and_case_study_text(client, make_place, make_lesson):
    place = make_place(name="Lieu discret")
    make_lesson(place, text="La mutualisation des tracteurs a rapproché les agriculteurs.")
    from catalogue.search import reindex

    reindex(Place.objects.filter(pk=place.pk))
    assert place.slug in result_slugs(client.get(URL, {"q": "tracteurs"}))


def test_search_ranks_name_matches_first(client, corpus):
    slugs = result_slugs(client.get(URL, {"q": "Organic Vallée"}))
    assert slugs[0] == "organic-vallee"


@pytest.mark.parametrize(
    "params",
    [
        {"q": "x" * 5000},
        {"q": "\"'; DROP TABLE catalogue_place; --"},
        {"q": "!!! ??? &&& ||| :*"},
        {"q": 'a OR -b "unclosed'},
        {"kind": "n-existe-pas"},
        {"region": "999"},
        {"departement": "<script>"},
        {"funder": "personne"},
        {"setting": "lune"},
        {"page": "99999"},
        {"page": "abc"},
        {"per_page": "1000000"},
        {"investment_min": "beaucoup"},
        {"budget_max": "-5"},
        {"staff_min": "1e400"},
        {"year_min": "NaN"},
        {"sort": "drop"},
    ],
)
def test_bad_input_never_breaks_the_directory(client, corpus, params):
    response = client.get(URL, params)
    assert response.status_code == 200


def test_bad_values_are_reported_and_ignored(client, corpus):
    response = client.get(URL, {"kind": "n-existe-pas", "setting": "rural"})
    html = response.content.decode()
    assert response.context["form"].errors
    assert 'role="alert"' in html
    assert response.context["paginator"].count == Place.objects.filter(setting="rural").count()


def test_empty_result_suggests_which_filter_to_remove(client, corpus):
    response = client.get(URL, {"kind": "ptce", "setting": "petite-ville", "q": "éolien"})
    if response.context["paginator"].count:
        pytest.skip("the corpus now has a matching place")
    suggestions = response.context["suggestions"]
    assert suggestions and all(count > 0 for *_rest, count in suggestions)


def test_facet_counts_match_the_results_they_lead_to(client, corpus):
    response = client.get(URL, {"setting": "rural"})
    for option in response.context["facets"]["kind"].options:
        count = (
            client.get(URL, {"setting": "rural", "kind": option.value}).context["paginator"].count
        )
        assert count == option.count, option.value


def count_queries(client, params):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(URL, params).status_code == 200
    return len(queries)


ALL_FILTERS = {
    "q": "fab",
    "kind": ["fab-lab", "pepiniere"],
    "setting": "rural",
    "area": "rural",
    "region": "84",
    "departement": "26",
    "service": "prototypage",
    "funder": "feder",
    "funder_kind": "region",
    "legal_form": "scic",
    "status": "active",
    "year_min": 2000,
    "year_max": 2025,
    "investment_min": 0,
    "investment_max": 10**9,
    "budget_min": 0,
    "budget_max": 10**9,
    "staff_min": 0,
    "staff_max": 1000,
    "sort": "-investment",
}


def test_directory_query_count_is_pinned_and_flat(client, corpus, make_place):
    versioning.bump()  # a change, as an editor's save would make
    # After a change: the data version, the facet index built again (places, régions and
    # départements, kinds and their links, services and their links, funders and their
    # links), then the page of places (+ territories) and their kinds.
    assert count_queries(client, {}) == 11
    # Index in memory: the data version, the page, its kinds.
    assert count_queries(client, {}) == 3
    assert count_queries(client, {"per_page": 100, "page": 1}) == 3
    # + validation of kind, region, departement, service and funder values; the search
    # hits; the places within the ranges; and, since nothing matches them all, one count
    # per range filter for the "remove this filter" suggestions (the index answers for
    # the others)
    with_filters = count_queries(client, ALL_FILTERS)
    assert with_filters == 16
    for _ in range(30):
        make_place(kinds=("fab-lab", "pepiniere"), services=("prototypage",))
    assert count_queries(client, {}) == 11
    assert count_queries(client, ALL_FILTERS) == with_filters


def test_cached_facet_counts_follow_the_data(client, corpus, make_place):
    def fab_labs():
        facet = client.get(URL).context["facets"]["kind"]
        return next(o.count for o in facet.options if o.value == "fab-lab")

    before = fab_labs()
    assert fab_labs() == before  # served from the cache
    make_place(kinds=("fab-lab",))
    assert fab_labs() == before + 1


def test_territory_page_lists_places_below_it_with_the_same_filters(
    client, make_place, make_territory
):
    epci = make_territory(
        "CC du Test",
        kind=Territory.Kind.EPCI,
        parent=Territory.objects.get(slug="ille-et-vilaine-35"),
    )
    rural = make_place(territory=make_territory(parent=epci), setting="rural")
    urban = make_place(territory=make_territory(parent=epci), setting="metropole")
    elsewhere = make_place()
    for territory in (
        epci,
        Territory.objects.get(slug="ille-et-vilaine-35"),
        Territory.objects.get(slug="bretagne"),
    ):
        url = territory.get_absolute_url()
        slugs = result_slugs(client.get(url, {"per_page": 100}))
        assert rural.slug in slugs and urban.slug in slugs and elsewhere.slug not in slugs
        filtered = client.get(url, {"setting": "rural", "per_page": 100})
        assert rural.slug in result_slugs(filtered) and urban.slug not in result_slugs(filtered)
        facet = filtered.context["facets"]["setting"]
        assert next(o.count for o in facet.options if o.value == "metropole") >= 1
