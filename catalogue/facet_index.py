"""An in-memory index of the directory's facets: for every facet value, the set of places
that have it, as a bit set (a Python int, one bit per published place).

Counting a facet value for a result set is then one AND and one population count, in
microseconds, instead of a grouped SQL query over the filtered rows. The index is built
from the database (ten queries, integers mostly) and kept per process until the
catalogue's data version changes; at 100,000 places it takes a few megabytes.
"""

import threading
from dataclasses import dataclass, field

from . import versioning
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


@dataclass
class FacetIndex:
    version: int
    ids: list = field(default_factory=list)  # bit position → place id
    positions: dict = field(default_factory=dict)  # place id → bit position
    all: int = 0
    masks: dict = field(default_factory=lambda: {name: {} for name in FACETS})
    labels: dict = field(default_factory=lambda: {name: {} for name in FACETS})

    def mask_of(self, place_ids):
        """The bit set of the given places (unknown or unpublished ids are ignored)."""
        positions = self.positions
        return self.bit_set(positions[pk] for pk in place_ids if pk in positions)

    def bit_set(self, positions):
        bits = bytearray((len(self.ids) + 7) // 8)
        for position in positions:
            bits[position >> 3] |= 1 << (position & 7)
        return int.from_bytes(bits, "little")

    def members(self, mask):
        """The place ids of a bit set, in bit order."""
        bits = bin(mask)[:1:-1]  # bit 0 first
        ids, position = self.ids, bits.find("1")
        found = []
        while position != -1:
            found.append(ids[position])
            position = bits.find("1", position + 1)
        return found

    def value_mask(self, facet, values):
        """Places having any of ``values`` in ``facet``."""
        mask = 0
        for value in values:
            mask |= self.masks[facet].get(value, 0)
        return mask


def _bit_sets(index, pairs):
    """{value: bit set} from (place id, value) pairs; unknown places are ignored."""
    positions = index.positions
    buckets = {}
    for place_id, value in pairs:
        position = positions.get(place_id)
        if position is not None and value not in (None, ""):
            buckets.setdefault(value, []).append(position)
    return {value: index.bit_set(found) for value, found in buckets.items()}


def build(version):
    """Read the published places and their links as integers, vocabularies apart."""
    places = list(
        Place.objects.published()
        .order_by("pk")
        .values_list("pk", "setting", "region_id", "departement_id", "legal_form", "status")
    )
    index = FacetIndex(version=version)
    index.ids = [row[0] for row in places]
    index.positions = {place_id: position for position, place_id in enumerate(index.ids)}
    index.all = (1 << len(index.ids)) - 1
    for facet, column in (("setting", 1), ("legal_form", 4), ("status", 5)):
        index.masks[facet] = _bit_sets(index, ((row[0], row[column]) for row in places))
        index.labels[facet] = dict.fromkeys(index.masks[facet], ("", ""))

    territories = {
        pk: (code, name)
        for pk, code, name in Territory.objects.filter(
            kind__in=[Territory.Kind.REGION, Territory.Kind.DEPARTEMENT]
        ).values_list("pk", "insee_code", "name")
    }
    for facet, column in (("region", 2), ("departement", 3)):
        by_id = _bit_sets(index, ((row[0], row[column]) for row in places))
        for territory_id, mask in by_id.items():
            code, name = territories[territory_id]
            index.masks[facet][code] = mask
            index.labels[facet][code] = (name, "")

    def linked(facet, links, vocabulary):
        """Links (place id, vocabulary id); vocabulary {id: (value, label, label_en)}."""
        for item_id, mask in _bit_sets(index, links).items():
            value, label, label_en = vocabulary[item_id]
            index.masks[facet][value] = mask
            index.labels[facet][value] = (label, label_en)

    linked(
        "kind",
        Place.kinds.through.objects.values_list("place_id", "placekind_id"),
        {
            pk: (slug, name, name_en)
            for pk, slug, name, name_en in PlaceKind.objects.values_list(
                "pk", "slug", "name", "name_en"
            )
        },
    )
    linked(
        "service",
        Place.services.through.objects.values_list("place_id", "service_id"),
        {
            pk: (slug, name, name_en)
            for pk, slug, name, name_en in Service.objects.values_list(
                "pk", "slug", "name", "name_en"
            )
        },
    )
    linked(
        "source",
        Place.sources.through.objects.values_list("place_id", "source_id"),
        {
            pk: (slug, short_title or title, "")
            for pk, slug, short_title, title in Source.objects.values_list(
                "pk", "slug", "short_title", "title"
            )
        },
    )
    organisations = {
        pk: (slug, name, kind)
        for pk, slug, name, kind in Organisation.objects.values_list("pk", "slug", "name", "kind")
    }
    funders = list(Funding.objects.values_list("place_id", "organisation_id").distinct())
    linked(
        "funder", funders, {pk: (slug, name, "") for pk, (slug, name, _k) in organisations.items()}
    )
    kinds = _bit_sets(index, ((place, organisations[org][2]) for place, org in funders))
    index.masks["funder_kind"] = kinds
    index.labels["funder_kind"] = dict.fromkeys(kinds, ("", ""))
    return index


_lock = threading.Lock()
_current = None


def get_index():
    """The index for the current data version, built again when the data changed."""
    global _current
    version = versioning.data_version()
    index = _current
    if index is None or index.version != version:
        with _lock:
            if _current is None or _current.version != version:
                _current = build(version)
            index = _current
    return index
