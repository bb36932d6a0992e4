"""A visitor proposes a place and reports an error, with or without JavaScript."""

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from catalogue.models import Proposal


def test_a_visitor_without_javascript_proposes_a_place_from_the_directory(nojs_page, site):
    page = nojs_page
    page.goto(site + "/lieux/")
    page.get_by_role("link", name="Proposer un lieu").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Proposer un lieu")
    # The robots' field is out of sight and out of the accessibility tree.
    expect(page.get_by_role("textbox", name="Laissez ce champ vide")).to_have_count(0)

    page.get_by_label("Nom du lieu").fill("Atelier partagé de Dieulefit")
    page.get_by_label("Commune").fill("Dieulefit")
    page.get_by_label("Qu’est-ce que ce lieu, que propose-t-il ?").fill(
        "Un atelier de céramique partagé, ouvert aux artisans du pays."
    )
    page.get_by_label("Votre adresse électronique").fill("camille@example.org")
    page.get_by_role("button", name="Envoyer la proposition").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Merci pour votre proposition")
    proposal = Proposal.objects.get()
    assert proposal.draft_place.name == "Atelier partagé de Dieulefit"
    assert proposal.contact_email == "camille@example.org"


def test_a_visitor_reports_an_error_from_a_place_page(page, site):
    page.goto(site + "/lieux/fab-lab-crest/")
    page.get_by_role("link", name="Signaler une erreur").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Signaler une erreur")
    results = Axe().run(page)
    serious = [
        v["id"] for v in results.response["violations"] if v["impact"] in ("serious", "critical")
    ]
    assert serious == []

    page.get_by_label("Qu’est-ce qui est faux, et que devrait dire la page ?").fill(
        "Le fab lab a déménagé en 2025."
    )
    page.get_by_role("button", name="Envoyer la proposition").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Merci pour votre proposition")
    proposal = Proposal.objects.get()
    assert proposal.place.slug == "fab-lab-crest"
    assert proposal.kind == Proposal.Kind.CORRECTION
