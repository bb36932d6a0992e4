"""Search over case studies and lessons: every query word must match.

The case-study corpus is small (tens to thousands of texts), so a copy of each case study's
text is matched with LIKE, which serves both SQLite and PostgreSQL; places use the
full-text index (catalogue.search). The copy holds the text's French stems, between spaces,
as the place search indexes them, with neighbouring words also written as one: a query
word matches whole words of the same stem (« éoliens » finds « éolienne », « lab » does not
find « label »), « fablab » finds « fab lab », and words are parsed as the place search
parses them ("quoted words" follow each other, -word excludes). Lessons keep a plain folded
copy of their text (`Lesson.text_folded`), matched by word beginnings.
"""

from django.db.models import Prefetch, Q

from catalogue.search import parse
from catalogue.text import STOPWORDS, compounds, stem, words

from .models import CaseStudy, Section

# Fields holding `stemmed_text`; any other field holds plain folded text.
STEMMED_FIELDS = {"search_folded", "case_study__search_folded"}


def stemmed_text(text):
    """`` stem stem … compound …``: what `filter_by_words` matches in STEMMED_FIELDS."""
    stems = [stem(w) for w in words(text) if w not in STOPWORDS]
    stems += [stem(w) for w in compounds(text)]
    return f" {' '.join(stems)} " if stems else ""


def case_study_text(case):
    """Follows `sections` (prefetch them)."""
    parts = [
        case.title,
        getattr(case, "title_en", ""),
        case.tagline,
        getattr(case, "tagline_en", ""),
        case.summary,
        case.summary_en,
    ]
    for section in case.sections.all():
        parts += [section.heading, getattr(section, "heading_en", ""), section.body]
    return stemmed_text("\n".join(p for p in parts if p))


def reindex_case_studies(queryset=None):
    queryset = CaseStudy.objects.all() if queryset is None else queryset
    stale = []
    for case in queryset.prefetch_related(Prefetch("sections", queryset=Section.objects.all())):
        text = case_study_text(case)
        if case.search_folded != text:
            case.search_folded = text
            stale.append(case)
    CaseStudy.objects.bulk_update(stale, ["search_folded"], batch_size=500)
    return len(stale)


def _prefix(word):
    """A word's beginning shared by its plural forms, for plain folded text."""
    if len(word) > 4 and word.endswith("aux"):
        return word[:-3] + "a"
    if len(word) > 3 and word[-1] in "sx":
        return word[:-1]
    return word


def filter_by_words(queryset, query, field):
    """Keep rows whose ``field`` holds every word of ``query`` (see the module)."""
    query = parse(query)
    if not query:
        return queryset.none()
    lookup = f"{field}__contains"
    if field in STEMMED_FIELDS:

        def has(phrase):
            kept = (stem(w) for w in phrase if w not in STOPWORDS)
            return Q(**{lookup: f" {' '.join(kept)} "})

    else:

        def has(phrase):
            # Plain text keeps its stop words: each word of a phrase on its own.
            condition = Q()
            for word in phrase:
                if word not in STOPWORDS and len(word) > 1:
                    condition &= Q(**{lookup: _prefix(word)})
            return condition

    condition = Q()
    for group in query.groups:
        alternatives = Q()
        for word in group:
            alternatives |= has((word,))
        condition &= alternatives
    for phrase in query.phrases:
        condition &= has(phrase)
    for phrase in query.excluded:
        condition &= ~has(phrase)
    return queryset.filter(condition)
