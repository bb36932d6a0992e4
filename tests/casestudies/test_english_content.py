"""English content (issue: case-study titles, taglines, section headings, figure labels and
lessons have an English version shown under /en/; French stays the reference)."""

import re

import pytest
import yaml
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape

from casestudies.dump import dump_corpus
from casestudies.models import CaseStudy, Section
from catalogue.models import Figure, Lesson
from tests.casestudies.conftest import CREST
from tests.casestudies.test_corpus_ownership import load
from tests.editing_helpers import page_text


def english(url_name, *args):
    with translation.override("en"):
        return reverse(url_name, args=args)


def french(url_name, *args):
    with translation.override("fr"):
        return reverse(url_name, args=args)


def crest_case():
    return CaseStudy.objects.filter(places__slug=CREST, kind="monograph").first()


def test_a_case_study_reads_in_english_under_en_and_in_french_at_its_french_address(client, crest):
    case = crest_case()
    assert case.title_en and case.title_en != case.title
    section = case.sections.exclude(heading_en="").first()

    response = client.get(english("casestudies:case-detail", case.slug))
    text = page_text(response)
    assert case.title_en in text and section.heading_en in text
    # The heading is English; the citation keeps the title the text was written under.
    [heading] = re.findall(r"<h1[^>]*>(.*?)</h1>", response.content.decode(), re.S)
    assert escape(case.title_en) == heading.strip()

    text = page_text(client.get(french("casestudies:case-detail", case.slug)))
    assert case.title in text and section.heading in text
    assert section.heading_en not in text


def test_figure_labels_and_lessons_of_a_place_are_shown_in_english(client, crest):
    figure = crest.figures.exclude(label_en="").first()
    lesson = crest.lessons.exclude(text_en="").first()

    text = page_text(client.get(english("catalogue:place-detail", crest.slug)))

    assert figure.label_en in text and figure.label not in text
    assert lesson.text_en in text and lesson.text not in text


def test_a_missing_translation_falls_back_to_french_marked_as_french(client, crest):
    lesson = crest.lessons.first()
    Lesson.objects.filter(pk=lesson.pk).update(text_en="")

    response = client.get(english("catalogue:place-detail", crest.slug))

    assert f'<span lang="fr">{escape(lesson.text)}</span>' in response.content.decode()
    # In French, nothing is marked: the page is French.
    french_page = client.get(french("catalogue:place-detail", crest.slug))
    assert '<span lang="fr">' not in french_page.content.decode()


def test_adding_or_correcting_a_translation_updates_the_row_in_place(crest, fixtures_copy):
    """An English version is not part of a row's identity: the lesson keeps its record and
    history, and no conflict is reported."""
    lesson = crest.lessons.exclude(text_en="").order_by("pk").first()
    first_line = lesson.text_en.split()[:4]
    path = next(
        p
        for p in (fixtures_copy / "corpus").glob("*.yaml")
        if " ".join(first_line) in " ".join(p.read_text(encoding="utf-8").split())
    )
    text = path.read_text(encoding="utf-8")
    pattern = re.compile(
        r"(\n\s+text_en: (?:>-\n\s+|\"))" + r"\s+".join(map(re.escape, first_line))
    )
    assert pattern.search(text), "the lesson's English text is in the corpus"
    path.write_text(pattern.sub(r"\1Revised: " + " ".join(first_line), text, 1), "utf-8")

    versions = lesson.history.count()
    status, out, err = load(fixtures=fixtures_copy)

    assert status == 0, err
    revised = Lesson.objects.get(pk=lesson.pk)
    assert revised.text_en.startswith("Revised: ")
    assert revised.text == lesson.text
    assert revised.history.count() == versions + 1


def test_an_english_label_written_in_the_admin_is_dumped_next_to_the_french(crest, fixtures_copy):
    figure = crest.figures.order_by("pk").first()
    figure.label_en = "What an editor wrote in English"
    figure.save()

    dump_corpus(fixtures_copy)

    items = [
        item
        for path in sorted((fixtures_copy / "corpus").glob("*.yaml"))
        for place in yaml.safe_load(path.read_text("utf-8")).get("places") or []
        for item in place.get("figures") or []
    ]
    [item] = [i for i in items if i.get("label_en") == "What an editor wrote in English"]
    keys = list(item)
    assert keys.index("label_en") == keys.index("label") + 1
    assert item["label"] == figure.label
    status, out, err = load(fixtures=fixtures_copy)
    assert status == 0, err
    assert Figure.objects.get(pk=figure.pk).label_en == "What an editor wrote in English"


@pytest.mark.parametrize(
    "what",
    ["case study titles", "taglines", "section headings", "figure labels", "lessons"],
)
def test_every_text_of_the_corpus_has_an_english_version(corpus, what):
    """The corpus is translated whole: a text without its English version is listed."""
    missing = {
        "case study titles": [c.slug for c in CaseStudy.objects.filter(title_en="")],
        "taglines": [c.slug for c in CaseStudy.objects.exclude(tagline="").filter(tagline_en="")],
        "section headings": [
            f"{s.case_study.slug} §{s.order}"
            for s in Section.objects.filter(heading_en="").select_related("case_study")
        ],
        "figure labels": [
            f"{f.place.slug}: {f.label}"
            for f in Figure.objects.exclude(label="").filter(label_en="").select_related("place")
        ],
        "lessons": [lesson.text[:60] for lesson in Lesson.objects.filter(text_en="")],
    }[what]
    assert missing == []


def numbers(text):
    """The numbers a text states, written alike in French (« 1 500 », « 2,5 ») and English
    (« 1,500 », « 2.5 »)."""
    text = text.replace("\u202f", " ").replace("\xa0", " ")
    grouped = re.compile(r"(\d)[ ,](\d{3})\b")
    while grouped.search(text):
        text = grouped.sub(r"\1\2", text)
    text = re.sub(r"(\d),(\d)", r"\1.\2", text)
    return set(re.findall(r"\d+(?:\.\d+)?", text))


def test_every_number_of_the_french_is_in_its_english_version(corpus):
    pairs = [
        *CaseStudy.objects.values_list("title", "title_en"),
        *CaseStudy.objects.values_list("tagline", "tagline_en"),
        *Section.objects.values_list("heading", "heading_en"),
        *Figure.objects.values_list("label", "label_en"),
        *Lesson.objects.values_list("text", "text_en"),
    ]
    lost = [(fr, en) for fr, en in pairs if en and numbers(fr) - numbers(en)]
    assert lost == []
    assert numbers("1 500 000 € et 2,5 %") == numbers("€1,500,000 and 2.5%") == {"1500000", "2.5"}
