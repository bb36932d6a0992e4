"""The places of the most frequent search words, kept by each process as bit sets.

PostgreSQL's GIN index finds the places holding a word at once, but returning them means
visiting each one's row: for a word found in 45 % of 100,000 places, about 25 ms, and 8 ms
more to turn their ids into a bit set of the facet index. For the words found in at least
``settings.SEARCH_POSTINGS_MIN_PLACES`` places, a process keeps each word's places as a bit
set over the facet index's positions (a hundred-odd words, about 12 kB each at 100,000
places). A query made only of such words is then matched with ANDs and ORs of bit sets;
any other (a rarer word, a phrase, an excluded word) goes to PostgreSQL as before, and so
does every search on SQLite.

The bit sets are read at the process's start (`ensure`, from the WSGI warm-up), then follow
the change log with the facet index: the places whose search documents changed are read
again (`carried`). When the facet index is rebuilt, they are read again in a thread, and
searches go to PostgreSQL until they are ready (`schedule`).
"""

import logging
import re
import threading
from dataclasses import dataclass, field, replace
from itertools import repeat

from django.conf import settings
from django.db import connection

from .models import PlaceSearch
from .text import stem

_TABLE = PlaceSearch._meta.db_table
_LEXEME = re.compile(r"^'([^']+)'$")


@dataclass
class Postings:
    """{lexeme: bit set of positions} for the index whose ``positions`` they use, as of
    its ``search_key``; the places from position ``size`` on were not read."""

    search_key: int
    positions: dict
    size: int
    masks: dict = field(default_factory=dict)


def enabled():
    return connection.vendor == "postgresql" and settings.SEARCH_POSTINGS_MIN_PLACES > 0


def _ids(text):
    """The ids of a PostgreSQL array's text form (cheaper than adapting a large array)."""
    return map(int, text[1:-1].split(",")) if len(text) > 2 else ()


def read(index):
    """The postings of the words found in at least SEARCH_POSTINGS_MIN_PLACES places,
    read now for ``index`` (two queries; 4.5-5 s at 100,000 places)."""
    minimum = settings.SEARCH_POSTINGS_MIN_PLACES
    postings = Postings(index.search_key, index.positions, len(index.ids))
    if len(index.ids) < minimum:
        return postings  # no word can be found that often
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT word FROM ts_stat(%s) WHERE ndoc >= %s",
            [f"SELECT vector FROM {_TABLE}", minimum],
        )
        lexemes = [row[0] for row in cursor.fetchall()]
        if not lexemes:
            return postings
    # A few words at a time (a server-side cursor): all at once, their places' ids as text
    # would take tens of megabytes, which the process would keep.
    unknown = repeat(len(index.ids))  # a place not in the index: dropped by bit_set
    with connection.chunked_cursor() as cursor:
        cursor.execute(
            f"""
            SELECT lexeme, array_agg(s.place_id)::text
            FROM {_TABLE} AS s, unnest(tsvector_to_array(s.vector)) AS lexeme
            WHERE lexeme IN (SELECT unnest(%s::text[]))
            GROUP BY lexeme
            """,
            [lexemes],
        )
        while rows := cursor.fetchmany(4):
            for lexeme, ids in rows:
                positions = map(index.positions.get, _ids(ids), unknown)
                postings.masks[lexeme] = index.bit_set(positions)
    return postings


def carried(postings, index, searched):
    """``postings`` brought to ``index`` (a facet index updated from the change log, which
    shares its positions) once the search documents of ``searched`` changed (place ids;
    None: any place's): those places and the places added since are read again (one
    query). None when they cannot be carried (a rebuilt index; any place changed)."""
    if postings is None or postings.positions is not index.positions or searched is None:
        return None
    added = range(postings.size, len(index.ids))
    places = {pk for pk in searched if pk in index.positions} | {index.ids[p] for p in added}
    if not places or not postings.masks:
        return replace(postings, search_key=index.search_key, size=len(index.ids))
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT s.place_id, lexeme
            FROM {_TABLE} AS s, unnest(tsvector_to_array(s.vector)) AS lexeme
            WHERE s.place_id = ANY(%s) AND lexeme = ANY(%s)
            """,
            [sorted(places), list(postings.masks)],
        )
        rows = cursor.fetchall()
    cleared = ~index.bit_set(index.positions[pk] for pk in places)
    masks = {lexeme: mask & cleared for lexeme, mask in postings.masks.items()}
    for pk, lexeme in rows:
        masks[lexeme] |= 1 << index.positions[pk]
    return Postings(index.search_key, index.positions, len(index.ids), masks)


# Each word's lexeme as PostgreSQL's French configuration gives it ("" for none or several):
# it depends on the configuration only. Bounded.
LEXEMES_KEPT = 10_000
_lexemes = {}


def forget_lexemes():
    _lexemes.clear()


def _lexemes_of(words):
    missing = [word for word in words if word not in _lexemes]
    if missing:
        if len(_lexemes) + len(missing) > LEXEMES_KEPT:
            _lexemes.clear()
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT word, plainto_tsquery('french', word)::text "
                "FROM unnest(%s::text[]) AS word",
                [missing],
            )
            for word, text in cursor.fetchall():
                found = _LEXEME.match(text)
                _lexemes[word] = found.group(1) if found else ""
    return {word: _lexemes.get(word, "") for word in words}


def match(query, index):
    """The bit set of the places matching ``query`` (a parsed `catalogue.search.Query`)
    in ``index``, or None when its postings are of no help: a phrase or an excluded word,
    or no frequent word. The query's other words (a rarer word, two words written as one)
    are matched by PostgreSQL, in one query, each group's apart: few places each."""
    postings = index.postings
    if postings is None or not postings.masks or query.phrases or query.excluded:
        return None
    words = [word for group in query.groups for word in group]
    # Python's French stemmer writes most stems as PostgreSQL does: a query none of whose
    # words looks frequent costs no lookup.
    if not any(stem(word) in postings.masks for word in words):
        return None
    lexemes = _lexemes_of(words)
    if not all(lexemes.values()) or not any(lex in postings.masks for lex in lexemes.values()):
        return None
    rare = [
        [word for word in group if lexemes[word] not in postings.masks] for group in query.groups
    ]
    rare_masks = _rare_masks(rare, index)
    found = None
    for group, rare_mask in zip(query.groups, rare_masks, strict=True):
        mask = rare_mask
        for word in group:
            mask |= postings.masks.get(lexemes[word], 0)
        found = mask if found is None else found & mask
    return found


def _rare_masks(groups, index):
    """For each group of words, the bit set of the places matching any of them."""
    parts, params = [], []
    for number, group in enumerate(groups):
        if group:
            parts.append(
                f"SELECT {number}, array_agg(place_id)::text FROM {_TABLE} "
                "WHERE vector @@ to_tsquery('french', %s)"
            )
            params.append(" | ".join(group))
    masks = [0] * len(groups)
    if parts:
        with connection.cursor() as cursor:
            cursor.execute(" UNION ALL ".join(parts), params)
            for number, ids in cursor.fetchall():
                if ids:
                    masks[number] = index.mask_of(_ids(ids))
    return masks


# ------------------------------------------------------------------ reading in a thread

_building = threading.Lock()  # held while postings are read


def ensure(index):
    """Give ``index`` its postings now if it has none (at a process's start), after the
    thread reading them, if one is."""
    if not enabled():
        return
    from .facet_index import attach_postings

    with _building:
        while index is not None and index.postings is None:
            index = attach_postings(index, read(index))


def schedule(index):
    """Read the postings of a rebuilt ``index`` in a thread; searches go to PostgreSQL
    until they are attached. One thread at a time: a later rebuild reads them again."""
    if not enabled() or index.postings is not None:
        return
    if len(index.ids) < settings.SEARCH_POSTINGS_MIN_PLACES:
        index.postings = read(index)  # none to read: no query, no thread
        return
    if _building.acquire(blocking=False):
        threading.Thread(target=_read_in_thread, args=(index,), daemon=True).start()


def _read_in_thread(index):
    from django.db import connections

    from .facet_index import attach_postings

    try:
        while index is not None:
            index = attach_postings(index, read(index))
    except Exception:  # the database went away: the next rebuild tries again
        logging.getLogger(__name__).warning("search postings not read", exc_info=True)
    finally:
        connections.close_all()
        _building.release()
