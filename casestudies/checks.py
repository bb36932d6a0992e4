"""Editorial checks on the catalogue: what `check_corpus` prints and the data tests enforce."""

import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Q

from catalogue.models import Figure, Funding, Lesson, Place, Source, Territory

from .attribution import Attribution
from .corpus import FIXTURES_DIR, corpus_files, read_yaml
from .models import CaseStudy

MIN_SECTIONS = 3
# Items may be rounded where the source prints them: their sum may miss the total by 1 %.
TOTAL_TOLERANCE = Decimal("0.01")


def name_key(name):
    """Names compare without case, accents or punctuation (« Fontaine O Livres »)."""
    folded = unicodedata.normalize("NFKD", name.casefold())
    return "".join(c for c in folded if c.isalnum())


def spans_departements(place):
    """A pays or EPCI straddling départements hangs directly below its région."""
    territory = place.territory
    return (
        territory is not None
        and territory.kind in (Territory.Kind.PAYS, Territory.Kind.EPCI)
        and territory.parent is not None
        and territory.parent.kind == Territory.Kind.REGION
    )


def source_counts():
    """Per source: places, case studies, figures per indicator, fundings, lessons."""
    rows = []
    for source in Source.objects.order_by("slug"):
        figures = Counter(
            dict(
                Figure.objects.filter(source=source)
                .values_list("indicator__slug")
                .annotate(n=Count("pk"))
                .values_list("indicator__slug", "n")
            )
        )
        rows.append(
            {
                "source": source,
                "places": Place.objects.published().filter(sources=source).count(),
                "case_studies": CaseStudy.objects.published().filter(source=source).count(),
                "sections": CaseStudy.objects.published()
                .filter(source=source)
                .aggregate(n=Count("sections"))["n"],
                "figures": figures,
                "fundings": Funding.objects.filter(source=source).count(),
                "lessons": Lesson.objects.filter(source=source).count(),
            }
        )
    return rows


def problems():
    """Every published record that lacks what a reader relies on, as readable lines."""
    found = []
    places = (
        Place.objects.published()
        .select_related("territory__parent")
        .annotate(
            kind_count=Count("kinds", distinct=True), source_count=Count("sources", distinct=True)
        )
    )
    names = defaultdict(list)
    for place in places:
        missing = []
        if not place.kind_count:
            missing.append("a kind")
        if not place.setting:
            missing.append("a setting")
        if not place.region_id or not (place.departement_id or spans_departements(place)):
            missing.append("a territory with its département and région")
        if not place.source_count:
            missing.append("a source")
        if not place.summary.strip():
            missing.append("a summary")
        if not place.checked_on:
            missing.append("a last-checked date")
        if missing:
            found.append(f"place {place.slug}: lacks {', '.join(missing)}")
        for name in {place.name, *place.aliases}:
            names[name_key(name)].append(place.slug)
    for key, slugs in sorted(names.items()):
        if len(set(slugs)) > 1:
            found.append(f"places {', '.join(sorted(set(slugs)))} share the name or alias {key!r}")
    for figure in Figure.objects.filter(Q(section="") | Q(source__isnull=True)).select_related(
        "place"
    ):
        found.append(f"figure {figure.pk} of {figure.place.slug}: lacks its source section")
    for model in (Funding, Lesson):
        for pk in model.objects.filter(section="").values_list("pk", flat=True):
            found.append(f"{model._meta.verbose_name} {pk}: lacks its source section")
    breakdowns = figure_breakdowns()
    found += breakdowns.problems
    for place_slug, indicator, _headlines in (
        Figure.objects.values_list("place__slug", "indicator__slug")
        .annotate(headlines=Count("pk", filter=Q(headline=True)))
        .filter(headlines=0)
    ):
        if (place_slug, indicator) in breakdowns.without_total:
            continue  # items of a whole the source does not total: no headline, rightly
        found.append(f"place {place_slug}: no headline figure for {indicator}")
    cases = CaseStudy.objects.published().annotate(section_count=Count("sections"))
    for case in cases:
        missing = []
        if case.section_count < MIN_SECTIONS:
            missing.append(f"{MIN_SECTIONS} sections (has {case.section_count})")
        if not case.summary.strip():
            missing.append("a summary")
        if not case.summary_en.strip():
            missing.append("an English summary")
        if not case.checked_on:
            missing.append("a last-checked date")
        if missing:
            found.append(f"case study {case.slug}: lacks {', '.join(missing)}")
    for lesson in Lesson.objects.filter(place=None, case_studies=None):
        found.append(f"lesson {lesson.pk}: belongs to neither a place nor a case study")
    found += misplaced_lessons()
    return found


def misplaced_lessons():
    """A place's lesson whose section belongs to the monograph of another place, and a
    monograph that shows the lesson of a place it only cites (casestudies.attribution)."""
    found = []
    attribution = Attribution.from_database()
    lessons = Lesson.objects.exclude(place=None).select_related("place")
    for lesson in lessons.order_by("pk"):
        case = attribution.case_for(lesson.source_id, lesson.section)
        if case is None or not case.is_monograph:
            continue
        if lesson.place_id not in attribution.own_places(case):
            about = ", ".join(
                sorted(
                    Place.objects.filter(pk__in=attribution.own_places(case)).values_list(
                        "slug", flat=True
                    )
                )
            )
            found.append(
                f"lesson {lesson.pk} of {lesson.place.slug}: its section « {lesson.section} » "
                f"belongs to the case study {case.slug}, about {about}"
            )
    links = CaseStudy.lessons.through.objects.filter(
        casestudy__kind=CaseStudy.Kind.MONOGRAPH, lesson__place__isnull=False
    ).values_list("casestudy_id", "casestudy__slug", "lesson_id", "lesson__place__slug")
    places = dict(Lesson.objects.exclude(place=None).values_list("pk", "place_id"))
    for case_id, case_slug, lesson_id, place_slug in links.order_by("casestudy__slug", "lesson_id"):
        if places[lesson_id] not in attribution.own_places(case_id):
            found.append(
                f"case study {case_slug}: shows lesson {lesson_id} of {place_slug}, a place "
                "it only cites"
            )
    return found


@dataclass
class Breakdowns:
    problems: list = field(default_factory=list)
    # Items that do not add up to the total printed beside them: the source's own
    # inconsistency or a missing item, to check against the source.
    warnings: list = field(default_factory=list)
    # (place, indicator) whose figures are all items of a whole the source gives no total
    # for: no headline there, on purpose.
    without_total: set = field(default_factory=set)


def figure_breakdowns(directory=FIXTURES_DIR):
    """Check the items and totals marked in the corpus files (docs/corpus-format.md,
    « Items and totals »): a figure `part_of: NAME` is an item of the whole that the figure
    `total: NAME` of the same place prints, if the source prints one."""
    result = Breakdowns()
    groups = defaultdict(lambda: {"total": [], "parts": []})
    indicators = defaultdict(set)  # (place, indicator) → group names
    for path in corpus_files(directory):
        if path.parent.name != "corpus":
            continue
        for entry in read_yaml(path).get("places") or []:
            for item in entry.get("figures") or []:
                indicators[(entry["slug"], item["indicator"])].add(item.get("part_of"))
                for key, bucket in (("total", "total"), ("part_of", "parts")):
                    if item.get(key):
                        groups[(entry["slug"], str(item[key]))][bucket].append(item)
    for (place, name), group in sorted(groups.items()):
        where = f"place {place}: items « {name} »"
        totals, parts = group["total"], group["parts"]
        kinds = {item["indicator"] for item in totals + parts}
        if len(kinds) > 1:
            result.problems.append(f"{where} mix indicators ({', '.join(sorted(kinds))})")
        if len(totals) > 1:
            result.problems.append(f"{where} have {len(totals)} totals")
        if not parts:
            result.problems.append(f"{where}: a total without items")
        for item in parts:
            if item.get("headline"):
                result.problems.append(
                    f"{where}: the item « {item.get('label', '')} » is a headline; a part "
                    "is never shown as the whole (the headline is the printed total, or none)"
                )
        if len(totals) != 1 or not parts:
            continue
        total = totals[0]
        low = sum(Decimal(str(item["value"])) for item in parts)
        high = sum(Decimal(str(item.get("value_max") or item["value"])) for item in parts)
        total_low = Decimal(str(total["value"]))
        total_high = Decimal(str(total.get("value_max") or total["value"]))
        if low > total_high * (1 + TOTAL_TOLERANCE) or high < total_low * (1 - TOTAL_TOLERANCE):
            shown = f"{low:f}" if low == high else f"{low:f} to {high:f}"
            result.warnings.append(
                f"{where} add up to {shown}, not to the total printed beside them "
                f"({total_low:f}{'' if total_low == total_high else f' to {total_high:f}'})"
            )
    for (place, indicator), names in indicators.items():
        if None in names:
            continue
        if all(not groups[(place, str(name))]["total"] for name in names):
            result.without_total.add((place, indicator))
    return result
