"""A development officer looks for places like hers, in a real browser."""

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect


def test_search_filter_open_a_place_switch_language_and_go_back(page, site):
    page.goto(site + "/")
    page.get_by_label("Rechercher des lieux").fill("pepiniere")
    page.get_by_role("button", name="Rechercher").click()
    expect(page).to_have_url(re.compile(r"/lieux/\?q=pepiniere"))
    results = page.locator(".result-list > li")
    expect(results.first).to_be_visible()
    # Accent-insensitive: "pepiniere" finds "pépinière", and the match is highlighted.
    expect(page.locator(".result-list mark").first).to_contain_text(re.compile("p[ée]pini", re.I))

    # Narrow down without a page reload: rural settings, fab labs.
    page.get_by_label("Rechercher", exact=True).fill("")
    page.locator("#id_q").press("Enter")
    page.locator("input[name=setting][value=rural]").check()
    expect(page).to_have_url(re.compile(r"setting=rural"))
    page.locator("input[name=kind][value=fab-lab]").check()
    expect(page).to_have_url(re.compile(r"kind=fab-lab"))
    expect(page.locator(".result-list > li").first).to_be_visible()
    names = page.locator(".result-list h3").all_inner_texts()
    assert any("Crest" in name or "FabLab" in name for name in names), names

    page.locator(".result-list h3 a").first.click()
    expect(page.locator("h1")).to_be_visible()
    place_url = page.url
    expect(page.get_by_role("heading", name="Fiche d'identité")).to_be_visible()

    page.get_by_role("button", name="English").click()
    expect(page).to_have_url(re.compile(r"/en/lieux/"))
    expect(page.get_by_role("heading", name="Identity card")).to_be_visible()

    page.go_back()
    expect(page).to_have_url(place_url)
    page.go_back()
    expect(page).to_have_url(re.compile(r"kind=fab-lab"))
    expect(page.locator("input[name=kind][value=fab-lab]")).to_be_checked()


def test_filters_work_without_javascript(nojs_page, site):
    page = nojs_page
    page.goto(site + "/lieux/")
    page.locator("input[name=setting][value=rural]").check()
    page.get_by_role("button", name="Appliquer les filtres").click()
    expect(page).to_have_url(re.compile(r"setting=rural"))
    expect(page.locator(".results-count")).to_contain_text("lieu")
    expect(page.locator("input[name=setting][value=rural]")).to_be_checked()


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/lieux/",
        "/lieux/?setting=rural&kind=fab-lab",
        "/lieux/fab-lab-crest/",
        "/etudes-de-cas/",
        "/etudes-de-cas/fab-lab-crest/",
        "/territoires/auvergne-rhone-alpes/",
        "/en/lieux/",
    ],
)
def test_main_pages_have_no_serious_accessibility_violation(page, site, path):
    page.goto(site + path)
    results = Axe().run(page)
    serious = [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert serious == []
