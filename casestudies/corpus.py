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
from django.core.exceptions import ValidationError
from django.db import transaction

from casestudies.models import (
    CaseStudy,
    ComparisonCell,
    ComparisonColumn,
    ComparisonRow,
    ComparisonTable,
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

FIXTURES_DIR = Path(__file__).resolve().parent.parent / "fixtures"


class CorpusError(Exception):
    """A corpus file refers to something that does not exist, or holds a bad value."""


@dataclass
class Report:
    created: dict = field(default_factory=lambda: defaultdict(int))
    updated: dict = field(default_factory=lambda: defaultdict(int))
    deleted: dict = field(default_factory=lambda: defaultdict(int))
    warnings: list = field(default_factory=list)

    @property
    def writes(self):
        return sum(self.created.values()) + sum(self.updated.values()) + sum(self.deleted.values())

    def count(self, bucket, model):
        getattr(self, bucket)[model._meta.verbose_name_plural] += 1


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


class Loader:
    def __init__(self, directory=FIXTURES_DIR):
        self.directory = Path(directory)
        self.report = Report()
        self.files = [(path, read_yaml(path)) for path in corpus_files(self.directory)]

    # -- generic helpers -------------------------------------------------------------------

    def save(self, obj, values, *, created):
        """Set ``values`` on ``obj`` and save it only if something changed."""
        changed = created
        for name, value in values.items():
            if created or getattr(obj, name) != value:
                setattr(obj, name, value)
                changed = True
        if changed:
            try:
                obj.full_clean(validate_unique=False, validate_constraints=False)
            except ValidationError as error:
                raise CorpusError(f"{obj._meta.model_name} {obj}: {error.messages}") from error
            obj.save()
            self.report.count("created" if created else "updated", type(obj))
        return obj

    def upsert(self, model, lookup, values):
        try:
            obj = model.objects.get(**lookup)
            created = False
        except model.DoesNotExist:
            obj = model(**lookup)
            created = True
        return self.save(obj, values, created=created)

    def set_m2m(self, obj, name, targets):
        manager = getattr(obj, name)
        wanted = {target.pk for target in targets}
        current = set(manager.values_list("pk", flat=True))
        if wanted != current:
            manager.set(wanted)
            self.report.count("updated", type(obj))

    def sync_rows(self, model, existing, wanted, *, m2m=None):
        """Make ``existing`` rows match ``wanted`` (dicts of field values), writing only diffs.

        Rows are matched on all their values; ``m2m`` names a many-to-many field whose
        target set is part of a row's identity (given as a set of pks in each dict).
        """

        def key(values):
            return tuple(
                sorted(
                    (k, v if not isinstance(v, set) else tuple(sorted(v)))
                    for k, v in values.items()
                )
            )

        pool = defaultdict(list)
        for row in existing:
            values = {name: getattr(row, name) for name in wanted_fields(wanted, m2m)}
            if m2m:
                values[m2m] = set(getattr(row, m2m).values_list("pk", flat=True))
            pool[key(values)].append(row)
        kept, missing = [], []
        for values in wanted:
            matches = pool.get(key(values))
            if matches:
                kept.append(matches.pop())
            else:
                missing.append(values)
        # Delete before creating, so a headline that moves never meets its old self.
        for rows in pool.values():
            for row in rows:
                row.delete()
                self.report.count("deleted", model)
        for values in missing:
            plain = {k: v for k, v in values.items() if k != m2m}
            row = model(**plain)
            try:
                row.full_clean(validate_unique=False, validate_constraints=False)
            except ValidationError as error:
                raise CorpusError(f"{model._meta.model_name} {plain}: {error.messages}") from error
            row.save()
            if m2m:
                getattr(row, m2m).set(values[m2m])
            self.report.count("created", model)
            kept.append(row)
        return kept

    def get(self, model, slug, where):
        try:
            return self.cache[model][slug]
        except KeyError:
            try:
                obj = model.objects.get(slug=slug)
            except model.DoesNotExist:
                raise CorpusError(f"{where}: unknown {model._meta.verbose_name} {slug!r}") from None
            self.cache[model][slug] = obj
            return obj

    # -- phases ----------------------------------------------------------------------------

    @transaction.atomic
    def run(self):
        self.cache = defaultdict(dict)
        self.load_vocabularies()
        self.load_sources()
        self.load_territories()
        self.load_organisations()
        self.load_places()
        self.load_case_studies()
        self.load_tables()
        reindexed = reindex(Place.objects.filter(slug__in=self.cache[Place]))
        reindexed += reindex_case_studies(CaseStudy.objects.filter(slug__in=self.case_slugs))
        if reindexed:
            self.report.updated["search documents"] += reindexed
        return self.report

    def corpus(self):
        """Yield (file name, data, source, checked_on) for each corpus file."""
        for path, data in self.files:
            if path.parent.name != "corpus":
                continue
            slug = data.get("source")
            if not slug:
                raise CorpusError(f"{path.name}: no `source`")
            source = self.get(Source, slug, path.name)
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
                self.upsert(model, {"slug": entry["slug"]}, values)

    def load_sources(self):
        for _where, entry in self.entries("sources"):
            values = {
                name: text(entry.get(name))
                for name in (
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
                )
            }
            values["year"] = entry.get("year")
            values["checked_on"] = entry.get("checked_on")
            self.upsert(Source, {"slug": entry["slug"]}, values)

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
                parent = self.cache[Territory][entry["parent"]]
            population = entry.get("population")
            values = {
                "name": text(entry["name"]),
                "kind": entry["kind"],
                "parent": parent,
                "insee_code": text(entry.get("insee_code")),
                "population": population,
                "population_year": entry.get("population_year"),
                "population_source": sources.get(entry.get("_population_file", entry["_where"]))
                if population is not None
                else None,
                "population_section": text(entry.get("population_section")),
            }
            self.cache[Territory][slug] = self.upsert(Territory, {"slug": slug}, values)
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
            values = {
                "name": text(entry["name"]),
                "kind": entry.get("kind", "other"),
                "website": text(entry.get("website")),
            }
            slug = entry["slug"]
            if slug in seen:
                if seen[slug] != values:
                    self.report.warnings.append(
                        f"organisation {slug!r} defined differently in {where} (first kept)"
                    )
                continue
            seen[slug] = values
            self.cache[Organisation][slug] = self.upsert(Organisation, {"slug": slug}, values)

    def load_places(self):
        kinds, services, sources, aliases = (defaultdict(list) for _ in range(4))
        rows = defaultdict(lambda: {"figures": [], "fundings": [], "lessons": []})
        defined = {}
        for where, data, source, checked_on in self.corpus():
            for entry in data.get("places") or []:
                slug = entry["slug"]
                where_place = f"{where}: place {slug!r}"
                if not entry.get("extends"):
                    if slug in defined:
                        raise CorpusError(f"{where_place} is already defined in {defined[slug]}")
                    defined[slug] = where
                    self.upsert_place(entry, where_place, checked_on)
                kinds[slug] += [self.get(PlaceKind, k, where_place) for k in entry.get("kinds", [])]
                services[slug] += [
                    self.get(Service, s, where_place) for s in entry.get("services", [])
                ]
                aliases[slug] += [text(a) for a in entry.get("aliases", [])]
                sources[slug].append(source)
                rows[(slug, source.pk)]["source"] = source
                for key in ("figures", "fundings", "lessons"):
                    rows[(slug, source.pk)][key] += [
                        (where_place, item) for item in entry.get(key) or []
                    ]
        for slug in kinds:
            place = self.get(Place, slug, "places")
            self.save(place, {"aliases": list(dict.fromkeys(aliases[slug]))}, created=False)
            self.set_m2m(place, "kinds", kinds[slug])
            self.set_m2m(place, "services", services[slug])
            self.set_m2m(place, "sources", sources[slug])
        for (slug, _source_pk), wanted in rows.items():
            place = self.get(Place, slug, "places")
            self.sync_place_rows(place, wanted["source"], wanted)

    def upsert_place(self, entry, where, checked_on):
        territory = (
            self.get(Territory, entry["territory"], where) if entry.get("territory") else None
        )
        values = {
            "name": text(entry["name"]),
            "setting": text(entry.get("setting")),
            "setting_as_stated": text(entry.get("setting_as_stated")),
            "territory": territory,
            "legal_form": text(entry.get("legal_form")),
            "carrier": text(entry.get("carrier")),
            "year_opened": entry.get("year_opened"),
            "year_opened_label": text(entry.get("year_opened_label")),
            "status": entry.get("status") or Place.Status.UNKNOWN,
            "website": text(entry.get("website")),
            "address": text(entry.get("address")),
            "summary": text(entry.get("summary")),
            "summary_en": text(entry.get("summary_en")),
            "editorial_status": entry.get("editorial_status", EditorialStatus.PUBLISHED),
            "checked_on": checked_on,
        }
        self.cache[Place][entry["slug"]] = self.upsert(Place, {"slug": entry["slug"]}, values)

    def sync_place_rows(self, place, source, wanted):
        figures = []
        for where, item in wanted["figures"]:
            figures.append(
                {
                    "place_id": place.pk,
                    "indicator_id": self.get(Indicator, item["indicator"], where).pk,
                    "value": decimal_or_none(item.get("value"), where),
                    "value_max": decimal_or_none(item.get("value_max"), where),
                    "year": item.get("year"),
                    "period": text(item.get("period")),
                    "label": text(item.get("label")),
                    "headline": bool(item.get("headline")),
                    "source_id": source.pk,
                    "section": text(item.get("section")),
                }
            )
        fundings = []
        for where, item in wanted["fundings"]:
            fundings.append(
                {
                    "place_id": place.pk,
                    "organisation_id": self.get(Organisation, item["funder"], where).pk,
                    "purpose": item.get("purpose", Funding.Purpose.UNKNOWN),
                    "amount_eur": decimal_or_none(item.get("amount_eur"), where),
                    "share_pct": decimal_or_none(item.get("share_pct"), where),
                    "period": text(item.get("period")),
                    "label": text(item.get("label")),
                    "source_id": source.pk,
                    "section": text(item.get("section")),
                }
            )
        lessons = [
            self.lesson_values(item, where, source, place) for where, item in wanted["lessons"]
        ]
        self.sync_rows(Figure, Figure.objects.filter(place=place, source=source), figures)
        self.sync_rows(Funding, Funding.objects.filter(place=place, source=source), fundings)
        self.sync_rows(
            Lesson, Lesson.objects.filter(place=place, source=source), lessons, m2m="cited_places"
        )

    def lesson_values(self, item, where, source, place=None):
        cited = {self.get(Place, slug, where).pk for slug in item.get("places", [])}
        return {
            "place_id": place.pk if place else None,
            "kind": item["kind"],
            "theme": item.get("theme", Lesson.Theme.OTHER),
            "text": text(item["text"]),
            "source_id": source.pk,
            "section": text(item.get("section")),
            "cited_places": cited,
        }

    def load_case_studies(self):
        self.case_slugs = []
        for where, data, source, checked_on in self.corpus():
            for entry in data.get("case_studies") or []:
                slug = entry["slug"]
                where_case = f"{where}: case study {slug!r}"
                values = {
                    "title": text(entry["title"]),
                    "tagline": text(entry.get("tagline")),
                    "kind": entry.get("kind", CaseStudy.Kind.MONOGRAPH),
                    "source": source,
                    "source_section": text(entry.get("source_section")),
                    "date_written": text(entry.get("date_written")),
                    "summary": text(entry.get("summary")),
                    "summary_en": text(entry.get("summary_en")),
                    "editorial_status": entry.get("editorial_status", EditorialStatus.PUBLISHED),
                    "checked_on": checked_on,
                }
                case = self.upsert(CaseStudy, {"slug": slug}, values)
                self.case_slugs.append(slug)
                places = [self.get(Place, p, where_case) for p in entry.get("places", [])]
                self.set_m2m(case, "places", places)
                self.sync_sections(case, entry.get("sections") or [])
                own = [
                    self.lesson_values(item, where_case, source)
                    for item in entry.get("lessons") or []
                ]
                cross_case = self.sync_rows(
                    Lesson,
                    Lesson.objects.filter(place=None, source=source, case_studies=case),
                    own,
                    m2m="cited_places",
                )
                # A case study presents its own cross-case lessons and, for a monograph,
                # the lessons its source draws for the places it is about.
                place_lessons = Lesson.objects.filter(place__in=places, source=source)
                self.set_m2m(case, "lessons", [*place_lessons, *cross_case])

    def sync_sections(self, case, sections):
        keep = []
        for order, item in enumerate(sections, start=1):
            values = {
                "kind": item.get("kind", "autre"),
                "heading": text(item["heading"]),
                "body": text(item["body"]),
            }
            self.upsert(Section, {"case_study": case, "order": order}, values)
            keep.append(order)
        for section in case.sections.exclude(order__in=keep):
            section.delete()
            self.report.count("deleted", Section)

    def load_tables(self):
        for where, data, source, checked_on in self.corpus():
            for entry in data.get("comparison_tables") or []:
                where_table = f"{where}: table {entry['slug']!r}"
                table = self.upsert(
                    ComparisonTable,
                    {"slug": entry["slug"]},
                    {
                        "title": text(entry["title"]),
                        "intro": text(entry.get("intro")),
                        "source": source,
                        "section": text(entry.get("section")),
                        "checked_on": checked_on,
                    },
                )
                places = {}
                for order, slug in enumerate(entry.get("places", []), start=1):
                    places[slug] = self.get(Place, slug, where_table)
                    self.upsert(
                        ComparisonRow, {"table": table, "order": order}, {"place": places[slug]}
                    )
                self.trim(table.rows.exclude(order__lte=len(places)))
                columns = {}
                for order, item in enumerate(entry.get("columns", []), start=1):
                    indicator = (
                        self.get(Indicator, item["indicator"], where_table)
                        if item.get("indicator")
                        else None
                    )
                    columns[item["key"]] = self.upsert(
                        ComparisonColumn,
                        {"table": table, "order": order},
                        {
                            "key": item["key"],
                            "label": text(item["label"]),
                            "kind": item.get("kind", ComparisonColumn.Kind.TEXT),
                            "indicator": indicator,
                            "attribute": text(item.get("attribute")),
                            "section_kind": text(item.get("section_kind")),
                        },
                    )
                self.trim(table.columns.exclude(order__lte=len(columns)))
                keep = []
                for item in entry.get("cells", []):
                    if item["place"] not in places or item["column"] not in columns:
                        raise CorpusError(
                            f"{where_table}: cell ({item['place']}, {item['column']}) is "
                            "outside the table's places or columns"
                        )
                    cell = self.upsert(
                        ComparisonCell,
                        {
                            "table": table,
                            "place": places[item["place"]],
                            "column": columns[item["column"]],
                        },
                        {"text": text(item.get("text")), "note": text(item.get("note"))},
                    )
                    keep.append(cell.pk)
                self.trim(table.cells.exclude(pk__in=keep))

    def trim(self, queryset):
        for obj in queryset:
            obj.delete()
            self.report.count("deleted", type(obj))


def wanted_fields(wanted, m2m):
    if wanted:
        return [name for name in wanted[0] if name != m2m]
    return []


def load_corpus(directory=FIXTURES_DIR):
    return Loader(directory).run()
