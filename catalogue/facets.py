"""Facet counts for the directory: for each filter value, how many places it would show.

A facet is counted on the results of every *other* active filter, so the counts of a facet
do not collapse to the one value already chosen (several kinds can be ticked at once).

Counts come from the in-memory facet index (catalogue.facet_index): each filter in use
becomes a bit set of places, and a value's count is the population count of its bit set
ANDed with the other filters'. Only the search and the ranges on figures ask the database.
"""

import threading
from collections import OrderedDict
from dataclasses import dataclass, field

from django.utils.translation import get_language

from . import search
from .facet_index import get_index
from .filters import AREA_CHOICES, KIND_ALIASES, PlaceFilter, in_use
from .models import RURAL_SETTINGS, URBAN_SETTINGS, LegalForm, Organisation, Place, Setting
from .text import fold

# The funders offered in the page itself (the most frequent); the others are reached by
# typing their name (the autocomplete asks `funder_options`, or the server resolves it).
SHOWN_FUNDERS = 12


@dataclass
class Option:
    value: str
    label: str
    count: int
    selected: bool = False


@dataclass
class Facet:
    name: str
    label: str
    multiple: bool
    options: list = field(default_factory=list)

    @property
    def has_choice(self):
        return any(option.count or option.selected for option in self.options)

    @property
    def any_selected(self):
        return any(option.selected for option in self.options)


def _selected(filterset, name):
    raw = filterset.form.data
    values = raw.getlist(name) if hasattr(raw, "getlist") else [raw.get(name)]
    return {value for value in values if value}


# The filters whose values are facets, and the facet of the index each one reads.
FACET_SOURCES = {
    "kind": "kind",
    "setting": "setting",
    "area": "setting",
    "region": "region",
    "departement": "departement",
    "service": "service",
    "funder_kind": "funder_kind",
    "funder": "funder",
    "legal_form": "legal_form",
    "status": "status",
    "source": "source",
}
# Facet values that the directory does not offer (they stand for a value of another facet:
# see filters.KIND_ALIASES).
HIDDEN_VALUES = {"kind": set(KIND_ALIASES)}
RANGE_FILTERS = [
    "year_min",
    "year_max",
    "investment_min",
    "investment_max",
    "budget_min",
    "budget_max",
    "staff_min",
    "staff_max",
    "population_min",
    "population_max",
]


# The sorts the index answers itself (by one of its numbers, then the name).
NUMERIC_SORTS = {"year", "investment", "budget", "population"}


# Up to this many results, the index also sorts by name (fetching a page of places by id
# is then cheaper than the database's filtered, sorted query); beyond, the database walks
# its index on names.
SORTED_BY_NAME_HERE = 20_000


def ordered_results(results, sort):
    """The ids of ``results`` in the order ``sort`` names (a lazy sequence, for a
    paginator), or None when the database sorts them (by name, many results).

    Names compare as Python compares strings, by code point, which is the order of the
    databases the tests and the benchmark use (SQLite, PostgreSQL with the C collation)."""
    key = (sort or "name").lstrip("-")
    if key == "name" and results.mask.bit_count() <= SORTED_BY_NAME_HERE:
        return results.index.ordered(results.mask, "name")
    if key not in NUMERIC_SORTS:
        return None
    return results.index.ordered(results.mask, key, descending=sort.startswith("-"))


def filter_masks(filterset, base, index, scoped, hits=None):
    """One bit set per filter in use: the places that filter alone lets through.

    ``hits`` are the search's matches when the caller already has them.
    """
    data = filterset.form.cleaned_data
    masks = {}
    if scoped:
        masks["_scope"] = index.mask_of(base.values_list("pk", flat=True))
    query = data.get("q")
    if query:
        if hits is None:
            hits = search.hits(query).values_list("place_id", flat=True)
        masks["q"] = hits.mask_in(index) if isinstance(hits, search.Hits) else index.mask_of(hits)
    ranges = [name for name in RANGE_FILTERS if data.get(name) is not None]
    if ranges:
        # Ranges are not facets: from the index's numbers, no query.
        mask = index.all
        for name in ranges:
            key, bound = name.rsplit("_", 1)
            if bound == "min":
                mask &= index.range_mask(key, low=data[name])
            else:
                mask &= index.range_mask(key, high=data[name])
        masks["_ranges"] = mask
    for name, facet in FACET_SOURCES.items():
        value = data.get(name)
        if not in_use(value):
            continue
        if name in ("kind", "service", "source"):
            values = [item.slug for item in value]
        elif name == "area":
            values = RURAL_SETTINGS if value == "rural" else URBAN_SETTINGS
        elif name in ("region", "departement"):
            values = [value.insee_code]
        elif name == "funder":
            values = [value.slug]
        elif isinstance(value, str):
            values = [value]
        else:
            values = list(value)
        masks[name] = index.value_mask(facet, values)
    return masks


@dataclass
class ResultSet:
    """The places the filters leave, as a bit set; their ids only when asked for."""

    index: object
    mask: int

    def ids(self):
        return self.index.members(self.mask)


# The counts of the last filter combinations asked for, with the index they were counted
# on: the other pages of the same results, or the same question asked again, read them.
# Each holds its bit sets (12.5 kB each at 100,000 places) and a few hundred counts.
COUNTS_KEPT = 32
_counts = OrderedDict()
_counts_lock = threading.Lock()


def forget_counts():
    with _counts_lock:
        _counts.clear()


def count_facets(filterset, base, scoped=False, hits=None):
    """From the facet index: {facet: [(value, label, n)]} with labels in the current
    language, how many places each filter in use would leave without it, and the
    results. Read them, never change them: they are kept for the next callers."""
    index = get_index()
    masks = filter_masks(filterset, base, index, scoped, hits)
    english = get_language() == "en"
    key = (english, tuple(sorted(masks.items())))
    with _counts_lock:
        kept = _counts.get(key)
        if kept is not None and kept[0] is index:
            _counts.move_to_end(key)
            return kept[1:]
    counted = _count_facets(index, masks, english)
    with _counts_lock:
        _counts[key] = (index, *counted)
        _counts.move_to_end(key)
        while len(_counts) > COUNTS_KEPT:
            _counts.popitem(last=False)
    return counted


def _count_facets(index, masks, english):

    def without(*names):
        result = index.all
        for name, mask in masks.items():
            if name not in names:
                result &= mask
        return result

    grouped = {}
    for name, facet in FACET_SOURCES.items():
        others = without(name)
        rows = grouped[name] = []
        hidden = HIDDEN_VALUES.get(name, ())
        for value, mask in index.masks[facet].items():
            if value in hidden:
                continue
            label, label_en = index.labels[facet][value]
            rows.append(
                (value, label_en if english and label_en else label, (others & mask).bit_count())
            )
    without_each = {name: without(name).bit_count() for name in masks}
    return grouped, without_each, ResultSet(index, without())


def build_facets(filterset: PlaceFilter, base, scoped=False, hits=None):
    """Facets for the current filters, the number of places they leave, how many there
    would be without each filter in use, and the places they leave.

    ``scoped`` says that ``base`` is narrower than all published places (a territory).
    """
    grouped, without_each, results = count_facets(filterset, base, scoped, hits)
    total = results.mask.bit_count()

    facets = {}

    def add(name, rows, multiple, order="count"):
        selected = _selected(filterset, name)
        if order == "count":
            rows = sorted(rows, key=lambda row: (-row[2], str(row[1])))
        elif order == "label":
            rows = sorted(rows, key=lambda row: str(row[1]))
        options = [Option(value, str(text), n, value in selected) for value, text, n in rows]
        facets[name] = Facet(name, filterset.filters[name].label, multiple, options)

    def counts(name):
        return {value: n for value, _label, n in grouped.get(name, [])}

    add("kind", grouped.get("kind", []), True)
    settings = counts("setting")
    add(
        "setting",
        [(v, label, settings.get(v, 0)) for v, label in Setting.choices],
        True,
        order=None,
    )
    # The setting checkboxes come in two groups, rural and urban (what `area` chose).
    facets["setting"].groups = [
        (
            label,
            [option for option in facets["setting"].options if option.value in members],
        )
        for (_value, label), members in zip(
            AREA_CHOICES, (RURAL_SETTINGS, URBAN_SETTINGS), strict=True
        )
    ]
    add("region", grouped.get("region", []), False, order="label")
    add("departement", grouped.get("departement", []), False, order="label")
    add("service", grouped.get("service", []), True)
    kind_labels = dict(Organisation.Kind.choices)
    add(
        "funder_kind",
        [(v, kind_labels.get(v, v), n) for v, _l, n in grouped.get("funder_kind", [])],
        False,
    )
    funders = sorted(grouped.get("funder", []), key=lambda row: (-row[2], row[1]))
    add("funder", funders, False, order=None)
    chosen = filterset.form.cleaned_data.get("funder")
    facets["funder"].chosen = chosen
    facets["funder"].shown = [
        option for option in facets["funder"].options[:SHOWN_FUNDERS] if option.count
    ]
    legal_labels = dict(LegalForm.choices)
    add(
        "legal_form",
        [(v, legal_labels.get(v, v), n) for v, _l, n in grouped.get("legal_form", [])],
        True,
    )
    statuses = counts("status")
    add(
        "status",
        [(v, label, statuses.get(v, 0)) for v, label in Place.Status.choices],
        True,
        order=None,
    )
    add("source", grouped.get("source", []), True)
    return facets, total, without_each, results


def matching_options(facet, term, limit=20):
    """A facet's options that leave places and whose label contains ``term`` (accents
    and case folded): labels with a word starting with it first, then by count."""
    wanted = fold(term).strip()
    if not wanted:
        return [option for option in facet.options if option.count][:limit]
    found = []
    for option in facet.options:
        if not option.count:
            continue  # would lead to an empty page
        label = fold(option.label)
        position = label.find(wanted)
        if position != -1:
            starts = position == 0 or not label[position - 1].isalnum()
            found.append((not starts, -option.count, label, option))
    found.sort(key=lambda row: row[:3])
    return [row[3] for row in found[:limit]]
