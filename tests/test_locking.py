"""Two editors, one record: the second save of a stale form is refused, never lost silently."""

import threading

import pytest
from django.contrib import admin
from django.db import connection, transaction
from django.test import Client, RequestFactory
from django.urls import reverse

from casestudies.models import CaseStudy
from catalogue.editing import VERSION_FIELD
from catalogue.models import Place

from .editing_helpers import form_data, page_text


@pytest.fixture
def make_editor(django_user_model, corpus):
    def make(username, first_name="", last_name=""):
        user = django_user_model.objects.create_superuser(
            username, f"{username}@example.org", "pw", first_name=first_name, last_name=last_name
        )
        client = Client()
        client.force_login(user)
        return client

    return make


def change_url(obj):
    opts = obj._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])


def test_the_second_of_two_editors_saving_a_place_is_refused_and_the_first_save_kept(
    make_editor, make_place
):
    place = make_place(name="Atelier partagé de Dieulefit", summary="Résumé d'origine.")
    alice = make_editor("alice", "Alice", "Martin")
    bob = make_editor("bob")
    url = change_url(place)
    alice_data = form_data(alice.get(url))
    bob_data = form_data(bob.get(url))
    assert alice_data[VERSION_FIELD] == bob_data[VERSION_FIELD] == str(place.version)

    alice_data["summary"] = "Résumé corrigé par Alice."
    assert alice.post(url, alice_data).status_code == 302

    bob_data["summary"] = "Résumé réécrit par Bob."
    response = bob.post(url, bob_data)
    assert response.status_code == 200
    text = page_text(response)
    assert "Alice Martin a enregistré cette fiche le" in text
    assert "Vos modifications n'ont pas été enregistrées" in text
    assert "Ils ont modifié : « résumé »." in text
    assert "Voir ce qui a changé dans l'historique," in text
    assert "ouvrez la fiche à jour et refaites-y vos changements." in text
    history = reverse("admin:catalogue_place_history", args=[place.pk])
    assert f'href="{history}"' in response.content.decode()
    # Bob's text is still in the form he gets back.
    assert response.context["adminform"].form["summary"].value() == "Résumé réécrit par Bob."
    place.refresh_from_db()
    assert place.summary == "Résumé corrigé par Alice."

    # Saving the refused form again is refused again: it still shows Alice's fields as they
    # were before her save, and would undo her work unseen.
    again = form_data(response)
    assert again["summary"] == "Résumé réécrit par Bob."
    assert bob.post(url, again).status_code == 200
    place.refresh_from_db()
    assert place.summary == "Résumé corrigé par Alice."
    # Bob opens the record as it is now and makes his change there.
    fresh = form_data(bob.get(url))
    assert fresh["summary"] == "Résumé corrigé par Alice."
    fresh["summary"] = "Résumé réécrit par Bob, après lecture."
    assert bob.post(url, fresh).status_code == 302
    place.refresh_from_db()
    assert place.summary == "Résumé réécrit par Bob, après lecture."


def test_a_stale_case_study_form_with_its_sections_is_refused(make_editor, make_case_study):
    case = make_case_study(title="Monographie du tiers-lieu", sections=2)
    alice = make_editor("alice", "Alice", "Martin")
    bob = make_editor("bob")
    url = change_url(case)
    alice_data = form_data(alice.get(url))
    bob_data = form_data(bob.get(url))

    alice_data["sections-0-body"] = "Contexte réécrit par Alice."
    assert alice.post(url, alice_data).status_code == 302

    # Bob only changes the title, but his form still carries the old section text.
    bob_data["title"] = "Titre de Bob"
    response = bob.post(url, bob_data)
    assert response.status_code == 200
    assert "Alice Martin a enregistré cette fiche le" in page_text(response)
    case.refresh_from_db()
    assert case.title == "Monographie du tiers-lieu"
    assert case.sections.get(order=1).body == "Contexte réécrit par Alice."


def test_a_figure_saved_in_its_own_admin_makes_a_form_open_on_its_place_stale(
    make_editor, make_place, make_figure
):
    place = make_place()
    figure = make_figure(place, value=1000)
    alice = make_editor("alice", "Alice", "Martin")
    bob = make_editor("bob")
    bob_data = form_data(bob.get(change_url(place)))

    figure_data = form_data(alice.get(change_url(figure)))
    figure_data["value"] = "2500"
    assert alice.post(change_url(figure), figure_data).status_code == 302

    bob_data["name"] = "Nom de Bob"
    response = bob.post(change_url(place), bob_data)
    assert "Alice Martin a enregistré cette fiche le" in page_text(response)
    figure.refresh_from_db()
    assert figure.value == 2500  # Bob's stale inline row did not put 1000 back
    place.refresh_from_db()
    assert place.name != "Nom de Bob"


def test_a_form_posted_without_its_version_is_refused(make_editor, make_place):
    place = make_place(summary="Avant.")
    alice = make_editor("alice")
    data = form_data(alice.get(change_url(place)))
    del data[VERSION_FIELD]
    data["summary"] = "Après."
    response = alice.post(change_url(place), data)
    assert response.status_code == 200
    assert "Vos modifications n'ont pas été enregistrées" in page_text(response)
    place.refresh_from_db()
    assert place.summary == "Avant."


def versioned_admins():
    return [
        model
        for model in admin.site._registry
        if model._meta.app_label in {"catalogue", "casestudies"}
        and any(f.name == "version" for f in model._meta.fields)
    ]


@pytest.mark.parametrize("model", versioned_admins(), ids=lambda m: m._meta.label)
def test_every_versioned_record_is_edited_with_the_version_it_was_opened_on(make_editor, model):
    obj = model.objects.first()
    response = make_editor("alice").get(change_url(obj))
    form = response.context["adminform"].form
    assert form[VERSION_FIELD].value() == obj.version
    assert f'name="{VERSION_FIELD}" value="{obj.version}"' in response.content.decode()


def test_saving_a_place_through_the_admin_increments_its_version_once_per_save(
    make_editor, make_place
):
    place = make_place()
    alice = make_editor("alice")
    before = place.version
    data = form_data(alice.get(change_url(place)))
    data["summary"] = "Nouveau résumé."
    assert alice.post(change_url(place), data).status_code == 302
    place.refresh_from_db()
    assert place.version == before + 1


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_saves_on_postgresql_let_exactly_one_through(
    postgres, make_place, django_user_model
):
    """Two threads, each with its own connection, validate and save the admin form of the
    same place opened on the same version: the row lock makes the second wait for the
    first to commit, then see the new version and refuse."""
    place = make_place(summary="Avant.")
    user = django_user_model.objects.create_superuser("alice", "alice@example.org", "pw")
    model_admin = admin.site._registry[Place]
    request = RequestFactory().get("/")
    request.user = user
    form_class = model_admin.get_form(request, place, change=True)
    initial = form_class(instance=place)
    base = {}
    for name in initial.fields:
        value = initial[name].value()
        if name == "image" or value is None:
            continue
        base[name] = [str(v) for v in value] if isinstance(value, list) else value
    barrier = threading.Barrier(2)
    results = {}

    def save(summary):
        try:
            with transaction.atomic():
                instance = Place.objects.get(pk=place.pk)
                form = form_class({**base, "summary": summary}, instance=instance)
                barrier.wait(timeout=10)
                valid = form.is_valid()  # locks the row; the other thread waits here
                if valid:
                    form.save()
                    # Hold the lock a moment: the other thread is blocked meanwhile.
                    threading.Event().wait(0.3)
                results[summary] = valid
        finally:
            connection.close()

    threads = [threading.Thread(target=save, args=(text,)) for text in ("Un.", "Deux.")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(results.values()) == [False, True]
    winner = next(text for text, valid in results.items() if valid)
    place.refresh_from_db()
    assert place.summary == winner
    assert place.version == int(base[VERSION_FIELD]) + 1


def test_a_case_study_history_link_names_its_sections_changes(make_editor, make_case_study):
    case = make_case_study(sections=1)
    alice = make_editor("alice", "Alice", "Martin")
    data = form_data(alice.get(change_url(case)))
    data["sections-0-heading"] = "Genèse du projet"
    assert alice.post(change_url(case), data).status_code == 302
    text = page_text(alice.get(reverse("admin:casestudies_casestudy_history", args=[case.pk])))
    assert "Partie 1 → Genèse du projet" in text
    assert CaseStudy.objects.get(pk=case.pk).sections.get().heading == "Genèse du projet"
