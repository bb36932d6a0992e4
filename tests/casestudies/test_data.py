"""Data fidelity: the corpus is complete, sourced, and written in its own words."""

import os

import pytest

from casestudies.checks import problems
from casestudies.corpus import corpus_files, read_yaml
from catalogue import prose
from catalogue.models import Place

EXPECTED_PLACES = {
    # Mémento « Lieux d'innovation »: its nine monographs.
    "memento-lieux-innovation": {
        "mecateam",
        "archeomed",
        "samoa-quartier-creation",
        "silver-innov",
        "spn-poitiers",
        "fab-lab-crest",
        "organic-vallee",
        "linkub-nevers",
        "tremplin-entreprises-pays-bruche",
    },
    # Round table: its testimonies (Silver Valley is the memento's place, extended).
    "table-ronde-clusters-lieux-innovation": {
        "numa-paris",
        "silver-innov",
        "plaine-images",
        "essonne-developpement",
    },
    # Labo de l'ESS: the twelve PTCE studied.
    "labo-ess-ptce-etudes-de-cas": {
        "pole-sud-aquitain",
        "eco-domaine-bouquetot",
        "coursive-boutaric",
        "les-articulteurs",
        "eoliennes-en-pays-de-vilaine",
        "de-fil-en-reseaux",
        "lille-metropole-solidaire",
        "fontaine-o-livres",
        "paris-mix",
        "pole-sud-archer",
        "culture-et-cooperation",
        "domb-innov",
    },
}


@pytest.mark.parametrize("source", sorted(EXPECTED_PLACES))
def test_every_case_of_the_source_is_in_the_catalogue(corpus, source):
    found = set(Place.objects.filter(sources__slug=source).values_list("slug", flat=True))
    assert EXPECTED_PLACES[source] <= found


def test_a_place_described_by_two_sources_is_one_place_with_both(corpus):
    silver = Place.objects.get(slug="silver-innov")
    assert set(silver.sources.values_list("slug", flat=True)) == {
        "memento-lieux-innovation",
        "table-ronde-clusters-lieux-innovation",
    }
    assert silver.figures.filter(headline=True).exists()


def test_no_published_record_lacks_required_data(corpus):
    assert problems() == []


def test_the_checks_notice_an_incomplete_place(corpus, make_place):
    place = make_place(setting="", summary="")
    found = [line for line in problems() if place.slug in line]
    assert found == [f"place {place.slug}: lacks a setting, a source, a summary"]


def test_the_checks_notice_two_places_with_the_same_name(corpus, make_place):
    make_place(name="Fab Lab de Crest")
    assert any("share the name or alias" in line and "fab-lab-crest" in line for line in problems())


def corpus_texts():
    for path in corpus_files():
        if path.parent.name == "corpus":
            for where, text in prose.strings_in(read_yaml(path)):
                yield path.name, where, text


@pytest.fixture
def source_texts():
    """The source documents' text, kept outside the repository. Without it the guard cannot
    run: it is skipped, and says why; on CI, where the texts are, it must run."""
    if not prose.source_texts_available():
        message = (
            f"no source texts in {prose.SOURCE_TEXTS} (set INNOVPLACES_SOURCE_TEXTS): "
            "the copy guard cannot run"
        )
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return prose.SOURCE_TEXTS


def test_no_text_of_the_corpus_copies_a_run_of_twelve_words_from_the_sources(source_texts):
    copied = [
        f"{name}: {where}: {run}"
        for name, where, text in corpus_texts()
        for run in prose.copied_runs(text)
    ]
    assert copied == []


def test_the_copy_guard_catches_a_copied_sentence_but_not_a_quoted_title(source_texts):
    source = (source_texts / "000_8df196e583bfcd4a.txt").read_text(encoding="utf-8")
    sentence = " ".join(source.split()[40:60])
    assert prose.copied_runs(f"Nous écrivons : {sentence}.")
    assert not prose.copied_runs(f"Le document s'intitule « {sentence} ».")
    assert not prose.copied_runs("Un texte entièrement neuf sur les lieux d'innovation ruraux.")
