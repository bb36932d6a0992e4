"""Open data: the directory's CSV, JSON and GeoJSON downloads, and what machines read in the
pages (JSON-LD, sitemap, robots.txt, canonical and hreflang links)."""

import csv
import io
import json
import re
import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from catalogue import exports
from catalogue.models import Place, Territory

LIST = reverse("catalogue:place-list")
CSV = reverse("catalogue:export-csv")
JSON = reverse("catalogue:export-json")
GEOJSON = reverse("catalogue:export-geojson")
API = "/api/v1/places/"

# Query strings of the directory, from the plainest to several filters, a range, a sort
# and a search.
QUERIES = [
    "",
    "kind=fab-lab",
    "kind=coworking&area=rural",
    "setting=rural&setting=petite-ville&sort=-year",
    "region=84&sort=-investment",
    "investment_min=100000&sort=budget",
    "kind=ptce&funder_kind=region",
    "q=fab+lab",
    "q=coopérative&area=rural",
    "q=atelier&kind=fab-lab&kind=tiers-lieu",
    "kind=fab-lab&kind=ptce&service=coworking&sort=-investment",
]


def body(response):
    return b"".join(response.streaming_content) if response.streaming else response.content


def csv_rows(response):
    text = body(response).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def directory_slugs(client, query):
    response = client.get(f"{LIST}?{query}&per_page=100")
    assert response.status_code == 200
    count = response.context["paginator"].count
    assert count <= 100, "the corpus fits on one page"
    return count, [place.slug for place, _name, _summary in response.context["results"]]


@pytest.mark.parametrize("query", QUERIES)
def test_one_query_string_selects_the_same_places_everywhere(client, corpus, query):
    count, listed = directory_slugs(client, query)
    from_csv = [row["slug"] for row in csv_rows(client.get(f"{CSV}?{query}"))]
    from_json = [p["slug"] for p in json.loads(body(client.get(f"{JSON}?{query}")))["places"]]
    geojson = json.loads(body(client.get(f"{GEOJSON}?{query}")))
    from_geojson = [feature["id"] for feature in geojson["features"]]
    api = client.get(f"{API}?{query}&per_page=100").json()
    from_api = [place["slug"] for place in api["results"]]
    assert api["count"] == count == len(listed)
    if "q=" in query:
        # A search's order mixes name matches and relevance on the page; the set is equal.
        assert set(from_csv) == set(from_json) == set(from_geojson) == set(from_api)
        assert set(from_csv) == set(listed)
        assert len(from_csv) == count
    else:
        assert from_csv == from_json == from_geojson == from_api == listed
    if query:
        assert count < Place.objects.published().count()


def test_the_csv_opens_with_the_right_columns_and_figures(client, corpus):
    response = client.get(CSV, {"kind": "fab-lab"})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response.streaming
    assert 'filename="lieux-' in response["Content-Disposition"]
    content = body(response)
    assert content.startswith("\ufeff".encode())
    rows = list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))
    columns = list(rows[0])
    for column in [
        "slug",
        "name",
        "url",
        "kinds",
        "setting",
        "territory",
        "territory_population",
        "departement",
        "region",
        "region_name",
        "latitude",
        "longitude",
        "investment_eur",
        "operating_budget_eur",
        "staff",
        "jobs",
        "sources",
    ]:
        assert column in columns
    crest = next(row for row in rows if row["slug"] == "fab-lab-crest")
    assert crest["name"] == "8 FabLab"
    assert crest["url"] == "http://testserver/lieux/fab-lab-crest/"
    assert crest["kinds"].split("|") == ["coworking", "fab-lab"]
    assert crest["investment_eur"] == "350000"
    assert crest["staff"] == "5"
    assert crest["territory"] == "Crest"
    assert crest["departement"] == "26"
    assert crest["region_name"] == "Auvergne-Rhône-Alpes"
    assert "memento-lieux-innovation" in crest["sources"].split("|")


def test_a_place_s_coordinates_are_in_every_download(client, make_place):
    place = make_place(
        name="Lieu pointé", latitude=Decimal("44.72612"), longitude=Decimal("5.02251")
    )
    row = next(row for row in csv_rows(client.get(CSV)) if row["slug"] == place.slug)
    assert (row["latitude"], row["longitude"], row["coordinates_precise"]) == (
        "44.72612",
        "5.02251",
        "1",
    )
    data = json.loads(body(client.get(JSON)))
    record = next(p for p in data["places"] if p["slug"] == place.slug)
    assert (record["latitude"], record["longitude"]) == (44.72612, 5.02251)
    assert record["coordinates_precise"] is True


def test_every_place_has_the_same_point_in_the_api_and_the_downloads(client, make_place):
    make_place(latitude=Decimal("43.1"), longitude=Decimal("1.2"))
    Territory.objects.filter(slug="drome-26").update(
        latitude=Decimal("44.68"), longitude=Decimal("5.16")
    )
    Territory.objects.filter(slug="crest").update(latitude=None, longitude=None)
    Territory.objects.filter(kind=Territory.Kind.REGION).update(
        latitude=Decimal("45.5"), longitude=Decimal("4.5")
    )
    rows = {row["slug"]: row for row in csv_rows(client.get(CSV))}
    api = client.get(API, {"per_page": 100}).json()["results"]
    assert len(api) == len(rows)
    for place in api:
        row = rows[place["slug"]]
        expected = Place.objects.with_coordinates().get(slug=place["slug"]).coordinates()
        point = (place["latitude"], place["longitude"], place["coordinates_precise"])
        as_csv = (row["latitude"], row["longitude"], row["coordinates_precise"])
        if expected is None:
            assert point == (None, None, None) and as_csv == ("", "", "")
        else:
            assert point == (float(expected[0]), float(expected[1]), expected[2])
            assert as_csv == (
                f"{expected[0].normalize():f}",
                f"{expected[1].normalize():f}",
                "1" if expected[2] else "0",
            )
    crest = next(place for place in api if place["slug"] == "fab-lab-crest")
    # Crest has no point of its own here: the Drôme's is used.
    assert (crest["latitude"], crest["longitude"]) == (44.68, 5.16)


def test_the_geojson_is_a_feature_collection_in_longitude_latitude_order(client, make_place):
    place = make_place(latitude=Decimal("48.11"), longitude=Decimal("-1.68"))
    response = client.get(GEOJSON)
    assert response["Content-Type"] == "application/geo+json"
    data = json.loads(body(response))
    assert data["type"] == "FeatureCollection"
    assert data["license"]["name"] == "Licence Ouverte / Open Licence 2.0"
    for feature in data["features"]:
        assert feature["type"] == "Feature"
        assert set(feature) == {"type", "id", "geometry", "properties"}
        assert "latitude" not in feature["properties"]
        geometry = feature["geometry"]
        if geometry is not None:
            assert geometry["type"] == "Point"
            lon, lat = geometry["coordinates"]
            # Metropolitan France and the overseas départements, never swapped.
            assert -180 <= lon <= 180 and -90 <= lat <= 90
    pointed = next(f for f in data["features"] if f["id"] == place.slug)
    assert pointed["geometry"]["coordinates"] == [-1.68, 48.11]
    assert pointed["properties"]["name"] == place.name


def test_a_place_without_a_point_has_a_null_geometry(client, make_place):
    lost = make_place(territory=None)
    data = json.loads(body(client.get(GEOJSON)))
    feature = next(f for f in data["features"] if f["id"] == lost.slug)
    assert feature["geometry"] is None


def test_the_json_download_states_its_licence_and_credits_its_sources(client, corpus):
    response = client.get(JSON, {"kind": "fab-lab"})
    assert response["Content-Type"] == "application/json"
    data = json.loads(body(response))
    assert data["license"]["spdx"] == "etalab-2.0"
    assert "innovplaces" in data["attribution"]
    assert data["query"] == "kind=fab-lab"
    cited = {slug for place in data["places"] for slug in place["sources"]}
    assert cited and cited == {source["slug"] for source in data["sources"]}
    assert all(source["title"] for source in data["sources"])


@pytest.mark.parametrize("url", [CSV, JSON, GEOJSON])
def test_downloads_name_their_licence_in_a_header(client, corpus, url):
    response = client.get(url)
    assert response["Link"] == (
        '<https://www.etalab.gouv.fr/licence-ouverte-open-licence/>; rel="license"'
    )
    assert response["X-License"].startswith("Licence Ouverte / Open Licence 2.0")
    body(response)


HOSTILE = [
    ({"kind": "no-such-kind"}, "kind"),
    ({"region": "9999"}, "region"),
    ({"year_min": "1" + "0" * 30}, "year_min"),
    ({"investment_min": "-5"}, "investment_min"),
    ({"budget_max": "1e400"}, "budget_max"),
    ({"q": "x" * 10_000}, "q"),
    ({"sort": "name; DROP TABLE catalogue_place"}, "sort"),
    ({"setting": "<script>alert(1)</script>"}, "setting"),
    ({"status": "%s%s%n"}, "status"),
    ({"funder": "nobody-funds-this"}, "funder"),
]


@pytest.mark.parametrize("params,name", HOSTILE)
@pytest.mark.parametrize("url", [CSV, JSON, GEOJSON])
def test_hostile_parameters_are_refused_with_a_reason(client, corpus, url, params, name):
    response = client.get(url, params)
    assert response.status_code == 400
    text = body(response).decode()
    assert name in text
    if url == CSV:
        assert text.startswith("Ces paramètres n'ont pas été compris")
    else:
        assert name in response.json()["errors"]
    # Never an HTML page: what was given is not rendered anywhere.
    assert response["Content-Type"] in ("text/plain; charset=utf-8", "application/json")


def test_a_cell_a_spreadsheet_would_run_is_defused(client, make_place):
    place = make_place(name='=HYPERLINK("http://example.invalid","clic")')
    row = next(row for row in csv_rows(client.get(CSV)) if row["slug"] == place.slug)
    assert row["name"] == "'" + place.name
    data = json.loads(body(client.get(JSON)))
    # The JSON keeps the name as it is: no spreadsheet runs it.
    assert any(p["name"] == place.name for p in data["places"])


def test_downloads_read_places_in_chunks_with_a_fixed_number_of_queries(
    client, corpus, monkeypatch
):
    def run():
        with CaptureQueriesContext(connection) as queries:
            content = body(client.get(CSV))
        return content, len(queries)

    whole, whole_queries = run()
    monkeypatch.setattr(exports, "CHUNK_SIZE", 10)
    chunked, chunked_queries = run()
    assert chunked == whole
    chunks = -(-Place.objects.published().count() // 10)
    # Per chunk: the places (SQLite fetches each chunk), kinds, headline figures, sources.
    assert chunked_queries - whole_queries <= 4 * (chunks - 1)


def test_download_queries_do_not_grow_with_the_places(client, corpus, make_place):
    def count():
        with CaptureQueriesContext(connection) as queries:
            body(client.get(GEOJSON, {"kind": "fab-lab"}))
        return len(queries)

    before = count()
    for _ in range(5):
        make_place(kinds=("fab-lab",))
    assert count() == before


def test_the_directory_links_to_its_downloads_with_its_filters(client, corpus):
    response = client.get(LIST, {"kind": "fab-lab", "page": "1"})
    html = response.content.decode()
    assert f'href="{CSV}?kind=fab-lab"' in html
    assert f'href="{GEOJSON}?kind=fab-lab"' in html
    assert "Licence Ouverte 2.0" in html
    english = client.get("/en/lieux/", {"setting": "rural"}).content.decode()
    assert 'href="/en/lieux/export.json?setting=rural"' in english
    assert "Download these places" in english


def test_a_departement_page_downloads_its_places_only(client, corpus):
    html = client.get(reverse("catalogue:territory-detail", args=["drome-26"])).content.decode()
    assert f'href="{CSV}?departement=26"' in html
    commune = Territory.objects.filter(kind=Territory.Kind.COMMUNE, places__isnull=False)[0]
    html = client.get(commune.get_absolute_url()).content.decode()
    # No parameter names a commune: a download would hold more than the page.
    assert CSV not in html


def test_downloads_may_be_read_from_other_sites(client, corpus):
    response = client.get(GEOJSON, HTTP_ORIGIN="https://region.example")
    assert response["Access-Control-Allow-Origin"] == "*"
    body(response)
    page = client.get(LIST, HTTP_ORIGIN="https://region.example")
    assert "Access-Control-Allow-Origin" not in page


def test_downloads_are_throttled_per_address(client, corpus, monkeypatch):
    monkeypatch.setitem(exports.ExportThrottle.THROTTLE_RATES, "export", "2/hour")
    for _ in range(2):
        assert client.get(CSV, {"kind": "fab-lab"}).status_code == 200
    refused = client.get(CSV, {"kind": "fab-lab"})
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    assert "réessayez" in refused.content.decode()


# ------------------------------------------------------------------ pages for machines


def json_ld(html):
    blocks = re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    assert len(blocks) == 1
    return json.loads(blocks[0])


def test_a_place_page_describes_the_place_in_json_ld(client, corpus):
    html = client.get(reverse("catalogue:place-detail", args=["fab-lab-crest"])).content.decode()
    data = json_ld(html)
    assert data["@context"] == "https://schema.org"
    assert data["@type"] == ["Place", "Organization"]
    assert data["name"] == "8 FabLab"
    assert data["url"] == "http://testserver/lieux/fab-lab-crest/"
    assert data["address"]["addressLocality"] == "Crest"
    assert data["address"]["addressRegion"] == "Auvergne-Rhône-Alpes"
    assert data["foundingDate"] == "2014"


def test_json_ld_gives_the_point_and_cannot_close_its_script(client, make_place):
    place = make_place(
        name="Lieu </script><script>alert(1)</script>",
        latitude=Decimal("45.5"),
        longitude=Decimal("4.25"),
    )
    html = client.get(place.get_absolute_url()).content.decode()
    assert "<script>alert(1)" not in html
    data = json_ld(html)
    assert data["name"] == place.name
    assert data["geo"] == {"@type": "GeoCoordinates", "latitude": 45.5, "longitude": 4.25}


def test_a_case_study_page_is_an_article_based_on_its_source(client, corpus):
    url = reverse("casestudies:case-detail", args=["coeur-de-ville-introduction"])
    data = json_ld(client.get(url).content.decode())
    assert data["@type"] == "Article"
    assert data["author"]["name"] == "innovplaces"
    assert data["isBasedOn"]["name"] == "Apprendre et travailler en cœur de ville"
    assert "ANCT" in data["isBasedOn"]["publisher"]
    assert data["headline"].startswith("Apprendre et travailler en cœur de ville")
    assert any(place["name"] == "Lainamac" for place in data["about"])


def test_pages_name_their_canonical_url_and_their_other_language(client, corpus):
    html = client.get("/lieux/fab-lab-crest/").content.decode()
    assert '<link rel="canonical" href="http://testserver/lieux/fab-lab-crest/">' in html
    assert (
        '<link rel="alternate" hreflang="en" href="http://testserver/en/lieux/fab-lab-crest/">'
        in html
    )
    html = client.get("/en/lieux/", {"kind": "fab-lab", "page": "2"}).content.decode()
    assert '<link rel="canonical" href="http://testserver/en/lieux/?page=2">' in html
    assert '<link rel="alternate" hreflang="fr" href="http://testserver/lieux/?page=2">' in html
    assert 'hreflang="x-default" href="http://testserver/lieux/?page=2"' in html


SITEMAP_NS = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
XHTML = "{http://www.w3.org/1999/xhtml}link"


def sitemap_entries(client, url):
    response = client.get(url)
    assert response.status_code == 200
    root = ET.fromstring(response.content)
    return {
        entry.findtext("s:loc", namespaces=SITEMAP_NS): {
            link.get("hreflang"): link.get("href") for link in entry.iter(XHTML)
        }
        for entry in root.findall("s:url", SITEMAP_NS)
    }


def test_the_sitemap_lists_places_and_case_studies_with_their_english_pages(
    client, corpus, make_place
):
    draft = make_place(editorial_status="draft")
    index = ET.fromstring(client.get("/sitemap.xml").content)
    sections = [loc.text for loc in index.findall("s:sitemap/s:loc", SITEMAP_NS)]
    assert "http://testserver/sitemap-places.xml" in sections
    assert "http://testserver/sitemap-case-studies.xml" in sections
    places = sitemap_entries(client, "/sitemap-places.xml")
    crest = places["http://testserver/lieux/fab-lab-crest/"]
    assert crest["en"] == "http://testserver/en/lieux/fab-lab-crest/"
    assert crest["x-default"] == "http://testserver/lieux/fab-lab-crest/"
    assert "http://testserver/en/lieux/fab-lab-crest/" in places
    assert f"http://testserver/lieux/{draft.slug}/" not in places
    published = Place.objects.filter(editorial_status__in=["published", "archived"]).count()
    assert len(places) == 2 * published
    cases = sitemap_entries(client, "/sitemap-case-studies.xml")
    assert "http://testserver/etudes-de-cas/coeur-de-ville-introduction/" in cases
    assert "http://testserver/en/lieux/" in sitemap_entries(client, "/sitemap-pages.xml")


def test_robots_txt_points_to_the_sitemap_and_keeps_crawlers_off_the_admin(client, corpus):
    response = client.get("/robots.txt")
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    lines = response.content.decode().splitlines()
    assert lines[0] == "User-agent: *"
    assert "Disallow: /admin/" in lines
    assert "Disallow: /en/admin/" in lines
    assert "Disallow: /lieux/export." in lines
    assert "Sitemap: http://testserver/sitemap.xml" in lines
