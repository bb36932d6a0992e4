"""The map (/carte/), its marker data, the density map and the embeddable pages."""

import json
from decimal import Decimal

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.template.loader import get_template
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape
from django.utils.safestring import SafeString

from catalogue.jinja import SMALL_MAP, place_map
from catalogue.maps import small_map
from catalogue.models import Place, Territory
from catalogue.place_page import attach_territories

# Query strings the directory understands, each selecting a different set of places.
QUERIES = [
    "",
    "kind=ptce",
    "kind=ptce&kind=tiers-lieu",
    "kind=coworking",
    "area=rural",
    "setting=rural&setting=petite-ville",
    "region=84",
    "departement=26",
    "year_min=2010&year_max=2020",
    "service=coworking",
    "status=active",
    "q=numerique",
    "kind=ptce&area=urbain&sort=-year",
]
HOSTILE = [
    "kind=nope",
    "region=<script>alert(1)</script>",
    "departement=999",
    "year_min=abc",
    "year_min=99999999999999999999999",
    "investment_min=-5",
    "page=0",
    "page=abc",
    "per_page=1000000",
    "sort=drop table",
    "q=" + "x" * 5000,
    "q=%00",
    "kind=ptce&kind=",
    "funder=%25%25%25",
    "niveau=monde",
    "hauteur=-1",
    "hauteur=abc",
]


def directory_slugs(client, query):
    """Every place the directory lists for ``query``, walking its pages."""
    slugs, page = [], 1
    while True:
        response = client.get(f"{reverse('catalogue:place-list')}?{query}&per_page=100&page={page}")
        assert response.status_code == 200
        slugs += [place.slug for place, _name, _summary in response.context["results"]]
        if not response.context["page_obj"].has_next():
            return slugs, response.context["paginator"].count
        page += 1


def map_json(client, query=""):
    response = client.get(f"{reverse('catalogue:map-data')}?{query}")
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/json"
    return json.loads(response.content)


def marker_slugs(data):
    index = data["fields"].index("slug")
    return [row[index] for row in data["places"]] + [slug for _n, slug in data["unlocated_places"]]


@pytest.fixture
def located(make_territory, make_place):
    """Three places: one at its commune's point, one at its own point, one nowhere."""
    commune = make_territory(
        name="Dieulefit", latitude=Decimal("44.52500"), longitude=Decimal("5.06200")
    )
    nowhere = make_territory(name="Commune sans point")
    return {
        "commune": make_place(name="Atelier du Lez", territory=commune),
        "own": make_place(
            name="Fabrique précise",
            territory=commune,
            latitude=Decimal("44.50000"),
            longitude=Decimal("5.10000"),
            kinds=("fab-lab", "tiers-lieu"),
        ),
        "nowhere": make_place(name="Lieu sans carte", territory=nowhere),
    }


@pytest.mark.parametrize("query", QUERIES)
def test_map_data_selects_the_places_the_directory_lists(client, corpus, located, query):
    slugs, count = directory_slugs(client, query)
    data = map_json(client, query)
    assert sorted(marker_slugs(data)) == sorted(slugs)
    assert data["count"] == count == data["located"] + data["unlocated"]


@pytest.mark.parametrize("query", QUERIES[:6])
def test_map_page_counts_what_the_directory_counts(client, corpus, located, query):
    _slugs, count = directory_slugs(client, query)
    response = client.get(f"{reverse('catalogue:map')}?{query}")
    assert response.status_code == 200
    assert response.context["paginator"].count == count == response.context["map_total"]
    text = response.content.decode()
    assert f"{count} lieu" in text
    located_count = response.context["map_located"]
    if located_count:
        assert f"{located_count} lieu{'x' if located_count > 1 else ''} sur la carte" in text


def test_markers_carry_points_kinds_and_territory(client, corpus, located):
    data = map_json(client)
    rows = {row[3]: dict(zip(data["fields"], row, strict=True)) for row in data["places"]}
    commune = rows[located["commune"].slug]
    assert (commune["latitude"], commune["longitude"]) == (44.525, 5.062)
    assert commune["precise"] == 0 and commune["territory"] == "Dieulefit"
    own = rows[located["own"].slug]
    assert (own["latitude"], own["longitude"], own["precise"]) == (44.5, 5.1, 1)
    assert sorted(data["kinds"][i] for i in own["kinds"]) == ["Fab lab", "Tiers-lieu"]
    assert data["place_url"].replace("{slug}", "x") == reverse("catalogue:place-detail", args=["x"])
    assert located["nowhere"].slug not in rows
    assert ["Lieu sans carte", located["nowhere"].slug] in data["unlocated_places"]


def test_places_without_a_location_are_counted_and_listed(client, corpus, located):
    response = client.get(reverse("catalogue:map"), {"departement": "26"})
    text = response.content.decode()
    unlocated = response.context["map_unlocated"]
    assert unlocated >= 1
    assert f"{unlocated} lieu{'x' if unlocated > 1 else ''} sans localisation" in text
    assert "Lieu sans carte" in [p["name"] for p in response.context["map_unlocated_places"]]


def test_list_beside_the_map_groups_places_by_region_and_departement(client, corpus, located):
    response = client.get(reverse("catalogue:map"), {"departement": "26"})
    regions = response.context["map_regions"]
    assert [region["name"] for region in regions] == ["Auvergne-Rhône-Alpes"]
    departement = regions[0]["departements"][0]
    assert departement["name"] == "Drôme" and departement["count"] == response.context["map_total"]
    names = [place["name"] for place in departement["places"]]
    assert {"Atelier du Lez", "Fabrique précise", "Lieu sans carte"} <= set(names)
    assert f'href="{located["own"].get_absolute_url()}"' in response.content.decode()


def test_beyond_the_limit_the_list_links_each_departement(client, corpus, located, monkeypatch):
    monkeypatch.setattr("catalogue.maps.LIST_LIMIT", 2)
    response = client.get(reverse("catalogue:map"))
    assert not response.context["map_lists_places"]
    text = response.content.decode()
    assert "departement=26" in text
    assert "Atelier du Lez" not in text.split('id="map-list-title"')[1]


def test_map_and_list_link_to_each_other_keeping_the_filters(client, corpus):
    text = client.get(
        reverse("catalogue:place-list"), {"kind": "ptce", "page": "1"}
    ).content.decode()
    assert f'href="{reverse("catalogue:map")}?kind=ptce"' in text
    text = client.get(reverse("catalogue:map"), {"kind": "ptce"}).content.decode()
    assert f'href="{reverse("catalogue:place-list")}?kind=ptce"' in text
    assert f'data-src="{reverse("catalogue:map-data")}?kind=ptce"' in text


def test_map_uses_the_tile_setting_and_local_outlines(client, corpus, located, settings):
    settings.MAP_TILE_URL = ""
    for url in (reverse("catalogue:map"), located["own"].get_absolute_url()):
        text = client.get(url).content.decode()
        assert 'data-tile-url=""' in text, url
        assert "geo/departements.geojson" in text and "geo/regions.geojson" in text
        assert "vendor/leaflet/leaflet.js" in text and "unpkg" not in text and "cdn" not in text
    # Looked up once per process (catalogue.maps): a changed setting is seen at once (on
    # another place's page: the first one is kept whole in the cache).
    settings.MAP_TILE_URL = "https://tiles.example/{z}/{x}/{y}.png"
    for url in (reverse("catalogue:map"), located["commune"].get_absolute_url()):
        text = client.get(url).content.decode()
        assert 'data-tile-url="https://tiles.example/{z}/{x}/{y}.png"' in text, url


def test_map_pages_have_no_inline_script_or_style(client, corpus, located):
    for url in (
        reverse("catalogue:map"),
        reverse("catalogue:map-density"),
        reverse("catalogue:embed"),
        reverse("catalogue:embed-list"),
        reverse("catalogue:embed-map"),
        located["commune"].get_absolute_url(),
    ):
        text = client.get(url).content.decode()
        assert "style=" not in text, url
        for chunk in text.split("<script")[1:]:
            assert chunk.lstrip().startswith(("src=", 'type="application/')), url


def test_vendored_files_and_outlines_are_local_and_small():
    for name in (
        "vendor/leaflet/leaflet.js",
        "vendor/leaflet/LICENSE",
        "vendor/leaflet.markercluster/leaflet.markercluster.js",
        "vendor/leaflet.markercluster/MIT-LICENCE.txt",
    ):
        assert finders.find(name), name
    assert 'version="1.9.4"' in open(finders.find("vendor/leaflet/leaflet.js")).read()
    departements = json.load(open(finders.find("geo/departements.geojson")))
    regions = json.load(open(finders.find("geo/regions.geojson")))
    assert len(departements["features"]) == 101 and len(regions["features"]) == 18
    codes = {f["properties"]["code"] for f in departements["features"]}
    assert {"01", "2A", "2B", "75", "971", "976"} <= codes
    size = sum(
        len(open(finders.find(f"geo/{n}.geojson"), "rb").read())
        for n in ("departements", "regions")
    )
    assert size < 500_000


@pytest.mark.parametrize("query", HOSTILE)
def test_hostile_parameters_never_fail(client, corpus, query):
    for name in ("map", "map-data", "map-density", "embed", "embed-list", "embed-map"):
        response = client.get(f"{reverse(f'catalogue:{name}')}?{query}")
        assert response.status_code in (200, 400), (name, query, response.status_code)


def test_invalid_filters_are_reported_and_ignored_like_the_directory(client, corpus):
    data = map_json(client, "kind=nope&region=84")
    assert "kind" in data["errors"]
    assert data["count"] == map_json(client, "region=84")["count"]
    text = client.get(reverse("catalogue:map"), {"kind": "nope"}).content.decode()
    assert "nope" in text


def test_unknown_territory_is_a_400_with_a_message(client, corpus):
    response = client.get(reverse("catalogue:map-data"), {"territoire": "atlantide"})
    assert response.status_code == 400
    assert "atlantide" in response.json()["error"]


def test_territory_data_keeps_to_the_territory(client, corpus, located):
    drome = Territory.objects.get(slug="drome-26")
    data = map_json(client, "territoire=drome-26")
    expected = Place.objects.published().filter(departement=drome).count()
    assert data["count"] == expected
    assert located["commune"].slug in marker_slugs(data)


def test_place_page_shows_a_small_map_at_its_point(client, corpus, located):
    text = client.get(located["own"].get_absolute_url()).content.decode()
    assert 'data-map="point"' in text
    assert 'data-lat="44.50000"' in text and 'data-lon="5.10000"' in text
    text = client.get(located["commune"].get_absolute_url()).content.decode()
    assert 'data-lat="44.52500"' in text and 'data-precise="0"' in text
    text = client.get(located["nowhere"].get_absolute_url()).content.decode()
    assert "data-map=" not in text


@pytest.mark.parametrize("language", ["fr", "en"])
def test_the_small_map_filled_in_is_the_map_its_template_draws(corpus, located, language):
    # The place page's small map is drawn once per language and kind of point, then
    # filled in with each place's (catalogue/jinja.py): the same HTML as drawn whole.
    located["own"].name = 'Atelier « L\'Envol » <b>&</b> "cité"'
    places = [*located.values(), *Place.objects.published()]
    with translation.override(language):
        for place in places:
            attach_territories(place)
            whole = get_template(SMALL_MAP).render(small_map(place=place))
            filled = place_map(place)
            assert filled == whole and isinstance(filled, SafeString), place.slug
    drawn = place_map(located["own"])
    assert escape(located["own"].name) in drawn and 'data-precise="1"' in drawn
    assert 'data-lat="44.52500"' in place_map(located["commune"])


def test_territory_page_shows_a_map_of_its_places(client, corpus, located):
    drome = Territory.objects.get(slug="drome-26")
    text = client.get(drome.get_absolute_url()).content.decode()
    assert 'data-map="places"' in text
    assert f'data-src="{reverse("catalogue:map-data")}?territoire=drome-26"' in text
    assert f"{reverse('catalogue:map')}?departement=26" in text


def test_density_map_counts_places_per_departement(client, corpus, located):
    response = client.get(reverse("catalogue:map-density"), {"kind": "fab-lab"})
    assert response.status_code == 200
    rows = {row["code"]: row["count"] for row in response.context["rows"]}
    fab_labs = Place.objects.published().filter(kinds__slug="fab-lab")
    assert rows["26"] == fab_labs.filter(departement__insee_code="26").count()
    assert sum(rows.values()) + response.context["outside"] == fab_labs.count()
    text = response.content.decode()
    assert "<svg" in text and "Drôme : " in text
    assert f'<td class="num">{rows["26"]}</td>' in text


def test_density_map_by_region_and_unknown_level(client, corpus):
    response = client.get(reverse("catalogue:map-density"), {"niveau": "region"})
    assert response.context["level"] == "region"
    assert any(row["name"] == "Auvergne-Rhône-Alpes" for row in response.context["rows"])
    response = client.get(reverse("catalogue:map-density"), {"niveau": "monde"})
    assert response.status_code == 200 and response.context["level"] == "departement"
    assert "Niveau inconnu" in response.content.decode()


def test_only_the_embedded_pages_may_be_framed(client, corpus):
    for name in ("embed-list", "embed-map"):
        response = client.get(reverse(f"catalogue:{name}"), {"kind": "ptce"})
        assert response.status_code == 200
        assert "X-Frame-Options" not in response.headers, name
    for url in (
        reverse("catalogue:map"),
        reverse("catalogue:embed"),
        reverse("catalogue:map-density"),
        reverse("catalogue:place-list"),
    ):
        assert client.get(url).headers.get("X-Frame-Options") == "DENY", url


def test_embedded_list_renders_its_filters_names_and_count(client, corpus):
    _slugs, count = directory_slugs(client, "kind=ptce")
    response = client.get(reverse("catalogue:embed-list"), {"kind": "ptce"})
    text = response.content.decode()
    assert f"{count} lieux" in text
    assert "Type de lieu : PTCE" in text
    ptce = Place.objects.published().filter(kinds__slug="ptce").order_by("name")
    for place in ptce[:5]:
        assert escape(place.name) in text
    assert '<base target="_top">' in text
    assert "site-header" not in text


def test_embedded_list_paginates_inside_the_frame(client, corpus):
    response = client.get(reverse("catalogue:embed-list"))
    assert response.context["paginator"].count > 20
    assert 'target="_self" href="?page=2"' in response.content.decode()


def test_embedded_map_renders_its_filters_and_count(client, corpus, located):
    response = client.get(reverse("catalogue:embed-map"), {"departement": "26"})
    text = response.content.decode()
    total = response.context["map_total"]
    assert total == Place.objects.published().filter(departement__insee_code="26").count()
    assert f"{total} lieux" in text and "Atelier du Lez" in text
    assert f'data-src="{reverse("catalogue:map-data")}?departement=26"' in text


def test_embed_page_gives_snippets_from_the_query_string(client, corpus):
    response = client.get(reverse("catalogue:embed"), {"kind": "ptce", "hauteur": "450"})
    text = response.content.decode()
    list_url = f"http://testserver{reverse('catalogue:embed-list')}?kind=ptce"
    assert f"&lt;iframe src=&quot;{list_url}&quot;" in text
    assert "height=&quot;450&quot;" in text
    assert f'<iframe class="embed-preview" src="{reverse("catalogue:embed-map")}?kind=ptce"' in text
    count = Place.objects.published().filter(kinds__slug="ptce").count()
    assert f"{count} lieux sélectionnés" in text
    response = client.get(reverse("catalogue:embed"), {"hauteur": "99999"})
    assert response.context["height"] == 600 and response.context["height_error"]


def test_english_map_pages(client, corpus):
    response = client.get("/en/carte/", {"kind": "ptce"})
    assert response.status_code == 200
    assert "Map of places" in response.content.decode()
    data = json.loads(client.get("/en/carte/lieux.json").content)
    assert data["place_url"].startswith("/en/lieux/")


def test_query_counts_are_bounded(client, corpus, located, django_assert_max_num_queries):
    # Directory filters and facets (as /lieux/), then the list beside the map: 2 queries.
    with django_assert_max_num_queries(25):
        client.get(reverse("catalogue:map"), {"kind": "ptce", "area": "rural"})
    # Filter validation, places, kinds, kind names.
    with django_assert_max_num_queries(6):
        client.get(reverse("catalogue:map-data"), {"kind": "ptce", "region": "84"})
    with django_assert_max_num_queries(6):
        client.get(reverse("catalogue:map-density"), {"kind": "ptce"})
    with django_assert_max_num_queries(8):
        client.get(reverse("catalogue:embed-list"), {"kind": "ptce"})
    with django_assert_max_num_queries(6):
        client.get(reverse("catalogue:embed-map"), {"kind": "ptce"})


def test_tile_defaults_are_openstreetmap():
    assert "openstreetmap" in settings.MAP_TILE_URL
    assert "OpenStreetMap" in settings.MAP_TILE_ATTRIBUTION


def test_density_classes_give_the_most_places_the_darkest_shade():
    from catalogue.maps import class_of, classes

    bounds = classes([0, 1, 1, 2, 3])
    assert bounds == [1, 2, 3]
    assert [class_of(n, bounds) for n in (0, 1, 2, 3)] == [0, 2, 4, 5]
    bounds = classes(range(0, 101))
    assert len(bounds) == 5 and class_of(100, bounds) == 5 and class_of(1, bounds) == 1
    assert classes([0, 0]) == []


def test_marker_data_follows_changes_to_the_catalogue(client, corpus, make_place):
    before = map_json(client)["count"]  # cached until the data changes
    make_place(name="Lieu tout neuf")
    assert map_json(client)["count"] == before + 1
