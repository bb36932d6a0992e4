"""Editorial checks on the catalogue: what `check_corpus` prints and the data tests enforce."""

import unicodedata
from collections import Counter, defaultdict

from django.db.models import Count, Q

from catalogue.models import Figure, Funding, Lesson, Place, Source, Territory

from .models import CaseStudy

MIN_SECTIONS = 3


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
    for place_slug, indicator in (
        Figure.objects.values_list("place__slug", "indicator__slug")
        .annotate(headlines=Count("pk", filter=Q(headline=True)))
        .filter(headlines=0)
    ):
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
    return found
