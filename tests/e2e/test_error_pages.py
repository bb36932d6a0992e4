"""A reader who follows a broken link lands on the site's own page, with a way on."""

import re

from playwright.sync_api import expect


def test_a_missing_page_shows_the_sites_404_and_leads_on(page, site):
    response = page.goto(site + "/lieux/ce-lieu-n-existe-pas/")
    assert response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Page introuvable")
    expect(page.get_by_role("navigation", name="Navigation principale")).to_be_visible()
    page.get_by_label("Rechercher des lieux").fill("pépinière")
    page.get_by_role("button", name="Rechercher").click()
    expect(page).to_have_url(re.compile(r"/lieux/\?q="))
    expect(page.locator(".result-list > li").first).to_be_visible()


def test_the_404_page_in_english(page, site):
    response = page.goto(site + "/en/nowhere/")
    assert response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
    page.get_by_role("link", name="All places").click()
    expect(page).to_have_url(re.compile(r"/en/lieux/$"))
