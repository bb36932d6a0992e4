"""Pages built once: no cookie for visitors without a session, validators from the data
version and the language, 304 answers, shared-cache headers, pages kept whole per data
version (catalogue/http_cache.py)."""

import re

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import escape

from casestudies.models import CaseStudy, ComparisonTable
from catalogue.models import Place, Territory
from catalogue.templatetags.catalogue_tags import amount, figure_value

SELECTION = reverse("casestudies:compare-selection")


def public_urls():
    place = Place.objects.published().get(slug="fab-lab-crest")
    case = CaseStudy.objects.published().order_by("pk").first()
    table = ComparisonTable.objects.order_by("pk").first()
    territory = Territory.objects.get(slug="drome-26")
    return {
        "home": (reverse("home"), "innovplaces"),
        "directory": (reverse("catalogue:place-list"), "8 FabLab"),
        "place": (place.get_absolute_url(), "8 FabLab"),
        "case study": (case.get_absolute_url(), case.title),
        "table": (table.get_absolute_url(), table.title),
        "lessons": (reverse("casestudies:lesson-list"), "<h1"),
        "territory": (territory.get_absolute_url(), territory.name),
        "map": (reverse("catalogue:map"), "<h1"),
        "statistics": (reverse("catalogue:statistics"), "<h1"),
        "API": ("/api/v1/places/", "fab-lab-crest"),
        "directory, English": ("/en" + reverse("catalogue:place-list"), "8 FabLab"),
    }


def test_public_pages_set_no_cookie(client, corpus):
    for name, (url, shown) in public_urls().items():
        response = client.get(url)
        assert response.status_code == 200, name
        assert (shown if shown.startswith("<") else escape(shown)) in response.content.decode()
        assert not response.cookies, (name, response.cookies)
        assert "Set-Cookie" not in response, name
        assert response["Cache-Control"] == "public, max-age=60, stale-while-revalidate=300"
        assert response["ETag"].startswith('W/"') and response["Last-Modified"], name
        assert {"Cookie", "Accept-Language"} <= vary(response), name


def vary(response):
    return {part.strip() for part in response.get("Vary", "").split(",") if part.strip()}


def test_a_comparison_selection_takes_a_session_and_pages_become_private(client, corpus):
    directory = reverse("catalogue:place-list")
    added = client.post(SELECTION, {"lieu": "fab-lab-crest", "action": "add", "next": directory})
    assert added.status_code == 302 and "sessionid" in added.cookies
    page = client.get(directory)
    html = page.content.decode()
    assert re.search(r'<span id="selection-count">1</span>', html)
    assert page["Cache-Control"] == "private, no-cache"
    assert "ETag" not in page
    # The place page itself shows no selection, but it is not shared either.
    place = client.get(reverse("catalogue:place-detail", args=["fab-lab-crest"]))
    assert place["Cache-Control"] == "private, no-cache"
    # Emptied, the selection gives the cookie back: pages are shared again.
    cleared = client.post(SELECTION, {"action": "clear", "next": directory})
    assert cleared.cookies["sessionid"].value == "" and cleared.cookies["sessionid"]["max-age"] == 0
    del client.cookies["sessionid"]  # as a browser does with an expired cookie
    assert client.get(directory)["Cache-Control"].startswith("public")


def test_the_compare_buttons_need_no_token_but_refuse_other_sites(client, corpus):
    directory = reverse("catalogue:place-list")
    html = client.get(directory).content.decode()
    assert 'class="compare-toggle"' in html and "csrfmiddlewaretoken" not in html
    data = {"lieu": "mecateam", "action": "add", "next": directory}
    forged = client.post(SELECTION, data, headers={"Origin": "https://evil.example"})
    assert forged.status_code == 403
    assert "sessionid" not in forged.cookies
    cross = client.post(SELECTION, data, headers={"Sec-Fetch-Site": "cross-site"})
    assert cross.status_code == 403
    own = client.post(SELECTION, data, headers={"Origin": "http://testserver"})
    assert own.status_code == 302
    assert client.get(directory).context["selection"] == ["mecateam"]


def test_the_proposal_form_alone_keeps_its_csrf_cookie(client, corpus):
    response = client.get(reverse("catalogue:proposal"))
    assert "csrftoken" in response.cookies
    assert "ETag" not in response and "public" not in response["Cache-Control"]


def test_the_language_switch_is_links_to_the_same_page(client, corpus):
    html = client.get(reverse("catalogue:place-list") + "?setting=rural&page=1").content.decode()
    switch = html[
        html.index('class="lang-switch"') : html.index("</nav>", html.index("lang-switch"))
    ]
    assert "<form" not in switch
    assert (
        '<a href="/lieux/?setting=rural&amp;page=1" lang="fr" hreflang="fr" aria-current="true">'
        "Français</a>"
    ) in switch
    assert '<a href="/en/lieux/?setting=rural&amp;page=1" lang="en" hreflang="en">English</a>' in (
        switch
    )
    # The same path with another query string: its own query, not the one before.
    other = client.get(reverse("catalogue:place-list") + "?kind=fab-lab").content.decode()
    assert '<a href="/en/lieux/?kind=fab-lab" lang="en" hreflang="en">English</a>' in other
    english = client.get("/en/lieux/fab-lab-crest/").content.decode()
    assert '<a href="/lieux/fab-lab-crest/" lang="fr" hreflang="fr">Français</a>' in english
    assert 'hreflang="en" aria-current="true">English</a>' in english
    # A page that does not exist: the other language's home page.
    missing = client.get("/en/nulle-part/").content.decode()
    assert '<a href="/" lang="fr" hreflang="fr">Français</a>' in missing


def test_a_conditional_request_is_answered_before_the_view(client, corpus):
    url = reverse("catalogue:place-detail", args=["fab-lab-crest"])
    first = client.get(url)
    with CaptureQueriesContext(connection) as queries:
        again = client.get(url, headers={"If-None-Match": first["ETag"]})
    assert again.status_code == 304 and again.content == b""
    assert len(queries) == 1  # the data version, nothing of the page
    assert again["ETag"] == first["ETag"]
    assert again["Cache-Control"] == first["Cache-Control"]
    since = client.get(url, headers={"If-Modified-Since": first["Last-Modified"]})
    assert since.status_code == 304
    other = client.get(url, headers={"If-None-Match": 'W/"something-else"'})
    assert other.status_code == 200 and "8 FabLab" in other.content.decode()
    assert client.head(url, headers={"If-None-Match": first["ETag"]}).status_code == 304


def test_the_etag_follows_language_path_and_variant(client, corpus):
    french = client.get("/lieux/")
    english = client.get("/en/lieux/")
    filtered = client.get("/lieux/?setting=rural")
    block = client.get("/lieux/", headers={"X-Requested-With": "fetch"})
    etags = {r["ETag"] for r in (french, english, filtered, block)}
    assert len(etags) == 4
    assert "X-Requested-With" in vary(block)
    assert client.get("/lieux/")["ETag"] == french["ETag"]  # stable
    assert "<h1" not in block.content.decode() and "<h1" in french.content.decode()


def test_a_change_to_the_data_changes_the_etag_and_the_kept_page(client, corpus):
    place = Place.objects.get(slug="fab-lab-crest")
    url = place.get_absolute_url()
    before = client.get(url)
    assert "8 FabLab" in before.content.decode()
    with CaptureQueriesContext(connection) as queries:
        kept = client.get(url)
    assert len(queries) == 1, [q["sql"] for q in queries.captured_queries]
    assert kept.content == before.content
    place.name = "8 FabLab, renommé"
    place.save()
    after = client.get(url)
    assert "8 FabLab, renommé" in after.content.decode()
    assert after["ETag"] != before["ETag"]
    assert client.get(url, headers={"If-None-Match": before["ETag"]}).status_code == 200


def test_staff_previews_are_never_kept_nor_shared(client, corpus, make_place, django_user_model):
    draft = make_place(name="Lieu en préparation", editorial_status=Place.EditorialStatus.DRAFT)
    url = draft.get_absolute_url()
    editor = django_user_model.objects.create_superuser("ed", "ed@example.org", "pw")
    client.force_login(editor)
    preview = client.get(url)
    assert preview.status_code == 200 and "Lieu en préparation" in preview.content.decode()
    assert preview["Cache-Control"] == "private, no-cache" and "ETag" not in preview
    published = client.get(reverse("catalogue:place-detail", args=["fab-lab-crest"]))
    assert published["Cache-Control"] == "private, no-cache"
    client.logout()
    anonymous = client.get(url)
    assert anonymous.status_code == 404
    assert "Lieu en préparation" not in anonymous.content.decode()
    assert "public" not in anonymous["Cache-Control"]
    # The published page the editor saw was not kept: the anonymous visitor's is drawn.
    with CaptureQueriesContext(connection) as queries:
        client.get(reverse("catalogue:place-detail", args=["fab-lab-crest"]))
    assert len(queries) > 1


def test_kept_pages_are_per_language(client, corpus):
    url = reverse("catalogue:place-detail", args=["fab-lab-crest"])
    french = client.get(url).content.decode()
    assert re.search(r'<h2 id="identity">Fiche d(\'|&#x27;)identité</h2>', french)
    english = client.get("/en" + url).content.decode()
    assert '<h2 id="identity">Identity card</h2>' in english
    assert '<html lang="en">' in english and '<html lang="fr">' in french


def test_the_api_keeps_its_own_headers(client, corpus):
    response = client.get("/api/v1/places/")
    assert response.status_code == 200 and not response.cookies
    assert "origin" in vary(response) and response["ETag"]  # the CORS header's Vary
    again = client.get(
        "/api/v1/places/",
        headers={"If-None-Match": response["ETag"], "Origin": "https://reuser.example"},
    )
    assert again.status_code == 304
    assert again["Access-Control-Allow-Origin"] == "*" and "origin" in vary(again)


def test_place_page_queries_cold(client, corpus, django_assert_max_num_queries):
    place = Place.objects.get(slug="fab-lab-crest")
    url = place.get_absolute_url()
    client.get(url)  # the facet index, built once per data change
    cache.clear()
    with django_assert_max_num_queries(6):
        response = client.get(url)
    html = response.content.decode()
    assert "<h1>8 FabLab</h1>" in html
    for kind in place.kinds.all():
        assert kind.display_name in html
    headline = place.figures.filter(headline=True).select_related("indicator")
    assert headline
    for figure in headline:
        assert f'<th scope="row">{escape(figure.indicator.name)}</th>' in html
        assert f'<td class="num">{escape(figure_value(figure))}</td>' in html
    for funding in place.fundings.exclude(amount_eur=None):
        assert f'<td class="num">{escape(amount(funding.amount_eur))}</td>' in html
    similar = response.context["similar_places"]
    assert similar
    for other in similar:
        assert f'<a href="{other.get_absolute_url()}">{escape(other.name)}</a>' in html
    for case in place.case_studies.public():
        assert escape(case.title) in html


@pytest.mark.parametrize("status", ["archived"])
def test_archived_places_are_shared_too(client, make_place, status):
    place = make_place(name="Lieu fermé", editorial_status=status)
    response = client.get(place.get_absolute_url())
    assert response.status_code == 200 and "Lieu fermé" in response.content.decode()
    assert response["Cache-Control"].startswith("public")


def test_embeddable_pages_are_shared_without_validators(client, corpus):
    url = reverse("catalogue:embed-list")
    response = client.get(url)
    assert response.status_code == 200 and not response.cookies
    assert response["Cache-Control"].startswith("public") and "ETag" not in response
    # Their framing policy comes from the view: never a 304 drawn without it.
    assert client.get(url, headers={"If-None-Match": "*"}).status_code == 200


def test_errors_are_not_shared(client, corpus):
    missing = client.get("/lieux/nexiste-pas/")
    assert missing.status_code == 404 and missing["Cache-Control"] == "private, no-cache"
    assert not missing.cookies


def test_a_comparison_from_the_url_is_shared_when_there_is_no_session(client, corpus):
    response = client.get(reverse("casestudies:compare"), {"lieux": "fab-lab-crest,mecateam"})
    assert response.status_code == 200 and not response.cookies
    assert "8 FabLab" in response.content.decode()
    assert response["Cache-Control"].startswith("public")


def test_kept_pages_are_per_query_string(client, corpus):
    url = reverse("casestudies:table-detail", args=[ComparisonTable.objects.first().slug])
    plain = client.get(url)
    with CaptureQueriesContext(connection) as queries:
        sorted_by = client.get(url + "?tri=inconnu")
    assert len(queries) > 1  # drawn: not the page kept for the plain URL
    assert sorted_by["ETag"] != plain["ETag"]
    with CaptureQueriesContext(connection) as queries:
        again = client.get(url + "?tri=inconnu")
    assert len(queries) == 1 and again.content == sorted_by.content
