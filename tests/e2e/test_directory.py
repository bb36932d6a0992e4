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

    page.get_by_role("navigation", name="Langue").get_by_role("link", name="English").click()
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


def test_the_language_switch_works_without_javascript(nojs_page, site):
    page = nojs_page
    page.goto(site + "/lieux/?setting=rural")
    switch = page.get_by_role("navigation", name="Langue")
    expect(switch.get_by_role("link", name="Français")).to_have_attribute("aria-current", "true")
    switch.get_by_role("link", name="English").click()
    expect(page).to_have_url(re.compile(r"/en/lieux/\?setting=rural$"))
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("input[name=setting][value=rural]")).to_be_checked()
    switch = page.get_by_role("navigation", name="Language")
    expect(switch.get_by_role("link", name="English")).to_have_attribute("aria-current", "true")
    switch.get_by_role("link", name="Français").click()
    expect(page).to_have_url(site + "/lieux/?setting=rural")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    assert not [c for c in page.context.cookies() if c["name"] in ("csrftoken", "sessionid")]


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
        "/territoires/",
        "/lieux/?funder=region",
        "/lieux/n-existe-pas/",
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


PHONE = {"width": 390, "height": 844}


@pytest.mark.parametrize("javascript", [True, False])
def test_on_a_phone_results_come_first_and_filters_open_from_a_button(browser, site, javascript):
    context = browser.new_context(
        locale="fr-FR", viewport=PHONE, is_mobile=True, java_script_enabled=javascript
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        page.goto(site + "/lieux/?kind=fab-lab&kind=ptce&region=84")
        toggle = page.locator("summary.filters-toggle")
        expect(toggle).to_be_visible()
        expect(toggle).to_have_text(re.compile(r"Filtres \(2\)"))
        # The first result is on the first screen, above any filter.
        first = page.locator(".result-list > li").first
        expect(first).to_be_visible()
        assert first.bounding_box()["y"] < PHONE["height"]
        expect(page.locator("input[name=kind][value=ptce]")).to_be_hidden()
        # The button opens the filters, which apply as before.
        toggle.click()
        expect(page.locator("input[name=kind][value=ptce]")).to_be_visible()
        page.locator("input[name=kind][value=fab-lab]").uncheck()
        if not javascript:
            page.get_by_role("button", name="Appliquer les filtres").click()
        expect(page).not_to_have_url(re.compile(r"kind=fab-lab"))
        expect(page.locator("summary.filters-toggle")).to_have_text(re.compile(r"Filtres \(2\)"))
        if javascript:
            # Still open after the results changed in place.
            expect(page.locator("input[name=kind][value=ptce]")).to_be_visible()
    finally:
        context.close()


def test_on_a_wide_screen_the_filters_are_shown_without_a_button(page, site):
    page.goto(site + "/lieux/")
    expect(page.locator("summary.filters-toggle")).to_be_hidden()
    expect(page.locator("input[name=setting][value=rural]")).to_be_visible()


def test_the_funder_box_is_a_combobox(page, site):
    page.goto(site + "/lieux/")
    page.locator(".facet-funder summary").click()
    box = page.get_by_role("combobox", name="Nom du financeur")
    box.fill("feder")
    listbox = page.get_by_role("listbox")
    expect(listbox).to_be_visible()
    # The answer for « feder » (not the most frequent funders shown on focus).
    expect(listbox.get_by_role("option").first).to_contain_text("FEDER")
    expect(box).to_have_attribute("aria-expanded", "true")
    box.press("ArrowDown")
    option = listbox.get_by_role("option").first
    expect(option).to_have_attribute("aria-selected", "true")
    expect(box).to_have_attribute("aria-activedescendant", option.get_attribute("id"))
    box.press("Enter")
    expect(page).to_have_url(re.compile(r"funder=feder"))
    expect(page.locator(".active-filters")).to_contain_text("Financeur")


def test_the_funder_box_works_without_javascript(nojs_page, site):
    page = nojs_page
    page.goto(site + "/lieux/")
    page.locator(".facet-funder summary").click()
    page.get_by_label("Nom du financeur").fill("FEDER")
    page.get_by_role("button", name="Appliquer les filtres").click()
    expect(page.locator(".active-filters")).to_contain_text("Financeur")
    expect(page.locator(".invalid-filters")).to_have_count(0)
