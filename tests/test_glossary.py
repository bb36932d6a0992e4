"""The glossary, in French and in English, linked from the directory's filters and the
place pages; the « À propos / méthode » page."""

import pytest
import yaml

from catalogue import glossary
from catalogue.models import LegalForm, Organisation, Place, PlaceKind, Setting, Source

REQUIRED = {
    "ptce": "PTCE",
    "tiers-lieu": "Tiers-lieu",
    "fab-lab": "Fab lab",
    "pepiniere": "Pépinière d'entreprises",
    "hotel-entreprises": "Hôtel d'entreprises",
    "coworking": "Coworking",
    "cluster": "Cluster",
    "scic": "SCIC",
    "sem": "SEM",
    "scop": "SCOP",
    "leader": "LEADER / GAL",
    "feder": "FEDER",
    "epci": "EPCI",
    "petr": "Pays / PETR",
    "ess": "ESS",
    "action-coeur-de-ville": "Action cœur de ville",
    "petites-villes-de-demain": "Petites villes de demain",
    "ami": "AMI / appel à projets",
}


def html_of(response):
    return response.content.decode().replace("&#x27;", "'")


def test_every_term_is_written_in_both_languages_and_points_to_known_values():
    terms = glossary.terms()
    assert set(REQUIRED) <= set(terms)
    known = {
        "kind": None,  # checked against the database below
        "legal_form": set(LegalForm.values),
        "funder_kind": set(Organisation.Kind.values),
        "setting": set(Setting.values),
    }
    for term in terms.values():
        assert term.text.strip() and term.text_en.strip(), term.slug
        assert term.text != term.text_en, term.slug
        assert set(term.see) <= set(terms), term.slug
        for name, values in term.values.items():
            assert name in known, term.slug
            if known[name] is not None:
                assert set(values) <= known[name], term.slug
    # The file is the reference: every entry has an anchor-safe slug.
    with open(glossary.GLOSSARY_FILE, encoding="utf-8") as stream:
        slugs = [entry["slug"] for entry in yaml.safe_load(stream)["terms"]]
    assert len(slugs) == len(set(slugs))
    assert all(slug.replace("-", "").isalnum() and slug.islower() for slug in slugs)


@pytest.mark.django_db
def test_glossary_kinds_exist(corpus):
    kinds = set(PlaceKind.objects.values_list("slug", flat=True))
    for term in glossary.terms().values():
        assert set(term.values.get("kind", ())) <= kinds, term.slug


@pytest.mark.django_db
def test_glossary_page_in_french_and_english(client):
    french = html_of(client.get("/glossaire/"))
    for slug, name in REQUIRED.items():
        assert f'id="{slug}"' in french
        assert f"<dfn>{name}</dfn>" in french
    assert "pôle territorial de coopération économique" in french
    english = html_of(client.get("/en/glossaire/"))
    assert '<html lang="en">' in english
    for slug in REQUIRED:
        assert f'id="{slug}"' in english
    assert "<dfn>Third place</dfn>" in english
    assert "local economic cooperation hub" in english
    assert glossary.terms()["tiers-lieu"].text_en.split()[0] in english
    assert glossary.terms()["tiers-lieu"].text.split(".")[0] not in english


@pytest.mark.django_db
def test_directory_filters_link_to_the_glossary(client, corpus):
    html = html_of(client.get("/lieux/"))
    # Kinds (checkboxes): a link next to each value that a term explains.
    for slug in ("ptce", "tiers-lieu", "pepiniere", "cluster"):
        assert f'href="/glossaire/#{slug}"' in html, slug
    assert "PTCE dans le glossaire" in html
    # Settings, legal forms.
    assert 'href="/glossaire/#ville-moyenne"' in html
    used = set(Place.objects.published().values_list("legal_form", flat=True))
    explained = {
        value for term in glossary.terms().values() for value in term.values.get("legal_form", ())
    }
    for value in used & explained:
        assert f'href="{glossary.term_for("legal_form", value).url}"' in html, value
    # Kinds of funder (a drop-down): a line of links under it.
    assert 'href="/glossaire/#epci"' in html
    assert 'href="/glossaire/#fonds-europeens"' in html
    english = html_of(client.get("/en/lieux/"))
    assert 'href="/en/glossaire/#ptce"' in english
    assert "PTCE in the glossary" in english


@pytest.mark.django_db
def test_place_page_links_its_kinds_and_legal_form(client, make_place):
    place = make_place(kinds=("ptce", "tiers-lieu"), legal_form="scic", setting="petite-ville")
    html = html_of(client.get(place.get_absolute_url()))
    for slug in ("ptce", "tiers-lieu", "scic", "petite-ville"):
        assert f'href="/glossaire/#{slug}"' in html, slug


@pytest.mark.django_db
def test_about_page_names_the_five_sources_and_the_licence(client, corpus):
    html = html_of(client.get("/a-propos/"))
    documents = Source.objects.filter(kind__in=Source.DOCUMENT_KINDS)
    assert documents.count() == 5
    for source in documents:
        assert source.title in html, source.slug
        assert source.get_absolute_url() in html
    assert "Licence Ouverte / Open Licence 2.0" in html
    assert 'href="/proposer/"' in html
    assert "brouillon" in html and "relecture" in html
    english = html_of(client.get("/en/a-propos/"))
    assert "How the statistics are computed" in english
    assert "Licence Ouverte / Open Licence 2.0" in english
    assert 'href="/en/proposer/"' in english


@pytest.mark.django_db
def test_footer_links_to_statistics_glossary_and_about(client, corpus):
    html = html_of(client.get("/"))
    for url in ("/statistiques/", "/glossaire/", "/a-propos/"):
        assert f'href="{url}"' in html
