"""Draft → in review → published, or archived; who may do what; the admin's lists."""

import datetime

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from casestudies.models import CaseStudy
from catalogue.models import Figure, Place, PlaceKind, Source, Territory
from catalogue.search import reindex

from .editing_helpers import form_data, page_text

DIRECTORY = reverse("catalogue:place-list")
PLACES_ADMIN = reverse("admin:catalogue_place_changelist")
CASES_ADMIN = reverse("admin:casestudies_casestudy_changelist")


def logged_in(user):
    client = Client()
    client.force_login(user)
    client.user = user
    return client


@pytest.fixture
def member(django_user_model, corpus):
    """A staff member of one of the editors' groups."""

    def make(group, username=None):
        username = username or group.lower()
        user = django_user_model.objects.create_user(
            username, f"{username}@example.org", "pw", is_staff=True
        )
        user.groups.add(Group.objects.get(name=group))
        return logged_in(user)

    return make


@pytest.fixture
def staff_viewer(django_user_model, corpus):
    user = django_user_model.objects.create_user("lecteur", "l@example.org", "pw", is_staff=True)
    user.user_permissions.add(
        Permission.objects.get(codename="view_place"),
        Permission.objects.get(codename="view_casestudy"),
    )
    return logged_in(user)


def change_url(obj):
    opts = obj._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])


def facet_count(response, facet, value):
    options = response.context["facets"][facet].options
    return next((option.count for option in options if option.value == value), 0)


# What the public sees


def test_a_draft_is_404_for_visitors_and_previewed_by_staff_with_a_banner(
    client, staff_viewer, make_place
):
    place = make_place(name="Lieu en préparation", editorial_status="draft")
    assert client.get(place.get_absolute_url()).status_code == 404
    response = staff_viewer.get(place.get_absolute_url())
    assert response.status_code == 200
    text = page_text(response)
    assert "Brouillon — non publié" in text and "Lieu en préparation" in text
    place.editorial_status = "review"
    place.save()
    assert client.get(place.get_absolute_url()).status_code == 404
    assert "En relecture — non publié" in page_text(staff_viewer.get(place.get_absolute_url()))


def test_staff_without_the_view_permission_do_not_preview_drafts(django_user_model, make_place):
    place = make_place(editorial_status="draft")
    user = django_user_model.objects.create_user("sans-droit", "s@example.org", "pw", is_staff=True)
    assert logged_in(user).get(place.get_absolute_url()).status_code == 404


def test_a_published_place_has_no_banner(client, make_place):
    text = page_text(client.get(make_place().get_absolute_url()))
    assert "non publié" not in text and "archivée" not in text


def test_drafts_are_absent_from_the_directory_its_facets_search_and_comparisons(
    client, make_place, make_case_study
):
    before = client.get(DIRECTORY, {"per_page": 100})
    published = make_place(name="Vannerie ouverte", kinds=("fab-lab",))
    draft = make_place(name="Vannerie secrète", kinds=("fab-lab",), editorial_status="draft")
    review = make_place(name="Vannerie relue", kinds=("fab-lab",), editorial_status="review")
    response = client.get(DIRECTORY, {"per_page": 100})
    slugs = [p.slug for p, _n, _s in response.context["results"]]
    assert published.slug in slugs
    assert draft.slug not in slugs and review.slug not in slugs
    assert response.context["paginator"].count == before.context["paginator"].count + 1
    assert facet_count(response, "kind", "fab-lab") == facet_count(before, "kind", "fab-lab") + 1
    reindex(Place.objects.filter(pk__in=[published.pk, draft.pk, review.pk]))
    found = client.get(DIRECTORY, {"q": "vannerie"})
    assert [p.slug for p, _n, _s in found.context["results"]] == [published.slug]
    compare = client.get(
        reverse("casestudies:compare"), {"lieux": f"{published.slug},{draft.slug}"}
    )
    assert [p.slug for p in compare.context["places"]] == [published.slug]
    assert draft.slug in page_text(compare)  # named as ignored, not shown
    case = make_case_study(places=[published, draft])
    text = page_text(client.get(case.get_absolute_url()))
    assert "Vannerie ouverte" in text and "Vannerie secrète" not in text
    listing = page_text(client.get(reverse("casestudies:case-list")))
    assert "Vannerie secrète" not in listing


def test_a_draft_case_study_is_404_for_visitors_and_previewed_by_staff(
    client, staff_viewer, make_case_study
):
    case = make_case_study(title="Étude en cours d'écriture", editorial_status="draft")
    assert client.get(case.get_absolute_url()).status_code == 404
    assert client.get(reverse("casestudies:case-pdf", args=[case.slug])).status_code == 404
    assert client.get(reverse("casestudies:case-bibtex", args=[case.slug])).status_code == 404
    response = staff_viewer.get(case.get_absolute_url())
    assert "Brouillon — non publié" in page_text(response)
    listing = page_text(client.get(reverse("casestudies:case-list")))
    assert "Étude en cours d'écriture" not in listing


def test_an_archived_place_keeps_its_page_with_a_banner_but_leaves_the_directory(
    client, make_place, make_case_study
):
    place = make_place(
        name="Ancienne pépinière",
        kinds=("pepiniere",),
        editorial_status="archived",
        status="closed",
    )
    response = client.get(place.get_absolute_url())
    assert response.status_code == 200
    assert "Ce lieu a fermé : sa fiche est archivée" in page_text(response)
    # A place archived for another reason is not said to have closed.
    other = make_place(name="Fiche retirée", editorial_status="archived", status="active")
    text = page_text(client.get(other.get_absolute_url()))
    assert "Cette fiche est archivée et n'est plus mise à jour." in text
    assert "a fermé" not in text
    slugs = [p.slug for p, _n, _s in client.get(DIRECTORY, {"per_page": 100}).context["results"]]
    assert place.slug not in slugs
    # Incoming links keep working: a case study about it still links to it.
    case = make_case_study(places=[place])
    assert place.get_absolute_url() in client.get(case.get_absolute_url()).content.decode()


def test_an_archived_case_study_keeps_its_page_with_a_banner(client, make_case_study):
    case = make_case_study(title="Étude d'un lieu fermé", editorial_status="archived")
    response = client.get(case.get_absolute_url())
    assert "Cette étude de cas est archivée" in page_text(response)
    assert "Étude d'un lieu fermé" not in page_text(client.get(reverse("casestudies:case-list")))


# Groups and permissions


def test_the_editors_groups_exist_with_their_permissions(corpus):
    def codenames(name):
        group = Group.objects.get(name=name)
        return {
            f"{p.content_type.app_label}.{p.codename}"
            for p in group.permissions.select_related("content_type")
        }

    contributor, reviewer, administrator = (
        codenames("Contributeur"),
        codenames("Relecteur"),
        codenames("Administrateur"),
    )
    assert {"catalogue.add_place", "catalogue.change_place", "casestudies.add_section"} <= (
        contributor
    )
    assert "catalogue.publish_place" not in contributor
    # Deleting is checked record by record (their own drafts only): see the next tests.
    assert "catalogue.delete_place" in contributor
    assert contributor < reviewer
    assert {
        "catalogue.publish_place",
        "casestudies.publish_casestudy",
        "catalogue.view_historicalplace",
        "catalogue.view_proposal",
        "catalogue.change_proposal",
    } <= reviewer
    assert reviewer < administrator
    assert {"auth.add_user", "auth.change_group", "catalogue.delete_place"} <= administrator


def new_place_data(**extra):
    return {
        "name": "Atelier de la contributrice",
        "slug": "atelier-de-la-contributrice",
        "aliases": "[]",
        "kinds": [PlaceKind.objects.get(slug="tiers-lieu").pk],
        "territory": Territory.objects.get(slug="drome-26").pk,
        "setting": "rural",
        "status": "active",
        "summary": "Un lieu proposé.",
        "figures-TOTAL_FORMS": "0",
        "figures-INITIAL_FORMS": "0",
        "fundings-TOTAL_FORMS": "0",
        "fundings-INITIAL_FORMS": "0",
        "lessons-TOTAL_FORMS": "0",
        "lessons-INITIAL_FORMS": "0",
        **extra,
    }


def test_a_contributor_creates_a_draft_but_cannot_publish_it(member):
    contributor = member("Contributeur")
    add = reverse("admin:catalogue_place_add")
    page = contributor.get(add)
    choices = [v for v, _l in page.context["adminform"].form.fields["editorial_status"].choices]
    assert choices == ["draft", "review"]

    forged = contributor.post(add, new_place_data(editorial_status="published"))
    assert forged.status_code == 200
    assert "Seul un relecteur peut publier ou archiver." in page_text(forged)
    assert not Place.objects.filter(slug="atelier-de-la-contributrice").exists()

    assert contributor.post(add, new_place_data(editorial_status="draft")).status_code == 302
    place = Place.objects.get(slug="atelier-de-la-contributrice")
    assert place.created_by == contributor.user
    assert place.editorial_status == "draft"

    # Sending it for review is theirs to do; publishing it by a forged POST is not.
    data = form_data(contributor.get(change_url(place)))
    data["editorial_status"] = "review"
    assert contributor.post(change_url(place), data).status_code == 302
    data = form_data(contributor.get(change_url(place)))
    data["editorial_status"] = "published"
    response = contributor.post(change_url(place), data)
    assert "Seul un relecteur peut publier ou archiver." in page_text(response)
    place.refresh_from_db()
    assert place.editorial_status == "review"


def test_a_contributor_cannot_change_someone_elses_record_or_their_own_once_published(
    member, make_place, make_figure
):
    contributor = member("Contributeur")
    others = make_place(name="Lieu d'un autre", editorial_status="draft")
    page = contributor.get(change_url(others))
    assert page.status_code == 200  # they may read it…
    assert "Enregistrer" not in page_text(page)
    data = form_data(page)
    data.update(new_place_data(name="Détourné", slug=others.slug))
    assert contributor.post(change_url(others), data).status_code == 403  # …not change it
    others.refresh_from_db()
    assert others.name == "Lieu d'un autre"

    figure = make_figure(others)
    figure_page = contributor.get(change_url(figure))
    assert "Enregistrer" not in page_text(figure_page)
    assert contributor.post(change_url(figure), form_data(figure_page)).status_code == 403

    own = make_place(name="Le mien", editorial_status="published", created_by=contributor.user)
    assert (
        contributor.post(change_url(own), form_data(contributor.get(change_url(own)))).status_code
        == 403
    )


def test_a_contributor_deletes_their_own_draft_and_its_rows_but_nothing_else(
    member, make_place, make_figure
):
    contributor = member("Contributeur")
    own = make_place(name="Mon brouillon", editorial_status="draft", created_by=contributor.user)
    own_figure = make_figure(own)
    others = make_place(name="Lieu d'un autre", editorial_status="draft")
    others_figure = make_figure(others)
    published = make_place(
        name="Mon lieu publié", editorial_status="published", created_by=contributor.user
    )

    def delete(obj):
        opts = obj._meta
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_delete", args=[obj.pk])
        return contributor.post(url, {"post": "yes"})

    assert delete(others_figure).status_code == 403
    assert delete(others).status_code == 403
    assert delete(published).status_code == 403
    assert delete(own_figure).status_code == 302
    assert delete(own).status_code == 302
    assert not Place.objects.filter(pk=own.pk).exists()
    assert Place.objects.filter(pk__in=[others.pk, published.pk]).count() == 2
    assert Figure.objects.filter(pk=others_figure.pk).exists()
    # The list's bulk deletion cannot check each record: it is not offered.
    changelist = contributor.get(reverse("admin:catalogue_place_changelist"))
    assert "delete_selected" not in changelist.content.decode()


def test_a_reviewer_deletes_a_draft_left_by_a_rejected_proposal(member, make_place):
    reviewer = member("Relecteur")
    draft = make_place(name="Proposition refusée", editorial_status="draft")
    url = reverse("admin:catalogue_place_delete", args=[draft.pk])
    assert reviewer.post(url, {"post": "yes"}).status_code == 302
    assert not Place.objects.filter(pk=draft.pk).exists()


def test_a_contributor_cannot_add_a_figure_to_someone_elses_place(member, make_place):
    contributor = member("Contributeur")
    others = make_place(editorial_status="published")
    add = reverse("admin:catalogue_figure_add")
    response = contributor.post(
        add,
        {
            "place": others.pk,
            "indicator": 1,
            "value": "12",
            "source": Source.objects.first().pk,
            "section": "p. 3",
        },
    )
    assert response.status_code == 200
    assert "vos propres brouillons" in page_text(response)
    assert not others.figures.exists()


def test_a_reviewer_publishes_a_contributors_draft(member, make_place):
    contributor = member("Contributeur")
    reviewer = member("Relecteur")
    place = make_place(
        name="Prêt à publier", editorial_status="review", created_by=contributor.user
    )
    data = form_data(reviewer.get(change_url(place)))
    data["editorial_status"] = "published"
    assert reviewer.post(change_url(place), data).status_code == 302
    place.refresh_from_db()
    assert place.editorial_status == "published"
    assert place.history.latest().history_user == reviewer.user
    # The reviewer sees the history; the contributor no longer changes the published place.
    history = reverse("admin:catalogue_place_history", args=[place.pk])
    assert reviewer.get(history).status_code == 200
    assert contributor.get(history).status_code == 403


def test_a_contributor_sees_the_history_of_their_own_draft(member, make_place):
    contributor = member("Contributeur")
    place = make_place(editorial_status="draft", created_by=contributor.user)
    history = reverse("admin:catalogue_place_history", args=[place.pk])
    assert contributor.get(history).status_code == 200


def test_an_administrator_manages_users(member):
    administrator = member("Administrateur")
    assert administrator.get(reverse("admin:auth_user_changelist")).status_code == 200
    assert member("Relecteur").get(reverse("admin:auth_user_changelist")).status_code == 403


def test_an_administrator_cannot_make_themselves_superuser(member):
    administrator = member("Administrateur")
    user = administrator.user
    url = reverse("admin:auth_user_change", args=[user.pk])
    data = form_data(administrator.get(url))
    data["is_superuser"] = "on"
    administrator.post(url, data)
    user.refresh_from_db()
    assert not user.is_superuser


# Bulk actions


def run_action(client, url, action, objects):
    return client.post(
        url,
        {"action": action, "_selected_action": [obj.pk for obj in objects]},
        follow=True,
    )


def test_a_reviewer_publishes_and_archives_in_bulk_and_each_change_is_recorded(member, make_place):
    reviewer = member("Relecteur")
    drafts = [make_place(editorial_status="review") for _ in range(3)]
    response = run_action(reviewer, PLACES_ADMIN, "publish", drafts)
    assert "3 fiches publiées." in page_text(response)
    for place in drafts:
        place.refresh_from_db()
        assert place.editorial_status == "published"
        record = place.history.latest()
        assert record.history_user == reviewer.user
        assert record.history_change_reason == "Publié (action groupée)"
    response = run_action(reviewer, PLACES_ADMIN, "archive", drafts[:1])
    assert "1 fiche archivée." in page_text(response)
    drafts[0].refresh_from_db()
    assert drafts[0].editorial_status == "archived"


def test_a_contributor_is_not_offered_publishing_in_bulk_and_cannot_forge_it(member, make_place):
    contributor = member("Contributeur")
    place = make_place(editorial_status="draft", created_by=contributor.user)
    page = contributor.get(PLACES_ADMIN)
    actions = [value for value, _label in page.context["action_form"].fields["action"].choices]
    assert "mark_checked_today" in actions
    assert "publish" not in actions and "archive" not in actions
    run_action(contributor, PLACES_ADMIN, "publish", [place])
    place.refresh_from_db()
    assert place.editorial_status == "draft"


def test_marking_checked_today_in_bulk(member, make_place, make_case_study):
    contributor = member("Contributeur")
    own = make_place(editorial_status="draft", created_by=contributor.user)
    others = make_place(editorial_status="published")
    response = run_action(contributor, PLACES_ADMIN, "mark_checked_today", [own, others])
    text = page_text(response)
    assert "1 fiche marquée comme vérifiée aujourd'hui." in text
    assert "1 fiche laissée telle quelle : vous ne pouvez pas la modifier." in text
    own.refresh_from_db()
    others.refresh_from_db()
    assert own.checked_on == timezone.localdate()
    assert others.checked_on == datetime.date(2026, 11, 22)

    reviewer = member("Relecteur")
    cases = [make_case_study() for _ in range(2)]
    response = run_action(reviewer, CASES_ADMIN, "mark_checked_today", cases)
    assert "2 fiches marquées comme vérifiées aujourd'hui." in page_text(response)
    assert all(
        c.checked_on == timezone.localdate()
        for c in CaseStudy.objects.filter(pk__in=[c.pk for c in cases])
    )


# The admin's lists


def test_the_admin_says_innovplaces(member):
    response = member("Relecteur").get(reverse("admin:index"))
    text = page_text(response)
    assert "innovplaces" in text and "Administration du catalogue" in text
    assert "<title>Administration du catalogue | innovplaces</title>" in response.content.decode()


def test_the_place_list_shows_status_last_modified_last_checked_and_figures(
    member, make_place, make_figure
):
    place = make_place(name="Lieu très chiffré", editorial_status="review")
    for indicator in ("staff", "members", "surface_m2"):
        make_figure(place, indicator=indicator)
    response = member("Relecteur").get(PLACES_ADMIN, {"q": "Lieu très chiffré"})
    text = page_text(response)
    for header in ("Statut éditorial", "Chiffres", "Dernière modification"):
        assert header in text, header
    assert "En relecture" in text
    row = response.context["cl"].result_list[0]
    assert row.figure_count == 3
    assert row.last_modified is not None


def changelist_queries(client, url, params=None):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params or {})
    assert response.status_code == 200
    return len(queries)


def test_the_admin_changelists_cost_a_fixed_number_of_queries(
    member, make_place, make_figure, make_case_study
):
    reviewer = member("Relecteur")
    changelist_queries(reviewer, PLACES_ADMIN)
    # Places: session, user, the user's and the groups' permissions; the choices of the
    # kind, région and source filters; the filtered count and the total count; the page of
    # places (territory and région joined, figure count and last modified as subqueries).
    # Case studies: the same, with the source and kind-of-place filters.
    places = changelist_queries(reviewer, PLACES_ADMIN)
    cases = changelist_queries(reviewer, CASES_ADMIN)
    for _ in range(5):
        place = make_place()
        make_figure(place)
        make_case_study(places=[place])
    assert changelist_queries(reviewer, PLACES_ADMIN) == places == 10
    assert changelist_queries(reviewer, CASES_ADMIN) == cases == 9


def test_a_contributor_finds_their_own_records_in_one_click(member, make_place):
    contributor = member("Contributeur")
    own = make_place(name="Mon brouillon", editorial_status="draft", created_by=contributor.user)
    make_place(name="Brouillon d'un autre", editorial_status="draft")
    response = contributor.get(PLACES_ADMIN, {"mine": "1"})
    assert [p.name for p in response.context["cl"].result_list] == [own.name]
    assert "Moi" in page_text(response)
