"""Proposals from the public: a new place or a correction, never published by themselves."""

import datetime
import io

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from catalogue.models import Place, Proposal

NEW_PLACE = {
    "place_name": "Atelier partagé de Dieulefit",
    "commune": "Dieulefit",
    "website": "atelier-dieulefit.example.org",
    "message": "Un atelier de céramique partagé, ouvert aux artisans du pays depuis 2021.",
    "evidence": "Visite sur place, mars 2026.",
    "contact_name": "Camille Martin",
    "contact_email": "camille@example.org",
}


@pytest.fixture
def place(corpus):
    return Place.objects.get(slug="fab-lab-crest")


def propose(client, data=NEW_PLACE, lieu=None, **extra):
    url = reverse("catalogue:proposal") + (f"?lieu={lieu}" if lieu else "")
    return client.post(url, data, **extra)


def test_a_visitor_proposes_a_place_which_waits_as_a_hidden_draft(client, corpus):
    directory = client.get(reverse("catalogue:place-list")).content.decode()
    assert f'href="{reverse("catalogue:proposal")}">Proposer un lieu</a>' in directory
    form = client.get(reverse("catalogue:proposal"))
    assert "Proposer un lieu" in form.content.decode()
    assert "au plus tard 90 jours après son envoi" in form.content.decode()

    response = propose(client)
    assert response.status_code == 302
    assert response["Location"] == reverse("catalogue:proposal-thanks")
    assert "Merci pour votre proposition" in client.get(response["Location"]).content.decode()

    proposal = Proposal.objects.get()
    assert proposal.kind == Proposal.Kind.NEW_PLACE
    assert proposal.status == Proposal.Status.PENDING
    assert proposal.website == "https://atelier-dieulefit.example.org"
    assert proposal.contact_email == "camille@example.org"
    draft = proposal.draft_place
    assert draft.name == "Atelier partagé de Dieulefit"
    assert draft.slug == "atelier-partage-de-dieulefit"
    assert draft.editorial_status == Place.EditorialStatus.DRAFT
    # Nothing the visitor wrote becomes catalogue text.
    assert (draft.summary, draft.website) == ("", "")

    assert client.get(draft.get_absolute_url()).status_code == 404
    found = client.get(reverse("catalogue:place-list"), {"q": "Dieulefit"})
    assert "Atelier partagé de Dieulefit" not in found.content.decode()
    assert found.context["paginator"].count == 0


def test_two_proposals_of_the_same_name_get_two_drafts(client, corpus):
    propose(client)
    propose(client)
    slugs = sorted(p.draft_place.slug for p in Proposal.objects.all())
    assert slugs == ["atelier-partage-de-dieulefit", "atelier-partage-de-dieulefit-2"]


def test_a_correction_from_a_place_page_is_linked_to_that_place(client, place):
    page = client.get(place.get_absolute_url()).content.decode()
    link = f"{reverse('catalogue:proposal')}?lieu={place.slug}"
    assert f'<a href="{link}">Signaler une erreur</a>' in page

    form = client.get(link).content.decode()
    assert place.name in form
    assert 'name="place_name"' not in form

    version = place.version
    response = propose(
        client, {"message": "Le fab lab a déménagé rue des Artisans en 2025."}, lieu=place.slug
    )
    assert response.status_code == 302
    proposal = Proposal.objects.get()
    assert proposal.kind == Proposal.Kind.CORRECTION
    assert proposal.place == place
    assert proposal.draft_place is None
    assert proposal.message == "Le fab lab a déménagé rue des Artisans en 2025."
    place.refresh_from_db()
    assert place.version == version


def test_a_correction_for_an_unknown_or_unpublished_place_is_not_found(client, make_place):
    draft = make_place(editorial_status="draft")
    assert client.get(reverse("catalogue:proposal"), {"lieu": "nulle-part"}).status_code == 404
    assert client.get(reverse("catalogue:proposal"), {"lieu": draft.slug}).status_code == 404


def test_a_proposal_without_a_name_or_message_is_shown_again_with_french_errors(client, corpus):
    response = propose(client, {**NEW_PLACE, "place_name": "", "message": "", "contact_email": "x"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "La proposition n’a pas été envoyée" in page
    assert "Ce champ est obligatoire." in page
    assert "Saisissez une adresse de courriel valide." in page
    assert "Un atelier" not in page  # the message field was emptied by the visitor
    assert 'value="Dieulefit"' in page
    assert not Proposal.objects.exists()


def test_an_overlong_message_is_refused_with_its_length(client, corpus):
    response = propose(client, {**NEW_PLACE, "message": "a" * 6000})
    assert response.status_code == 200
    assert "au plus 5000 caractères (actuellement 6000)" in response.content.decode()
    assert not Proposal.objects.exists()


def test_a_filled_honeypot_is_thanked_like_anyone_but_nothing_is_stored(client, corpus):
    places = Place.objects.count()
    response = propose(client, {**NEW_PLACE, "homepage": "http://spam.example"}, follow=True)
    assert response.redirect_chain == [(reverse("catalogue:proposal-thanks"), 302)]
    assert "Merci pour votre proposition" in response.content.decode()
    assert not Proposal.objects.exists()
    assert Place.objects.count() == places


def test_the_honeypot_is_hidden_from_people_and_screen_readers(client, corpus):
    page = client.get(reverse("catalogue:proposal")).content.decode()
    trap = page[page.index('<div class="field-trap"') :]
    trap = trap[: trap.index("</div>")]
    assert 'aria-hidden="true"' in trap
    assert 'name="homepage"' in trap
    assert 'tabindex="-1"' in trap


def test_the_sixth_proposal_within_an_hour_from_one_address_is_refused(client, corpus):
    for _n in range(5):
        assert propose(client, REMOTE_ADDR="203.0.113.9").status_code == 302
    response = propose(
        client,
        {**NEW_PLACE, "message": "Encore un lieu à ajouter."},
        REMOTE_ADDR="203.0.113.9",
    )
    assert response.status_code == 429
    page = response.content.decode()
    assert "Trop de propositions ont été envoyées depuis votre connexion" in page
    assert "Encore un lieu à ajouter." in page  # the form keeps what was typed
    assert Proposal.objects.count() == 5
    # Another address is not held back, and no address is stored anywhere.
    assert propose(client, REMOTE_ADDR="198.51.100.4").status_code == 302
    assert Proposal.objects.count() == 6
    stored = "".join(str(v) for v in Proposal.objects.values_list()).lower()
    assert "203.0.113.9" not in stored


def test_proposals_are_protected_against_cross_site_requests(corpus):
    client = Client(enforce_csrf_checks=True)
    assert propose(client).status_code == 403
    assert not Proposal.objects.exists()

    form = client.get(reverse("catalogue:proposal"))
    token = form.context["csrf_token"]
    assert propose(client, {**NEW_PLACE, "csrfmiddlewaretoken": str(token)}).status_code == 302
    assert Proposal.objects.count() == 1


def test_the_form_is_also_in_english(client, corpus):
    page = client.get("/en/proposer/").content.decode()
    assert "Propose a place" in page
    assert "at the latest" in page


def test_purge_erases_contact_details_no_longer_needed_and_keeps_the_rest(
    django_user_model, corpus
):
    reviewer = django_user_model.objects.create_user("relecteur")
    now = timezone.now()

    def received(days_ago, **fields):
        proposal = Proposal.objects.create(
            kind="new-place",
            place_name=f"Lieu reçu il y a {days_ago} jours",
            message="Un lieu.",
            contact_name="Camille Martin",
            contact_email="camille@example.org",
            **fields,
        )
        Proposal.objects.filter(pk=proposal.pk).update(
            created_at=now - datetime.timedelta(days=days_ago)
        )
        return proposal

    old_pending = received(91)
    recent_pending = received(10)
    answered = received(
        40,
        status="rejected",
        reviewed_by=reviewer,
        reviewed_at=now - datetime.timedelta(days=15),
    )
    just_answered = received(
        20,
        status="accepted",
        reviewed_by=reviewer,
        reviewed_at=now - datetime.timedelta(days=3),
    )

    out = io.StringIO()
    call_command("purge_proposals", stdout=out)
    assert "Contact details erased from 2 proposal(s)" in out.getvalue()

    def contact(proposal):
        proposal.refresh_from_db()
        return proposal.contact_name, proposal.contact_email

    assert contact(old_pending) == ("", "")
    assert contact(answered) == ("", "")
    assert contact(recent_pending) == ("Camille Martin", "camille@example.org")
    assert contact(just_answered) == ("Camille Martin", "camille@example.org")
    assert old_pending.message == "Un lieu."
    assert old_pending.place_name == "Lieu reçu il y a 91 jours"


def test_a_reviewer_sees_pending_proposals_and_accepts_one(client, django_user_model, place):
    propose(client)
    propose(client, {"message": "L'adresse a changé."}, lieu=place.slug)
    reviewer = django_user_model.objects.create_superuser("relectrice", "r@example.org", "pw")
    client.force_login(reviewer)

    index = client.get(reverse("admin:index")).content.decode()
    assert "2 propositions du public attendent d’être relues" in index

    changelist = reverse("admin:catalogue_proposal_changelist")
    page = client.get(changelist, {"status__exact": "pending"}).content.decode()
    assert "Atelier partagé de Dieulefit" in page
    assert place.name in page
    assert "Nouveau lieu" in page and "Correction" in page
    assert "En attente" in page

    proposal = Proposal.objects.get(kind="new-place")
    detail = client.get(reverse("admin:catalogue_proposal_change", args=[proposal.pk]))
    assert "camille@example.org" in detail.content.decode()
    draft_url = reverse("admin:catalogue_place_change", args=[proposal.draft_place.pk])
    assert draft_url in detail.content.decode()

    response = client.post(
        changelist, {"action": "accept", "_selected_action": [proposal.pk]}, follow=True
    )
    assert "1 proposition marquée « Acceptée »." in response.content.decode()
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.ACCEPTED
    assert proposal.reviewed_by == reviewer
    assert proposal.reviewed_at is not None
    # Accepting records the decision; the draft stays a draft until an editor publishes it.
    assert proposal.draft_place.editorial_status == Place.EditorialStatus.DRAFT
    index = client.get(reverse("admin:index")).content.decode()
    assert "1 proposition du public attend d’être relue" in index
