"""Load the curated corpus (YAML files in fixtures/) into the database.

The format is described in docs/corpus-format.md. Loading is idempotent: every object is
found by its natural key and written only when a field differs, and the child rows of a
place (figures, fundings, lessons) are synchronised per place and source, so a second run
writes nothing. It lives in `casestudies` because it fills both apps.
"""

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import yaml
from django.db import transaction

from casestudies.models import (
    CaseStudy,
    ComparisonCell,
    ComparisonColumn,
    ComparisonRow,
    ComparisonTable,
    CorpusRecord,
    Section,
)
from casestudies.search import reindex_case_studies
from catalogue.models import (
    EditorialStatus,
    Figure,
    Funding,
    Indicator,
    Lesson,
    Organisation,
    Place,
    PlaceKind,
    Service,
    Source,
    Territory,
)
from catalogue.search import reindex

from .attribution import Attribution
from .ledger import Conflict, InvalidRecord, Ledger, digest, label_of, normalize

FIXTURES_DIR = Path(__file__).resolve().parent.parent / "fixtures"
# The ledger's name for the lessons the loader linked to each case study.
LINKS = "casestudies.casestudy.lessons"


class CorpusError(Exception):
    """A corpus file refers to something that does not exist, or holds a bad value."""


@dataclass
class Report:
    created: dict = field(default_factory=lambda: defaultdict(int))
    updated: dict = field(default_factory=lambda: defaultdict(int))
    deleted: dict = field(default_factory=lambda: defaultdict(int))
    warnings: list = field(default_factory=list)
    # Records left alone because someone changed them (Conflict), and records overwritten
    # anyway with --force.
    conflicts: list = field(default_factory=list)
    forced: list = field(default_factory=list)
    # Per-record detail of what was written: (bucket, model, label, fields).
    changes: list = field(default_factory=list)
    adopted: int = 0
    # Records of the corpus that are no longer in its files, left in the database.
    orphans: list = field(default_factory=list)

    @property
    def writes(self):
        return sum(self.created.values()) + sum(self.updated.values()) + sum(self.deleted.values())

    def count(self, bucket, model):
        getattr(self, bucket)[model._meta.verbose_name_plural] += 1

    def take(self, outcome):
        for model, label in outcome.created:
            self.count("created", model)
            self.changes.append(("created", model, label, []))
        for model, label, fields in outcome.updated:
            self.count("updated", model)
            self.changes.append(("updated", model, label, fields))
        for model, label in outcome.deleted:
            self.count("deleted", model)
            self.changes.append(("deleted", model, label, []))
        self.conflicts = list(outcome.conflicts)
        self.forced = list(outcome.forced)
        self.adopted = outcome.adopted


def corpus_files(directory=FIXTURES_DIR):
    directory = Path(directory)
    return [
        directory / "vocabularies.yaml",
        directory / "territories.yaml",
        directory / "sources.yaml",
        *sorted((directory / "corpus").glob("*.yaml")),
    ]


def read_yaml(path):
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise CorpusError(f"{path.name}: invalid YAML: {error}") from error
    return data or {}


def decimal_or_none(value, where):
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except ArithmeticError as error:
        raise CorpusError(f"{where}: not a number: {value!r}") from error


def text(value):
    return "" if value is None else str(value).strip()


class DryRun(Exception):
    """Raised inside the load's transaction to roll it back after a dry run."""


def row_key(prefix, values, seen):
    """A row's name in the ledger: its group and the fingerprint of its content, so that
    rows keep their identity when others are added or removed around them. A translation
    (`*_en`) is not part of the identity: adding one updates the row in place."""
    content = {k: normalize(v) for k, v in values.items() if not k.endswith("_en")}
    base = f"{prefix}{digest(content)[:16]}"
    seen[base] += 1
    return base if seen[base] == 1 else f"{base}~{seen[base]}"


class Loader:
    def __init__(self, directory=FIXTURES_DIR, *, force=False, dry_run=False):
        self.directory = Path(directory)
        self.force = force
        self.dry_run = dry_run
        self.report = Report()
        self.files = [(path, read_yaml(path)) for path in corpus_files(self.directory)]

    # -- generic helpers -------------------------------------------------------------------

    def upsert(self, model, key, lookup, values):
        """Write one record through the ledger (which leaves editors' changes alone)."""
        return self.ledger.write(model, key, values, lookup=lookup)

    def get(self, model, slug, where):
        try:
            return self.cache[model][slug]
        except KeyError:
            try:
                obj = model.objects.get(slug=slug)
            except model.DoesNotExist:
                if (label_of(model), slug) in self.ledger.records:
                    raise CorpusError(
                        f"{where}: {model._meta.verbose_name} {slug!r} was deleted in the "
                        "database, but the corpus still uses it: restore it (admin history) or "
                        "load with --force"
                    ) from None
                raise CorpusError(f"{where}: unknown {model._meta.verbose_name} {slug!r}") from None
            self.cache[model][slug] = obj
            return obj

    def keep(self, model, slug, obj):
        if obj is not None:
            self.cache[model][slug] = obj
        return obj

    # -- phases ----------------------------------------------------------------------------

    def run(self):
        try:
            with transaction.atomic():
                self.load()
                if self.dry_run:
                    raise DryRun
        except DryRun:
            pass
        except InvalidRecord as error:
            raise CorpusError(str(error)) from error
        return self.report

    def load(self):
        self.cache = defaultdict(dict)
        self.ledger = Ledger(force=self.force)
        # Lessons the loader wrote before this load (see link_lessons).
        self.lessons_before_load = set(self.ledger.owners[label_of(Lesson)])
        self.load_vocabularies()
        self.load_sources()
        self.load_territories()
        self.load_organisations()
        self.load_places()
        self.load_case_studies()
        self.load_tables()
        self.retire_rows()
        self.report.take(self.ledger.outcome)
        reindexed = reindex(Place.objects.filter(slug__in=self.cache[Place]))
        reindexed += reindex_case_studies(CaseStudy.objects.filter(slug__in=self.case_slugs))
        if reindexed:
            self.report.updated["search documents"] += reindexed

    def corpus(self):
        """Yield (file name, data, source, checked_on) for each corpus file."""
        for path, data in self.files:
            if path.parent.name != "corpus":
                continue
            slug = data.get("source")
            source = self.get(Source, slug, path.name) if slug else None
            checked_on = data.get("checked_on")
            if checked_on is not None and not isinstance(checked_on, datetime.date):
                raise CorpusError(f"{path.name}: checked_on must be a date (YYYY-MM-DD)")
            yield path.name, data, source, checked_on

    def entries(self, key):
        for path, data in self.files:
            for entry in data.get(key) or []:
                yield path.name, entry

    def load_vocabularies(self):
        models_by_key = {"place_kinds": PlaceKind, "services": Service, "indicators": Indicator}
        for key, model in models_by_key.items():
            for position, (_where, entry) in enumerate(self.entries(key)):
                values = {"name": text(entry["name"]), "name_en": text(entry.get("name_en"))}
                if model is Indicator:
                    values |= {"unit": entry.get("unit", "count"), "position": position}
                self.upsert(model, entry["slug"], {"slug": entry["slug"]}, values)

    def load_sources(self):
        for _where, entry in self.entries("sources"):
            self.upsert(Source, entry["slug"], {"slug": entry["slug"]}, source_values(entry))

    def load_territories(self):
        definitions = {}
        for where, entry in self.entries("territories"):
            slug = entry["slug"]
            entry = dict(entry, _where=where)
            if slug in definitions:
                self.merge_territory(definitions[slug], entry)
            else:
                definitions[slug] = entry
        sources = {
            name: self.get(Source, data["source"], name)
            for name, data in ((p.name, d) for p, d in self.files)
            if data.get("source")
        }
        done = set()

        def load(slug, trail=()):
            if slug in done:
                return
            if slug in trail:
                raise CorpusError(f"territory {slug!r}: its parents form a loop")
            entry = definitions.get(slug)
            if entry is None:
                raise CorpusError(f"unknown territory {slug!r}")
            parent = None
            if entry.get("parent"):
                if entry["parent"] not in definitions:
                    raise CorpusError(
                        f"{entry['_where']}: territory {slug!r} has unknown parent "
                        f"{entry['parent']!r}"
                    )
                load(entry["parent"], (*trail, slug))
                parent = self.get(Territory, entry["parent"], entry["_where"])
            values = territory_values(entry) | {"parent": parent}
            if entry.get("population") is not None:
                values["population_source"] = sources.get(
                    entry.get("_population_file", entry["_where"])
                )
            self.keep(Territory, slug, self.upsert(Territory, slug, {"slug": slug}, values))
            done.add(slug)

        for slug in definitions:
            load(slug)

    def merge_territory(self, first, other):
        """Two files define the same territory: fill blanks, report conflicts."""
        for name, value in other.items():
            if name.startswith("_") or value in (None, ""):
                continue
            current = first.get(name)
            if current in (None, ""):
                first[name] = value
                if name == "population":
                    first["_population_file"] = other["_where"]
            elif current != value and name not in ("population_section",):
                self.report.warnings.append(
                    f"territory {first['slug']!r}: {name} is {current!r} in "
                    f"{first['_where']} but {value!r} in {other['_where']} (first kept)"
                )

    def load_organisations(self):
        seen = {}
        for where, entry in self.entries("organisations"):
            values = organisation_values(entry)
            slug = entry["slug"]
            if slug in seen:
                if seen[slug] != values:
                    self.report.warnings.append(
                        f"organisation {slug!r} defined differently in {where} (first kept)"
                    )
                continue
            seen[slug] = values
            self.keep(Organisation, slug, self.upsert(Organisation, slug, {"slug": slug}, values))

    def load_places(self):
        merged = {}
        rows = defaultdict(lambda: {"figure": [], "funding": [], "lesson": []})
        for where, data, file_source, checked_on in self.corpus():
            for entry in data.get("places") or []:
                slug = entry["slug"]
                where_place = f"{where}: place {slug!r}"
                if not entry.get("extends"):
                    if slug in merged and merged[slug]["entry"] is not None:
                        raise CorpusError(
                            f"{where_place} is already defined in {merged[slug]['where']}"
                        )
                    merged.setdefault(slug, new_merge())
                    merged[slug].update(entry=entry, where=where, checked_on=checked_on)
                else:
                    merged.setdefault(slug, new_merge())
                place = merged[slug]
                place["kinds"] += [
                    self.get(PlaceKind, k, where_place) for k in entry.get("kinds", [])
                ]
                place["services"] += [
                    self.get(Service, s, where_place) for s in entry.get("services", [])
                ]
                place["aliases"] += [text(a) for a in entry.get("aliases", [])]
                if file_source is not None:
                    place["sources"].append(file_source)
                for kind in ("figure", "funding", "lesson"):
                    for item in entry.get(f"{kind}s") or []:
                        source = self.item_source(item, file_source, where_place)
                        place["sources"].append(source)
                        rows[(slug, source.slug)][kind].append((where_place, item, source))
        for slug, place in merged.items():
            if place["entry"] is None:
                raise CorpusError(f"place {slug!r}: only `extends` entries, no definition")
            values = place_values(place["entry"], place["checked_on"]) | {
                "territory": self.get(Territory, place["entry"]["territory"], place["where"])
                if place["entry"].get("territory")
                else None,
                "aliases": list(dict.fromkeys(place["aliases"])),
                "kinds": {k.pk for k in place["kinds"]},
                "services": {s.pk for s in place["services"]},
            }
            obj = self.keep(Place, slug, self.upsert(Place, slug, {"slug": slug}, values))
            if obj is not None:
                # Sources are added, never taken away: editors cite theirs too.
                missing = {s.pk for s in place["sources"]} - set(
                    obj.sources.values_list("pk", flat=True)
                )
                if missing:
                    obj.sources.add(*missing)
                    self.report.count("updated", Place)
        for (slug, source_slug), wanted in rows.items():
            place = self.cache[Place].get(slug)
            prefix = f"{slug}|{source_slug}|"
            if place is None:
                for model in (Figure, Funding, Lesson):
                    self.ledger.skip(model, prefix)
                continue
            self.sync_place_rows(place, prefix, wanted)

    def item_source(self, item, file_source, where):
        if item.get("source"):
            return self.get(Source, item["source"], where)
        if file_source is None:
            raise CorpusError(f"{where}: an item has no `source` and its file names none")
        return file_source

    def sync_place_rows(self, place, prefix, wanted):
        rows = {Figure: {}, Funding: {}, Lesson: {}}
        seen = defaultdict(int)
        for where, item, source in wanted["figure"]:
            values = figure_values(item, where) | {
                "place": place,
                "indicator": self.get(Indicator, item["indicator"], where),
                "source": source,
            }
            rows[Figure][row_key(f"{prefix}figure|", values, seen)] = (values, source)
        for where, item, source in wanted["funding"]:
            values = funding_values(item, where) | {
                "place": place,
                "organisation": self.get(Organisation, item["funder"], where),
                "source": source,
            }
            rows[Funding][row_key(f"{prefix}funding|", values, seen)] = (values, source)
        for where, item, source in wanted["lesson"]:
            values = self.lesson_values(item, where, source, place)
            rows[Lesson][row_key(f"{prefix}lesson|", values, seen)] = (values, source)
        for model, group in rows.items():
            kind = model._meta.model_name
            self.ledger.reconcile(
                model, f"{prefix}{kind}|", {key: values for key, (values, _s) in group.items()}
            )
            for key, (values, source) in group.items():
                self.ledger.write(model, key, values, match={"place": place, "source": source})

    def lesson_values(self, item, where, source, place=None):
        return lesson_values(item) | {
            "place": place,
            "source": source,
            "cited_places": {self.get(Place, slug, where).pk for slug in item.get("places", [])},
        }

    def load_case_studies(self):
        self.case_slugs = []
        linked = []  # (case study, its places in the corpus, its own lessons)
        for where, data, file_source, checked_on in self.corpus():
            for entry in data.get("case_studies") or []:
                slug = entry["slug"]
                where_case = f"{where}: case study {slug!r}"
                source = self.item_source(entry, file_source, where_case)
                places = [self.get(Place, p, where_case) for p in entry.get("places", [])]
                values = case_values(entry, checked_on) | {
                    "source": source,
                    "places": {p.pk for p in places},
                }
                case = self.upsert(CaseStudy, slug, {"slug": slug}, values)
                self.case_slugs.append(slug)
                if case is None:
                    self.ledger.skip(Section, f"{slug}|")
                    self.ledger.skip(Lesson, f"case:{slug}|")
                    continue
                for position, item in enumerate(entry.get("sections") or [], start=1):
                    order = item.get("order", position)
                    self.ledger.write(
                        Section,
                        f"{slug}|section|{order}",
                        section_values(item),
                        lookup={"case_study": case, "order": order},
                    )
                seen = defaultdict(int)
                own, lessons = [], {}
                for item in entry.get("lessons") or []:
                    values = self.lesson_values(item, where_case, source)
                    lessons[row_key(f"case:{slug}|lesson|", values, seen)] = values
                self.ledger.reconcile(Lesson, f"case:{slug}|lesson|", lessons)
                for key, values in lessons.items():
                    lesson = self.ledger.write(
                        Lesson, key, values, match={"place": None, "source": source}
                    )
                    if lesson is not None:
                        own.append(lesson)
                linked.append((case, places, own))
        self.link_lessons(linked)

    def link_lessons(self, linked):
        """A case study presents its own cross-case lessons and the lessons of its places
        that belong to it (casestudies.attribution): a lesson whose section belongs to
        another case study, e.g. a place's own monograph, is not this one's.

        The links the loader made are kept in the ledger (LINKS). A link it made that is
        no longer wanted goes, unless someone removed it already; a link an editor made is
        never touched; a wanted link an editor removed is not made again (reported)."""
        attribution = Attribution.from_database()
        for case, places, own in linked:
            key = f"{case.slug}|lessons"
            record = self.ledger.records.get((LINKS, key))
            current = set(case.lessons.values_list("pk", flat=True))
            wanted = {lesson.pk for lesson in own}
            for pk, place_id, source_id, section in Lesson.objects.filter(
                place__in=places, source=case.source_id
            ).values_list("pk", "place_id", "source_id", "section"):
                home = attribution.lesson_case(place_id, source_id, section)
                if home is not None and home.pk == case.pk:
                    wanted.add(pk)
            if record is not None:
                loaded = set(record.values["lessons"])
            else:
                # First load since links are recorded: the earlier loader linked every
                # lesson of the case's places from its source; those of its own lessons
                # still linked count as its links, the others as editors'.
                mine = self.lessons_before_load
                before = Lesson.objects.filter(
                    pk__in=current & mine, place__in=places, source=case.source_id
                )
                loaded = set(before.values_list("pk", flat=True)) | (current & wanted & mine)
            unlinked = (loaded - current) & wanted
            if unlinked:
                texts = Lesson.objects.filter(pk__in=unlinked).values_list("text", flat=True)
                conflict = Conflict(
                    Conflict.EDITED,
                    CaseStudy,
                    key,
                    str(case),
                    detail="lessons unlinked in the database: "
                    + " | ".join(text[:60] for text in texts),
                )
                if self.force:
                    self.ledger.outcome.forced.append(conflict)
                else:
                    self.ledger.conflict(conflict)
            add = wanted - current - (set() if self.force else unlinked)
            remove = (loaded & current) - wanted
            if add:
                case.lessons.add(*add)
            if remove:
                case.lessons.remove(*remove)
            if add or remove:
                self.ledger.outcome.updated.append((CaseStudy, str(case), ["lessons"]))
            values = {"lessons": sorted(wanted)}
            if record is None:
                record = CorpusRecord(model=LINKS, key=key)
                self.ledger.records[(LINKS, key)] = record
            if record.pk is None or record.values != values or record.object_id != case.pk:
                record.object_id = case.pk
                record.values = values
                record.digest = digest(values)
                record.save()
            self.ledger.seen.add((LINKS, key))

    def load_tables(self):
        for where, data, file_source, checked_on in self.corpus():
            for entry in data.get("comparison_tables") or []:
                slug = entry["slug"]
                where_table = f"{where}: table {slug!r}"
                values = table_values(entry, checked_on) | {
                    "source": self.item_source(entry, file_source, where_table)
                }
                table = self.upsert(ComparisonTable, slug, {"slug": slug}, values)
                if table is None:
                    for model in (ComparisonRow, ComparisonColumn, ComparisonCell):
                        self.ledger.skip(model, f"{slug}|")
                    continue
                places = {}
                for order, place_slug in enumerate(entry.get("places", []), start=1):
                    places[place_slug] = self.get(Place, place_slug, where_table)
                    self.ledger.write(
                        ComparisonRow,
                        f"{slug}|row|{order}",
                        {"place": places[place_slug]},
                        lookup={"table": table, "order": order},
                    )
                columns = {}
                for order, item in enumerate(entry.get("columns", []), start=1):
                    values = column_values(item) | {
                        "indicator": self.get(Indicator, item["indicator"], where_table)
                        if item.get("indicator")
                        else None
                    }
                    columns[item["key"]] = self.ledger.write(
                        ComparisonColumn,
                        f"{slug}|column|{order}",
                        values,
                        lookup={"table": table, "order": order},
                    )
                for item in entry.get("cells", []):
                    if item["place"] not in places or item["column"] not in columns:
                        raise CorpusError(
                            f"{where_table}: cell ({item['place']}, {item['column']}) is "
                            "outside the table's places or columns"
                        )
                    column = columns[item["column"]]
                    if column is None:
                        continue
                    self.ledger.write(
                        ComparisonCell,
                        f"{slug}|cell|{item['place']}|{item['column']}",
                        {"text": text(item.get("text")), "note": text(item.get("note"))},
                        lookup={"table": table, "place": places[item["place"]], "column": column},
                    )

    def retire_rows(self):
        """Rows the loader wrote that the corpus no longer has: deleted if nobody changed
        them since, kept and reported otherwise. Whole records (places, case studies,
        territories...) are never deleted by a load: they are reported."""
        for model in (ComparisonCell, ComparisonColumn, ComparisonRow, Section, Lesson, Funding):
            self.ledger.finish_group(model, "")
        self.ledger.finish_group(Figure, "")
        for model in (Place, CaseStudy, ComparisonTable, Territory, Organisation, Source):
            for key, _record in self.ledger.unseen(model):
                self.report.orphans.append((model, key))


def new_merge():
    return {
        "entry": None,
        "where": None,
        "checked_on": None,
        "kinds": [],
        "services": [],
        "aliases": [],
        "sources": [],
    }


# -- what an entry of each kind asks for (shared with dump_corpus) -------------------------

SOURCE_FIELDS = [
    "title",
    "short_title",
    "publishers",
    "authors",
    "date_as_stated",
    "kind",
    "file_name",
    "url",
    "summary",
    "summary_en",
]


def source_values(entry):
    values = {name: text(entry.get(name)) for name in SOURCE_FIELDS}
    values["kind"] = values["kind"] or Source.Kind.OTHER
    values["year"] = entry.get("year")
    values["date"] = entry.get("date")
    values["checked_on"] = entry.get("checked_on")
    return values


# What the national dataset (load_territories) fills when the corpus leaves it out: the
# corpus owns these fields only where it states them.
TERRITORY_DATASET_FIELDS = ["insee_code", "population", "population_year", "population_section"]


def territory_values(entry):
    values = {"name": text(entry["name"]), "kind": entry["kind"]}
    for name in TERRITORY_DATASET_FIELDS:
        value = entry.get(name)
        if value not in (None, ""):
            values[name] = text(value) if isinstance(value, str) else value
    return values


def organisation_values(entry):
    return {
        "name": text(entry["name"]),
        "kind": entry.get("kind", "other"),
        "website": text(entry.get("website")),
    }


PLACE_TEXT_FIELDS = [
    "name",
    "setting",
    "setting_as_stated",
    "legal_form",
    "carrier",
    "year_opened_label",
    "website",
    "address",
    "summary",
    "summary_en",
]


def place_values(entry, checked_on):
    values = {name: text(entry.get(name)) for name in PLACE_TEXT_FIELDS}
    values["year_opened"] = entry.get("year_opened")
    values["status"] = entry.get("status") or Place.Status.UNKNOWN
    values["editorial_status"] = entry.get("editorial_status") or EditorialStatus.PUBLISHED
    values["checked_on"] = entry.get("checked_on", checked_on)
    return values


def figure_values(item, where):
    return {
        "value": decimal_or_none(item.get("value"), where),
        "value_max": decimal_or_none(item.get("value_max"), where),
        "year": item.get("year"),
        "period": text(item.get("period")),
        "label": text(item.get("label")),
        "label_en": text(item.get("label_en")),
        "headline": bool(item.get("headline")),
        "section": text(item.get("section")),
    }


def funding_values(item, where):
    return {
        "purpose": item.get("purpose", Funding.Purpose.UNKNOWN),
        "amount_eur": decimal_or_none(item.get("amount_eur"), where),
        "share_pct": decimal_or_none(item.get("share_pct"), where),
        "period": text(item.get("period")),
        "label": text(item.get("label")),
        "section": text(item.get("section")),
    }


def lesson_values(item):
    return {
        "kind": item["kind"],
        "theme": item.get("theme", Lesson.Theme.OTHER),
        "text": text(item["text"]),
        "text_en": text(item.get("text_en")),
        "section": text(item.get("section")),
    }


def case_values(entry, checked_on):
    return {
        "title": text(entry["title"]),
        "title_en": text(entry.get("title_en")),
        "tagline": text(entry.get("tagline")),
        "tagline_en": text(entry.get("tagline_en")),
        "kind": entry.get("kind", CaseStudy.Kind.MONOGRAPH),
        "source_section": text(entry.get("source_section")),
        "date_written": text(entry.get("date_written")),
        "summary": text(entry.get("summary")),
        "summary_en": text(entry.get("summary_en")),
        "editorial_status": entry.get("editorial_status") or EditorialStatus.PUBLISHED,
        "checked_on": entry.get("checked_on", checked_on),
    }


def section_values(item):
    return {
        "kind": item.get("kind", "autre"),
        "heading": text(item["heading"]),
        "heading_en": text(item.get("heading_en")),
        "body": text(item["body"]),
    }


def table_values(entry, checked_on):
    return {
        "title": text(entry["title"]),
        "intro": text(entry.get("intro")),
        "section": text(entry.get("section")),
        "checked_on": entry.get("checked_on", checked_on),
    }


def column_values(item):
    return {
        "key": item["key"],
        "label": text(item["label"]),
        "kind": item.get("kind", ComparisonColumn.Kind.TEXT),
        "attribute": text(item.get("attribute")),
        "section_kind": text(item.get("section_kind")),
    }


def load_corpus(directory=FIXTURES_DIR, *, force=False, dry_run=False):
    return Loader(directory, force=force, dry_run=dry_run).run()
