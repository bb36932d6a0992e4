"""Search over case studies and lessons: folded text, every query word must match.

The case-study corpus is small (tens to thousands of texts), so a folded copy matched with
LIKE serves both SQLite and PostgreSQL; places use the full-text index (catalogue.search).
"""

from django.db.models import Prefetch, Q

from catalogue.search import query_terms
from catalogue.text import fold

from .models import CaseStudy, Section


def case_study_text(case):
    """Follows `sections` (prefetch them)."""
    parts = [case.title, case.tagline, case.summary, case.summary_en]
    parts += [f"{s.heading} {s.body}" for s in case.sections.all()]
    return fold("\n".join(p for p in parts if p))


def reindex_case_studies(queryset=None):
    queryset = CaseStudy.objects.all() if queryset is None else queryset
    stale = []
    for case in queryset.prefetch_related(Prefetch("sections", queryset=Section.objects.all())):
        folded = case_study_text(case)
        if case.search_folded != folded:
            case.search_folded = folded
            stale.append(case)
    CaseStudy.objects.bulk_update(stale, ["search_folded"], batch_size=500)
    return len(stale)


def filter_by_words(queryset, query, field):
    """Keep rows whose folded ``field`` contains every (stemmed) word of ``query``."""
    terms = query_terms(query)
    if not terms:
        return queryset.none()
    condition = Q()
    for term in terms:
        condition &= Q(**{f"{field}__contains": term})
    return queryset.filter(condition)
