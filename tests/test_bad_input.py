"""Every public page shrugs off garbage in its query string: no server error."""

import pytest
from django.urls import reverse

GARBAGE = {
    "q": "\"'<script>" + "x" * 3000,
    "kind": "zz",
    "setting": "lune",
    "region": "999",
    "source": "inconnue",
    "place_kind": "zz",
    "theme": "zz",
    "page": "-3",
    "per_page": "abc",
    "tri": "nope",
    "ordre": "desc",
    "lieux": ",,,",
    "colonnes": "section:zz,,",
    "colonne": "zz",
    "year_min": "NaN",
    "investment_max": "1e999",
}


@pytest.mark.parametrize(
    "name,args",
    [
        ("home", []),
        ("catalogue:place-list", []),
        ("catalogue:place-detail", ["fab-lab-crest"]),
        ("catalogue:territory-detail", ["bretagne"]),
        ("catalogue:source-list", []),
        ("casestudies:case-list", []),
        ("casestudies:case-detail", ["fab-lab-crest"]),
        ("casestudies:sections-across", ["budget"]),
        ("casestudies:table-list", []),
        ("casestudies:table-detail", ["memento-localisation"]),
        ("casestudies:table-csv", ["memento-localisation"]),
        ("casestudies:compare", []),
        ("casestudies:compare-csv", []),
        ("casestudies:lesson-list", []),
        ("casestudies:lesson-themes", []),
    ],
)
@pytest.mark.parametrize("prefix", ["", "/en"])
def test_garbage_query_strings_never_cause_a_server_error(client, corpus, name, args, prefix):
    response = client.get(prefix + reverse(name, args=args), GARBAGE)
    assert response.status_code in (200, 400)
