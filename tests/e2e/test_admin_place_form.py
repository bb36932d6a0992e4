"""The place form in the admin shows the département and région of the chosen territory
as soon as it is chosen, without saving."""

import re

from playwright.sync_api import expect


def log_in(page, site, django_user_model):
    django_user_model.objects.create_superuser("editrice", "e@example.org", "motdepasse")
    page.goto(site + "/admin/login/")
    page.get_by_label("Nom d’utilisateur").fill("editrice")
    page.get_by_label("Mot de passe").fill("motdepasse")
    page.get_by_role("button", name="Connexion").click()


def test_choosing_a_territory_fills_in_its_departement_and_region(
    page, site, django_user_model, make_territory
):
    make_territory(name="Saillans")
    log_in(page, site, django_user_model)
    page.goto(site + "/admin/catalogue/place/add/")
    departement = page.locator(".field-departement .readonly")
    region = page.locator(".field-region .readonly")
    expect(departement).to_have_text("-")

    page.locator(".field-territory .select2-selection").click()
    page.locator(".select2-container--open .select2-search__field").fill("Saillans")
    page.get_by_role("option", name="Saillans", exact=True).click()

    expect(departement).to_have_text("Drôme (26)")
    expect(region).to_have_text("Auvergne-Rhône-Alpes")
    expect(region.get_by_role("link")).to_have_attribute(
        "href", re.compile(r"/admin/catalogue/territory/\d+/change/")
    )
