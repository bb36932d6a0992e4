"""The read-only JSON API, /api/v1/: records, filters, pagination, schema and bad input.
(That it selects the same places as the directory is in test_open_data.py.)"""

import pytest
from openapi_spec_validator import validate
from rest_framework.throttling import AnonRateThrottle

from casestudies.export import case_study_dict
from catalogue.api import serializers as api_serializers
from catalogue.models import COORDINATE_FALLBACK_DEPTH, Lesson, Place, Territory
from catalogue.serializers import place_dict, places_for_export

API = "/api/v1/"


def get(client, path, **params):
    response = client.get(API + path, params)
    assert response.status_code == 200, response.content
    return response.json()


def declared(serializer_class):
    return set(serializer_class().fields)


def test_the_root_lists_every_endpoint(client, corpus):
    data = get(client, "")
    assert set(data) == {"places", "territories", "case-studies", "lessons", "sources", "tables"}
    assert data["places"] == "http://testserver/api/v1/places/"


def test_the_place_list_is_paginated_with_a_total_count(client, corpus):
    data = get(client, "places/", per_page=10)
    published = Place.objects.published().count()
    assert data["count"] == published
    assert len(data["results"]) == 10
    assert data["next"].endswith("page=2&per_page=10")
    pages = -(-published // 10)
    last = get(client, "places/", per_page=10, page=pages)
    assert last["next"] is None
    assert len(last["results"]) == published - 10 * (pages - 1)
    assert set(data["results"][0]) == declared(api_serializers.PlaceListSerializer)
    # Sorted by name, as the directory is by default.
    names = [place["name"] for place in get(client, "places/", per_page=100)["results"]]
    assert names == list(Place.objects.published().order_by("name").values_list("name", flat=True))


def test_a_place_in_the_list_carries_its_territory_and_headline_figures(client, corpus):
    data = get(client, "places/", kind="fab-lab", per_page=100)
    crest = next(p for p in data["results"] if p["slug"] == "fab-lab-crest")
    assert crest["name"] == "8 FabLab"
    assert crest["url"] == "http://testserver/lieux/fab-lab-crest/"
    assert crest["territory"]["name"] == "Crest"
    assert crest["departement"] == "26" and crest["region"] == "84"
    assert crest["figures"] == {"investment_eur": 350000, "operating_budget_eur": None, "staff": 5}


def test_a_place_detail_is_the_export_record_with_its_page_and_point(client, corpus):
    data = get(client, "places/fab-lab-crest/")
    expected = place_dict(places_for_export().get(slug="fab-lab-crest"))
    assert {key: data[key] for key in expected} == expected
    assert data["url"] == "http://testserver/lieux/fab-lab-crest/"
    assert set(data) == declared(api_serializers.PlaceDetailSerializer)
    place = Place.objects.with_coordinates().get(slug="fab-lab-crest")
    point = place.coordinates()
    assert (data["latitude"], data["longitude"]) == (
        (float(point[0]), float(point[1])) if point else (None, None)
    )


def test_drafts_are_not_in_the_api(client, make_place):
    draft = make_place(editorial_status="draft")
    slugs = [p["slug"] for p in get(client, "places/", per_page=100)["results"]]
    assert draft.slug not in slugs
    response = client.get(f"{API}places/{draft.slug}/")
    assert response.status_code == 404
    assert response.json()["detail"]


def test_an_archived_place_keeps_its_record_but_leaves_the_list(client, make_place):
    archived = make_place(editorial_status="archived")
    assert get(client, f"places/{archived.slug}/")["name"] == archived.name
    slugs = [p["slug"] for p in get(client, "places/", per_page=100)["results"]]
    assert archived.slug not in slugs


def test_territories_filter_by_kind_and_parent(client, corpus):
    regions = get(client, "territories/", kind="region", per_page=100)
    assert regions["count"] == Territory.objects.filter(kind="region").count()
    assert {t["kind"] for t in regions["results"]} == {"region"}
    auvergne = next(t for t in regions["results"] if t["insee_code"] == "84")
    assert auvergne["name"] == "Auvergne-Rhône-Alpes"
    below = get(client, "territories/", parent=auvergne["slug"], per_page=100)["results"]
    assert "drome-26" in {t["slug"] for t in below}
    drome = get(client, "territories/drome-26/")
    assert set(drome) == declared(api_serializers.TerritorySerializer)
    assert (drome["kind"], drome["insee_code"], drome["parent"]) == (
        "departement",
        "26",
        auvergne["slug"],
    )


def test_case_studies_list_and_detail(client, corpus):
    data = get(client, "case-studies/", place="lainamac", per_page=100)
    assert data["count"] >= 1
    assert all("lainamac" in case["places"] for case in data["results"])
    assert set(data["results"][0]) == declared(api_serializers.CaseStudyListSerializer)
    detail = get(client, "case-studies/coeur-de-ville-introduction/")
    assert set(detail) == declared(api_serializers.CaseStudyDetailSerializer)
    case = (
        Place._meta.get_field("case_studies")
        .related_model.objects.prefetch_related("sections")
        .get(slug="coeur-de-ville-introduction")
    )
    expected = case_study_dict(case)
    assert detail["title"] == expected["title"]
    assert [s["heading"] for s in detail["sections"]] == [
        s["heading"] for s in expected["sections"]
    ]


def test_lessons_filter_by_theme_and_place(client, corpus):
    data = get(client, "lessons/", theme="funding", per_page=100)
    assert (
        data["count"]
        == Lesson.objects.filter(
            theme="funding", place__editorial_status__in=["published", "archived"]
        ).count()
    )
    assert {lesson["theme"] for lesson in data["results"]} == {"funding"}
    lesson = data["results"][0]
    assert set(lesson) == declared(api_serializers.LessonSerializer)
    assert get(client, f"lessons/{lesson['id']}/")["text"] == lesson["text"]
    crest = get(client, "lessons/", place="fab-lab-crest")["results"]
    assert crest and {item["place"] for item in crest} == {"fab-lab-crest"}


def test_sources_and_tables(client, corpus):
    sources = get(client, "sources/", per_page=100)["results"]
    memento = next(s for s in sources if s["slug"] == "memento-lieux-innovation")
    assert set(memento) == declared(api_serializers.SourceSerializer)
    assert get(client, "sources/memento-lieux-innovation/")["title"] == memento["title"]
    tables = get(client, "tables/")["results"]
    table = get(client, f"tables/{tables[0]['slug']}/")
    assert set(table) == declared(api_serializers.TableDetailSerializer)
    keys = [column["key"] for column in table["columns"]]
    assert table["rows"] and all(list(row["cells"]) == keys for row in table["rows"])
    assert any(value for row in table["rows"] for value in row["cells"].values())


HOSTILE = [
    ("places/", {"page": "-1"}, "page"),
    ("places/", {"page": "0"}, "page"),
    ("places/", {"page": "abc"}, "page"),
    ("places/", {"page": "9" * 40}, "page"),
    ("places/", {"page": "999"}, "page"),
    ("places/", {"per_page": "100000"}, "per_page"),
    ("places/", {"per_page": "-3"}, "per_page"),
    ("places/", {"kind": "no-such-kind"}, "kind"),
    ("places/", {"region": "00"}, "region"),
    ("places/", {"year_min": "9" * 40}, "year_min"),
    ("places/", {"investment_max": "-1"}, "investment_max"),
    ("places/", {"q": "é" * 10_000}, "q"),
    ("places/", {"sort": "'; select 1; --"}, "sort"),
    ("places/", {"format": "xml"}, "format"),
    ("places/", {"format": "api"}, "format"),
    ("territories/", {"kind": "planet"}, "kind"),
    ("territories/", {"q": "x" * 10_000}, "q"),
    ("lessons/", {"theme": "%00"}, "theme"),
    ("case-studies/", {"kind": "novel"}, "kind"),
]


@pytest.mark.parametrize("path,params,name", HOSTILE)
def test_hostile_parameters_are_refused_with_a_reason(client, corpus, path, params, name):
    response = client.get(API + path, params)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    messages = response.json()[name]
    assert messages and all(isinstance(m, str) and m for m in messages)


@pytest.mark.parametrize(
    "path", ["places/no-such-place/", "territories/nowhere/", "lessons/99999999/", "tables/x/"]
)
def test_unknown_records_are_404_in_json(client, corpus, path):
    response = client.get(API + path)
    assert response.status_code == 404
    assert response.json()["detail"]


@pytest.mark.parametrize(
    "path,params",
    [
        ("places/", {"per_page": 100}),
        ("places/", {"kind": "fab-lab", "setting": "rural", "region": "84", "per_page": 100}),
        ("places/", {"q": "fab lab", "per_page": 100}),
        ("territories/", {"per_page": 100}),
        ("case-studies/", {"per_page": 100}),
        ("lessons/", {"per_page": 100}),
        ("sources/", {"per_page": 100}),
        ("tables/", {"per_page": 100}),
    ],
)
def test_list_endpoints_answer_in_a_few_queries(
    client, corpus, django_assert_max_num_queries, path, params
):
    # Places: the filters' choices (kind, région), the count, the page, its kinds; a
    # search adds its own queries. Never one per record.
    with django_assert_max_num_queries(12):
        response = client.get(API + path, params)
    assert response.status_code == 200
    assert response.json()["count"] > 0


def test_place_list_queries_do_not_grow_with_the_page(client, make_place):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def count(per_page):
        with CaptureQueriesContext(connection) as queries:
            client.get(API + "places/", {"per_page": per_page})
        return len(queries)

    for _ in range(3):
        make_place()
    count(1)  # the first request after a change rebuilds the process's facet index
    # The data version (the count comes from the facet index), the page, its kinds, then
    # one query per level climbed up the territories for places whose own territory has no
    # point: bounded by the chain, not the page.
    assert count(2) <= count(100) <= 3 + COORDINATE_FALLBACK_DEPTH


def test_the_openapi_schema_is_valid_and_states_the_licence(client, corpus):
    response = client.get(API + "schema/", {"format": "json"})
    assert response.status_code == 200
    schema = response.json()
    validate(schema)
    assert schema["info"]["license"]["name"] == "Licence Ouverte / Open Licence 2.0"
    for path in [
        "/api/v1/places/",
        "/api/v1/places/{slug}/",
        "/api/v1/territories/{slug}/",
        "/api/v1/case-studies/{slug}/",
        "/api/v1/lessons/{id}/",
        "/api/v1/sources/{slug}/",
        "/api/v1/tables/{slug}/",
    ]:
        assert path in schema["paths"], path
    parameters = {p["name"] for p in schema["paths"]["/api/v1/places/"]["get"]["parameters"]}
    for name in ["q", "kind", "setting", "area", "region", "departement", "year_min", "sort"]:
        assert name in parameters
    assert {"page", "per_page"} <= parameters


def test_the_documentation_page_uses_our_own_static_files(client, corpus):
    response = client.get(API + "docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    assert "https://" not in html.replace(
        "https://www.etalab.gouv.fr/licence-ouverte-open-licence/", ""
    )
    # No inline script (a CSP is coming): the set-up script is a file of its own.
    assert "<script>" not in html and "style=" not in html
    assert "<noscript>" in html and "/api/v1/schema/" in html
    script = client.get(API + "docs/", {"script": ""})
    assert script["Content-Type"] == "application/javascript"
    assert "/api/v1/schema/" in script.content.decode()


def test_every_answer_names_the_licence(client, corpus):
    response = client.get(API + "places/fab-lab-crest/")
    assert 'rel="license"' in response["Link"]
    assert response["X-License"] == "Licence Ouverte / Open Licence 2.0 (etalab-2.0)"


def test_the_api_may_be_read_from_other_sites(client, corpus):
    response = client.get(API + "places/", HTTP_ORIGIN="https://region.example")
    assert response["Access-Control-Allow-Origin"] == "*"
    preflight = client.options(
        API + "places/",
        HTTP_ORIGIN="https://region.example",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET",
    )
    assert preflight.status_code == 200
    assert "GET" in preflight["Access-Control-Allow-Methods"]
    assert "POST" not in preflight["Access-Control-Allow-Methods"]


def test_the_api_sets_no_cookie_and_refuses_writes(client, corpus):
    response = client.get(API + "places/")
    assert not response.cookies
    assert client.post(API + "places/", {}).status_code == 405


def test_anonymous_clients_are_throttled(client, corpus, monkeypatch):
    monkeypatch.setitem(AnonRateThrottle.THROTTLE_RATES, "anon", "3/minute")
    for _ in range(3):
        assert client.get(API + "sources/").status_code == 200
    refused = client.get(API + "sources/")
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    assert refused.json()["detail"]


def test_a_place_list_reads_one_page_of_places_not_all(client, corpus):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for params in ({"per_page": 2}, {"per_page": 2, "q": "fab lab"}, {"kind": "ptce"}):
        client.get(API + "places/", params)  # the facet index is built on the first request
        with CaptureQueriesContext(connection) as queries:
            assert client.get(API + "places/", params).status_code == 200
        whole = [
            q["sql"]
            for q in queries
            if 'FROM "catalogue_place"' in q["sql"]
            and "LIMIT" not in q["sql"]
            and " IN (" not in q["sql"]
        ]
        assert whole == [], params
