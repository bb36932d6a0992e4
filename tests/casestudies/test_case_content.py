"""A case study presents what belongs to it: its own places' lessons and figures, figures
under the indicator that names what was counted, and no part shown as the whole."""

import io
import shutil
from html import unescape

import pytest
import yaml
from django.core.management import call_command
from django.core.management.base import CommandError

from casestudies.attribution import Attribution
from casestudies.checks import figure_breakdowns, problems
from casestudies.corpus import FIXTURES_DIR, LINKS, load_corpus
from casestudies.models import CaseStudy, CorpusRecord
from catalogue.models import Figure, Indicator, Lesson, Place

EPV = "eoliennes-en-pays-de-vilaine"
ARTICULTEURS = "les-articulteurs"


def lessons_of(case_slug):
    return Lesson.objects.filter(case_studies__slug=case_slug)


def load(*args):
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("load_corpus", *args, stdout=out, stderr=err)
        status = 0
    except CommandError as error:
        status = error.returncode
    return status, out.getvalue() + err.getvalue()


@pytest.fixture
def fixtures_copy(tmp_path):
    target = tmp_path / "fixtures"
    shutil.copytree(FIXTURES_DIR, target)
    return target


# Which lessons a case study presents


def test_a_monograph_presents_the_lessons_of_its_own_place_only(corpus):
    epv = lessons_of(EPV)
    assert set(epv.values_list("place__slug", flat=True)) == {EPV}
    assert epv.count() == Lesson.objects.filter(place__slug=EPV).count() == 9
    assert not epv.filter(text__startswith="Une charte de coopération").exists()
    # Les Articulteurs' own monograph keeps them.
    assert lessons_of(ARTICULTEURS).filter(text__startswith="Une charte de coopération").exists()
    for case, other in (("paris-mix", "fontaine-o-livres"), ("fontaine-o-livres", "paris-mix")):
        assert not lessons_of(case).filter(place__slug=other).exists(), case
        assert lessons_of(case).filter(place__slug=case).count() == (
            Lesson.objects.filter(place__slug=case).count()
        )
    assert set(lessons_of("domb-innov").values_list("place__slug", flat=True)) == {"domb-innov"}


def test_a_synthesis_presents_its_own_lessons_and_those_its_section_prints(corpus):
    typology = lessons_of("ptce-typologie")
    # Its ten cross-case lessons, and the Coursive Boutaric's lesson printed in its 1.3.
    assert set(typology.values_list("place__slug", flat=True)) == {None, "coursive-boutaric"}
    assert not lessons_of("ptce-swot").exclude(place=None).exists()
    # The public's questions at the round table belong to the debate, not to a testimony.
    debate = lessons_of("table-ronde-debats").exclude(place=None)
    assert (
        debate.filter(section__startswith="Questions du public").count()
        == debate.filter(
            place__slug__in=["silver-innov", "plaine-images", "numa-paris"],
            section__startswith="Questions du public",
        ).count()
        == 6
    )
    assert (
        not lessons_of("table-ronde-silver-valley")
        .filter(section__startswith="Questions du public")
        .exists()
    )


def test_own_and_cited_places(corpus):
    attribution = Attribution.from_database()
    own = {
        slug: set(
            Place.objects.filter(
                pk__in=attribution.own_places(CaseStudy.objects.get(slug=slug).pk)
            ).values_list("slug", flat=True)
        )
        for slug in (EPV, "paris-mix", "domb-innov", "spn-poitiers", "arsenal-rochefort")
    }
    assert own == {
        EPV: {EPV},
        "paris-mix": {"paris-mix"},
        "domb-innov": {"domb-innov"},
        "spn-poitiers": {"spn-poitiers"},  # NUMA, which it cites, has its own testimony
        # The technopôle has no text of its own elsewhere: a part of this case.
        "arsenal-rochefort": {"arsenal-rochefort", "technopole-arsenal-rochefort"},
    }


# The loader keeps to the ledger's rules for the links


def test_links_an_earlier_loader_made_wrongly_go_but_editors_links_stay(corpus):
    epv = CaseStudy.objects.get(slug=EPV)
    articulteurs = list(Lesson.objects.filter(place__slug=ARTICULTEURS))
    # A database loaded by the earlier loader: every Articulteurs lesson linked, no record.
    epv.lessons.add(*articulteurs)
    CorpusRecord.objects.filter(model=LINKS).delete()
    # An editor's own lesson on the same place and source, linked by the earlier loader.
    editors = Lesson.objects.create(
        place=articulteurs[0].place,
        source=articulteurs[0].source,
        kind=Lesson.Kind.RECOMMENDATION,
        text="Leçon ajoutée par une éditrice.",
        section="2.3 Les Articulteurs — Enjeux",
    )
    epv.lessons.add(editors)

    status, output = load()

    assert status == 0, output
    linked = set(epv.lessons.values_list("pk", flat=True))
    assert not linked & {lesson.pk for lesson in articulteurs}
    assert editors.pk in linked  # not the loader's lesson: left alone
    assert set(epv.lessons.filter(place__slug=EPV).values_list("pk", flat=True)) == set(
        Lesson.objects.filter(place__slug=EPV).values_list("pk", flat=True)
    )
    assert "nothing changed" in load()[1]


def test_a_link_made_in_the_admin_is_kept_and_a_removed_one_not_brought_back(corpus):
    epv = CaseStudy.objects.get(slug=EPV)
    cited = Lesson.objects.filter(place__slug=ARTICULTEURS).first()
    own = Lesson.objects.filter(place__slug=EPV).order_by("pk").first()
    epv.lessons.add(cited)
    epv.lessons.remove(own)

    status, output = load()

    assert status == 3
    assert "lessons unlinked in the database" in output and own.text[:40] in output
    linked = set(epv.lessons.values_list("pk", flat=True))
    assert cited.pk in linked and own.pk not in linked

    status, output = load("--force")
    assert status == 0
    assert own.pk in set(epv.lessons.values_list("pk", flat=True))


# The page


def test_the_page_of_a_case_shows_its_own_place_lessons_and_figures(client, corpus):
    case = CaseStudy.objects.get(slug=EPV)
    response = client.get(case.get_absolute_url())
    html = unescape(response.content.decode())
    assert [p.slug for p in response.context["own_places"]] == [EPV]
    assert [p.name for p in response.context["cited_places"]] == ["Les Articulteurs"]
    assert "Lieux cités" in html and 'href="/lieux/les-articulteurs/"' in html
    for lesson in Lesson.objects.filter(place__slug=EPV):
        assert lesson.text in html
    for lesson in Lesson.objects.filter(place__slug=ARTICULTEURS):
        assert lesson.text not in html
    notes = response.context["figure_notes"]
    assert notes and {figure.place.slug for figure in notes} == {EPV}
    # Its members are the hundred-odd residents, not the six structures it set up.
    members = next(f for f in notes if f.indicator.slug == "members")
    assert members.value == 100
    created = next(f for f in notes if f.indicator.slug == "structures_created")
    assert created.value == 6 and "Structures mises sur pied" in html


def test_a_lesson_linked_by_hand_to_another_place_is_shown_under_its_place(client, corpus):
    case = CaseStudy.objects.get(slug="paris-mix")
    other = Lesson.objects.filter(place__slug="fontaine-o-livres").first()
    case.lessons.add(other)
    html = unescape(client.get(case.get_absolute_url()).content.decode())
    start = html.index("Enseignements sur Fontaine O Livres")
    assert html.index(other.text) > start
    assert "un lieu que ce texte cite" in html
    for lesson in Lesson.objects.filter(place__slug="fontaine-o-livres").exclude(pk=other.pk):
        assert lesson.text not in html


def test_a_synthesis_page_lists_places_without_foreign_figure_notes(client, corpus):
    response = client.get(CaseStudy.objects.get(slug="ptce-swot").get_absolute_url())
    assert response.context["figure_notes"] == []
    assert "Sources des chiffres" not in response.content.decode()


# check_corpus


def test_check_corpus_reports_a_lesson_from_another_places_case_study(corpus):
    lesson = Lesson.objects.create(
        place=Place.objects.get(slug=ARTICULTEURS),
        source=CaseStudy.objects.get(slug=EPV).source,
        kind=Lesson.Kind.CHALLENGE,
        text="Leçon rangée sous le mauvais lieu.",
        section="2.4 Eoliennes en Pays de Vilaine — Enjeux",
    )
    CaseStudy.objects.get(slug=EPV).lessons.add(lesson)
    found = [line for line in problems() if f"lesson {lesson.pk} " in line]
    assert found == [
        f"lesson {lesson.pk} of {ARTICULTEURS}: its section « 2.4 Eoliennes en Pays de "
        f"Vilaine — Enjeux » belongs to the case study {EPV}, about {EPV}",
        f"case study {EPV}: shows lesson {lesson.pk} of {ARTICULTEURS}, a place it only cites",
    ]
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("check_corpus", "--strict", stdout=out)
    assert f"belongs to the case study {EPV}" in out.getvalue()


# Items and totals


def test_items_are_never_the_headline_and_totals_are_the_printed_ones(corpus):
    arsenal = Figure.objects.filter(
        place__slug="arsenal-rochefort", indicator__slug="investment_eur"
    )
    assert sorted(arsenal.values_list("value", flat=True)) == [200000, 1500000, 4000000, 4000000]
    assert not arsenal.filter(headline=True).exists()
    mecateam = Figure.objects.get(
        place__slug="mecateam", indicator__slug="investment_eur", headline=True
    )
    assert mecateam.value == 27000000
    assert not Figure.objects.filter(
        place__slug="plaine-images", indicator__slug="jobs", headline=True
    ).exists()
    breakdowns = figure_breakdowns()
    assert breakdowns.problems == []
    # The one inconsistency of the sources: Archeomed's 1,950 m² are 1,350 + 500.
    assert breakdowns.warnings == [
        "place archeomed: items « surface-archeomed » add up to 1850, not to the total "
        "printed beside them (1950)"
    ]
    assert ("arsenal-rochefort", "investment_eur") in breakdowns.without_total


def edit_figure(fixtures, place, value, **changes):
    path = fixtures / "corpus" / "003-coeur-de-ville.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    entry = next(p for p in data["places"] if p["slug"] == place)
    figure = next(f for f in entry["figures"] if f["value"] == value)
    figure.update(changes)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


def test_check_flags_an_item_shown_as_headline_and_items_off_their_total(fixtures_copy):
    edit_figure(fixtures_copy, "arsenal-rochefort", 1500000, headline=True)
    edit_figure(fixtures_copy, "arsenal-rochefort", 200000, part_of=None, total="cout-operation")
    found = figure_breakdowns(fixtures_copy)
    assert any(
        "items « cout-operation »: the item « déconstruction et démolition (poste distinct) » "
        "is a headline" in line
        for line in found.problems
    )
    assert (
        "place arsenal-rochefort: items « cout-operation » add up to 9500000, not to the total "
        "printed beside them (200000)"
    ) in found.warnings


# Indicators name what was counted


WRONG_LABELS = {
    "companies_created": ["projet"],
    "members": ["fondat", "personnes impliqu", "mises sur pied", "non membres du pôle"],
    "users": ["destinataires", "participants", "projets accompagnés"],
}
# What a label says first is what was counted.
WRONG_STARTS = {"turnover_eur": ["global", "cumulé", "3 millions"]}


def test_no_figure_sits_under_an_indicator_its_label_contradicts(corpus):
    for slug, words in WRONG_LABELS.items():
        for figure in Figure.objects.filter(indicator__slug=slug):
            label = figure.label.casefold()
            assert not any(word in label for word in words), (figure.place.slug, figure.label)
    for slug, words in WRONG_STARTS.items():
        for figure in Figure.objects.filter(indicator__slug=slug):
            start = figure.label.casefold()[:40]
            assert not any(word in start for word in words), (figure.place.slug, figure.label)
    for figure in Figure.objects.filter(indicator__slug="members_turnover_eur"):
        assert any(w in figure.label for w in ("global", "cumulé")), figure.label
    crest = Figure.objects.get(place__slug="fab-lab-crest", indicator__slug="company_projects")
    assert crest.value == 4 and crest.indicator.name == (
        "Projets de création d'entreprise accompagnés"
    )
    assert not Figure.objects.filter(
        place__slug="fab-lab-crest", indicator__slug="companies_created"
    ).exists()


def test_every_indicator_has_both_names(corpus):
    for indicator in Indicator.objects.all():
        assert indicator.name and indicator.name_en, indicator.slug


def test_a_second_load_changes_nothing(corpus):
    assert load_corpus().writes == 0
