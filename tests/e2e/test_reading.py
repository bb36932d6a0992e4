"""A cluster manager reads a monograph, compares places and browses the lessons."""

import csv
import io
import re

from playwright.sync_api import expect


def test_read_a_monograph_through_its_table_of_contents(page, site):
    page.goto(site + "/etudes-de-cas/fab-lab-crest/")
    toc = page.locator("nav.toc ol a")
    expect(toc.first).to_be_visible()
    assert toc.count() >= 3
    third = toc.nth(2)
    heading = third.inner_text()
    third.click()
    expect(page).to_have_url(re.compile(r"#section-3$"))
    target = page.locator("#section-3 h2")
    expect(target).to_have_text(heading)
    expect(target).to_be_in_viewport()
    # Figures in the side panel point to their sources.
    page.locator("a.note-ref").first.click()
    expect(page).to_have_url(re.compile(r"#note-1$"))
    expect(page.locator("#note-1")).to_be_in_viewport()


def test_compose_a_comparison_of_three_places_from_the_directory(page, site):
    page.goto(site + "/lieux/?kind=ptce")
    buttons = page.locator(".compare-toggle button")
    for index in range(2):
        buttons.nth(index).click()
        expect(buttons.nth(index)).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#selection-count")).to_have_text("2")
    # The selection survives moving to another page of the directory.
    page.goto(site + "/lieux/?kind=fab-lab")
    expect(page.locator("#selection-count")).to_have_text("2")
    page.locator(".compare-toggle button[aria-pressed=false]").first.click()
    expect(page.locator("#selection-count")).to_have_text("3")
    page.get_by_role("link", name=re.compile("Les comparer")).click()
    expect(page).to_have_url(re.compile(r"/comparer/"))
    expect(page.locator("table.compare thead th")).to_have_count(3)
    expect(page.locator("tr.differs").first).to_be_visible()

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Télécharger en CSV").click()
    path = download_info.value.path()
    rows = list(csv.reader(io.StringIO(open(path, encoding="utf-8-sig").read())))
    assert rows[0][0] == "Lieu" and len(rows) == 4


def test_open_the_lessons_library_filtered_on_rural_places(page, site):
    page.goto(site + "/enseignements/")
    total = int(page.locator("#lesson-count").inner_text().split()[0])
    page.locator("input[name=setting][value=rural]").check()
    page.get_by_role("button", name="Appliquer les filtres").click()
    expect(page).to_have_url(re.compile(r"setting=rural"))
    rural = int(page.locator("#lesson-count").inner_text().split()[0])
    assert 0 < rural < total
    expect(page.locator("section.theme").first).to_be_visible()
    page.locator("section.theme ul.lessons a").first.click()
    expect(page.locator("h1")).to_be_visible()
