"""The map in a real browser, with every request outside the live server aborted: no tile
server answers, yet the outline, the markers and the filters work."""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from playwright.sync_api import expect

from catalogue.models import Place, Territory


@pytest.fixture
def points(corpus):
    """Give every territory that holds a published place a point in metropolitan France,
    spread so that some markers stand alone. Returns the located published places."""
    territory_ids = sorted(
        set(
            Place.objects.published().exclude(territory=None).values_list("territory_id", flat=True)
        )
    )
    for index, pk in enumerate(territory_ids):
        Territory.objects.filter(pk=pk).update(
            latitude=Decimal("43.5") + Decimal(index % 7) * Decimal("1.0"),
            longitude=Decimal("-0.5") + Decimal(index // 7) * Decimal("1.1"),
        )
    return Place.objects.published().exclude(territory=None)


def markers_loaded(page):
    element = page.locator("#place-map")
    expect(element).to_have_attribute("data-markers", re.compile(r"^\d+$"))
    return int(element.get_attribute("data-markers"))


def test_map_shows_markers_and_outline_without_network(page, site, points):
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(site + "/carte/")
    assert markers_loaded(page) == points.count()
    expect(page.locator(".leaflet-marker-icon").first).to_be_visible()
    # The outline comes from our static files: drawn although every tile request failed.
    expect(page.locator("path.map-outline-departement")).to_have_count(101)
    expect(page.locator("path.map-outline-region")).to_have_count(18)
    assert any("tile.openstreetmap.org" in url for url in requests)  # tried, and aborted
    assert not [u for u in requests if not u.startswith(site) and "openstreetmap" not in u]
    total = Place.objects.published().count()
    expect(page.locator(".results-count")).to_have_text(f"{total} lieux")


def test_filtering_on_the_map_changes_the_markers_and_the_count(page, site, points):
    page.goto(site + "/carte/")
    before = markers_loaded(page)
    ptce = Place.objects.published().filter(kinds__slug="ptce")
    page.locator("input[name=kind][value=ptce]").check()
    expect(page).to_have_url(re.compile(r"/carte/\?kind=ptce"))
    expect(page.locator(".results-count")).to_have_text(f"{ptce.count()} lieux")
    expect(page.locator("#place-map")).to_have_attribute(
        "data-markers", str(ptce.exclude(territory=None).count())
    )
    assert ptce.count() < before
    # The list beside the map follows, and the link to the list keeps the filter.
    expect(page.locator(".map-list")).to_contain_text(ptce.order_by("name").first().name)
    expect(page.get_by_role("link", name="Voir en liste")).to_have_attribute(
        "href", re.compile(r"^/lieux/\?kind=ptce(&|$)")
    )


def test_a_marker_opens_a_card_linking_to_the_place(page, site, corpus):
    place = Place.objects.published().filter(kinds__slug="ptce").order_by("name").first()
    Territory.objects.filter(pk=place.territory_id).update(
        latitude=Decimal("45.00000"), longitude=Decimal("4.50000")
    )
    page.goto(site + "/carte/?kind=ptce")
    assert markers_loaded(page) >= 1
    card = page.locator(".map-card")
    # The markers are counted before the map has zoomed onto them: on a busy machine a
    # click can land while the clusters are redrawn, and is lost (a reader clicks again).
    for _attempt in range(3):
        page.locator(".map-marker").first.click()
        try:
            card.wait_for(state="visible", timeout=2000)
            break
        except PlaywrightTimeoutError:
            continue
    expect(card).to_contain_text("Position approximative")
    link = card.locator("a").first
    name = link.inner_text()
    link.click()
    expect(page.locator("h1")).to_have_text(name)


def test_map_page_without_javascript_lists_the_places(nojs_page, site, points):
    page = nojs_page
    page.goto(site + "/carte/?kind=ptce")
    ptce = Place.objects.published().filter(kinds__slug="ptce")
    expect(page.locator(".results-count")).to_have_text(f"{ptce.count()} lieux")
    expect(page.locator("#place-map")).to_be_hidden()
    links = page.locator(".map-list-places a")
    expect(links).to_have_count(ptce.count())


def test_place_page_small_map_with_tiles_blocked(page, site, points):
    place = points.order_by("name").first()
    page.goto(site + place.get_absolute_url())
    expect(page.locator("#small-map")).to_have_attribute("data-markers", "1")
    expect(page.locator("#small-map path.map-outline-departement").first).to_be_attached()


def test_embedded_map_renders_in_a_frame(page, site, points):
    page.goto(site + "/integrer/?kind=ptce")
    frame = page.frame_locator("iframe.embed-preview").nth(1)
    ptce = Place.objects.published().filter(kinds__slug="ptce")
    expect(frame.locator("h1")).to_have_text(f"{ptce.count()} lieux")
    expect(frame.locator("#place-map")).to_have_attribute(
        "data-markers", str(ptce.exclude(territory=None).count())
    )
