"""Full-text search over places.

Each place carries a search document (title: name and aliases; body: kinds, services,
territories, carrier, summary, lessons and the text of its case studies), rebuilt by
`reindex`. PostgreSQL matches it with its French configuration on accent-folded text and
ranks by relevance; SQLite, the local default, matches every query word (folded, plural
endings dropped) in an accent-free copy.
"""

import hashlib
import re

from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db import connection
from django.db.models import Case, F, IntegerField, Prefetch, Value, When
from django.utils.html import escape
from django.utils.safestring import mark_safe

from . import versioning
from .models import Lesson, Place, PlaceSearch
from .text import fold

MAX_QUERY_LENGTH = 200
MAX_TERMS = 12
_WORD = re.compile(r"\w+", re.UNICODE)


def stem(word):
    """A crude French stem for the SQLite fallback and highlighting: drop plural endings."""
    if len(word) > 4 and word.endswith("aux"):
        return word[:-3] + "a"
    if len(word) > 3 and word[-1] in "sx":
        return word[:-1]
    return word


def query_terms(query):
    """Folded, stemmed words of a query, without one-letter words, at most MAX_TERMS."""
    words = [stem(w) for w in _WORD.findall(fold(query)) if len(w) > 1]
    return list(dict.fromkeys(words))[:MAX_TERMS]


def is_postgresql():
    return connection.vendor == "postgresql"


def french_query(query):
    """The query as PostgreSQL web-search syntax, accents folded like the documents."""
    return SearchQuery(fold(query), config="french", search_type="websearch")


def matching_documents(query):
    """The search documents (``PlaceSearch``) that match ``query``."""
    terms = query_terms(query)
    documents = PlaceSearch.objects.all()
    if not terms:
        return documents.none()
    if is_postgresql():
        return documents.filter(vector=french_query(query))
    for term in terms:
        documents = documents.filter(folded__contains=term)
    return documents


def hits(query):
    """The ids of the places matching ``query``, as a queryset of place ids."""
    return matching_documents(query).values("place_id")


def ranked_hits(query):
    """{place id: relevance} for the places matching ``query``, in one query.

    PostgreSQL ranks with its own ts_rank (name and aliases weigh most); SQLite puts the
    places whose name holds the first word first.
    """
    terms = query_terms(query)
    if not terms:
        return {}
    documents = matching_documents(query)
    if is_postgresql():
        rank = SearchRank(F("vector"), french_query(query))
        return dict(documents.values_list("place_id", rank))
    rows = documents.values_list("place_id", "place__name")
    return {pk: 1 if terms[0] in fold(name) else 0 for pk, name in rows}


def search(queryset, query):
    """Places matching ``query``, annotated with `rank` (higher is more relevant)."""
    terms = query_terms(query)
    if not terms:
        return queryset.none().annotate(rank=Value(0, output_field=IntegerField()))
    if is_postgresql():
        ts_query = french_query(query)
        return queryset.filter(search__vector=ts_query).annotate(
            rank=SearchRank(F("search__vector"), ts_query)
        )
    for term in terms:
        queryset = queryset.filter(search__folded__contains=term)
    # Relevance on SQLite: places whose name holds the first word come first.
    title_hits = [When(name__icontains=term, then=Value(1)) for term in terms[:1]]
    return queryset.annotate(rank=Case(*title_hits, default=Value(0), output_field=IntegerField()))


def highlight(text, query):
    """Escape ``text`` and wrap the words that match the query in <mark>."""
    terms = [t for t in query_terms(query or "") if len(t) > 2]
    if not terms:
        return escape(text)

    def mark(match):
        word = match.group(0)
        if any(fold(word).startswith(term[: max(3, len(term) - 1)]) for term in terms):
            return f"<mark>{escape(word)}</mark>"
        return escape(word)

    parts, last = [], 0
    for match in _WORD.finditer(text):
        parts.append(escape(text[last : match.start()]))
        parts.append(mark(match))
        last = match.end()
    parts.append(escape(text[last:]))
    return mark_safe("".join(parts))


def places_for_indexing(queryset):
    return queryset.select_related("territory__parent__parent__parent__parent").prefetch_related(
        "kinds",
        "services",
        Prefetch("lessons", queryset=Lesson.objects.only("place_id", "text")),
        "case_studies__sections",
    )


def document(place):
    """(title, body) of a place; follows what `places_for_indexing` fetches."""
    title = " ".join([place.name, *place.aliases])
    body = [
        *(k.name for k in place.kinds.all()),
        *(s.name for s in place.services.all()),
        *(t.name for t in place.territory_chain()),
        place.carrier,
        place.setting_as_stated,
        place.summary,
        *(lesson.text for lesson in place.lessons.all()),
    ]
    for case in place.case_studies.all():
        body.append(case.title)
        body.extend(f"{s.heading} {s.body}" for s in case.sections.all())
    return title, "\n".join(part for part in body if part)


def reindex(queryset=None, batch_size=500):
    """Rebuild the search document of the given places (all by default); returns changes."""
    queryset = Place.objects.all() if queryset is None else queryset
    postgresql = is_postgresql()
    changed = 0
    pks = list(queryset.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(pks), batch_size):
        batch = pks[start : start + batch_size]
        current = dict(
            PlaceSearch.objects.filter(place_id__in=batch).values_list("place_id", "digest")
        )
        stale, texts = [], []
        for place in places_for_indexing(Place.objects.filter(pk__in=batch)):
            title, body = document(place)
            digest = hashlib.sha256(f"{title}\0{body}".encode()).hexdigest()
            if current.get(place.pk) == digest:
                continue
            folded = "" if postgresql else fold(f"{title}\n{body}")
            stale.append(PlaceSearch(place=place, digest=digest, folded=folded))
            texts.append((place.pk, title, body))
        PlaceSearch.objects.bulk_create(
            stale,
            update_conflicts=True,
            unique_fields=["place"],
            update_fields=["digest", "folded"],
        )
        if texts and postgresql:
            update_vectors(texts)
        changed += len(stale)
    if changed:
        versioning.bump()
    return changed


def update_vectors(texts):
    """Compute tsvectors in PostgreSQL from (place id, title, body) rows, in one statement."""
    rows = ", ".join(["(%s::bigint, %s, %s)"] * len(texts))
    params = [value for row in texts for value in row]
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE {PlaceSearch._meta.db_table} AS doc
            SET vector = setweight(to_tsvector('french', unaccent(v.title)), 'A')
                      || setweight(to_tsvector('french', unaccent(v.body)), 'C')
            FROM (VALUES {rows}) AS v(place_id, title, body)
            WHERE doc.place_id = v.place_id
            """,
            params,
        )
