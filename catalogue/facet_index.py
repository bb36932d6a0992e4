"""An in-memory index of the directory's facets: for every facet value, the set of places
that have it, as a bit set (a Python int, one bit per published place).

Counting a facet value for a result set is then one AND and one population count, in
microseconds, instead of a grouped SQL query over the filtered rows. The index is built
from the database (ten queries, integers mostly) once per process, at its start, then kept
up to date from the change log (catalogue.versioning): a change re-reads only the rows of
the places it touched. At 100,000 places it takes a few megabytes.
"""

import bisect
import heapq
import re
import threading
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import compress, repeat

from . import postings, versioning
from .models import Funding, Organisation, Place, PlaceKind, Service, Source, Territory

FACETS = [
    "kind",
    "setting",
    "region",
    "departement",
    "service",
    "funder_kind",
    "funder",
    "legal_form",
    "status",
    "source",
]


# Bit sets are built and read as strings of base-2 digits: "0" and "1", as bytes 0 and 1.
ONE = ord("1")
DIGIT_VALUES = bytes.maketrans(b"01", b"\x00\x01")
# Or byte by byte, for sets with few members: the bits of each byte value.
NONZERO_BYTE = re.compile(rb"[^\x00]")
BYTE_BITS = [tuple(bit for bit in range(8) if value >> bit & 1) for value in range(256)]


def mask_bytes(mask):
    """A bit set as bytes (bit n in byte n // 8), to test single bits without shifting
    the whole set (`has_bit`)."""
    return mask.to_bytes((mask.bit_length() + 7) // 8, "little")


def has_bit(data, position):
    byte = position >> 3
    return byte < len(data) and (data[byte] >> (position & 7)) & 1


@dataclass
class FacetIndex:
    version: int
    seq: int = 0
    # The data version when search documents last changed: search hits found since
    # then still hold (catalogue.search.ranked_hits keys them by it).
    search_key: int = 0
    # {an earlier search_key: the places whose search documents changed since}, for the
    # last few: hits found then are checked again on those places only.
    search_history: dict = field(default_factory=dict)
    vocabularies: object = None
    ids: list = field(default_factory=list)  # bit position → place id
    positions: dict = field(default_factory=dict)  # place id → bit position
    all: int = 0
    masks: dict = field(default_factory=lambda: {name: {} for name in FACETS})
    labels: dict = field(default_factory=lambda: {name: {} for name in FACETS})
    # By bit position, like ``ids``: each place's name and slug, and its numbers (NUMBERS).
    names: list = field(default_factory=list)
    slugs: list = field(default_factory=list)
    numbers: dict = field(default_factory=lambda: {key: [] for key in NUMBERS})
    # Derived from names and numbers when first needed (by_value, name_ranks).
    sorted_numbers: dict = field(default_factory=dict)
    ranks: list = None
    ranked: list = None
    # The frequent search words' places (catalogue.postings), once read; None before.
    postings: object = None
    # {(facet, value): its set as bytes (`mask_bytes`); None: `all`}, made when first
    # asked for: an index's sets never change once it is built (`apply` makes a new one).
    byte_masks: dict = field(default_factory=dict)

    def byte_mask(self, facet, value):
        """`mask_bytes` of the places having ``value`` of ``facet``."""
        key = (facet, value)
        found = self.byte_masks.get(key)
        if found is None:
            found = self.byte_masks[key] = mask_bytes(self.masks[facet].get(value, 0))
        return found

    def published_bytes(self):
        """`mask_bytes` of all the published places (``all``)."""
        found = self.byte_masks.get(None)
        if found is None:
            found = self.byte_masks[None] = mask_bytes(self.all)
        return found

    def mask_of(self, place_ids):
        """The bit set of the given places (unknown or unpublished ids are ignored)."""
        # An unknown id maps to one position past the last, which bit_set drops. Looked
        # up in order of id, which is about the order of positions: far fewer cache misses
        # than in the order a database returns matches in.
        ids = sorted(place_ids)
        return self.bit_set(map(self.positions.get, ids, repeat(len(self.ids))))

    def bit_set(self, positions):
        """The bit set of the given positions (any past the last are dropped). The loops
        run in C: one "0"/"1" digit per position, read as a base-2 number."""
        size = len(self.ids)
        if not size:
            return 0
        digits = bytearray(b"0") * (size + 1)
        deque(map(digits.__setitem__, positions, repeat(ONE)), maxlen=0)
        return int(digits[size - 1 :: -1], 2)

    def members(self, mask):
        """The place ids of a bit set, in bit order."""
        return list(map(self.ids.__getitem__, self.positions_of(mask)))

    def first_members(self, mask, count):
        """The place ids of the first ``count`` bits of ``mask`` (lowest first): its
        non-zero bytes found in C from the start, until there are enough (clearing bits
        one by one copied the whole set each time)."""
        ids, found = self.ids, []
        if count <= 0 or not mask:
            return found
        data = mask_bytes(mask)
        for match in NONZERO_BYTE.finditer(data):
            start = match.start()
            for bit in BYTE_BITS[data[start]]:
                found.append(ids[start * 8 + bit])
                if len(found) == count:
                    return found
        return found

    def positions_of(self, mask):
        """The bit positions set in ``mask``, in order."""
        if mask.bit_count() * 16 < len(self.ids):
            # Few: the non-zero bytes found in C, each expanded from a table.
            data = mask_bytes(mask)
            found = []
            for match in NONZERO_BYTE.finditer(data):
                start = match.start()
                found.extend([start * 8 + bit for bit in BYTE_BITS[data[start]]])
            return found
        flags = bin(mask)[:1:-1].encode("ascii").translate(DIGIT_VALUES)  # bit 0 first
        return list(compress(range(len(flags)), flags))

    def by_value(self, key):
        """(values, positions, prefixes) of the places having the number ``key``, sorted
        by value; ``prefixes[k]`` is the bit set of the first ``k * CHUNK`` positions.
        Kept until a change touches that number."""
        found = self.sorted_numbers.get(key)
        if found is None:
            values = self.numbers[key]
            positions = [p for p, v in enumerate(values) if v is not None]
            positions.sort(key=values.__getitem__)
            prefixes, mask = [0], 0
            for start in range(0, len(positions), CHUNK):
                mask |= self.bit_set(positions[start : start + CHUNK])
                prefixes.append(mask)
            found = ([values[p] for p in positions], positions, prefixes)
            self.sorted_numbers[key] = found
        return found

    def name_ranks(self):
        """Each position's rank in the order of names (a number; only their order
        counts), with ``ranked``, the (name, rank) pairs in that order, which a change
        of name updates without sorting again (`_moved_ranks`)."""
        if self.ranks is None:
            order = sorted(range(len(self.names)), key=self.names.__getitem__)
            ranks = [0.0] * len(order)
            for rank, position in enumerate(order):
                ranks[position] = float(rank)
            self.ranked = [(self.names[p], ranks[p]) for p in order]
            self.ranks = ranks
        return self.ranks

    def range_mask(self, key, low=None, high=None):
        """Places whose number ``key`` is within [low, high] (a place without it is not):
        whole chunks of the sorted positions from their prefix bit sets, the two ends
        bit by bit."""
        values, positions, prefixes = self.by_value(key)
        start = 0 if low is None else bisect.bisect_left(values, float(low))
        stop = len(values) if high is None else bisect.bisect_right(values, float(high))
        if stop - start <= 2 * CHUNK:
            return self.bit_set(positions[start:stop]) & self.all
        first, last = -(-start // CHUNK), stop // CHUNK  # whole chunks within the range
        mask = prefixes[last] & ~prefixes[first]
        mask |= self.bit_set(positions[start : first * CHUNK])
        mask |= self.bit_set(positions[last * CHUNK : stop])
        return mask & self.all

    def ordered(self, mask, key, descending=False):
        """The ids of ``mask`` sorted by number ``key`` (places without it last), then
        by name, or by name only (``key`` "name"): a lazy sequence, sorted only as far as
        the page asked for."""
        return Ordered(self, mask, key, descending)

    def value_mask(self, facet, values):
        """Places having any of ``values`` in ``facet``."""
        mask = 0
        for value in values:
            mask |= self.masks[facet].get(value, 0)
        return mask


class Ordered(Sequence):
    """Place ids in the order of one number (places without it last), then of names, or
    of names only; sorted when a page is first asked for, with the sort keys as lists
    (two stable sorts: by name rank, then by value), so that no key runs in Python."""

    def __init__(self, index, mask, key, descending):
        self.index, self.mask = index, mask
        self.values, self.descending = index.numbers.get(key), descending
        self._sorted = None

    def __len__(self):
        return self.mask.bit_count()

    def _order(self):
        if self._sorted is None:
            self._sorted = self._sort()
        return self._sorted

    def _first(self, stop):
        """The first ``stop`` positions: for a first page, only the places whose value is
        among the ``stop`` best are sorted (all of them, ties included)."""
        values = self.values
        if self._sorted is not None or values is None or stop > 200:
            return self._order()[:stop]
        positions = [p for p in self.index.positions_of(self.mask) if values[p] is not None]
        if len(positions) <= stop:
            return self._order()[:stop]
        pick = heapq.nlargest if self.descending else heapq.nsmallest
        edge = values[pick(stop, positions, key=values.__getitem__)[-1]]
        if self.descending:
            best = [p for p in positions if values[p] >= edge]
        else:
            best = [p for p in positions if values[p] <= edge]
        best.sort(key=self.index.name_ranks().__getitem__)
        best.sort(key=values.__getitem__, reverse=self.descending)
        return best[:stop]

    def _sort(self):
        positions = self.index.positions_of(self.mask)
        positions.sort(key=self.index.name_ranks().__getitem__)
        values = self.values
        if values is not None:
            known = [p for p in positions if values[p] is not None]
            known.sort(key=values.__getitem__, reverse=self.descending)  # stable
            positions = known + [p for p in positions if values[p] is None]
        return positions

    def __getitem__(self, item):
        ids = self.index.ids
        if isinstance(item, slice):
            start, stop, step = item.indices(len(self))
            if start == 0 and step == 1:
                return [ids[p] for p in self._first(stop)]
            return [ids[p] for p in self._order()[item]]
        return ids[self._order()[item]]


class Vocabularies:
    """What the index needs to turn a place's rows (integers) into facet values."""

    def __init__(self):
        self.territories = {
            pk: (code, name)
            for pk, code, name in Territory.objects.filter(
                kind__in=[Territory.Kind.REGION, Territory.Kind.DEPARTEMENT]
            ).values_list("pk", "insee_code", "name")
        }
        self.kind = {
            pk: (slug, name, name_en)
            for pk, slug, name, name_en in PlaceKind.objects.values_list(
                "pk", "slug", "name", "name_en"
            )
        }
        self.service = {
            pk: (slug, name, name_en)
            for pk, slug, name, name_en in Service.objects.values_list(
                "pk", "slug", "name", "name_en"
            )
        }
        self.source = {
            pk: (slug, short_title or title, "")
            for pk, slug, short_title, title in Source.objects.values_list(
                "pk", "slug", "short_title", "title"
            )
        }
        self.organisations = {
            pk: (slug, name, kind)
            for pk, slug, name, kind in Organisation.objects.values_list(
                "pk", "slug", "name", "kind"
            )
        }
        self.funder = {pk: (slug, name, "") for pk, (slug, name, _k) in self.organisations.items()}
        # Read when a page first needs them, and dropped with the vocabularies (any change
        # to a territory or a kind rebuilds them): catalogue.place_page.
        self.territory_rows = None  # {territory id: row}
        self.territory_codes = None  # {(kind, INSEE code): territory id}, régions, départements
        self.kind_objects = None  # [(slug, PlaceKind)] in the order of names
        self.entries = {}  # {vocabulary model: {id: entry}}, those a place page names
        # {territory id: Territory with its parents} the directory's cards share: read,
        # never changed (catalogue.place_page.attach_cards).
        self.card_territories = {}


# The place's own columns (values_list order) and its links, read the same way for the
# whole catalogue (build) and for the places a change touched (apply).
PLACE_COLUMNS = (
    "pk",
    "setting",
    "region_id",
    "departement_id",
    "legal_form",
    "status",
    "name",
    "slug",
)
# The numbers the directory filters by range and sorts on: index key → place column.
NUMBERS = {
    "year": "year_opened",
    "investment": "headline_investment",
    "budget": "headline_budget",
    "staff": "headline_staff",
    "population": "territory__population",
}
NAME_COLUMN, SLUG_COLUMN = 6, 7
# Positions per prefix bit set of a sorted number (FacetIndex.by_value).
CHUNK = 2048
LINKS = (
    ("kind", Place.kinds.through, "placekind_id"),
    ("service", Place.services.through, "service_id"),
    ("source", Place.sources.through, "source_id"),
)


def _facet_pairs(vocabularies, place_rows, links, funders):
    """(facet, value, (label, label_en), place id) for each facet value of each place."""
    for row in place_rows:
        for facet, column in (("setting", 1), ("legal_form", 4), ("status", 5)):
            if row[column] not in (None, ""):
                yield facet, row[column], ("", ""), row[0]
        for facet, column in (("region", 2), ("departement", 3)):
            if row[column] is not None:
                code, name = vocabularies.territories[row[column]]
                yield facet, code, (name, ""), row[0]
    for facet, pairs in links.items():
        vocabulary = getattr(vocabularies, facet)
        for place_id, item_id in pairs:
            value, label, label_en = vocabulary[item_id]
            yield facet, value, (label, label_en), place_id
    for place_id, organisation_id in funders:
        slug, name, kind = vocabularies.organisations[organisation_id]
        yield "funder", slug, (name, ""), place_id
        yield "funder_kind", kind, ("", ""), place_id


def _read(vocabularies, place_filter=None):
    """The published places' rows and their links, limited to ``place_filter`` ids."""
    places = Place.objects.published()
    if place_filter is not None:
        places = places.filter(pk__in=place_filter)
    place_rows = list(places.order_by("pk").values_list(*PLACE_COLUMNS, *NUMBERS.values()))

    def restricted(queryset):
        return queryset if place_filter is None else queryset.filter(place_id__in=place_filter)

    links = {
        facet: list(restricted(through.objects.all()).values_list("place_id", column))
        for facet, through, column in LINKS
    }
    funders = list(
        restricted(Funding.objects.order_by()).values_list("place_id", "organisation_id").distinct()
    )
    return place_rows, links, funders


def build(version, seq=0):
    """Read the published places and their links as integers, vocabularies apart."""
    vocabularies = Vocabularies()
    place_rows, links, funders = _read(vocabularies)
    index = FacetIndex(version=version, seq=seq, search_key=version, vocabularies=vocabularies)
    index.ids = [row[0] for row in place_rows]
    index.positions = {place_id: position for position, place_id in enumerate(index.ids)}
    index.all = (1 << len(index.ids)) - 1
    index.names = [row[NAME_COLUMN] for row in place_rows]
    index.slugs = [row[SLUG_COLUMN] for row in place_rows]
    for offset, key in enumerate(NUMBERS, start=len(PLACE_COLUMNS)):
        index.numbers[key] = [_number(row[offset]) for row in place_rows]
    buckets = {}
    for facet, value, labels, place_id in _facet_pairs(vocabularies, place_rows, links, funders):
        position = index.positions.get(place_id)
        if position is not None:
            buckets.setdefault((facet, value), []).append(position)
            index.labels[facet].setdefault(value, labels)
    for (facet, value), positions in buckets.items():
        index.masks[facet][value] = index.bit_set(positions)
    return index


def _moved_ranks(index, renamed):
    """(ranks, ranked) of ``index`` with the places renamed or added put in their new
    place among the names, each given a rank between its neighbours'; (None, None) to
    compute them afresh when needed (none yet, or no room left between two ranks)."""
    ranks, ranked = index.ranks, index.ranked
    if ranks is None or not renamed:
        return ranks, ranked
    for position, old, new in renamed:
        if old is not None:
            i = bisect.bisect_left(ranked, (old, ranks[position]))
            if i < len(ranked) and ranked[i] == (old, ranks[position]):
                del ranked[i]
        j = bisect.bisect_left(ranked, (new,))
        low = ranked[j - 1][1] if j > 0 else (ranked[0][1] - 2 if ranked else 0.0)
        high = ranked[j][1] if j < len(ranked) else low + 2
        rank = (low + high) / 2
        if not low < rank < high:
            return None, None
        ranked.insert(j, (new, rank))
        if position < len(ranks):
            ranks[position] = rank
        else:
            ranks.append(rank)
    return ranks, ranked


def _number(value):
    return None if value is None else float(value)


class StaleVocabulary(Exception):
    """A change refers to a vocabulary entry the index does not know: rebuild."""


def apply(index, place_ids, version, seq, search_key, search_history=None):
    """A new index: ``index`` with the rows of ``place_ids`` read again.

    The masks not involved are shared with ``index`` (ints are immutable), so requests
    still reading the old index see it unchanged. Positions are never reused: a place
    that leaves the published set keeps its position, with no bit set anywhere.
    """
    vocabularies = index.vocabularies
    place_ids = sorted(set(place_ids))
    place_rows, links, funders = _read(vocabularies, place_ids)
    new = FacetIndex(
        version=version,
        seq=seq,
        search_key=search_key,
        search_history=index.search_history if search_history is None else search_history,
        vocabularies=vocabularies,
        ids=index.ids,  # append-only: shared
        positions=index.positions,
        names=index.names,
        slugs=index.slugs,
        numbers=index.numbers,
        all=index.all,
        masks={facet: dict(values) for facet, values in index.masks.items()},
        labels={facet: dict(values) for facet, values in index.labels.items()},
    )
    try:
        pairs = list(_facet_pairs(vocabularies, place_rows, links, funders))
    except KeyError as error:
        raise StaleVocabulary(error) from error
    bits = {}
    for place_id in place_ids:
        position = new.positions.get(place_id)
        if position is None:
            continue
        bit = 1 << position
        bits[place_id] = bit
        new.all &= ~bit
        for values in new.masks.values():
            for value, mask in list(values.items()):
                if mask & bit:
                    mask ^= bit
                    if mask:
                        values[value] = mask
                    else:
                        del values[value]
    published = {row[0] for row in place_rows}
    changed_numbers, renamed = set(), []
    with _append_lock:
        # Names, slugs and numbers are shared too, and written in place: a request still
        # reading the old index may see a changed place's new value, never a wrong place's.
        for row in place_rows:
            position = new.positions.get(row[0])
            if position is None:
                new.positions[row[0]] = len(new.ids)
                new.ids.append(row[0])
                new.names.append(row[NAME_COLUMN])
                new.slugs.append(row[SLUG_COLUMN])
                renamed.append((len(new.ids) - 1, None, row[NAME_COLUMN]))
                for offset, key in enumerate(NUMBERS, start=len(PLACE_COLUMNS)):
                    new.numbers[key].append(_number(row[offset]))
                    changed_numbers.add(key)
            else:
                new.slugs[position] = row[SLUG_COLUMN]
                if new.names[position] != row[NAME_COLUMN]:
                    renamed.append((position, new.names[position], row[NAME_COLUMN]))
                    new.names[position] = row[NAME_COLUMN]
                for offset, key in enumerate(NUMBERS, start=len(PLACE_COLUMNS)):
                    number = _number(row[offset])
                    if new.numbers[key][position] != number:
                        new.numbers[key][position] = number
                        changed_numbers.add(key)
    # What is derived from unchanged names and numbers still holds.
    new.sorted_numbers = {
        key: found for key, found in index.sorted_numbers.items() if key not in changed_numbers
    }
    new.ranks, new.ranked = _moved_ranks(index, renamed)
    for place_id in published:
        bit = bits.get(place_id) or 1 << new.positions[place_id]
        bits[place_id] = bit
        new.all |= bit
    for facet, value, labels, place_id in pairs:
        if place_id in published:
            values = new.masks[facet]
            values[value] = values.get(value, 0) | bits[place_id]
            new.labels[facet].setdefault(value, labels)
    return new


# Earlier search keys remembered, and the most places changed since one of them.
SEARCH_HISTORY_KEPT = 50
SEARCH_HISTORY_PLACES = 2000


def _search_history(index, search_key, searched):
    """The index's search history once its search key moves to ``search_key`` because
    the search documents of ``searched`` (place ids; None: any place's) changed."""
    if search_key == index.search_key:
        return index.search_history
    if searched is None:
        return {}
    history = {}
    for key, ids in [*index.search_history.items(), (index.search_key, frozenset())]:
        ids = ids | searched
        if len(ids) <= SEARCH_HISTORY_PLACES:
            history[key] = ids
    return dict(list(history.items())[-SEARCH_HISTORY_KEPT:])


_append_lock = threading.Lock()
_lock = threading.Lock()
_current = None


def _updated(index, token, seq):
    """The index at (token, seq): ``index`` with the logged changes applied, or built
    again when the log does not reach back to it or a change touched everything."""
    if index is None or seq < index.seq or (seq == index.seq and token != index.version):
        return _rebuilt(token, seq)  # first time, or a database restored from elsewhere
    changes = versioning.changes_since(index.seq, index.version)
    if changes is None or set(range(index.seq + 1, seq + 1)) - set(changes):
        return _rebuilt(token, seq)  # the log was pruned past this index, or rolled back
    touched, search_key, searched = set(), index.search_key, set()
    for number, rows in changes.items():
        if number > seq:
            continue  # committed after the version was read: next time
        for scope, place_id in rows:
            if scope == "all":
                return _rebuilt(token, seq)
            if scope == "places":
                touched.add(place_id)
            elif scope == "search":
                search_key = token
                if searched is not None:
                    searched = None if place_id is None else searched | {place_id}
    history = _search_history(index, search_key, searched)
    try:
        new = apply(index, touched, token, seq, search_key, history)
    except StaleVocabulary:
        return _rebuilt(token, seq)
    new.postings = postings.carried(index.postings, new, searched)
    if new.postings is None:
        postings.schedule(new)
    return new


def _rebuilt(token, seq):
    index = build(token, seq)
    postings.schedule(index)  # read in a thread: searches go to the database meanwhile
    return index


def attach_postings(index, found):
    """Give the current index the postings ``found`` for ``index`` (read while requests
    went on), brought up to date with the changes since. Returns the index to read them
    again for when they cannot be (too many changes since), else None; they are dropped
    when the index was rebuilt since (that rebuild reads its own)."""
    with _lock:
        current = _current if _current is not None else index
        if current.positions is not found.positions:
            return None
        if current.search_key == found.search_key:
            searched = ()
        else:
            searched = current.search_history.get(found.search_key)
        current.postings = postings.carried(found, current, searched)
        return current if current.postings is None else None


def get_index():
    """The index for the current data version, updated with the changes since its own."""
    global _current
    token, seq, _at = versioning.current()
    index = _current
    if index is None or index.version != token:
        with _lock:
            if _current is None or _current.version != token:
                _current = _updated(_current, token, seq)
            index = _current
    return index


def current_index():
    """The process's index if it is up to date with the data, else None: never builds or
    updates it (for lookups that have another way, such as the filters' values)."""
    index = _current
    if index is None or index.version != versioning.current()[0]:
        return None
    return index


def warm_up():
    """Build the index now (at process start) rather than on the first visitor's request,
    with its search postings."""
    index = get_index()
    postings.ensure(index)
    return index
