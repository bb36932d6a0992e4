"""The catalogue belongs to its editors once loaded (DESIGN §8): a corpus load never
overwrites silently what someone saved, and dump_corpus writes their work back."""

import datetime
import io
import json
from decimal import Decimal

from django.core.management import call_command
from django.core.management.base import CommandError

from casestudies.corpus import FIXTURES_DIR
from casestudies.dump import EDITORS_FILE, dump_corpus
from casestudies.models import CaseStudy, ComparisonTable, CorpusRecord, Section
from catalogue.models import (
    Figure,
    Funding,
    Indicator,
    Lesson,
    Organisation,
    Place,
    PlaceKind,
    Source,
    Territory,
)
from tests.casestudies.conftest import CREST


def load(*args, fixtures=FIXTURES_DIR):
    """Run the command as a person would; returns (exit status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("load_corpus", "--fixtures", str(fixtures), *args, stdout=out, stderr=err)
        status = 0
    except CommandError as error:
        err.write(str(error))
        status = error.returncode
    return status, out.getvalue(), err.getvalue()


def headline_investment(place):
    return Figure.objects.get(place=place, indicator__slug="investment_eur", headline=True)


def test_an_edited_place_survives_a_reload_and_the_conflict_is_reported(crest):
    crest.summary = "Résumé revu par une éditrice après une visite."
    crest.save()
    figure = headline_investment(crest)
    figure.value = Decimal("360000")
    figure.save()

    status, out, err = load()

    assert status == 3
    crest.refresh_from_db()
    assert crest.summary == "Résumé revu par une éditrice après une visite."
    assert headline_investment(crest).value == Decimal("360000")
    assert "lieu « 8 FabLab » [fab-lab-crest]" in err
    assert "summary:" in err and "{+Résumé revu par une éditrice après une visite+}" in err
    assert "value:" in err and "'350000'" in err and "'360000'" in err
    assert "2 record(s) changed in the database" in err


def test_force_overwrites_the_edits_with_the_corpus(crest):
    crest.summary = "Résumé revu."
    crest.save()

    status, out, err = load("--force")

    assert status == 0
    crest.refresh_from_db()
    assert crest.summary.startswith("Laboratoire de fabrication numérique drômois")
    assert "overwritten (--force)" in out
    # The corpus's version is the recorded one again: the next load is quiet.
    assert load()[0] == 0


def test_a_dry_run_shows_what_would_change_and_writes_nothing(crest, fixtures_copy):
    path = fixtures_copy / "corpus" / "000c-memento-monographies-2.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("value: 350000", "value: 370000", 1), encoding="utf-8")

    status, out, err = load("--dry-run", fixtures=fixtures_copy)

    assert status == 0
    assert "would be updated: chiffre" in out and "(value)" in out
    assert "Dry run: nothing was written." in out
    assert headline_investment(crest).value == Decimal("350000")


def test_a_corpus_change_reaches_a_record_nobody_edited(crest, fixtures_copy):
    before = headline_investment(crest)
    path = fixtures_copy / "corpus" / "000c-memento-monographies-2.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("value: 350000", "value: 370000", 1), encoding="utf-8")

    status, out, err = load(fixtures=fixtures_copy)

    assert status == 0, err
    after = headline_investment(crest)
    assert after.value == Decimal("370000")
    # The same row, changed in place: its history goes on.
    assert after.pk == before.pk
    assert [h.value for h in after.history.order_by("history_date")][-2:] == [
        Decimal("350000"),
        Decimal("370000"),
    ]


def test_when_both_sides_changed_the_report_shows_the_corpus_value_too(crest, fixtures_copy):
    crest.year_opened_label = "ouverture au public"
    crest.save()
    path = fixtures_copy / "corpus" / "000c-memento-monographies-2.yaml"
    text = path.read_text(encoding="utf-8")
    assert "slug: fab-lab-crest" in text
    entry_start = text.index("slug: fab-lab-crest")
    status_line = text.index("    status: active", entry_start)
    text = text[:status_line] + "    status: closed\n" + text[status_line + 19 :]
    path.write_text(text, encoding="utf-8")

    status, out, err = load(fixtures=fixtures_copy)

    assert status == 3
    assert "and changed in the corpus too" in err
    assert '> corpus says: "closed"' in err or "> corpus says: 'closed'" in err
    crest.refresh_from_db()
    assert crest.status == "active" and crest.year_opened_label == "ouverture au public"


def test_a_record_deleted_by_an_editor_is_not_brought_back(crest):
    lesson = Lesson.objects.filter(place=crest).first()
    text = lesson.text
    lesson.delete()

    status, out, err = load()

    assert status == 3
    assert "deleted in the database, still in the corpus" in err
    assert not Lesson.objects.filter(place=crest, text=text).exists()
    assert load("--force")[0] == 0
    assert Lesson.objects.filter(place=crest, text=text).exists()


def test_records_created_in_the_admin_are_left_alone(crest):
    memento = Source.objects.get(slug="memento-lieux-innovation")
    added = Figure.objects.create(
        place=crest,
        indicator=Indicator.objects.get(slug="users"),
        value=650,
        year=2025,
        source=memento,
        section="Monographie 6 — Les services",
    )
    draft = Place.objects.create(slug="fabrique-du-vigan", name="La Fabrique du Vigan")

    status, out, err = load()

    assert status == 0, err
    assert Figure.objects.filter(pk=added.pk, value=650).exists()
    assert Place.objects.filter(pk=draft.pk, editorial_status="draft").exists()


def test_a_row_removed_from_the_corpus_goes_unless_someone_changed_it(crest, fixtures_copy):
    lessons = list(Lesson.objects.filter(place=crest, source__slug="memento-lieux-innovation"))
    edited = lessons[0]
    edited.theme = Lesson.Theme.COMMUNITY if edited.theme != "community" else "funding"
    edited.save()
    untouched = lessons[1]
    path = fixtures_copy / "corpus" / "000c-memento-monographies-2.yaml"
    text = path.read_text(encoding="utf-8")
    for lesson in (edited, untouched):
        start = text.index(lesson.text[:40].replace("\n", " ").split("  ")[0][:25])
        item = text.rindex("      - kind:", 0, start)
        following = text.find("      - ", start)
        text = text[:item] + text[following:]
    path.write_text(text, encoding="utf-8")

    status, out, err = load(fixtures=fixtures_copy)

    assert not Lesson.objects.filter(pk=untouched.pk).exists()
    assert Lesson.objects.filter(pk=edited.pk).exists()
    assert status == 3 and "removed from the corpus, but changed in the database" in err


def test_a_second_start_keeps_an_edit(crest):
    crest.summary = "Résumé de l'éditrice."
    crest.save()
    load()
    load()
    crest.refresh_from_db()
    assert crest.summary == "Résumé de l'éditrice."
    assert CorpusRecord.objects.filter(model="catalogue.place", key=CREST).exists()


# -- dump_corpus ---------------------------------------------------------------------------


def corpus_texts(directory):
    return {
        path.relative_to(directory): path.read_text(encoding="utf-8")
        for path in sorted(directory.rglob("*.yaml"))
    }


def test_dumping_an_unedited_catalogue_writes_nothing(corpus, fixtures_copy):
    assert dump_corpus(fixtures_copy) == []


def test_the_dump_diff_holds_exactly_the_edits_and_loading_it_changes_nothing(crest, fixtures_copy):
    before = corpus_texts(fixtures_copy)
    crest.summary = "Résumé revu par l'équipe éditoriale."
    crest.save()
    figure = headline_investment(crest)
    figure.value = Decimal("360000")
    figure.save()
    section = Section.objects.filter(case_study__places=crest).order_by("pk").first()
    section.heading = "Un nouveau titre de section"
    section.save()
    other_case = CaseStudy.objects.exclude(places=crest).filter(sections__order=5).first()
    Section.objects.get(case_study=other_case, order=2).delete()

    written = dump_corpus(fixtures_copy)

    after = corpus_texts(fixtures_copy)
    changed = {name for name in after if after[name] != before[name]}
    assert {p.relative_to(fixtures_copy) for p in written} == changed
    removed, added = [], []
    for name in changed:
        old, new = before[name].splitlines(), after[name].splitlines()
        removed += [line for line in old if line not in new]
        added += [line for line in new if line not in old]
    assert "        value: 360000" in added and "        value: 350000" in removed
    assert "      Résumé revu par l'équipe éditoriale." in added
    assert any("Un nouveau titre de section" in line for line in added)
    # Nothing but the edits: three changed lines, the deleted section's lines gone, and the
    # sections after it keep their numbers.
    assert len([line for line in added if "order:" not in line]) <= 3, added
    assert sum("order:" in line for line in added) >= 1
    status, out, err = load(fixtures=fixtures_copy)
    assert status == 0, err
    # Only the search documents of the edited records catch up (the admin rebuilds them on
    # save; these edits went through the ORM).
    written = [line for line in out.splitlines() if line.startswith(("created", "updated"))]
    assert all(line.endswith(" search documents") for line in written), out
    assert "deleted" not in out


def test_a_dump_carries_new_places_sources_territories_and_funders(crest, fixtures_copy):
    """Wipe the database after the dump and load the dumped files: the editors' records come
    back as they were."""
    interview = Source.objects.create(
        slug="entretien-vigan-2026",
        title="Entretien avec la coordinatrice de la Fabrique du Vigan",
        kind=Source.Kind.INTERVIEW,
        authors="Équipe innovplaces",
        date=datetime.date(2026, 11, 30),
    )
    commune = Territory.objects.create(
        slug="le-vigan-30",
        name="Le Vigan",
        kind=Territory.Kind.COMMUNE,
        parent=Territory.objects.get(slug="gard-30"),
    )
    funder = Organisation.objects.create(
        slug="cc-pays-viganais", name="Communauté de communes du Pays Viganais", kind="epci"
    )
    place = Place.objects.create(
        slug="fabrique-du-vigan",
        name="La Fabrique du Vigan",
        aliases=["Fabrique Vigan"],
        territory=commune,
        setting="rural",
        summary="Tiers-lieu ouvert dans une ancienne filature des Cévennes.",
        editorial_status="published",
        year_opened=2021,
    )
    place.kinds.set(PlaceKind.objects.filter(slug__in=["tiers-lieu", "fab-lab"]))
    Figure.objects.create(
        place=place,
        indicator=Indicator.objects.get(slug="surface_m2"),
        value=420,
        headline=True,
        source=interview,
    )
    Funding.objects.create(
        place=place, organisation=funder, purpose="investment", amount_eur=80000, source=interview
    )
    case = CaseStudy.objects.create(
        slug="fabrique-du-vigan-visite",
        title="La Fabrique du Vigan, un an après",
        source=interview,
        editorial_status="published",
        summary="Ce que la visite a appris.",
    )
    case.places.set([place])
    for order, heading in enumerate(["Contexte", "Services", "Modèle économique"], start=1):
        Section.objects.create(case_study=case, order=order, heading=heading, body=f"{heading}.")
    Figure.objects.create(
        place=crest,
        indicator=Indicator.objects.get(slug="members"),
        value=75,
        year=2026,
        source=interview,
        label="sociétaires en 2026",
    )

    def export():
        out = io.StringIO()
        call_command("export_catalogue", stdout=out)
        data = json.loads(out.getvalue())
        return (
            {p["slug"]: p for p in data["places"]},
            data["sources"],
            {c["slug"]: c for c in data["case_studies"]},
        )

    places_before, sources_before, cases_before = export()
    dump_corpus(fixtures_copy)
    assert (fixtures_copy / "corpus" / EDITORS_FILE).exists()

    for model in (CaseStudy, ComparisonTable, Place, Lesson):
        model.objects.all().delete()
    Territory.objects.update(parent=None, population_source=None)
    for model in (Territory, Organisation, Source, CorpusRecord):
        model.objects.all().delete()
    status, out, err = load(fixtures=fixtures_copy)

    assert status == 0, err
    places_after, sources_after, cases_after = export()
    assert places_after["fabrique-du-vigan"] == places_before["fabrique-du-vigan"]
    assert places_after[CREST] == places_before[CREST]
    assert places_after == places_before
    assert sources_after == sources_before
    assert cases_after["fabrique-du-vigan-visite"]["sections"] == [
        {"kind": "autre", "heading": h, "heading_en": "", "body": f"{h}."}
        for h in ["Contexte", "Services", "Modèle économique"]
    ]
    assert cases_after == cases_before


def test_saving_a_case_study_unchanged_from_a_browser_is_not_an_edit(crest, admin_client):
    """Browsers send a textarea's line breaks as CRLF: a section saved unchanged stays the
    same text, gets no new version in its history, and the next load finds nothing edited."""
    from tests.editing_helpers import form_data

    case = CaseStudy.objects.filter(places=crest, sections__body__contains="\n").first()
    url = f"/admin/casestudies/casestudy/{case.pk}/change/"
    data = form_data(admin_client.get(url))
    data = {
        key: value.replace("\n", "\r\n") if isinstance(value, str) else value
        for key, value in data.items()
    }
    sections_before = {s.pk: (s.body, s.history.count()) for s in case.sections.all()}

    response = admin_client.post(url, data)

    assert response.status_code == 302, response.content.decode()[:2000]
    for section in case.sections.all():
        body, versions = sections_before[section.pk]
        assert section.body == body and "\r" not in section.body
        assert section.history.count() == versions
    status, out, err = load()
    assert status == 0, err


def test_every_place_and_case_study_saved_unchanged_in_the_admin_stays_as_loaded(
    corpus, admin_client
):
    """Whatever the forms do to what they show (aliases one per line, numbers, line
    breaks), saving a record without touching it changes none of its values: the next
    corpus load finds nothing edited."""
    from tests.editing_helpers import form_data

    records = [*Place.objects.order_by("pk"), *CaseStudy.objects.order_by("pk")]
    for obj in records:
        opts = obj._meta
        url = f"/admin/{opts.app_label}/{opts.model_name}/{obj.pk}/change/"
        data = {
            key: value.replace("\n", "\r\n") if isinstance(value, str) else value
            for key, value in form_data(admin_client.get(url)).items()
        }
        response = admin_client.post(url, data)
        assert response.status_code == 302, (
            obj,
            response.context
            and [(form.prefix, form.errors) for form in [response.context["adminform"].form]],
        )
    status, out, err = load()
    assert status == 0, err
