"""An in-memory index of the directory's facets: for every facet value, the set of places
that have it, as a bit set (a Python int, one bit per published place).

Counting a facet value for a result set is then one AND and one population count, in
microseconds, instead of a grouped SQL query over the filtered rows. The index is built
from the database (four queries) and kept per process until the catalogue's data version
changes; at 100,000 places it takes a few megabytes.
"""

import threading
from dataclasses import dataclass, field

from django.db.models import Q

from . import versioning
from .models import Funding, Place

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
        bits = bytearray((len(self.ids) + 7) // 8)
        positions = self.positions
        for place_id in place_ids:
            position = positions.get(place_id)
            if position is not None:
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


def _collect(index, rows):
    """Turn (facet, value, label, label_en, place id) rows into bit sets."""
    buckets = {}
    positions = index.positions
    for facet, value, label, label_en, place_id in rows:
        if value in (None, ""):
            continue
        position = positions.get(place_id)
        if position is None:
            continue
        buckets.setdefault((facet, value), []).append(position)
        index.labels[facet].setdefault(value, (label or "", label_en or ""))
    size = (len(index.ids) + 7) // 8
    for (facet, value), found in buckets.items():
        bits = bytearray(size)
        for position in found:
            bits[position >> 3] |= 1 << (position & 7)
        index.masks[facet][value] = int.from_bytes(bits, "little")


def build(version):
    published = Place.objects.published()
    places = list(
        published.order_by("pk").values_list(
            "pk",
            "setting",
            "region__insee_code",
            "region__name",
            "departement__insee_code",
            "departement__name",
            "legal_form",
            "status",
        )
    )
    index = FacetIndex(version=version)
    index.ids = [row[0] for row in places]
    index.positions = {place_id: position for position, place_id in enumerate(index.ids)}
    index.all = (1 << len(index.ids)) - 1
    rows = []
    for pk, setting, region, region_name, dep, dep_name, legal_form, status in places:
        rows += [
            ("setting", setting, "", "", pk),
            ("region", region, region_name, "", pk),
            ("departement", dep, dep_name, "", pk),
            ("legal_form", legal_form, "", "", pk),
            ("status", status, "", "", pk),
        ]
    is_published = Q(place__editorial_status=Place.EditorialStatus.PUBLISHED)
    for row in Place.kinds.through.objects.filter(is_published).values_list(
        "placekind__slug", "placekind__name", "placekind__name_en", "place_id"
    ):
        rows.append(("kind", *row))
    for row in Place.services.through.objects.filter(is_published).values_list(
        "service__slug", "service__name", "service__name_en", "place_id"
    ):
        rows.append(("service", *row))
    for kind, slug, name, place_id in (
        Funding.objects.filter(is_published)
        .values_list("organisation__kind", "organisation__slug", "organisation__name", "place_id")
        .distinct()
    ):
        rows.append(("funder_kind", kind, "", "", place_id))
        rows.append(("funder", slug, name, "", place_id))
    _collect(index, rows)
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
