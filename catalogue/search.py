"""Full-text search over places, with the same rules on PostgreSQL and SQLite.

A place's search document holds what is about that place, in four weights:

- A: its name and aliases;
- B: its territory chain (quartier or commune up to the région);
- C: its own text: kinds, services, carrier, setting as stated, summaries, the labels of
  its figures, its lessons, and its own monographs (the case studies whose only place, or
  main place, it is);
- D: in cross-case texts (syntheses, expert views, comparison tables, case studies of
  several places, lessons citing it), only the passages that name it.

A query means all its words (« tiers lieu »): a word matches its French stem, and two
neighbouring words also match as one (« fab lab » finds « FabLab », « Ecodomaine » finds
« Eco-Domaine »). "Quoted words" must follow each other and -word excludes. When nothing
matches, each word that is not a word of a name or territory is also tried as the closest
such words (trigram similarity, as pg_trgm computes it): small typos find the place.

Results are ranked, on both databases: places whose name or alias matches the whole query
first, then places located in a territory the query names, then the rest by relevance
(PostgreSQL's ts_rank, SQLite's bm25, both weighting A to D). Each result can show a
snippet of its own text with the matched words marked, computed here, in Python.

PostgreSQL matches a weighted tsvector (French configuration on folded text, GIN index);
names and territories' words live in `SearchWord` with a trigram index. SQLite matches an
FTS5 table (`unicode61 remove_diacritics 2`) of the same four columns stemmed with the same
French Snowball stemmer; `reindex` keeps both in sync.
"""

import collections
import functools
import hashlib
import heapq
import json
import re
import threading
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.apps import apps
from django.db import connection
from django.db.models import FloatField, Prefetch
from django.db.models.expressions import RawSQL
from django.utils.html import escape
from django.utils.safestring import mark_safe

from . import postings, versioning
from .models import Lesson, Place, PlaceSearch, PlaceSearchText, SearchWord
from .text import STOPWORDS, compounds, joinable, normalize, similarity, stem, words

MAX_QUERY_LENGTH = 200
MAX_TERMS = 12
WEIGHTS = "ABCD"
FTS_TABLE = "catalogue_placesearch_fts"
# SQLite's bm25 column weights, in the ratio of PostgreSQL's ts_rank weights (A 1, B 0.4,
# C 0.2, D 0.1).
BM25_WEIGHTS = "10.0, 4.0, 2.0, 1.0"
# A misspelt word is tried as the (at most) three name or territory words this similar.
FUZZY_SIMILARITY = 0.5
FUZZY_CANDIDATES = 3
FUZZY_MIN_LENGTH = 4
SNIPPET_WORDS = 25
# Changes with the way documents are built: every document is then rebuilt.
DOCUMENT_VERSION = "2"

_CHUNK = re.compile(r'(-?)"([^"]*)"?|(-?)([^\s"]+)')
_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)
_PARAGRAPH = re.compile(r"\n\s*\n")
_NAME_HEAD = re.compile(r"\s*(?:[,:;]|\s[—–-]\s)")
_PARENTHESES = re.compile(r"\(([^)]*)\)")
_SENTENCE = re.compile(r"(?<=[.!?…])\s+")
# A Markdown line that starts a block of its own (list item, table row, heading); other
# line breaks are soft, inside a sentence.
_BLOCK_LINE = re.compile(r"\n(?=\s*(?:[-*+|#]|\d+[.)])\s)")


def is_postgresql():
    return connection.vendor == "postgresql"


# ------------------------------------------------------------------ queries


@dataclass
class Query:
    """A parsed query: every group must match (a group matches when one of its words
    does), every phrase too, and no excluded phrase may."""

    groups: list = field(default_factory=list)
    phrases: list = field(default_factory=list)
    excluded: list = field(default_factory=list)
    corrected: bool = False  # typos were tried
    resolved: bool = False  # as it is run (see `resolve`)

    def __bool__(self):
        return bool(self.groups or self.phrases)

    def terms(self):
        """Groups, and each word of a phrase as a group of its own."""
        return self.groups + [(word,) for phrase in self.phrases for word in _kept(phrase)]

    def stems(self):
        """The stems a matched word has (for highlighting)."""
        return {stem(word) for group in self.terms() for word in group}


def _kept(phrase):
    """The words of a phrase that count: not one-letter or stop words."""
    return tuple(w for w in phrase if w not in STOPWORDS and len(w) > 1)


def parse(text):
    """The `Query` a visitor typed (at most MAX_TERMS words; one-letter and stop words
    are left out, as PostgreSQL's French configuration does). Phrases keep every word:
    stop words count in their spacing."""
    if isinstance(text, Query):
        return text
    query = Query()
    sequence = []  # the plain words in order, stop words included, for compounds
    for match in _CHUNK.finditer((text or "")[:MAX_QUERY_LENGTH]):
        quoted = match.group(2) is not None
        negative = match.group(1 if quoted else 3) == "-"
        chunk = words(match.group(2) if quoted else match.group(4))
        kept = _kept(chunk)
        if not kept:
            continue
        if negative:
            query.excluded.append(tuple(chunk))
        elif quoted and len(kept) > 1:
            query.phrases.append(tuple(chunk))
        else:
            sequence += chunk
    for i, word in enumerate(sequence):
        if word in STOPWORDS or len(word) < 2:
            continue
        alternatives = [word]
        if i > 0 and joinable(sequence[i - 1], word):
            alternatives.append(normalize(sequence[i - 1] + word))
        if i + 1 < len(sequence) and joinable(word, sequence[i + 1]):
            alternatives.append(normalize(word + sequence[i + 1]))
        group = tuple(dict.fromkeys(alternatives))
        if group not in query.groups:
            query.groups.append(group)
    query.groups = query.groups[:MAX_TERMS]
    query.phrases = query.phrases[: max(0, MAX_TERMS - len(query.groups))]
    return query


# SQLite: FTS5 query strings over stems.


def _fts_word(word):
    return f'"{stem(word)}"'


def _fts_group(group):
    return "(" + " OR ".join(dict.fromkeys(_fts_word(w) for w in group)) + ")"


def _fts_phrase(phrase):
    # The FTS5 table holds no stop words: the phrase's other words follow each other.
    return '"' + " ".join(stem(w) for w in phrase if w not in STOPWORDS) + '"'


def fts_expression(query):
    parts = [_fts_group(g) for g in query.groups] + [_fts_phrase(p) for p in query.phrases]
    expression = " AND ".join(parts)
    for phrase in query.excluded:
        expression = f"({expression}) NOT {_fts_phrase(phrase)}"
    return expression


def fts_name_expression(query):
    """All of the query within names and aliases."""
    return "{title} : (" + " AND ".join(_fts_group(g) for g in query.terms()) + ")"


def fts_place_expression(query):
    """Any word of the query within the territories."""
    return "{locality} : (" + " OR ".join(_fts_group(g) for g in query.terms()) + ")"


# PostgreSQL: tsquery expressions (SQL, parameters) over folded words it stems itself.


def _ts_text(groups, weight=""):
    suffix = f":{weight}" if weight else ""
    return " & ".join(
        "(" + " | ".join(f"{word}{suffix}" for word in group) + ")" for group in groups
    )


def ts_expression(query):
    """The whole query as a tsquery SQL expression and its parameters."""
    parts, params = [], []
    if query.groups:
        parts.append("to_tsquery('french', %s)")
        params.append(_ts_text(query.groups))
    for phrase in query.phrases:
        parts.append("phraseto_tsquery('french', %s)")
        params.append(" ".join(phrase))
    for phrase in query.excluded:
        parts.append("!! phraseto_tsquery('french', %s)")
        params.append(" ".join(phrase))
    return "(" + " && ".join(parts) + ")", params


def ts_name_text(query):
    return _ts_text(query.terms(), "A")


def ts_place_text(query):
    return " | ".join(f"({_ts_text([group], 'B')})" for group in query.terms())


# ------------------------------------------------------------------ matching


# The sort key of a hit folds three levels into one number: name match, then place match,
# then relevance (ts_rank stays below 1; bm25 stays far below 1000 here).
NAMED, LOCATED = 1_000_000, 1_000


# On PostgreSQL, ranking every match of a common word (tens of thousands) costs more than
# finding them: with other filters, the matches come first, as ids, and their sort keys
# only for the places a caller puts in order (those the filters leave); for all matches
# in one query when those are more than this share of them.
KEYS_ALL_AT_ONCE = 0.3


class Hits(dict):
    """{place id: sort key, or None until asked for} for the places matching a query
    (typos corrected: ``query``). `order` sorts some of them, highest key first."""

    query = None
    # (the index's positions, how many there were, the bit set), for the next caller
    _mask = (None, 0, 0)

    def mask_in(self, index):
        """The hits as a bit set of ``index`` (a facet index), kept for the next callers.

        An index updated from the change log shares its positions with the one before,
        only ever adding to them (a rebuild gives new ones): a bit set found for one holds
        for the next, once the hits among the places added since are set too."""
        positions, size, mask = self._mask
        added = len(index.ids)
        if positions is not index.positions:
            mask = index.mask_of(self)
        elif size < added:
            mask |= index.bit_set(
                position
                for position, pk in enumerate(index.ids[size:added], start=size)
                if pk in self
            )
        else:
            return mask
        self._mask = (index.positions, added, mask)
        return mask

    # (the index's positions, the bit set of the places ordered, their `RankedIds`): the
    # last order given, for the next caller asking for the same places
    _ordered = (None, None, None)

    def ordered(self, results):
        """`order` of the places of ``results`` (the facets' `ResultSet`), kept for the
        next caller asking for the same ones (the same search and filters again, another
        page): their ids are then neither listed nor ranked again.

        For the same positions, the same bit set gives the same ids in the same order, and
        their keys, once set, never change (a changed search document gives new `Hits`)."""
        positions, mask, ranked = self._ordered
        if positions is results.index.positions and mask == results.mask:
            return ranked
        ranked = self.order(results.ids())
        self._ordered = (results.index.positions, results.mask, ranked)
        return ranked

    def order(self, place_ids):
        """``place_ids`` (all hits) by sort key, highest first; ties in the order given."""
        missing = [pk for pk in place_ids if self[pk] is None]
        if missing:
            everything = len(missing) > KEYS_ALL_AT_ONCE * len(self)
            found = _match(self.query, keyed=None if everything else missing)
            # Only values change (other threads may be reading the hits): a place whose
            # search document changed since the hits were found ranks last.
            for pk in missing:
                self[pk] = found.get(pk, 0.0)
            if everything:
                for pk, key in found.items():
                    if self.get(pk, 0.0) is None:
                        self[pk] = key
        return RankedIds(place_ids, self.__getitem__)


class RankedIds(Sequence):
    """Place ids by sort key, highest first, ties in the order given: sorted when first
    read beyond its first page; a first page is picked without sorting the others."""

    FIRST_PAGE = 200

    def __init__(self, place_ids, key):
        self.place_ids, self.key, self._sorted = place_ids, key, None
        self._first = {}  # {stop: the first `stop` ids}, picked once

    def __len__(self):
        return len(self.place_ids)

    def _order(self):
        if self._sorted is None:
            self._sorted = sorted(self.place_ids, key=self.key, reverse=True)
        return self._sorted

    def __getitem__(self, item):
        if (
            isinstance(item, slice)
            and self._sorted is None
            and item.start in (None, 0)
            and item.step in (None, 1)
            and item.stop is not None
            and 0 <= item.stop <= self.FIRST_PAGE
        ):
            first = self._first.get(item.stop)
            if first is None:
                # As sorted(…)[:stop], ties included (heapq documents the equivalence).
                first = heapq.nlargest(item.stop, self.place_ids, key=self.key)
                self._first[item.stop] = first
            return list(first)
        return self._order()[item]


def _ids_literal(ids):
    """A PostgreSQL array literal of integer ids, to pass as one text parameter: written
    here in one join rather than adapted element by element (thousands of them)."""
    return "{" + ",".join(map(str, map(int, ids))) + "}"


def _match(query, keyed=None, among=False):
    """{place id: sort key} for the places matching ``query``: `NAMED` if the name or
    an alias matches, plus `LOCATED` if the place's territories do, plus relevance.

    On PostgreSQL, ``keyed`` is False for the ids alone (keys None), or the ids of the
    hits to compute keys for (None: all); with ``among``, the ids of the places to match
    (those that do not match are left out)."""
    if not query:
        return {}
    with connection.cursor() as cursor:
        if is_postgresql():
            expression, params = ts_expression(query)
            if keyed is False:
                # One array rather than a row per match: tens of thousands for a common word.
                cursor.execute(
                    f"SELECT array_agg(place_id) FROM {PlaceSearch._meta.db_table} "
                    f"WHERE vector @@ {expression}",
                    params,
                )
                return dict.fromkeys(cursor.fetchone()[0] or ())
            if keyed is None:
                where, where_params = "s.vector @@ q.query", []
            else:
                where, where_params = "s.place_id = ANY(%s::bigint[])", [_ids_literal(keyed)]
                if among:
                    where += " AND s.vector @@ q.query"
            cursor.execute(
                f"""
                SELECT s.place_id,
                       (s.vector @@ q.named)::int * {NAMED}
                       + (s.vector @@ q.located)::int * {LOCATED}
                       + ts_rank(s.vector, q.query)
                FROM {PlaceSearch._meta.db_table} AS s,
                     (SELECT {expression} AS query,
                             to_tsquery('french', %s) AS named,
                             to_tsquery('french', %s) AS located) AS q
                WHERE {where}
                """,
                [*params, ts_name_text(query), ts_place_text(query), *where_params],
            )
        else:
            cursor.execute(
                f"""
                SELECT {FTS_TABLE}.rowid,
                       ({FTS_TABLE}.rowid IN (SELECT rowid FROM {FTS_TABLE}
                                              WHERE {FTS_TABLE} MATCH %s)) * {NAMED}
                       + ({FTS_TABLE}.rowid IN (SELECT rowid FROM {FTS_TABLE}
                                                WHERE {FTS_TABLE} MATCH %s)) * {LOCATED}
                       - bm25({FTS_TABLE}, {BM25_WEIGHTS})
                FROM {FTS_TABLE}
                JOIN {PlaceSearch._meta.db_table} AS s ON s.place_id = {FTS_TABLE}.rowid
                WHERE {FTS_TABLE} MATCH %s
                """,
                [fts_name_expression(query), fts_place_expression(query), fts_expression(query)],
            )
        return dict(cursor.fetchall())


def _exists(query):
    if not query:
        return False
    sql, params = _matching_ids_sql(query)
    with connection.cursor() as cursor:
        cursor.execute(f"{sql} LIMIT 1", params)
        return cursor.fetchone() is not None


def similar_words(targets):
    """{word: [the name or territory words most similar to it, best first]}: pg_trgm on
    PostgreSQL (trigram index), the same similarity computed here on SQLite."""
    targets = sorted(set(targets))
    if not targets:
        return {}
    found = {word: [] for word in targets}
    if is_postgresql():
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                SELECT t.target, w.word
                FROM unnest(%s::text[]) AS t(target)
                CROSS JOIN LATERAL (
                    SELECT word, similarity(word, t.target) AS score
                    FROM {SearchWord._meta.db_table}
                    WHERE word %% t.target AND similarity(word, t.target) >= %s
                    ORDER BY score DESC, word
                    LIMIT %s
                ) AS w
                """,
                [targets, FUZZY_SIMILARITY, FUZZY_CANDIDATES],
            )
            for target, word in cursor.fetchall():
                found[target].append(word)
        return found
    lexicon = list(SearchWord.objects.values_list("word", flat=True))
    for target in targets:
        scored = sorted((-similarity(word, target), word) for word in lexicon)
        found[target] = [
            word for score, word in scored[:FUZZY_CANDIDATES] if -score >= FUZZY_SIMILARITY
        ]
    return found


def corrected(query):
    """``query`` with each word that is no name or territory word also tried as the
    closest ones; None when there is nothing to correct."""
    targets = [g[0] for g in query.groups if len(g[0]) >= FUZZY_MIN_LENGTH]
    candidates = similar_words(targets)
    groups, changed = [], False
    for group in query.groups:
        closest = candidates.get(group[0], [])
        if closest and group[0] not in closest:
            group = tuple(dict.fromkeys([*group, *closest]))
            changed = True
        groups.append(group)
    if not changed:
        return None
    return Query(groups, query.phrases, query.excluded, corrected=True, resolved=True)


def resolve(text):
    """The query to run: as typed, or with its typos corrected when nothing matches."""
    query = parse(text)
    if not query or query.resolved:
        return query
    if not _exists(query):
        query = corrected(query) or query
    query.resolved = True
    return query


# The hits of the queries asked last, per process, for the data version they were found
# in: a query asked again (the next page, another filter, the map of the same search)
# is not searched again. Bounded by the number of hits kept (about 100 bytes each).
RECENT_HITS_KEPT = 200_000
_recent_hits = collections.OrderedDict()
_recent_lock = threading.Lock()


def forget_recent_hits():
    """Forget the hits, snippets and marked texts kept from earlier requests."""
    with _recent_lock:
        _recent_hits.clear()
    with _snippets_lock:
        _snippets.clear()
    _highlighted.cache_clear()
    postings.forget_lexemes()


def ranked_hits(text, keyed=True):
    """`Hits` of the places matching the query, in one query (two more when nothing
    matches and typos are tried); `Hits.order` sorts them: name or alias matches first,
    then places in a territory the query names, then relevance. With ``keyed`` False,
    the sort keys are left to `Hits.order` to compute for the places it is given (on
    PostgreSQL: cheaper when other filters leave few of the matches).

    The answer is shared with later callers asking the same query while the search
    documents stay as they are (the facets drop the places no longer published): read
    it, never change it (only `Hits.order` fills in its keys)."""
    from .facet_index import get_index

    index = get_index()
    key = (text, index.search_key)
    with _recent_lock:
        hits = _recent_hits.get(key)
        if hits is not None:
            _recent_hits.move_to_end(key)
            return hits
        # The same query asked before a few search documents changed: only those places
        # are checked again (an editor's save under load leaves the searches warm).
        earlier = next(
            (
                (_recent_hits[(text, old)], changed)
                for old, changed in reversed(index.search_history.items())
                if (text, old) in _recent_hits
            ),
            None,
        )
    hits = _patched(*earlier, index) if earlier else None
    if hits is None:
        hits = _ranked_hits(text, keyed, index)
    with _recent_lock:
        _recent_hits[key] = hits
        kept = sum(len(found) for found in _recent_hits.values())
        while kept > RECENT_HITS_KEPT and len(_recent_hits) > 1:
            _old_key, dropped = _recent_hits.popitem(last=False)
            kept -= len(dropped)
    return hits


def _ranked_hits(text, keyed, index):
    query = parse(text)
    if not keyed and query:
        # Only frequent words: their places as the process keeps them, without a query.
        mask = postings.match(query, index)
        if mask:
            hits = Hits.fromkeys(index.members(mask))
            hits.query, hits._mask = query, (index.positions, len(index.ids), mask)
            query.resolved = True
            return hits
    keyed = None if keyed else False
    rows = _match(query, keyed)
    if not rows and query and not query.resolved:
        query = corrected(query) or query
        if query.corrected:
            rows = _match(query, keyed)
    query.resolved = True
    hits = Hits(rows)
    hits.query = query
    return hits


def _patched(hits, changed, index):
    """``hits`` found before the search documents of the places ``changed`` changed,
    with those places matched again (one query on their ids); None where this is not
    done (SQLite, where searching again is cheap; a query whose typos were corrected,
    which might no longer need it)."""
    query = hits.query
    if not is_postgresql() or query is None or query.corrected:
        return None
    found = _match(query, keyed=list(changed), among=True)
    patched = Hits(hits)
    for pk in changed:
        patched.pop(pk, None)
    patched.update(found)
    patched.query = query
    positions, size, mask = hits._mask
    if positions is index.positions:
        # The bit set too: the changed places' bits cleared, the matching ones set again
        # (`mask_in` adds the hits among places added since ``size``).
        beyond = len(index.ids)
        mask &= ~index.bit_set(positions.get(pk, beyond) for pk in changed)
        mask |= index.bit_set(positions.get(pk, beyond) for pk in found)
        patched._mask = (positions, size, mask)
    return patched


def _matching_ids_sql(query):
    """(SQL selecting the ids of the matching places, parameters)."""
    if is_postgresql():
        expression, params = ts_expression(query)
        return (
            f"SELECT place_id FROM {PlaceSearch._meta.db_table} WHERE vector @@ {expression}",
            params,
        )
    return (
        f"SELECT {FTS_TABLE}.rowid FROM {FTS_TABLE} JOIN {PlaceSearch._meta.db_table} AS s "
        f"ON s.place_id = {FTS_TABLE}.rowid WHERE {FTS_TABLE} MATCH %s",
        [fts_expression(query)],
    )


def hits(text):
    """The ids of the places matching the query, as a queryset of `PlaceSearch` ids."""
    query = resolve(text)
    if not query:
        return PlaceSearch.objects.none().values("place_id")
    sql, params = _matching_ids_sql(query)
    return PlaceSearch.objects.filter(place_id__in=RawSQL(sql, params)).values("place_id")


def search(queryset, text):
    """Places matching the query (a string or a resolved `Query`), annotated with `rank`
    (higher first), which orders them as `ranked_hits` does."""
    query = resolve(text)
    if not query:
        return queryset.none().annotate(rank=RawSQL("0.0", [], output_field=FloatField()))
    sql, params = _matching_ids_sql(query)
    table = queryset.model._meta.db_table
    if is_postgresql():
        expression, rank_params = ts_expression(query)
        rank = RawSQL(
            f"SELECT (vector @@ to_tsquery('french', %s))::int * {NAMED} "
            f"+ (vector @@ to_tsquery('french', %s))::int * {LOCATED} "
            f"+ ts_rank(vector, {expression}) FROM {PlaceSearch._meta.db_table} "
            f'WHERE place_id = "{table}"."id"',
            [ts_name_text(query), ts_place_text(query), *rank_params],
            output_field=FloatField(),
        )
    else:
        rank = RawSQL(
            f"SELECT (rowid IN (SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s))"
            f" * {NAMED} + (rowid IN (SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s))"
            f" * {LOCATED} - bm25({FTS_TABLE}, {BM25_WEIGHTS}) FROM {FTS_TABLE} "
            f'WHERE {FTS_TABLE} MATCH %s AND rowid = "{table}"."id"',
            [fts_name_expression(query), fts_place_expression(query), fts_expression(query)],
            output_field=FloatField(),
        )
    return queryset.filter(pk__in=RawSQL(sql, params)).annotate(rank=rank)


# ------------------------------------------------------------------ highlighting


@functools.lru_cache(maxsize=100_000)
def _folded_word(token):
    return (words(token) or [""])[0]


def _carried(tokens, wanted=None):
    """For each token (a word as written), the stems it matches: its own, and the one of
    it written together with its neighbour before or after (« Fab lab » as « fablab »).

    ``wanted``: when only these stems matter, two words written together are stemmed
    only if they begin as one of them does (a French stem of three letters or more keeps
    its word's first two), which spares stemming most pairs of a long text."""
    folded = [_folded_word(token) for token in tokens]
    carried = [{stem(word)} if word else set() for word in folded]
    beginnings = None if wanted is None else {w[:2] for w in wanted if len(w) >= 3}
    short = wanted is not None and any(len(w) < 3 for w in wanted)
    check = beginnings is not None and not short
    for i in range(len(folded) - 1):
        first, second = folded[i], folded[i + 1]
        # (normalize changes only a word's end: the pair begins as the two words do)
        if not first or (check and (first + second)[:2] not in beginnings):
            continue
        if joinable(first, second):
            joined = stem(normalize(first + second))
            carried[i].add(joined)
            carried[i + 1].add(joined)
    return carried


def _marked_positions(tokens, stems):
    """{index: matched stems} of the tokens that match one of ``stems``."""
    return {i: found & stems for i, found in enumerate(_carried(tokens, stems)) if found & stems}


def _render(text, matches, marked, start=0, end=None):
    """HTML of ``text`` from word ``start`` to ``end``, the ``marked`` words in <mark>."""
    end = len(matches) if end is None else end
    if not matches:
        return escape(text)
    parts = []
    last = matches[start].start() if start else 0
    for i in range(start, end):
        match = matches[i]
        parts.append(escape(text[last : match.start()]))
        word = escape(match.group(0))
        parts.append(f"<mark>{word}</mark>" if i in marked else word)
        last = match.end()
    if end == len(matches):
        parts.append(escape(text[last:]))
    return "".join(parts)


def highlight(text, query):
    """Escape ``text`` and wrap the words that match the query in <mark>."""
    text = text or ""
    stems = parse(query).stems() if query else set()
    if not stems:
        return escape(text)
    return _highlighted(text, frozenset(stems))


# Names and card summaries come back page after page for the same searches: marked once
# per text and set of stems (a few hundred bytes each).
@functools.lru_cache(maxsize=4096)
def _highlighted(text, stems):
    if not _may_match(text, stems):
        return escape(text)
    matches = list(_TOKEN.finditer(text))
    marked = _marked_positions([m.group(0) for m in matches], stems)
    return mark_safe(_render(text, matches, marked))


# The order in which passages are preferred for a snippet: the place's own text, its kinds
# and services, what other texts say of it, then aliases and territories (on the card).
SNIPPET_PREFERENCE = {"C": 0, "K": 1, "D": 2, "A": 3, "B": 4}


_NOT_ALNUM = re.compile(r"[^a-z0-9]+")


def _squeezed(text):
    """The letters and digits of ``text``, folded, with nothing between words: the same
    characters as ``"".join(words(text))`` (less the singular of a few plurals, which
    only ever shortens a word), several times faster; for a first look at a passage."""
    text = text.replace("œ", "oe").replace("Œ", "oe").replace("æ", "ae").replace("Æ", "ae")
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return _NOT_ALNUM.sub("", ascii_text.lower())


def _may_match(text, stems):
    """False when no word of ``text`` can match ``stems``: a text holds a match only if
    the beginning of a stem appears in it (its words written together, for compounds).
    Most texts are left at that, without stemming their words."""
    squeezed = _squeezed(text)
    return any(st[:4] in squeezed for st in stems)


def snippet(passages, query, length=SNIPPET_WORDS, shown=""):
    """About ``length`` words of the passage that matches most of the query, around its
    matched words (marked), or "" when no passage matches. ``passages``: [(weight, text)]
    as stored, the first being the place's name (left out: the card shows it); passages
    of the text ``shown`` beside it (the card's summary) come last."""
    query = parse(query)
    terms = tuple(query.terms())
    if not terms:
        return ""
    # Kept by the passages' digest (they can be long), the query's words, the length and
    # the text shown: the same place found by the same search again costs a lookup.
    digest = hashlib.blake2b(digest_size=16)
    for weight, text in passages:
        digest.update(f"{weight}\x1f{text}\x1e".encode())
    key = (digest.digest(), terms, length, shown)
    with _snippets_lock:
        found = _snippets.get(key)
        if found is not None:
            _snippets.move_to_end(key)
            return found
    found = _snippet(passages, terms, length, shown)
    with _snippets_lock:
        _snippets[key] = found
        if len(_snippets) > SNIPPETS_KEPT:
            _snippets.popitem(last=False)
    return found


SNIPPETS_KEPT = 2048
_snippets = collections.OrderedDict()
_snippets_lock = threading.Lock()


def _snippet(passages, terms, length, shown):
    stems = {stem(word) for group in terms for word in group}
    groups = [{stem(w) for w in group} for group in terms]
    if not stems:
        return ""
    best = None
    for order, (weight, text) in enumerate(passages[1:]):
        if not _may_match(text, stems):
            continue
        matches = list(_TOKEN.finditer(text))
        marked = _marked_positions([m.group(0) for m in matches], stems)
        if not marked:
            continue
        found = set().union(*marked.values())
        covered = sum(1 for group in groups if group & found)
        key = (text in shown, -covered, SNIPPET_PREFERENCE.get(weight, 5), order)
        if best is None or key < best[0]:
            best = (key, text, matches, marked)
    if best is None:
        return ""
    _key, text, matches, marked = best
    # The window of `length` words holding the most marked words, the earliest first.
    positions = sorted(marked)
    start = max(0, positions[0] - 3)
    most = -1
    for first in positions:
        begin = max(0, first - 3)
        count = sum(1 for p in positions if begin <= p < begin + length)
        if count > most:
            most, start = count, begin
    end = min(len(matches), start + length)
    html = _render(text, matches, marked, start, end)
    if start > 0:
        html = "… " + html
    if end < len(matches):
        html += " …"
    return mark_safe(html)


def snippets(places, query, shown=None):
    """{place id: snippet HTML} for the given places: their passages are read from their
    `search_passages` attribute when the caller fetched it, else in one query. ``shown``:
    {place id: text the page already shows for it}."""
    query = parse(query)
    shown = shown or {}
    places = list(places)
    if not query or not places:
        return {}
    rows = [(p.pk, p.search_passages) for p in places if hasattr(p, "search_passages")]
    missing = [p.pk for p in places if not hasattr(p, "search_passages")]
    if missing:
        rows += PlaceSearchText.objects.filter(place_id__in=missing).values_list(
            "place_id", "passages"
        )
    return {pk: snippet(passages or [], query, shown=shown.get(pk, "")) for pk, passages in rows}


# ------------------------------------------------------------------ documents


def _case_study_model():
    """Case studies live in the `casestudies` app, which depends on this one."""
    return Place._meta.get_field("case_studies").related_model


def places_for_indexing(queryset):
    CaseStudy = _case_study_model()
    return queryset.select_related("territory__parent__parent__parent__parent").prefetch_related(
        "kinds",
        "services",
        "figures",
        Prefetch("lessons", queryset=Lesson.objects.only("place_id", "text", "text_en")),
        Prefetch("cited_in_lessons", queryset=Lesson.objects.only("place_id", "text", "text_en")),
        Prefetch(
            "case_studies",
            queryset=CaseStudy.objects.prefetch_related(
                "sections",
                Prefetch(
                    "places",
                    queryset=Place.objects.select_related("territory").only(
                        "pk", "slug", "name", "aliases", "territory__name"
                    ),
                ),
            ),
        ),
        "comparison_rows__table",
    )


def name_forms(place):
    """The ways a text names the place, as folded word sequences: its name and aliases,
    what comes before a comma, colon or dash in them (« Tremplin Entreprises, brasseur
    d'entrepreneurs »), and acronyms in parentheses (« Quartier de la création (SAMOA) »)."""
    return _name_forms(place.name, tuple(place.aliases or ()))


@functools.lru_cache(maxsize=4096)
def _name_forms(name, aliases):
    forms = set()
    for text in (name, *aliases):
        text = text.replace("«", " ").replace("»", " ")
        acronyms = [a for a in _PARENTHESES.findall(text) if a.strip().isupper()]
        bare = _PARENTHESES.sub(" ", text)
        for part in (bare, _NAME_HEAD.split(bare)[0], *acronyms):
            form = tuple(words(part))
            if sum(len(w) for w in form if w not in STOPWORDS) >= 3:
                forms.add(form)
    return frozenset(forms)


def other_forms(place):
    """What marks the start of another place's part of a sentence: its name forms, and
    its territory's name (« à Nevers, … » begins L'Inkub's part)."""
    forms = set(name_forms(place))
    if place.territory_id:
        forms.add(tuple(words(place.territory.name)))
    return forms


def _mentions(folded, forms):
    """(first, last + 1) token positions where one of ``forms`` is written."""
    found = []
    for form in forms:
        size = len(form)
        for i in range(len(folded) - size + 1):
            if folded[i] == form[0] and tuple(folded[i : i + size]) == form:
                found.append((i, i + size))
    return found


def about(text, forms, others=()):
    """The parts of ``text`` that are about the place: each sentence that names it (one of
    its ``forms``); in a sentence that also names other places (``others``: their forms),
    only the part from its name to the next other place's name (and what comes before
    the first name, when that is the place's)."""
    parts = []
    blocks = [b for p in _PARAGRAPH.split(text or "") for b in _BLOCK_LINE.split(p)]
    sentences = [s for b in blocks for s in _SENTENCE.split(" ".join(b.split()))]
    for sentence in sentences:
        matches = list(_TOKEN.finditer(sentence))
        folded = [(words(m.group(0)) or [""])[0] for m in matches]
        mine = _mentions(folded, forms)
        if not mine:
            continue
        theirs = [m for other in others for m in _mentions(folded, other)]
        # A name inside another place's longer name (« Pôle Sud » in « Pôle Sud
        # Aquitain ») is the other place's, and the other way round.
        mine = [
            (a, b)
            for a, b in mine
            if not any(c <= a and b <= d and d - c > b - a for c, d in theirs)
        ]
        theirs = [(c, d) for c, d in theirs if not any(a <= c and d <= b for a, b in mine)]
        if not mine:
            continue
        if not theirs:
            parts.append(sentence.strip())
            continue
        starts = sorted([(a, True) for a, _b in mine] + [(c, False) for c, _d in theirs])
        for k, (position, is_mine) in enumerate(starts):
            if not is_mine:
                continue
            begin = 0 if k == 0 else position
            end = starts[k + 1][0] if k + 1 < len(starts) else len(matches)
            stop = matches[end].start() if end < len(matches) else len(sentence)
            parts.append(sentence[matches[begin].start() if begin else 0 : stop].strip())
    return [part for part in parts if part]


def is_own_case_study(case, place):
    """A monograph of this place alone, or whose main place it is (the one the case study
    is named after: same slug)."""
    if case.kind != "monograph":
        return False
    places = case.places.all()
    return len(places) == 1 or case.slug == place.slug


def _paragraphs(text):
    return [p.strip() for p in _PARAGRAPH.split(text or "") if p.strip()]


def _case_passages(case):
    passages = [
        case.title,
        getattr(case, "title_en", ""),
        case.tagline,
        getattr(case, "tagline_en", ""),
        *_paragraphs(case.summary),
        *_paragraphs(case.summary_en),
    ]
    for section in case.sections.all():
        passages += [section.heading, getattr(section, "heading_en", "")]
        passages += _paragraphs(section.body)
    return passages


def document(place, cells=()):
    """[(weight, text)] of a place, the name first; follows what `places_for_indexing`
    fetches. ``cells``: the place's comparison-table cells. Weights: A to D as in the
    module's docstring; K, its kinds, is indexed with C (and as compounds)."""
    passages = [("A", place.name), *(("A", alias) for alias in place.aliases)]
    chain = [t.name for t in place.territory_chain()]
    if chain:
        passages.append(("B", " · ".join(chain)))
    kinds = ", ".join(k.name for k in place.kinds.all())
    if kinds:
        passages.append(("K", kinds))
    own = [
        ", ".join(s.name for s in place.services.all()),
        place.carrier,
        place.setting_as_stated,
        *_paragraphs(place.summary),
        *_paragraphs(place.summary_en),
    ]
    for figure in place.figures.all():
        own += [figure.label, getattr(figure, "label_en", "")]
    for lesson in place.lessons.all():
        own += [lesson.text, getattr(lesson, "text_en", "")]
    cross = []  # (text, the other places it is about)
    for case in place.case_studies.all():
        if is_own_case_study(case, place):
            own += _case_passages(case)
        else:
            others = [p for p in case.places.all() if p.pk != place.pk]
            cross += [(text, others) for text in _case_passages(case)]
    for row in place.comparison_rows.all():
        cross += [(text, ()) for text in _paragraphs(row.table.intro)]
    for lesson in place.cited_in_lessons.all():
        if lesson.place_id != place.pk:
            cross += [(lesson.text, ()), (getattr(lesson, "text_en", ""), ())]
    passages += [("C", text) for text in own if text]
    forms = name_forms(place)
    seen = set()
    for text, others in cross:
        for part in about(text, forms, [other_forms(other) for other in others]):
            if part not in seen:
                seen.add(part)
                passages.append(("D", part))
    # The place's own cells of comparison tables (its row): what the table says of it.
    passages += [("D", text) for text in cells if text]
    return passages


def columns(passages):
    """The four columns (A to D) of a document as texts of folded words; names,
    territories and kinds also as compounds (« fab lab » also as « fablab »; elided words
    joined only in names: « linkub »)."""
    texts = {weight: [] for weight in WEIGHTS}
    for weight, text in passages:
        column = "C" if weight == "K" else weight
        texts[column].append(" ".join(words(text)))
        if weight in "ABK":
            texts[column].extend(compounds(text, elisions=weight == "A"))
    return [" ".join(texts[weight]) for weight in WEIGHTS]


def stemmed(column):
    """A column's folded words as SQLite indexes them: stems, without stop words."""
    return " ".join(stem(w) for w in column.split() if w not in STOPWORDS)


def lexicon(passages):
    """The name and territory words of a document (and their compounds)."""
    found = set()
    for weight, text in passages:
        if weight in "AB":
            found.update(w for w in words(text) if len(w) >= 3 and not w.isdigit())
            found.update(compounds(text))
    return {w[:100] for w in found}


def _cells_by_place(place_ids):
    """{place id: [text and note of each of its comparison-table cells]}."""
    cells = {}
    rows = apps.get_model("casestudies", "ComparisonCell").objects.filter(place_id__in=place_ids)
    for place_id, text, note in rows.values_list("place_id", "text", "note"):
        cells.setdefault(place_id, []).extend([text, note])
    return cells


def ensure_fts_table():
    """Create SQLite's FTS5 table when missing (the migration creates it)."""
    if not is_postgresql():
        with connection.cursor() as cursor:
            cursor.execute(FTS_CREATE)


FTS_CREATE = (
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5("
    'title, locality, body, extra, tokenize="unicode61 remove_diacritics 2")'
)


def reindex(queryset=None, batch_size=500):
    """Rebuild the search document of the given places (all by default); returns changes."""
    full = queryset is None
    queryset = Place.objects.all() if queryset is None else queryset
    postgresql = is_postgresql()
    ensure_fts_table()
    changed, changed_ids = 0, []
    pks = list(queryset.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(pks), batch_size):
        batch = pks[start : start + batch_size]
        current = dict(
            PlaceSearch.objects.filter(place_id__in=batch).values_list("place_id", "digest")
        )
        cells = _cells_by_place(batch)
        stale, texts, rows, vocabulary = [], [], [], set()
        for place in places_for_indexing(Place.objects.filter(pk__in=batch)):
            passages = document(place, cells.get(place.pk, ()))
            serialized = json.dumps([DOCUMENT_VERSION, passages], ensure_ascii=False)
            digest = hashlib.sha256(serialized.encode()).hexdigest()
            if current.get(place.pk) == digest:
                continue
            stale.append(PlaceSearch(place=place, digest=digest))
            texts.append(PlaceSearchText(place=place, passages=passages))
            rows.append((place.pk, *columns(passages)))
            vocabulary |= lexicon(passages)
        PlaceSearch.objects.bulk_create(
            stale, update_conflicts=True, unique_fields=["place"], update_fields=["digest"]
        )
        PlaceSearchText.objects.bulk_create(
            texts, update_conflicts=True, unique_fields=["place"], update_fields=["passages"]
        )
        SearchWord.objects.bulk_create(
            [SearchWord(word=w) for w in sorted(vocabulary)], ignore_conflicts=True
        )
        if rows:
            (update_vectors if postgresql else update_fts)(rows)
        changed += len(stale)
        changed_ids.extend(row.place_id for row in stale)
    if full and not postgresql:
        with connection.cursor() as cursor:  # places deleted since
            cursor.execute(
                f"DELETE FROM {FTS_TABLE} WHERE rowid NOT IN "
                f"(SELECT place_id FROM {PlaceSearch._meta.db_table})"
            )
    if changed:
        # What matches changed, for these places (any, after a full rebuild, which also
        # drops the documents of places deleted since); the facets did not.
        versioning.record([] if full else changed_ids, search=True)
    return changed


def update_vectors(rows):
    """Compute weighted tsvectors in PostgreSQL from (place id, A, B, C, D) rows."""
    values = ", ".join(["(%s::bigint, %s, %s, %s, %s)"] * len(rows))
    params = [value for row in rows for value in row]
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE {PlaceSearch._meta.db_table} AS doc
            SET vector = setweight(to_tsvector('french', v.a), 'A')
                      || setweight(to_tsvector('french', v.b), 'B')
                      || setweight(to_tsvector('french', v.c), 'C')
                      || setweight(to_tsvector('french', v.d), 'D')
            FROM (VALUES {values}) AS v(place_id, a, b, c, d)
            WHERE doc.place_id = v.place_id
            """,
            params,
        )


def update_fts(rows):
    """Replace the FTS5 rows (SQLite) of the given (place id, A, B, C, D) rows."""
    with connection.cursor() as cursor:
        ids = [row[0] for row in rows]
        cursor.execute(
            f"DELETE FROM {FTS_TABLE} WHERE rowid IN ({', '.join(['%s'] * len(ids))})", ids
        )
        cursor.executemany(
            f"INSERT INTO {FTS_TABLE} (rowid, title, locality, body, extra) "
            "VALUES (%s, %s, %s, %s, %s)",
            [(pk, *(stemmed(column) for column in texts)) for pk, *texts in rows],
        )
