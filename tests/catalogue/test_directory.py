"""The directory: filters, facets, search, sorting and bad input."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import escape

from catalogue import search, versioning
from catalogue.facets import count_facets
from catalogue.filters import PlaceFilter
from catalogue.models import Organisation, Place, PlaceKind, Territory

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
    "population_min": 0,
    "population_max": 10**7,
    "source": "memento-lieux-innovation",
    "sort": "-investment",
}


def test_directory_query_count_is_pinned_and_flat(client, corpus, make_place):
    client.get(URL)  # the process's index is current
    versioning.bump()  # a change, as an editor's save would make
    # After a change to everything: the data version, the change log, the facet index
    # built again (places, régions and départements, kinds and their links, services and
    # their links, funders and their links, sources and their links), the page of places,
    # and the territories, kept in memory with the index (their kinds come from it).
    assert count_queries(client, {}) == 14
    # Index in memory: the data version, the page.
    assert count_queries(client, {}) == 2
    assert count_queries(client, {"per_page": 100, "page": 1}) == 2
    # + validation of service, funder and source values (kinds, régions and départements
    # are checked against the vocabularies kept with the index); the search hits; and,
    # since nothing matches them all, one count per range filter for the "remove this
    # filter" suggestions (the index answers for the others, and the ranges and the sort
    # by investment come from its numbers)
    with_filters = count_queries(client, ALL_FILTERS)
    assert with_filters == 15
    for _ in range(30):
        make_place(kinds=("fab-lab", "pepiniere"), services=("prototypage",))
    # (each new place has a new commune: the change log read, the index built again)
    assert count_queries(client, {}) == 14
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


# -- territory population, source documents, funders, aliases, invalid values -------------


def test_cards_show_the_population_of_their_territory(client, make_place, make_territory):
    place = make_place(
        name="Atelier peuplé", territory=make_territory(population=12345, population_year=2021)
    )
    response = client.get(URL, {"population_min": 12345, "population_max": 12345})
    assert place.slug in result_slugs(response)
    text = " ".join(response.content.decode().split())
    assert "12 345 habitants (2021)" in text.replace("\xa0", " ").replace("\u202f", " ")


def test_sort_and_filter_by_territory_population(client, make_place, make_territory):
    small = make_place(name="Petit bourg", territory=make_territory(population=800))
    big = make_place(name="Grande ville", territory=make_territory(population=900_000))
    unknown = make_place(name="Population inconnue", territory=make_territory())
    slugs = result_slugs(client.get(URL, {"sort": "-population", "per_page": 100}))
    assert slugs.index(big.slug) < slugs.index(small.slug) < slugs.index(unknown.slug)
    populations = [Place.objects.get(slug=s).territory.population for s in slugs]
    first_none = populations.index(None)
    assert all(p is None for p in populations[first_none:])  # unknown ones last
    assert populations[:first_none] == sorted(populations[:first_none], reverse=True)
    slugs = result_slugs(client.get(URL, {"sort": "population", "per_page": 100}))
    assert slugs.index(small.slug) < slugs.index(big.slug) < slugs.index(unknown.slug)

    response = client.get(URL, {"population_min": 500, "population_max": 1000, "per_page": 100})
    slugs = result_slugs(response)
    assert small.slug in slugs and big.slug not in slugs and unknown.slug not in slugs
    assert all(500 <= Place.objects.get(slug=s).territory.population <= 1000 for s in slugs)
    # Same validation as the other ranges: a negative bound is refused and shown.
    response = client.get(URL, {"population_min": "-5"})
    assert "population_min" in response.context["form"].errors
    assert "Population du territoire à partir de" in response.content.decode()


def test_source_document_facet_counts_and_filter(client, corpus):
    response = client.get(URL)
    options = {o.value: o for o in response.context["facets"]["source"].options}
    memento = "memento-lieux-innovation"
    expected = set(
        Place.objects.published().filter(sources__slug=memento).values_list("slug", flat=True)
    )
    assert options[memento].count == len(expected) > 0
    assert options[memento].label == "Mémento « Lieux d'innovation »"
    response = client.get(URL, {"source": memento, "per_page": 100})
    assert set(result_slugs(response)) == expected
    assert "Document source : Mémento" in response.content.decode().replace("&#x27;", "'")
    # Counted on the other filters' results.
    response = client.get(URL, {"kind": "ptce", "per_page": 100})
    counts = {o.value: o.count for o in response.context["facets"]["source"].options}
    ptce_in_memento = (
        Place.objects.published().filter(sources__slug=memento, kinds__slug="ptce").count()
    )
    assert counts.get(memento, 0) == ptce_in_memento


def test_the_funder_filter_reaches_every_funder_by_slug_or_name(client, corpus):
    funded = Organisation.objects.filter(fundings__place__editorial_status="published").distinct()
    assert funded.count() > 40  # more than the old list showed
    rare = min(funded, key=lambda o: (o.fundings.count(), o.name))
    expected = set(
        Place.objects.published().filter(fundings__organisation=rare).values_list("slug", flat=True)
    )
    by_slug = client.get(URL, {"funder": rare.slug, "per_page": 100})
    assert set(result_slugs(by_slug)) == expected
    by_name = client.get(URL, {"funder": rare.name.upper(), "per_page": 100})
    assert set(result_slugs(by_name)) == expected
    # The text box shows the funder's name.
    assert f'value="{rare.name}"' in by_slug.content.decode().replace("&#x27;", "'")


def test_an_ambiguous_funder_name_offers_the_candidates(client, corpus):
    response = client.get(URL, {"funder": "région"})
    invalid = response.context["invalid_filters"]
    assert [item["name"] for item in invalid] == ["funder"]
    names = [organisation.name for organisation, _url in invalid[0]["candidates"]]
    assert len(names) > 1 and all("gion" in name for name in names)
    html = response.content.decode()
    assert "Valeur non reconnue pour Financeur : région" in html
    assert "Vouliez-vous dire" in html
    # Nothing was filtered out.
    assert response.context["paginator"].count == Place.objects.published().count()


def test_funder_options_for_the_autocomplete(client, corpus):
    url = reverse("catalogue:funder-options")
    options = client.get(url, {"terme": "feder"}).json()["options"]
    assert options[0]["value"] == "feder"
    feder = Place.objects.published().filter(fundings__organisation__slug="feder").distinct()
    assert options[0]["count"] == feder.count()
    # Counted with the page's other filters, and never a funder that would leave nothing.
    rural = client.get(url, {"terme": "", "setting": "rural"}).json()["options"]
    assert rural and all(option["count"] > 0 for option in rural)
    assert len(client.get(url, {"terme": "e"}).json()["options"]) <= 20
    assert client.get(url, {"terme": "zzzz"}).json()["options"] == []
    assert client.get(url, {"terme": "x" * 5000, "region": "lune"}).status_code == 200


def test_one_coworking_filter_kind_is_an_alias_of_the_service(client, corpus):
    as_service = client.get(URL, {"service": "coworking", "per_page": 100})
    as_kind = client.get(URL, {"kind": "coworking", "per_page": 100})
    expected = set(
        Place.objects.published().filter(services__slug="coworking").values_list("slug", flat=True)
    )
    assert set(result_slugs(as_service)) == set(result_slugs(as_kind)) == expected
    # Every place of the kind offers the service: the alias loses no place.
    kind = set(
        Place.objects.published().filter(kinds__slug="coworking").values_list("slug", flat=True)
    )
    assert kind <= expected
    # The directory offers coworking once: as a service, not as a kind.
    kinds = [o.value for o in as_kind.context["facets"]["kind"].options]
    assert "coworking" not in kinds
    html = as_kind.content.decode()
    assert 'name="service" value="coworking" checked' in html
    assert 'name="kind" value="coworking"' not in html


def test_area_and_setting_are_one_control(client, corpus):
    by_area = client.get(URL, {"area": "rural", "per_page": 100})
    by_setting = client.get(URL, {"setting": ["rural", "petite-ville"], "per_page": 100})
    assert set(result_slugs(by_area)) == set(result_slugs(by_setting))
    html = by_area.content.decode()
    assert 'name="area"' not in html  # no second control
    assert 'name="setting" value="rural" checked' in html
    assert 'name="setting" value="petite-ville" checked' in html
    groups = [label for label, _options in by_area.context["facets"]["setting"].groups]
    assert [str(g) for g in groups] == ["Rural et petites villes", "Urbain"]
    # Both parameters together: the settings of either.
    both = client.get(URL, {"area": "urbain", "setting": "rural", "per_page": 100})
    settings = {Place.objects.get(slug=s).setting for s in result_slugs(both)}
    assert settings and settings <= {"rural", "ville-moyenne", "periurbain", "metropole"}
    # Removing the filter removes what the area stood for.
    active = {name: url for name, _l, _v, url in by_area.context["active_filters"]}
    assert "area" not in active["setting"] and "setting" not in active["setting"]


def test_invalid_values_are_named_next_to_the_results(client, corpus):
    response = client.get(URL, {"region": "xyz", "kind": "fab-lab"})
    html = response.content.decode()
    assert "Valeur non reconnue pour Région : xyz" in html
    results_start = html.index('id="results"')
    assert html.index("Valeur non reconnue pour Région") > results_start
    # The valid filter still applies, and the message links to the page without it.
    assert response.context["paginator"].count == (
        Place.objects.published().filter(kinds__slug="fab-lab").count()
    )
    assert 'href="?kind=fab-lab"' in html
    response = client.get(URL, {"investment_min": "beaucoup"})
    assert "Valeur non reconnue pour Investissement à partir de (€) : beaucoup" in (
        response.content.decode()
    )


def test_filters_button_counts_the_active_filters(client, corpus):
    response = client.get(URL, {"kind": ["fab-lab", "ptce"], "region": "84", "q": "lieu"})
    assert response.context["filter_count"] == 2
    html = response.content.decode()
    assert '<details class="filters-panel" id="filters-panel">' in html
    assert "Filtres (2)" in html
    assert "Filtres (0)" in client.get(URL).content.decode()


def test_no_quick_link_or_facet_leads_to_a_kind_without_places(client, corpus):
    empty_kinds = set(
        PlaceKind.objects.exclude(places__editorial_status="published").values_list(
            "slug", flat=True
        )
    )
    assert "campus-connecte" in empty_kinds
    home = client.get(reverse("home")).content.decode()
    linked = set(re.findall(r"kind=([\w-]+)", home))
    assert linked and not linked & empty_kinds
    response = client.get(URL)
    facet, html = response.context["facets"]["kind"], response.content.decode()
    for kind in empty_kinds:
        assert f'name="kind" value="{kind}"' not in html
    shown = re.findall(r'name="kind" value="([\w-]+)"', html)
    assert shown and all(next(o.count for o in facet.options if o.value == s) for s in shown)


@pytest.mark.parametrize(
    ("path", "current"),
    [
        ("/lieux/", "Lieux"),
        ("/territoires/", "Lieux"),
        ("/etudes-de-cas/", "Études de cas"),
        ("/comparer/", "Comparer"),
        ("/enseignements/", "Enseignements"),
        ("/tableaux/", "Tableaux"),
        ("/sources/", "Sources"),
        ("/en/enseignements/", "Lessons"),
        ("/en/tableaux/", "Tables"),
        ("/carte/", "Carte"),
        ("/carte/densite/", "Carte"),
        ("/statistiques/", "Statistiques"),
    ],
)
def test_main_navigation_marks_the_current_section(client, corpus, path, current):
    html = client.get(path).content.decode()
    nav = re.search(r'<ul class="nav">(.*?)</ul>', html, re.S).group(1)
    labels = re.findall(r">([^<>]+)</a>", nav)
    if path.startswith("/en/"):
        assert labels == [
            "Places",
            "Map",
            "Case studies",
            "Compare",
            "Lessons",
            "Tables",
            "Statistics",
            "Sources",
        ]
    else:
        assert labels == [
            "Lieux",
            "Carte",
            "Études de cas",
            "Comparer",
            "Enseignements",
            "Tableaux",
            "Statistiques",
            "Sources",
        ]
    assert re.findall(r'aria-current="page">([^<]+)</a>', nav) == [current]


def test_home_marks_no_section(client, corpus):
    assert 'aria-current="page"' not in client.get(reverse("home")).content.decode()


def test_cards_show_the_kinds_and_territories_the_database_holds(client, corpus):
    # Cards take them from memory (catalogue.place_page.attach_cards), not from a join.
    response = client.get(URL, {"per_page": 100})
    results = response.context["results"]
    assert len(results) == Place.objects.published().count()
    html = response.content.decode()
    for place, _name, _summary in results:
        fresh = Place.objects.select_related("territory", "region").get(pk=place.pk)
        kinds = [kind.display_name for kind in fresh.kinds.order_by("name", "pk")]
        assert [kind.display_name for kind in place.kinds.all()] == kinds, place.slug
        assert place.territory == fresh.territory and place.region == fresh.region
        tags = "".join(f'<span class="tag">{escape(kind)}</span>' for kind in kinds)
        assert tags in html, place.slug


def test_a_renamed_kind_shows_at_once_on_the_cards(client, corpus):
    client.get(URL)
    kind = PlaceKind.objects.get(slug="fab-lab")
    kind.name = "Atelier de fabrication numérique"
    kind.save()
    html = client.get(URL, {"kind": "fab-lab"}).content.decode()
    assert '<span class="tag">Atelier de fabrication numérique</span>' in html
    assert '<span class="tag">Fab lab</span>' not in html


def test_kind_and_territory_filters_checked_in_memory_follow_the_data(client, corpus):
    # Kinds, régions and départements are checked against the vocabularies kept with the
    # facet index (catalogue.filters): a kind added or renamed, or a région renamed, must
    # be known at once, and an unknown value still reported.
    client.get(URL)
    kind = PlaceKind.objects.create(slug="atelier-partage", name="Atelier partagé")
    client.get(URL)  # the index up to date: the values are checked in memory
    response = client.get(URL, {"kind": "atelier-partage"})
    assert response.context["invalid_filters"] == []
    assert response.context["paginator"].count == 0
    assert ("kind", "Type de lieu", "Atelier partagé", "?") in response.context["active_filters"]
    kind.name = "Atelier mutualisé"
    kind.save()
    region = Territory.objects.get(kind=Territory.Kind.REGION, insee_code="84")
    region.name = "Région Rhône-Alpes-Auvergne"
    region.save()
    client.get(URL)
    response = client.get(URL, {"kind": ["atelier-partage", "fab-lab"], "region": "84"})
    assert response.context["invalid_filters"] == []
    labels = {name: value for name, _label, value, _url in response.context["active_filters"]}
    assert labels == {"kind": "Atelier mutualisé, Fab lab", "region": "Région Rhône-Alpes-Auvergne"}
    expected = Place.objects.published().filter(kinds__slug="fab-lab", region=region).count()
    assert expected and response.context["paginator"].count == expected
    response = client.get(URL, {"kind": ["fab-lab", "inconnu"], "departement": "999"})
    assert [invalid["name"] for invalid in response.context["invalid_filters"]] == [
        "kind",
        "departement",
    ]


def test_a_département_and_a_région_sharing_a_code_are_told_apart(
    client, make_place, make_territory
):
    # Overseas régions have codes 01 to 06, as the first départements do.
    guadeloupe = Territory.objects.get(slug="guadeloupe")
    ain = Territory.objects.get(slug="ain-01")
    assert guadeloupe.insee_code == ain.insee_code == "01"
    place = make_place(territory=make_territory(parent=ain))
    response = client.get(URL, {"departement": "01", "per_page": 100})
    in_ain = Place.objects.published().filter(departement=ain)
    assert place.slug in result_slugs(response)
    assert sorted(result_slugs(response)) == sorted(in_ain.values_list("slug", flat=True))
    assert response.context["form"].cleaned_data["departement"] == ain
    response = client.get(URL, {"region": "01"})
    assert response.context["form"].cleaned_data["region"] == guadeloupe
    assert result_slugs(response) == []


def test_a_card_shows_its_place_and_its_compare_button(client, make_place, make_figure):
    # Cards are written by a tag (catalogue_tags.result_cards), not a template loop.
    summary = " ".join(f"mot{n}" for n in range(60))
    place = make_place(name="Atelier <Pilote>", summary=summary, year_opened=2015)
    place.territory.population, place.territory.population_year = 12345, 2021
    place.territory.save()
    make_figure(place, indicator="investment_eur", value=250000)
    selection = reverse("casestudies:compare-selection")
    client.post(selection, {"lieu": place.slug, "action": "add", "next": URL})
    html = client.get(URL, {"per_page": 100}).content.decode()
    html = html.replace("\u202f", " ").replace("\xa0", " ")
    card = html[: html.index(f'value="{place.slug}"')]
    card = card[card.rindex('<li class="card result">') :]
    card = html[html.index(card) :]
    card = card[: card.index("</li>")]
    assert f'<a href="{place.get_absolute_url()}">Atelier &lt;Pilote&gt;</a>' in card
    assert '<span class="tag">Fab lab</span><span class="tag tag-setting">Rural</span>' in card
    assert f"{place.territory.name}, Auvergne-Rhône-Alpes · 2015" in card
    assert f"{place.territory.name} : 12 345 habitants (2021)" in card
    assert "Investissement 250 000 €" in card
    # The summary's first 45 words.
    assert "<p>mot0 mot1 mot2" in card and "mot44 …</p>" in card and "mot45" not in card
    assert 'name="lieu" value="' + place.slug + '"' in card
    assert 'value="remove" aria-pressed="true"' in card
    assert "✓ Dans la comparaison" in card and " : Atelier &lt;Pilote&gt;</span>" in card


def test_a_place_published_after_a_search_was_kept_is_found_by_it(client, corpus):
    # A process keeps a search's hits and their bit set while the search documents stay
    # as they are; publishing a place adds it to the facet index without changing them.
    neighbour = Place.objects.published().exclude(territory=None).first()
    draft = Place.objects.create(
        slug="coworking-des-saules",
        name="Coworking des Saules",
        summary="Un lieu.",
        territory=neighbour.territory,  # (a new commune would rebuild the index)
        editorial_status="draft",
    )
    search.reindex(Place.objects.filter(pk=draft.pk))
    params = {"q": "coworking", "per_page": 100}
    assert draft.slug not in result_slugs(client.get(URL, params))
    draft.editorial_status = "published"
    draft.save()
    response = client.get(URL, params)
    assert draft.slug in result_slugs(response)
    assert "Coworking des Saules" in response.content.decode()


def test_the_directory_form_shares_its_choice_querysets_without_filling_them(client, corpus):
    # Each request's form shares the filter's queryset instead of cloning it (the cost of
    # building the form); listing the choices must leave no results cached in it.
    form = PlaceFilter({}).form
    for name in ("kind", "region", "departement", "service", "source"):
        field = form.fields[name]
        assert field.queryset is form.base_fields[name].queryset, name
        assert len(list(field.widget.choices)) > 1, name
        assert field.queryset._result_cache is None, name
    # Values are still checked against the database's rows.
    response = client.get(URL, {"service": "no-such-service", "kind": "fab-lab"})
    assert response.status_code == 200
    assert "no-such-service" in response.content.decode()
    assert response.context["form"].cleaned_data["kind"][0].slug == "fab-lab"


def test_each_request_has_its_own_filters_sharing_their_querysets_and_choices(corpus):
    # A filter set deep-copies its filters on each request; the querysets, choices and
    # widgets they were given are shared, and each copy still answers to its own set.
    first, second = PlaceFilter({"service": ["coworking"]}), PlaceFilter({})
    for name in ("kind", "service", "source", "region"):
        assert first.filters[name] is not second.filters[name], name
        assert first.filters[name].parent is first and second.filters[name].parent is second
        assert (
            first.filters[name].extra["queryset"]
            is second.filters[name].extra["queryset"]
            is PlaceFilter.base_filters[name].extra["queryset"]
        ), name
    assert first.filters["setting"].extra["choices"] is second.filters["setting"].extra["choices"]
    assert first.is_valid() and second.is_valid()
    assert [s.slug for s in first.form.cleaned_data["service"]] == ["coworking"]
    assert list(second.form.cleaned_data["service"]) == []


def test_a_model_choice_filter_left_empty_is_not_in_use_without_a_query(
    corpus, django_assert_num_queries
):
    from catalogue.filters import in_use
    from catalogue.models import Service

    with django_assert_num_queries(0):
        assert not in_use(Service.objects.none())
    with django_assert_num_queries(1):
        assert in_use(Service.objects.filter(slug="coworking"))
    with django_assert_num_queries(1):
        assert not in_use(Service.objects.filter(slug="no-such-service"))
    assert not in_use([]) and not in_use("") and not in_use(None) and in_use(["rural"])


def kind_counts(response):
    return {o.value: (o.label, o.count) for o in response.context["facets"]["kind"].options}


def test_facet_counts_are_kept_for_the_same_filters_and_follow_the_data(client, make_place):
    make_place(name="Atelier des champs", kinds=("tiers-lieu",), setting="rural")
    first = kind_counts(client.get(URL, {"setting": "rural"}))
    count = first["tiers-lieu"][1]
    assert count >= 1
    # Counted once for these filters and this data: the same counts are handed out again.
    filterset = PlaceFilter({"setting": ["rural"]}, queryset=Place.objects.published())
    filterset.is_valid()
    kept = count_facets(filterset, Place.objects.published())
    assert count_facets(filterset, Place.objects.published())[0] is kept[0]
    # In English, the kinds' English names, not the counts kept for French.
    english = kind_counts(client.get("/en" + URL, {"setting": "rural"}))
    assert english["tiers-lieu"] == ("Third place", count)
    assert kind_counts(client.get(URL, {"setting": "rural"}))["tiers-lieu"][0] == "Tiers-lieu"
    # Another rural tiers-lieu: counted again, not read from what was kept.
    make_place(name="Grange commune", kinds=("tiers-lieu",), setting="rural")
    assert kind_counts(client.get(URL, {"setting": "rural"}))["tiers-lieu"][1] == count + 1
    assert count_facets(filterset, Place.objects.published())[0] is not kept[0]


@pytest.mark.parametrize(
    "query",
    ["", "q=pépinière&kind=tiers-lieu&kind=fab-lab&page=3", "page=2", "funder=bpi&q=x&page=2"],
)
def test_the_funder_links_keep_the_other_filters(query):
    # The most frequent funders' links: the query string as it is, less the page, with
    # that funder (the rest encoded once for all of them).
    from django.http import QueryDict

    from catalogue.views import _with, _with_each

    params = QueryDict(query, mutable=True)
    values = ["region-bretagne", "a&b", "x y", "caisse-des-dépôts"]
    found = _with_each(params, "funder", values)
    assert found == [_with(params, "funder", value) for value in values]
    assert all("page=" not in url for url in found)
    assert "funder=a%26b" in found[1] and found[1].count("funder=") == 1


def test_a_card_shows_its_territory_as_it_is_after_an_edit(client, corpus, make_place):
    place = make_place(name="Atelier Vercors")
    commune = place.territory
    commune.population = 1201
    commune.save()

    def card(population):
        response = client.get(URL, {"population_min": population, "population_max": population})
        assert result_slugs(response) == [place.slug]
        html = response.content.decode().replace("\u202f", " ").replace("\xa0", " ")
        found = html[html.index('<li class="card result">') :]
        return found[: found.index("</li>")]

    assert f"{commune.name}, Auvergne-Rhône-Alpes" in card(1201)
    assert f"{commune.name} : 1 201 habitants" in card(1201)
    # Renamed, with a new population: the card shows both at once (the territories the
    # cards keep from one request to the next are dropped with any territory's change).
    commune.name, commune.population = "Villard-de-Lans", 4101
    commune.save()
    shown = card(4101)
    assert "Villard-de-Lans, Auvergne-Rhône-Alpes" in shown
    assert "Villard-de-Lans : 4 101 habitants" in shown
