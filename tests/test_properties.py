"""Property-based tests: whatever query string a visitor, a crawler or a script sends to the
directory, the map, the statistics, the exports, the API, the comparison or the lesson
pages, the answer is a page or a clear refusal (4xx), never a server error.

Hypothesis builds the query strings from every parameter these pages read, with values
that make sense (real slugs, choices, numbers), values that do not (unicode, huge and
negative numbers, floats, NaN, empty, very long, broken percent-escapes) and names nobody
expects, repeated or not.
"""

import itertools
import os
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from casestudies.models import SectionKind
from catalogue.statistics import Statistics

pytestmark = pytest.mark.django_db

# 300 examples per test on every run, always the same ones (CI fails or passes for good);
# PROPERTY_EXAMPLES=5000 explores further, with new random examples each time.
EXAMPLES = int(os.environ.get("PROPERTY_EXAMPLES", "300"))
HYPOTHESIS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize="PROPERTY_EXAMPLES" not in os.environ,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

KINDS = ["fab-lab", "ptce", "coworking", "tiers-lieu", "cluster", "pepiniere", "autre"]
SETTINGS = ["rural", "petite-ville", "ville-moyenne", "periurbain", "metropole"]
SERVICES = ["accompagnement", "coworking", "formation", "culture", "emploi"]
FUNDER_KINDS = ["eu", "state", "region", "departement", "epci", "commune", "private"]
LEGAL_FORMS = ["association", "scic", "scop", "sas", "collectivite"]
STATUSES = ["active", "project", "closed", "unknown"]
SORTS = ["name", "-year", "year", "-investment", "investment", "-budget", "budget"]
SORTS += ["-population", "population", "relevance"]
REGIONS = ["84", "27", "53", "24", "11", "94"]
DEPARTEMENTS = ["26", "01", "2A", "2B", "75", "971", "976"]
SOURCES = ["memento-lieux-innovation", "labo-ess-ptce-etudes-de-cas"]
PLACES = ["fab-lab-crest", "110-cultures", "antenne-cnam-dieppe", "archeomed"]
TERRITORIES = ["auvergne-rhone-alpes", "drome-26", "ain-01", "bretagne"]
LESSON_KINDS = ["success_factor", "difficulty", "recommendation", "challenge"]
THEMES = ["ecosystem", "funding", "governance", "team", "location", "economic_model"]
CASE_KINDS = ["monograph", "synthesis", "expert_view"]

JUNK = st.one_of(
    st.sampled_from(
        [
            "",
            " ",
            "-",
            "0",
            "-0",
            "-1",
            "00",
            "1e309",
            "-1e309",
            "1e-400",
            "NaN",
            "nan",
            "inf",
            "-Infinity",
            "9" * 400,
            "0x1F",
            "1,5",
            "1.5",
            "1 000",
            "１２",
            "٣",
            "²",
            "\x00",
            "\t\n",
            "' OR 1=1 --",
            "<script>alert(1)</script>",
            "../../etc/passwd",
            "a" * 3000,
            "é" * 500,
            "🙂",
            "null",
            "true",
            "[]",
            "{}",
            "%",
        ]
    ),
    st.integers(min_value=-(10**40), max_value=10**40).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=10),
)
NUMBER = st.one_of(
    st.integers(min_value=-10, max_value=10**13).map(str),
    st.decimals(allow_nan=False, allow_infinity=False, places=2).map(str),
)
# What a broken client or a hand-typed URL leaves in a query string, sent as it is.
RAW = st.sampled_from(["%", "%zz", "%ff%fe", "%c3", "&&", "=", "==x", ";", "a=%00", "%E2%82"])


def pick(values):
    return st.one_of(st.sampled_from(values), JUNK)


def comma_list(values):
    return st.lists(st.one_of(st.sampled_from(values), JUNK), max_size=6).map(",".join)


DIRECTORY_PARAMS = {
    "q": st.one_of(st.sampled_from(["atelier", "fab", "rural", "PTCE", "tiers lieu"]), JUNK),
    "kind": pick(KINDS),
    "setting": pick(SETTINGS),
    "area": pick(["rural", "urbain"]),
    "region": pick(REGIONS),
    "departement": pick(DEPARTEMENTS),
    "service": pick(SERVICES),
    "funder": pick(["feder", "region", "bpifrance", "FEDER", "Région"]),
    "funder_kind": pick(FUNDER_KINDS),
    "legal_form": pick(LEGAL_FORMS),
    "status": pick(STATUSES),
    "source": pick(SOURCES),
    "sort": pick(SORTS),
    "page": st.one_of(st.integers(min_value=-2, max_value=50).map(str), JUNK),
    "per_page": st.one_of(st.sampled_from(["10", "20", "50", "100", "1000"]), JUNK),
    "year_min": st.one_of(NUMBER, JUNK),
    "year_max": st.one_of(NUMBER, JUNK),
    "investment_min": st.one_of(NUMBER, JUNK),
    "investment_max": st.one_of(NUMBER, JUNK),
    "budget_min": st.one_of(NUMBER, JUNK),
    "budget_max": st.one_of(NUMBER, JUNK),
    "staff_min": st.one_of(NUMBER, JUNK),
    "staff_max": st.one_of(NUMBER, JUNK),
    "population_min": st.one_of(NUMBER, JUNK),
    "population_max": st.one_of(NUMBER, JUNK),
    # The map's, the embeds' and the funder box's own parameters.
    "territoire": pick(TERRITORIES),
    "niveau": pick(["departement", "region", "commune", "epci"]),
    "hauteur": st.one_of(NUMBER, JUNK),
    "terme": pick(["fed", "reg", "é"]),
    "format": pick(["json", "csv", "api", "html"]),
}
COMPARE_PARAMS = {
    "lieux": st.one_of(comma_list(PLACES), JUNK),
    "colonnes": st.one_of(
        comma_list(["kind", "setting", "investment", "budget", "staff", "contexte"]), JUNK
    ),
    "colonne": pick(["kind", "setting", "investment", "budget", "gouvernance"]),
    "page": JUNK,
}
LESSON_PARAMS = {
    "q": pick(["réseau", "financement"]),
    "kind": pick(LESSON_KINDS + CASE_KINDS),
    "theme": pick(THEMES),
    "place_kind": pick(KINDS),
    "setting": pick(SETTINGS),
    "region": pick(REGIONS + TERRITORIES),
    "source": pick(SOURCES),
    "page": st.one_of(st.integers(min_value=-2, max_value=20).map(str), JUNK),
    "tri": pick(["place", "kind", "setting", "investment", "0", "1"]),
    "ordre": pick(["asc", "desc"]),
}


def query_strings(params):
    """A query string: known parameters with plausible or junk values, unknown names,
    repeated names, and now and then a fragment no browser would encode."""
    known = st.sampled_from(sorted(params)).flatmap(
        lambda name: st.tuples(st.just(name), params[name])
    )
    unknown = st.tuples(st.text(min_size=1, max_size=12), JUNK)
    pair = st.one_of(known, known, known, unknown).map(
        lambda item: f"{quote(item[0], safe='')}={quote(item[1], safe='')}"
    )
    return st.lists(st.one_of(pair, pair, pair, pair, RAW), max_size=12).map("&".join)


_addresses = itertools.count(1)


def get(client, path, query):
    """GET the page as a new visitor from a new address each time (the API and the
    downloads are throttled per address)."""
    number = next(_addresses)
    address = f"10.{number // 65536 % 256}.{number // 256 % 256}.{number % 256}"
    return client.get(f"{path}?{query}", REMOTE_ADDR=address)


def assert_answers(client, paths, query):
    for path in paths:
        response = get(client, path, query)
        assert response.status_code < 500, (path, query, response.status_code)
        # Not throttled: the example really reached the view.
        assert response.status_code != 429, (path, query)


@pytest.fixture
def visitor(client, corpus):
    return client


@HYPOTHESIS
@given(query=query_strings(DIRECTORY_PARAMS))
def test_directory_never_fails(visitor, query):
    assert_answers(visitor, ["/lieux/"], query)


@HYPOTHESIS
@given(
    query=query_strings(DIRECTORY_PARAMS),
    path=st.sampled_from(
        [
            "/carte/",
            "/carte/lieux.json",
            "/carte/densite/",
            "/statistiques/",
            "/integrer/",
            "/integrer/lieux/",
            "/integrer/carte/",
            "/lieux/financeurs.json",
            "/en/lieux/",
        ]
    ),
)
def test_map_statistics_and_embeds_never_fail(visitor, query, path):
    assert_answers(visitor, [path], query)


@HYPOTHESIS
@given(
    query=query_strings(DIRECTORY_PARAMS),
    path=st.sampled_from(
        [
            "/lieux/export.csv",
            "/lieux/export.json",
            "/lieux/export.geojson",
            "/api/v1/places/",
            *[f"/statistiques/{chart}.csv" for chart in Statistics.CHARTS],
        ]
    ),
)
def test_exports_and_api_never_fail(visitor, query, path):
    assert_answers(visitor, [path], query)


@HYPOTHESIS
@given(
    query=query_strings(COMPARE_PARAMS),
    path=st.sampled_from(["/comparer/", "/comparer/csv/", "/en/comparer/"]),
)
def test_comparison_never_fails(visitor, query, path):
    assert_answers(visitor, [path], query)


@HYPOTHESIS
@given(
    query=query_strings(LESSON_PARAMS),
    path=st.sampled_from(
        [
            "/enseignements/",
            "/enseignements/themes/",
            "/etudes-de-cas/",
            "/tableaux/memento-adherents-personnel/",
            "/tableaux/memento-adherents-personnel/csv/",
            *[f"/etudes-de-cas/sections/{kind}/" for kind in SectionKind.values[:4]],
        ]
    ),
)
def test_lessons_case_studies_and_tables_never_fail(visitor, query, path):
    assert_answers(visitor, [path], query)


NUL_PATHS = [
    (DIRECTORY_PARAMS, "/lieux/"),
    (DIRECTORY_PARAMS, "/carte/"),
    (DIRECTORY_PARAMS, "/carte/lieux.json"),
    (DIRECTORY_PARAMS, "/carte/densite/"),
    (DIRECTORY_PARAMS, "/statistiques/"),
    (DIRECTORY_PARAMS, "/lieux/export.csv"),
    (DIRECTORY_PARAMS, "/api/v1/places/"),
    (DIRECTORY_PARAMS, "/lieux/financeurs.json"),
    (DIRECTORY_PARAMS, "/integrer/lieux/"),
    (COMPARE_PARAMS, "/comparer/"),
    (COMPARE_PARAMS, "/comparer/csv/"),
    (LESSON_PARAMS, "/enseignements/"),
    (LESSON_PARAMS, "/enseignements/themes/"),
    (LESSON_PARAMS, "/tableaux/memento-adherents-personnel/"),
    ({"lieu": None}, "/proposer/"),
]


@pytest.mark.parametrize(("params", "path"), NUL_PATHS, ids=[path for _, path in NUL_PATHS])
def test_a_nul_character_in_any_parameter_is_refused_cleanly(visitor, params, path):
    """PostgreSQL refuses a NUL character in a query (a 500 if it gets there), SQLite does
    not: every parameter gets one, whatever the examples above drew. Found three (the map's
    `territoire`, the comparison's `lieux`, the proposal form's `lieu`)."""
    for name in params:
        for value in ("%00", "a%00b"):
            assert_answers(visitor, [path], f"{name}={value}")


def test_a_nul_character_in_the_comparison_selection_is_refused_cleanly(visitor):
    response = visitor.post(
        "/comparer/selection/",
        {"lieu": "fab-lab-crest\x00", "action": "add"},
        HTTP_ORIGIN="http://testserver",
    )
    assert response.status_code == 400
    assert response.content.decode() == "Lieu inconnu."


def test_the_generated_query_strings_do_reach_the_filters(visitor):
    """The properties above would hold trivially if every query string were refused: a
    plausible one filters the directory, junk in a number gets the form's message."""
    response = get(visitor, "/lieux/", "kind=fab-lab&setting=rural")
    assert response.status_code == 200
    assert "Fab lab" in response.content.decode()
    response = get(visitor, "/lieux/", "investment_min=1e309")
    assert response.status_code in {200, 400}
    assert "1e309" in response.content.decode()
