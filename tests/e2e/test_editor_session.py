"""An editor's session in a real browser: log in, add a place with a photo, keep it as a
draft, preview it, publish it, and find it in the directory with the counts updated."""

import re

from PIL import Image
from playwright.sync_api import expect

from catalogue.models import Place


def kind_count(page, site, kind):
    """The number the directory shows next to a kind (0 when the kind is not listed)."""
    page.goto(site + "/lieux/")
    label = page.locator(f"input[name=kind][value={kind}]").locator("xpath=..")
    if not label.count():
        return 0
    return int(label.locator(".count").inner_text())


def test_an_editor_adds_a_place_with_a_photo_previews_the_draft_and_publishes_it(
    browser, page, site, django_user_model, tmp_path, settings, make_territory, editor_groups
):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.SERVE_MEDIA = True
    make_territory(name="Saillans")
    photo = tmp_path / "atelier.jpg"
    Image.new("RGB", (1600, 1000), (180, 120, 60)).save(photo, "JPEG", quality=85)
    editor = django_user_model.objects.create_user(
        "relectrice", "relectrice@example.org", "motdepasse", is_staff=True
    )
    editor.groups.add(editor_groups["Relecteur"])

    visitor = browser.new_context(locale="fr-FR")
    visitor.route(
        "**/*",
        lambda route: route.continue_() if route.request.url.startswith(site) else route.abort(),
    )
    public = visitor.new_page()
    before = kind_count(public, site, "tiers-lieu")

    page.goto(site + "/admin/login/")
    page.get_by_label("Nom d’utilisateur").fill("relectrice")
    page.get_by_label("Mot de passe").fill("motdepasse")
    page.get_by_role("button", name="Connexion").click()
    expect(page.get_by_role("link", name="innovplaces")).to_be_visible()

    page.goto(site + "/admin/catalogue/place/add/")
    page.locator("#id_name").fill("La Fabrique de Saillans")
    page.locator("#id_name").press("Tab")  # the slug follows the name as it is typed
    expect(page.locator("#id_slug")).to_have_value("la-fabrique-de-saillans")
    page.locator("input[name=kinds]").and_(page.locator("[value]")).first.wait_for()
    page.locator(".field-kinds").get_by_label("Tiers-lieu", exact=True).check()
    page.locator(".field-territory .select2-selection").click()
    page.locator(".select2-container--open .select2-search__field").fill("Saillans")
    page.get_by_role("option", name="Saillans", exact=True).click()
    page.locator("#id_setting").select_option("rural")
    page.locator("#id_summary").fill(
        "Atelier partagé et espace de travail ouverts en 2025 dans une ancienne école."
    )
    page.locator("#id_image").set_input_files(str(photo))
    page.locator("#id_image_alt").fill("La grande salle de l'atelier, établis et machines")
    expect(page.locator("#id_editorial_status")).to_have_value("draft")
    page.get_by_role("button", name="Enregistrer et continuer les modifications").click()
    expect(page.locator(".messagelist")).to_contain_text("La Fabrique de Saillans")
    place = Place.objects.get(slug="la-fabrique-de-saillans")
    assert place.editorial_status == "draft"
    assert place.created_by == editor

    # The draft: previewed by its editor at its real address, hidden from everyone else.
    page.goto(site + place.get_absolute_url())
    expect(page.locator(".editorial-banner")).to_contain_text("Brouillon")
    expect(page.get_by_role("heading", name="La Fabrique de Saillans")).to_be_visible()
    image = page.get_by_role("img", name="La grande salle de l'atelier, établis et machines")
    expect(image).to_be_visible()
    assert image.evaluate("img => img.naturalWidth") > 0  # the resized copy really loads
    assert int(image.get_attribute("width")) <= 1280
    response = public.goto(site + place.get_absolute_url())
    assert response.status == 404
    assert kind_count(public, site, "tiers-lieu") == before

    # Publish it from the list, as a reviewer does.
    page.goto(site + "/admin/catalogue/place/?q=Saillans")
    page.get_by_role("row", name=re.compile("La Fabrique de Saillans")).get_by_role(
        "checkbox"
    ).check()
    page.locator("select[name=action]").select_option(label="Publier")
    page.get_by_role("button", name="Envoyer").click()
    expect(page.locator(".messagelist")).to_contain_text("publiée")

    public.goto(site + "/lieux/?q=Saillans")
    expect(public.locator(".result-list")).to_contain_text("La Fabrique de Saillans")
    card_image = public.locator(".result-list img").first
    expect(card_image).to_have_attribute("alt", "La grande salle de l'atelier, établis et machines")
    assert kind_count(public, site, "tiers-lieu") == before + 1
    public.goto(site + place.get_absolute_url())
    expect(public.locator(".editorial-banner")).to_have_count(0)
    expect(public.get_by_role("heading", name="La Fabrique de Saillans")).to_be_visible()
    visitor.close()
