"""The statistics page in Chromium: accessible (axe), readable without JavaScript."""

import pytest
from axe_playwright_python.sync_playwright import Axe


def serious_violations(page):
    results = Axe().run(page)
    return [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


@pytest.mark.parametrize(
    "path",
    ["/statistiques/", "/statistiques/?setting=rural&setting=petite-ville", "/en/statistiques/"],
)
def test_statistics_page_has_no_serious_accessibility_violation(page, site, path):
    page.goto(site + path)
    assert page.locator("svg[role=img]").count() >= 6
    assert serious_violations(page) == []


def test_glossary_and_about_have_no_serious_accessibility_violation(page, site):
    for path in ("/glossaire/", "/a-propos/"):
        page.goto(site + path)
        assert serious_violations(page) == []


def test_statistics_without_javascript_show_charts_tables_and_filters(nojs_page, site):
    nojs_page.goto(site + "/statistiques/?kind=ptce")
    assert nojs_page.locator("svg[role=img] title").count() >= 6
    first_row = nojs_page.locator("table[data-chart=types-milieux] tbody tr").first
    assert "PTCE" in first_row.inner_text()
    nojs_page.get_by_text("Changer ici les principaux filtres").click()
    nojs_page.locator("input[name=setting][value=metropole]").check()
    nojs_page.get_by_role("button", name="Appliquer les filtres").click()
    assert "setting=metropole" in nojs_page.url and "kind=ptce" in nojs_page.url
    active = nojs_page.locator(".stats-filters .active-filters").inner_text()
    assert "Métropole" in active and "PTCE" in active
