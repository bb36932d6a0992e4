"""Case studies, read-across pages, citations, PDF, comparisons and the lessons library."""

import csv
import io
import json
import threading

import bibtexparser
import jsonschema
import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from casestudies import pdf, views
from casestudies.models import CaseStudy, ComparisonTable
from catalogue.models import Lesson, Place


def count_queries(client, url, params=None):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params or {})
    assert response.status_code == 200, url
    return len(queries)


def read_csv(response):
    assert response["Content-Type"].startswith("text/csv")
    text = response.content.decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


# Case-study index and read-across


def test_case_index_filters_by_source_kind_and_setting(client, corpus):
    url = reverse("casestudies:case-list")
    response = client.get(url, {"source": "labo-ess-ptce-etudes-de-cas", "kind": "monograph"})
    cases = list(response.context["page_obj"])
    assert len(cases) == 11
    assert all(c.source.slug == "labo-ess-ptce-etudes-de-cas" for c in cases)
    rural = client.get(url, {"setting": "rural"}).context["page_obj"]
    assert all(any(p.setting == "rural" for p in c.places.all()) for c in rural)


def test_case_index_search_ignores_accents(client, corpus):
    url = reverse("casestudies:case-list")
    plain = client.get(url, {"q": "eolien"}).context["paginator"].count
    accented = client.get(url, {"q": "ÉOLIENS"}).context["paginator"].count
    assert plain == accented > 0


def test_case_index_reports_bad_filters_without_failing(client, corpus):
    response = client.get(
        reverse("casestudies:case-list"), {"source": "inconnue", "region": "zz", "page": "999"}
    )
    assert response.status_code == 200
    assert response.context["form"].errors


def test_read_across_shows_one_section_kind_from_every_case(client, corpus):
    url = reverse("casestudies:sections-across", args=["gouvernance"])
    response = client.get(url)
    sections = list(response.context["page_obj"])
    assert sections and all(s.kind == "gouvernance" for s in sections)
    assert len({s.case_study_id for s in sections}) > 5
    rural = client.get(url, {"setting": "rural"}).context["page_obj"]
    assert all(any(p.setting == "rural" for p in s.case_study.places.all()) for s in rural)
    assert client.get(reverse("casestudies:sections-across", args=["inconnu"])).status_code == 404


def test_read_across_query_count_is_flat(client, corpus):
    url = reverse("casestudies:sections-across", args=["contexte"])
    # count, page of sections with their case study and source, places of those cases;
    # the choices of the source, kind-of-place and région filters; the data version (the
    # page's ETag, catalogue/http_cache.py)
    assert count_queries(client, url) == 7


# Monograph page, citation, PDF


def test_monograph_page_has_toc_identity_card_sources_and_related(client, corpus):
    case = CaseStudy.objects.get(slug="fab-lab-crest")
    html = client.get(case.get_absolute_url()).content.decode()
    for section in case.sections.all():
        assert f'href="#{section.anchor}"' in html and f'id="{section.anchor}"' in html
    assert "Fiche d'identité" in html or "Le lieu" in html
    assert 'href="#note-1"' in html and 'id="note-1"' in html
    assert "Études de cas liées" in html or "related" in html
    cache.clear()  # drawn again, not taken from the page cache: its context is there
    response = client.get(case.get_absolute_url())
    assert list(response.context["related"])


def test_a_case_page_shows_its_own_places_lessons_not_those_of_a_place_it_cites(client, corpus):
    from html import unescape

    case = CaseStudy.objects.get(slug="paris-mix")
    response = client.get(case.get_absolute_url())
    html = unescape(response.content.decode())
    own = Lesson.objects.filter(place__slug="paris-mix")
    cited = Lesson.objects.filter(place__slug="fontaine-o-livres")
    assert own.count() == 7 and cited.count() == 9
    assert all(lesson.text in html for lesson in own)
    assert not any(lesson.text in html for lesson in cited)
    # One identity card, Paris Mix's; Fontaine O Livres is named among the places cited.
    assert html.count('class="identity-card"') == 1
    assert [p.name for p in response.context["cited_places"]] == ["Fontaine O Livres"]
    assert {f.place.slug for f in response.context["figure_notes"]} == {"paris-mix"}


def test_citation_block_names_document_publisher_and_section(client, corpus):
    case = CaseStudy.objects.get(slug="fab-lab-crest")
    reference = client.get(case.get_absolute_url()).context["reference"]
    assert case.source.title in reference and case.source.publishers in reference
    assert case.source_section in reference


def test_bibtex_export_parses(client, corpus):
    for case in CaseStudy.objects.all()[:10]:
        response = client.get(reverse("casestudies:case-bibtex", args=[case.slug]))
        library = bibtexparser.parse_string(response.content.decode("utf-8"))
        assert not library.failed_blocks, case.slug
        entry = library.entries[0]
        assert entry.key == case.slug
        assert entry.fields_dict["title"].value
        assert "attachment" in response["Content-Disposition"]


CSL_TYPES = [
    "article",
    "article-journal",
    "article-magazine",
    "article-newspaper",
    "bill",
    "book",
    "broadcast",
    "chapter",
    "classic",
    "collection",
    "dataset",
    "document",
    "entry",
    "entry-dictionary",
    "entry-encyclopedia",
    "event",
    "figure",
    "graphic",
    "hearing",
    "interview",
    "legal_case",
    "legislation",
    "manuscript",
    "map",
    "motion_picture",
    "musical_score",
    "pamphlet",
    "paper-conference",
    "patent",
    "performance",
    "periodical",
    "personal_communication",
    "post",
    "post-weblog",
    "regulation",
    "report",
    "review",
    "review-book",
    "software",
    "song",
    "speech",
    "standard",
    "thesis",
    "treaty",
    "webpage",
]
# The parts of the CSL-JSON item schema (csl-data.json) that a reference manager relies on.
CSL_SCHEMA = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["id", "type"],
        "properties": {
            "id": {"type": ["string", "number"]},
            "type": {"enum": CSL_TYPES},
            "title": {"type": "string"},
            "author": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "family": {"type": "string"},
                        "given": {"type": "string"},
                        "literal": {"type": "string"},
                    },
                },
            },
            "issued": {
                "type": "object",
                "properties": {
                    "date-parts": {
                        "type": "array",
                        "items": {"type": "array", "items": {"type": ["string", "number"]}},
                    }
                },
            },
            "publisher": {"type": "string"},
            "section": {"type": "string"},
            "URL": {"type": "string"},
        },
    },
}


def test_csl_json_export_validates(client, corpus):
    for case in CaseStudy.objects.all()[:10]:
        response = client.get(reverse("casestudies:case-csl", args=[case.slug]))
        items = json.loads(response.content)
        jsonschema.validate(items, CSL_SCHEMA)
        assert items[0]["title"] == case.source.title


def test_monograph_pdf_is_a_pdf(client, corpus):
    response = client.get(reverse("casestudies:case-pdf", args=["fab-lab-crest"]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF") and len(response.content) > 5000


def test_monographs_in_a_row_share_one_font_configuration_per_thread(client, corpus):
    # Each PDF made its own font configuration, which Pango and fontconfig never free: a
    # worker grew by about 0.3 MB a PDF (casestudies/pdf.py).
    for slug in ("fab-lab-crest", "fab-lab-crest", CaseStudy.objects.public().last().slug):
        response = client.get(reverse("casestudies:case-pdf", args=[slug]))
        assert response.status_code == 200
        assert response.content.startswith(b"%PDF") and len(response.content) > 5000
    kept = pdf.font_config()
    assert pdf.font_config() is kept
    other = []
    thread = threading.Thread(target=lambda: other.append(pdf.font_config()))
    thread.start()
    thread.join()
    assert other[0] is not kept  # a thread of its own


# Saved tables


def test_saved_table_renders_its_printed_cells_and_notes(client, corpus):
    table = ComparisonTable.objects.filter(cells__note__gt="").first()
    html = client.get(table.get_absolute_url()).content.decode()
    cell = table.cells.exclude(note="").first()
    assert cell.note.split()[0] in html


def test_saved_table_sorts_by_a_column(client, corpus):
    table = ComparisonTable.objects.get(slug="memento-localisation")
    column = table.columns.first()
    response = client.get(table.get_absolute_url(), {"tri": column.key})
    texts = [
        cells[0].text.casefold()
        for _p, cells in response.context["grid"]["rows"]
        if not cells[0].missing
    ]
    assert texts == sorted(texts)
    down = client.get(table.get_absolute_url(), {"tri": column.key, "ordre": "desc"})
    texts = [
        cells[0].text.casefold()
        for _p, cells in down.context["grid"]["rows"]
        if not cells[0].missing
    ]
    assert texts == sorted(texts, reverse=True)


def test_saved_table_csv_has_its_columns_and_french_text(client, corpus):
    table = ComparisonTable.objects.get(slug="memento-localisation")
    rows = read_csv(client.get(reverse("casestudies:table-csv", args=[table.slug])))
    assert rows[0] == ["Lieu", *table.columns.values_list("label", flat=True)]
    assert len(rows) == table.rows.count() + 1
    assert any("é" in cell or "è" in cell for row in rows for cell in row)


# Composed comparisons

COMPARE = reverse("casestudies:compare")


def test_compare_three_places_side_by_side(client, corpus):
    response = client.get(
        COMPARE,
        {
            "lieux": "fab-lab-crest,mecateam,organic-vallee",
            "colonnes": "setting,investment_eur,population,section:gouvernance,funders",
        },
    )
    assert [p.slug for p in response.context["places"]] == [
        "fab-lab-crest",
        "mecateam",
        "organic-vallee",
    ]
    rows = {row["dimension"].key: row for row in response.context["rows"]}
    assert rows["setting"]["differs"]
    investment = rows["investment_eur"]["cells"]
    assert (
        investment[0].figure.value
        == Place.objects.get(slug="fab-lab-crest")
        .figures.get(indicator__slug="investment_eur", headline=True)
        .value
    )


def test_missing_values_are_missing_not_zero(client, make_place):
    place = make_place()
    response = client.get(COMPARE, {"lieux": place.slug, "colonnes": "investment_eur"})
    cell = response.context["rows"][0]["cells"][0]
    assert cell.missing and cell.figure is None
    html = response.content.decode()
    assert "non renseigné" in html or "not given" in html
    rows = read_csv(
        client.get(
            reverse("casestudies:compare-csv"), {"lieux": place.slug, "colonnes": "investment_eur"}
        )
    )
    assert rows[1][1] == ""


def test_compare_refuses_unknown_places_and_columns_with_a_message(client, corpus):
    response = client.get(COMPARE, {"lieux": "fab-lab-crest,nulle-part", "colonnes": "setting,foo"})
    assert response.status_code == 200
    assert len(response.context["places"]) == 1
    assert any("nulle-part" in e for e in response.context["errors"])
    assert any("foo" in e for e in response.context["errors"])


def test_compare_refuses_more_than_twenty_places(client, corpus):
    slugs = list(Place.objects.values_list("slug", flat=True)[:21])
    response = client.get(COMPARE, {"lieux": ",".join(slugs)})
    assert response.status_code == 400
    assert "20" in response.context["errors"][0]
    csv_response = client.get(reverse("casestudies:compare-csv"), {"lieux": ",".join(slugs)})
    assert csv_response.status_code == 400


def test_compare_csv_has_a_row_per_place(client, corpus):
    rows = read_csv(
        client.get(
            reverse("casestudies:compare-csv"),
            {"lieux": "fab-lab-crest,mecateam", "colonnes": "kinds,setting,investment_eur"},
        )
    )
    assert rows[0] == ["Lieu", "Kinds", "Setting", "Investissement"] or len(rows[0]) == 4
    assert [r[0] for r in rows[1:]] == [
        Place.objects.get(slug="fab-lab-crest").name,
        Place.objects.get(slug="mecateam").name,
    ]


def test_compare_query_count_is_flat(client, corpus):
    few = {
        "lieux": "fab-lab-crest,mecateam",
        "colonnes": "kinds,funders,investment_eur,section:gouvernance",
    }
    many = dict(few, lieux=",".join(Place.objects.values_list("slug", flat=True)[:20]))
    # indicators, places with kinds, services, fundings and headline figures, sections
    # with their case studies' places; the data version (the page's ETag)
    assert count_queries(client, COMPARE, few) == count_queries(client, COMPARE, many) == 9


def test_selection_is_kept_across_pages_and_feeds_the_comparison(client, corpus):
    url = reverse("casestudies:compare-selection")
    for slug in ("fab-lab-crest", "mecateam", "archeomed"):
        response = client.post(url, {"lieu": slug, "action": "add", "next": "/lieux/?page=2"})
        assert response.status_code == 302 and response["Location"] == "/lieux/?page=2"
    listing = client.get(reverse("catalogue:place-list"))
    assert listing.context["selection"] == ["fab-lab-crest", "mecateam", "archeomed"]
    compared = client.get(COMPARE)
    assert [p.slug for p in compared.context["places"]] == [
        "fab-lab-crest",
        "mecateam",
        "archeomed",
    ]
    client.post(url, {"lieu": "mecateam", "action": "remove"})
    assert [p.slug for p in client.get(COMPARE).context["places"]] == ["fab-lab-crest", "archeomed"]
    assert client.post(url, {"lieu": "inconnu", "action": "add"}).status_code == 400
    outside = client.post(url, {"lieu": "mecateam", "next": "https://example.com/"})
    assert outside["Location"] == COMPARE


def test_editors_save_a_composed_comparison_as_a_table(client, django_user_model, corpus):
    editor = django_user_model.objects.create_superuser("ed", "ed@example.org", "pw")
    client.force_login(editor)
    url = reverse("admin:casestudies_comparisontable_from_comparison")
    query = "?lieux=fab-lab-crest,mecateam&colonnes=setting,investment_eur,section:budget"
    assert client.get(url + query).status_code == 200
    response = client.post(
        url,
        {
            "title": "Deux lieux",
            "slug": "deux-lieux",
            "intro": "",
            "lieux": "fab-lab-crest,mecateam",
            "colonnes": "setting,investment_eur,section:budget",
        },
    )
    assert response.status_code == 302
    table = ComparisonTable.objects.get(slug="deux-lieux")
    assert [r.place.slug for r in table.rows.all()] == ["fab-lab-crest", "mecateam"]
    assert [c.kind for c in table.columns.all()] == ["attribute", "indicator", "section"]
    assert client.get(table.get_absolute_url()).status_code == 200


# Lessons library

LESSONS = reverse("casestudies:lesson-list")


def test_lessons_are_grouped_by_theme_and_kind_and_link_to_places(client, corpus):
    response = client.get(LESSONS)
    grouped = response.context["grouped"]
    assert grouped and response.context["lesson_count"] > 100
    html = response.content.decode()
    assert Place.objects.get(slug="fab-lab-crest").get_absolute_url() in html


def test_lessons_filtered_on_rural_places(client, corpus):
    response = client.get(LESSONS, {"setting": "rural"})
    lessons = [
        lesson
        for _t, _l, kinds in response.context["grouped"]
        for _k, _kl, items in kinds
        for lesson in items
    ]
    assert lessons
    for lesson in lessons:
        places = [lesson.place] if lesson.place else list(lesson.cited_places.all())
        assert any(p.setting == "rural" for p in places)


def test_lesson_search_and_kind_filter(client, corpus):
    response = client.get(LESSONS, {"kind": "difficulty", "q": "financement"})
    lessons = [
        lesson
        for _t, _l, kinds in response.context["grouped"]
        for _k, _kl, items in kinds
        for lesson in items
    ]
    assert lessons and all(lesson.kind == "difficulty" for lesson in lessons)


def test_lessons_library_query_count_is_flat(client, corpus, make_place, make_lesson):
    before = count_queries(client, LESSONS)
    for _ in range(10):
        make_lesson(make_place(), kind=Lesson.Kind.DIFFICULTY)
    assert count_queries(client, LESSONS) == before


def test_theme_table_counts_lessons_by_setting(client, corpus):
    response = client.get(reverse("casestudies:lesson-themes"), {"kind": "difficulty"})
    rows = {row["theme"]: row for row in response.context["rows"]}
    expected = Lesson.objects.filter(
        kind="difficulty", theme="funding", place__setting="rural"
    ).count()
    funding = rows.get("funding")
    rural = next(c for c in funding["cells"] if c["setting"] == "rural") if funding else None
    assert (rural["count"] if rural else 0) == expected
    assert client.get(reverse("casestudies:lesson-themes"), {"kind": "bad"}).status_code == 200


@pytest.mark.parametrize(
    "name,args",
    [
        ("casestudies:case-list", []),
        ("casestudies:lesson-list", []),
        ("casestudies:lesson-themes", []),
        ("casestudies:compare", []),
        ("casestudies:sections-across", ["budget"]),
        ("casestudies:table-list", []),
    ],
)
def test_pages_answer_in_english(client, corpus, name, args):
    assert client.get("/en" + reverse(name, args=args)).status_code == 200


def page_lessons(response):
    return [
        lesson.pk
        for _t, _l, kinds in response.context["grouped"]
        for _k, _kl, items in kinds
        for lesson in items
    ]


def test_the_lessons_library_is_cut_into_pages_that_follow_each_other(client, corpus, monkeypatch):
    one = client.get(LESSONS)
    whole = page_lessons(one)
    assert len(whole) == one.context["lesson_count"] > 100
    monkeypatch.setattr(views, "LESSONS_PER_PAGE", 40)
    cache.clear()  # the page drawn whole is kept
    first = client.get(LESSONS)
    assert first.context["lesson_count"] == len(whole)
    pages = first.context["page_obj"].paginator.num_pages
    assert pages == -(-len(whole) // 40)
    html = first.content.decode()
    assert f"Page 1 sur {pages}" in html or f"Page 1 of {pages}" in html
    assert 'rel="next" href="?page=2"' in html
    # Page after page, the same lessons in the same order as on one page, none twice.
    found = []
    for number in range(1, pages + 1):
        found += page_lessons(client.get(LESSONS, {"page": number}))
    assert found == whole
    # Filters are kept from page to page; a page out of range gives the last one.
    rural = client.get(LESSONS, {"setting": "rural", "page": 2})
    assert 'href="?setting=rural&amp;page=1"' in rural.content.decode()
    last = client.get(LESSONS, {"page": 999})
    assert last.status_code == 200 and page_lessons(last) == whole[(pages - 1) * 40 :]


def test_a_lesson_of_no_place_shows_once_while_one_of_its_case_studies_is_published(
    client, corpus, make_lesson, make_case_study
):
    lesson = make_lesson(None, text="Une leçon commune à deux synthèses sur les haies bocagères.")
    first, second = make_case_study(), make_case_study()
    first.lessons.add(lesson)
    second.lessons.add(lesson)

    def shown():
        cache.clear()
        return page_lessons(client.get(LESSONS)).count(lesson.pk)

    assert shown() == 1  # in two published case studies: once
    first.editorial_status = "draft"
    first.save()
    assert shown() == 1  # one is still published
    second.editorial_status = "draft"
    second.save()
    assert shown() == 0
