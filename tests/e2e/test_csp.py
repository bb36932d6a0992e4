"""The Content-Security-Policy in a real browser: every kind of page loads without a
single violation (nothing inline, nothing from elsewhere), and the scripts that matter
still do their work under it."""

import re

import pytest
from playwright.sync_api import expect

from casestudies.models import CaseStudy, ComparisonTable
from catalogue.models import Place, Source, Territory

# Playwright's init scripts are not subject to the page's policy: this one records every
# violation the page reports, before any of the page's own code runs.
LISTEN = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", function (event) {
  window.__violations.push(
    event.violatedDirective + " " + (event.blockedURI || "inline") + " " +
    (event.sourceFile || "") + ":" + event.lineNumber
  );
});
"""


@pytest.fixture
def watched(page):
    """The page, with a list of every CSP or Permissions-Policy problem it reports."""
    problems = []
    page.add_init_script(LISTEN)

    def on_console(message):
        text = message.text
        if "Content Security Policy" in text or "Permissions-Policy" in text:
            problems.append(f"{page.url}: {text}")

    page.on("console", on_console)
    page.problems = problems
    return page


def visit(page, url, status=200):
    response = page.goto(url)
    assert response.status == status, url
    assert "script-src 'self'" in response.headers["content-security-policy"]
    page.wait_for_load_state("load")
    return response


def violations(page):
    return page.evaluate("window.__violations") + page.problems


def test_every_public_page_loads_without_a_violation(watched, site):
    page = watched
    place = Place.objects.published().order_by("slug").first()
    paths = [
        "/",
        "/lieux/",
        "/lieux/?setting=rural&kind=fab-lab&sort=name&q=atelier",
        place.get_absolute_url(),
        "/etudes-de-cas/",
        CaseStudy.objects.order_by("slug").first().get_absolute_url(),
        "/enseignements/",
        "/enseignements/themes/",
        "/tableaux/",
        ComparisonTable.objects.order_by("slug").first().get_absolute_url(),
        "/statistiques/",
        "/carte/densite/",
        "/territoires/",
        Territory.objects.get(slug="auvergne-rhone-alpes").get_absolute_url(),
        "/glossaire/",
        "/a-propos/",
        "/sources/",
        Source.objects.order_by("slug").first().get_absolute_url(),
        "/integrer/?kind=ptce",
        "/integrer/lieux/?kind=ptce",
        "/integrer/carte/?kind=ptce",
        "/proposer/",
        "/en/lieux/",
    ]
    seen = []
    for path in paths:
        visit(page, site + path)
        seen.append(path)
        assert violations(page) == [], path
    visit(page, site + "/lieux/ce-lieu-n-existe-pas/", status=404)
    expect(page.get_by_role("heading", level=1)).to_have_text("Page introuvable")
    assert violations(page) == []
    assert len(seen) == len(paths)


def test_the_map_draws_its_markers_under_the_policy(watched, site):
    page = watched
    territories = Place.objects.published().exclude(territory=None).values("territory_id")
    Territory.objects.filter(pk__in=territories).update(latitude=45, longitude=5)
    visit(page, site + "/carte/")
    expect(page.locator("#place-map")).to_have_attribute("data-markers", re.compile(r"^[1-9]\d*$"))
    expect(page.locator("path.map-outline-region")).to_have_count(18)
    assert violations(page) == []


def test_the_funder_combobox_works_under_the_policy(watched, site):
    page = watched
    visit(page, site + "/lieux/")
    page.locator(".facet-funder summary").click()
    box = page.get_by_role("combobox", name="Nom du financeur")
    box.fill("feder")
    option = page.get_by_role("listbox").get_by_role("option").first
    expect(option).to_contain_text("FEDER")
    box.press("ArrowDown")
    box.press("Enter")
    expect(page).to_have_url(re.compile(r"funder=feder"))
    assert violations(page) == []


def test_the_comparison_form_joins_its_columns_under_the_policy(watched, site):
    page = watched
    slugs = list(
        Place.objects.published().filter(kinds__slug="ptce").values_list("slug", flat=True)[:2]
    )
    visit(page, site + "/comparer/?lieux=" + ",".join(slugs))
    expect(page.locator("table.compare thead th")).to_have_count(2)
    boxes = page.locator("input.dimension")
    for index in range(boxes.count()):
        boxes.nth(index).uncheck()
    boxes.nth(0).check()
    boxes.nth(1).check()
    keys = [boxes.nth(0).get_attribute("value"), boxes.nth(1).get_attribute("value")]
    page.get_by_role("button", name="Comparer").click()
    # compare.js sent the shareable parameter, not the repeated boxes.
    expect(page).to_have_url(re.compile("colonnes=" + re.escape("%2C".join(keys)) + "(&|$)"))
    assert "colonne=" not in page.url
    assert violations(page) == []


def test_the_api_docs_render_under_the_policy(watched, site):
    page = watched
    visit(page, site + "/api/v1/docs/")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("innovplaces API")
    expect(page.locator(".opblock-summary-path").first).to_be_visible()
    assert violations(page) == []


def test_the_admin_works_under_the_policy(watched, site, django_user_model):
    page = watched
    django_user_model.objects.create_superuser("editrice", "e@example.org", "motdepasse")
    visit(page, site + "/admin/login/")
    assert violations(page) == []
    page.get_by_label("Nom d’utilisateur").fill("editrice")
    page.get_by_label("Mot de passe").fill("motdepasse")
    page.get_by_role("button", name="Connexion").click()
    expect(page).to_have_url(re.compile(r"/admin/$"))
    assert violations(page) == []
    place = Place.objects.order_by("slug").first()
    for path in (
        "/admin/catalogue/place/",
        f"/admin/catalogue/place/{place.pk}/change/",
        f"/admin/catalogue/place/{place.pk}/history/",
        "/admin/catalogue/place/add/",
    ):
        visit(page, site + path)
        assert violations(page) == [], path
    # The change form's scripts run: the territory box is select2's.
    visit(page, site + f"/admin/catalogue/place/{place.pk}/change/")
    page.locator(".field-territory .select2-selection").click()
    expect(page.locator(".select2-container--open .select2-search__field")).to_be_visible()
    assert violations(page) == []


def test_the_lockout_page_under_the_policy(watched, site, django_user_model):
    page = watched
    django_user_model.objects.create_superuser("editrice", "e@example.org", "motdepasse")
    for attempt in range(5):
        visit(page, site + "/admin/login/")
        page.get_by_label("Nom d’utilisateur").fill("editrice")
        page.get_by_label("Mot de passe").fill(f"faux {attempt}")
        with page.expect_navigation() as navigation:
            page.get_by_role("button", name="Connexion").click()
    assert navigation.value.status == 429
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Trop de tentatives de connexion échouées"
    )
    assert violations(page) == []
