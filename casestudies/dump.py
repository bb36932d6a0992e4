"""Write the database back into the corpus files, so that editors' work can be reviewed
and committed like code (DESIGN §8).

The corpus files are read in round-trip mode (comments, order and quoting kept) and only
what differs from the database is changed: a field an editor changed, a row they added or
deleted, a record they created. Loading the result changes nothing; the diff of the files
shows exactly the editors' work. Each entry is matched to its record with the same keys
the loader uses (casestudies.corpus and casestudies.ledger).
"""

import io
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import FoldedScalarString

from casestudies.models import (
    CaseStudy,
    ComparisonTable,
    CorpusRecord,
)
from catalogue.models import (
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

from . import corpus
from .corpus import FIXTURES_DIR, corpus_files, row_key
from .ledger import label_of, normalize

# Where records created in the admin go when no corpus file describes them.
EDITORS_FILE = "900-editeurs.yaml"


def yaml_io():
    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def to_yaml(value):
    """A database value as the corpus writes it."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, str) and len(value) > 100 and "\n" not in value:
        folded = FoldedScalarString(value)
        positions, last = [], 0
        for index, char in enumerate(value):
            nxt = value[index + 1 : index + 2]
            if char == " " and index - last > 80 and nxt not in ("»", ":", "—", "-", "#"):
                positions.append(index)
                last = index
        folded.fold_pos = positions
        return folded
    return value


class Dumper:
    def __init__(self, directory=FIXTURES_DIR, output=None):
        self.directory = Path(directory)
        self.output = output
        self.yaml = yaml_io()
        self.files = []
        for path in corpus_files(self.directory):
            text = path.read_text(encoding="utf-8")
            self.files.append([path, text, self.yaml.load(text) or CommentedMap()])
        self.records = {}
        # Rows the loader wrote (by pk): never appended as new, even when no entry matched.
        self.recorded_by_pk = defaultdict(set)
        for label, key, pk in CorpusRecord.objects.values_list("model", "key", "object_id"):
            self.records[(label, key)] = pk
            self.recorded_by_pk[label].add(pk)
        self.entry_sources = {}
        self.slugs = {}
        for model in (PlaceKind, Service, Indicator, Source, Territory, Organisation, Place):
            self.slugs[model] = dict(model.objects.values_list("pk", "slug"))
        self.pks = {
            model: {slug: pk for pk, slug in pairs.items()} for model, pairs in self.slugs.items()
        }
        self.defined = defaultdict(set)  # model → slugs the files define
        self.recorded_rows = defaultdict(set)  # model → pks matched to a corpus entry

    # -- helpers ---------------------------------------------------------------------------

    def slug(self, model, pk):
        return self.slugs[model].get(pk) if pk is not None else None

    def pk(self, model, slug):
        return self.pks[model].get(slug)

    def patch(self, entry, wanted, current, fields):
        """Set in ``entry`` each field whose database value differs from what the entry says.

        ``fields`` maps a model field to (yaml key, how to write the value); ``wanted`` is
        what the loader makes of the entry, ``current`` what the database holds.
        """
        for name, (key, convert) in fields.items():
            if normalize(wanted.get(name)) == normalize(current.get(name)):
                continue
            set_key(entry, key, convert(current.get(name)))

    def remove_items(self, seq, drop):
        for index in sorted(drop, reverse=True):
            del seq[index]

    # -- the walk --------------------------------------------------------------------------

    def run(self):
        self.prepare_places()
        self.territories = self.merged_territories()
        for path, _text, data in self.files:
            self.file_source = data.get("source")
            self.file_checked_on = data.get("checked_on")
            self.dump_vocabularies(data)
            self.dump_sources(data)
            self.dump_named(data, "territories", Territory, self.territory_fields())
            self.dump_named(data, "organisations", Organisation, self.organisation_fields())
            if path.parent.name == "corpus":
                self.dump_places(data)
                self.dump_case_studies(data)
                self.dump_tables(data)
        self.dump_new_records()
        return self.write()

    def dump_vocabularies(self, data):
        for key, model in (
            ("place_kinds", PlaceKind),
            ("services", Service),
            ("indicators", Indicator),
        ):
            seq = data.get(key)
            if not seq:
                continue
            objects = {o.slug: o for o in model.objects.all()}
            drop = []
            for index, entry in enumerate(seq):
                obj = objects.get(entry["slug"])
                self.defined[model].add(entry["slug"])
                if obj is None:
                    drop.append(index)
                    continue
                fields = {"name": ("name", same), "name_en": ("name_en", same)}
                wanted = {
                    "name": corpus.text(entry["name"]),
                    "name_en": corpus.text(entry.get("name_en")),
                }
                if model is Indicator:
                    fields["unit"] = ("unit", same)
                    wanted["unit"] = entry.get("unit", "count")
                current = {name: getattr(obj, name) for name in fields}
                self.patch(entry, wanted, current, fields)
            self.remove_items(seq, drop)
            known = {entry["slug"] for entry in seq}
            for obj in objects.values():
                if obj.slug not in known:
                    new = CommentedMap(slug=obj.slug, name=obj.name)
                    if obj.name_en:
                        new["name_en"] = obj.name_en
                    if model is Indicator:
                        new["unit"] = obj.unit
                    seq.append(new)
                    self.defined[model].add(obj.slug)

    def dump_sources(self, data):
        seq = data.get("sources")
        if seq is None:
            return
        self.sources_seq = seq
        objects = {o.slug: o for o in Source.objects.all()}
        fields = {name: (name, same) for name in corpus.SOURCE_FIELDS}
        fields |= {
            "year": ("year", same),
            "date": ("date", same),
            "checked_on": ("checked_on", same),
        }
        for entry in seq:
            self.defined[Source].add(entry["slug"])
            obj = objects.get(entry["slug"])
            if obj is not None:
                current = {name: getattr(obj, name) for name in fields}
                self.patch(entry, corpus.source_values(entry), current, fields)

    def territory_fields(self):
        fields = {
            name: (name, same)
            for name in (
                "name",
                "kind",
                "insee_code",
                "population",
                "population_year",
                "population_section",
            )
        }
        fields["parent"] = ("parent", lambda pk: self.slug(Territory, pk))
        return fields

    def organisation_fields(self):
        return {"name": ("name", same), "kind": ("kind", same), "website": ("website", same)}

    def merged_territories(self):
        """Each territory as the loader sees it: the first definition, its blanks filled
        by later ones (casestudies.corpus.Loader.merge_territory)."""
        merged = {}
        for _path, _text, data in self.files:
            for entry in data.get("territories") or []:
                current = merged.setdefault(entry["slug"], dict(entry))
                for name, value in entry.items():
                    if value not in (None, "") and current.get(name) in (None, ""):
                        current[name] = value
        return merged

    def dump_named(self, data, key, model, fields):
        """Territories and organisations: the first definition of a slug holds its values."""
        seq = data.get(key)
        if not seq:
            return
        drop = []
        for index, entry in enumerate(seq):
            slug = entry["slug"]
            first = slug not in self.defined[model]
            self.defined[model].add(slug)
            pk = self.pk(model, slug)
            if pk is None:
                if (label_of(model), slug) in self.records:
                    drop.append(index)  # deleted in the database
                continue
            if not first:
                continue
            obj = model.objects.get(pk=pk)
            current = {name: getattr(obj, model._meta.get_field(name).attname) for name in fields}
            owned = fields
            if model is Territory:
                merged = self.territories[slug]
                values = corpus.territory_values(merged)
                values["parent"] = self.pk(Territory, merged.get("parent"))
                # Codes and populations the corpus leaves out come from the national dataset
                # (load_territories): they stay out of the corpus files.
                owned = {
                    name: how
                    for name, how in fields.items()
                    if name not in corpus.TERRITORY_DATASET_FIELDS or name in values
                }
            else:
                values = corpus.organisation_values(entry)
            self.patch(entry, values, current, owned)
        self.remove_items(seq, drop)

    # -- places ----------------------------------------------------------------------------

    def place_fields(self):
        fields = {name: (name, same) for name in corpus.PLACE_TEXT_FIELDS}
        fields |= {
            "year_opened": ("year_opened", same),
            "status": ("status", same),
            "editorial_status": ("editorial_status", same),
            "territory": ("territory", lambda pk: self.slug(Territory, pk)),
        }
        return fields

    def dump_places(self, data):
        seq = data.get("places")
        if not seq:
            return
        drop = []
        for index, entry in enumerate(seq):
            slug = entry["slug"]
            place = self.places.get(slug)
            if place is None:
                if (label_of(Place), slug) in self.records:
                    drop.append(index)
                continue
            if not entry.get("extends"):
                self.defined[Place].add(slug)
                self.patch_place(entry, place)
            else:
                self.patch_extension(entry, place)
            self.dump_place_rows(entry, place)
            if not entry.get("extends"):
                self.base_entries[slug] = entry
                self.entry_sources[id(entry)] = self.file_source
        self.remove_items(seq, drop)

    def prepare_places(self):
        self.places = {
            p.slug: p for p in Place.objects.prefetch_related("kinds", "services", "sources")
        }
        # What `extends` entries add to a place's lists: the base entry lists the rest.
        self.place_lists = defaultdict(lambda: defaultdict(list))
        for _path, _text, data in self.files:
            for entry in data.get("places") or []:
                if entry.get("extends"):
                    for key in ("kinds", "services", "aliases"):
                        self.place_lists[entry["slug"]][key] += list(entry.get(key) or [])
        self.row_seen = defaultdict(lambda: defaultdict(int))
        self.base_entries = {}

    def patch_place(self, entry, place):
        wanted = corpus.place_values(entry, self.file_checked_on)
        wanted["territory"] = self.pk(Territory, entry.get("territory"))
        current = {
            name: getattr(place, place._meta.get_field(name).attname)
            for name in self.place_fields()
        }
        self.patch(entry, wanted, current, self.place_fields())
        self.patch_checked_on(entry, wanted, place)
        for key, values in self.place_lists_of(place).items():
            elsewhere = self.place_lists[place.slug][key]
            current = list(entry.get(key) or [])
            ordered = [v for v in current if v in values] + [
                v for v in values if v not in current and v not in elsewhere
            ]
            if ordered != current:
                set_key(entry, key, ordered)

    def place_lists_of(self, place):
        return {
            "kinds": [k.slug for k in place.kinds.all()],
            "services": [s.slug for s in place.services.all()],
            "aliases": list(place.aliases or []),
        }

    def patch_extension(self, entry, place):
        """An `extends` entry keeps the kinds, services and aliases the place still has."""
        for key, values in self.place_lists_of(place).items():
            current = list(entry.get(key) or [])
            kept = [v for v in current if v in values]
            if kept != current:
                set_key(entry, key, kept)

    def patch_checked_on(self, entry, wanted, obj):
        """A record checked on another day than its file says carries its own date."""
        if normalize(wanted["checked_on"]) == normalize(obj.checked_on):
            return
        if normalize(obj.checked_on) == normalize(self.file_checked_on):
            entry.pop("checked_on", None)
        else:
            entry["checked_on"] = obj.checked_on

    def patch_item(self, item, obj, kind, source):
        """Set in a figure, funding or lesson item what differs from its row."""
        new = {"figures": self.figure_item, "fundings": self.funding_item}.get(
            kind, self.lesson_item
        )(obj, source)
        for key in self.ITEM_FIELDS[kind]:
            wanted = self.item_wanted(kind, item, key, source)
            if normalize(wanted) != normalize(self.item_current(obj, kind, key)):
                set_key(item, key, new.get(key))

    def dump_place_rows(self, entry, place):
        for kind, model in (("figures", Figure), ("fundings", Funding), ("lessons", Lesson)):
            seq = entry.get(kind)
            if not seq:
                continue
            drop = []
            for index, item in enumerate(seq):
                source = item.get("source") or self.file_source
                values = self.row_values(kind, item, place, source)
                prefix = f"{place.slug}|{source}|{kind[:-1]}|"
                key = row_key(prefix, values, self.row_seen[(place.slug, source)])
                if not self.patch_recorded(model, kind, item, key, self.file_source):
                    drop.append(index)
            self.remove_items(seq, drop)

    def patch_recorded(self, model, kind, item, key, source):
        """Patch ``item`` from the row the loader recorded under ``key``; False when that
        row was deleted in the database (the item goes)."""
        pk = self.records.get((label_of(model), key))
        if pk is None:
            return True
        obj = model.objects.filter(pk=pk).first()
        if obj is None:
            return False
        self.recorded_rows[model].add(pk)
        self.patch_item(item, obj, kind, source)
        return True

    def row_values(self, kind, item, place, source):
        where = f"dump {place.slug}"
        source_pk = self.pk(Source, source)
        if kind == "figures":
            return corpus.figure_values(item, where) | {
                "place": place.pk,
                "indicator": self.pk(Indicator, item["indicator"]),
                "source": source_pk,
            }
        if kind == "fundings":
            return corpus.funding_values(item, where) | {
                "place": place.pk,
                "organisation": self.pk(Organisation, item["funder"]),
                "source": source_pk,
            }
        return self.lesson_values(item, place.pk, source_pk)

    def lesson_values(self, item, place_pk, source_pk):
        return corpus.lesson_values(item) | {
            "place": place_pk,
            "source": source_pk,
            "cited_places": {self.pk(Place, slug) for slug in item.get("places", [])},
        }

    ITEM_FIELDS = {
        "figures": {
            "indicator": "indicator",
            "value": "value",
            "value_max": "value_max",
            "year": "year",
            "period": "period",
            "label": "label",
            "label_en": "label_en",
            "headline": "headline",
            "section": "section",
            "source": "source",
        },
        "fundings": {
            "funder": "organisation",
            "purpose": "purpose",
            "amount_eur": "amount_eur",
            "share_pct": "share_pct",
            "period": "period",
            "label": "label",
            "section": "section",
            "source": "source",
        },
        "lessons": {
            "kind": "kind",
            "theme": "theme",
            "text": "text",
            "text_en": "text_en",
            "section": "section",
            "places": "cited_places",
            "source": "source",
        },
    }

    def item_wanted(self, kind, item, yaml_key, file_source):
        """What the loader makes of one key of an item (in the same form as item_current)."""
        where = "dump"
        if yaml_key == "source":
            return item.get("source") or file_source
        if yaml_key in ("indicator", "funder"):
            return item.get(yaml_key)
        if yaml_key == "places":
            return sorted(item.get("places") or [])
        if kind == "figures":
            return corpus.figure_values(item, where)[yaml_key]
        if kind == "fundings":
            return corpus.funding_values(item, where)[yaml_key]
        return corpus.lesson_values(item)[yaml_key]

    def item_current(self, obj, kind, yaml_key):
        name = self.ITEM_FIELDS[kind][yaml_key]
        if name == "source":
            return self.slug(Source, obj.source_id)
        if name == "indicator":
            return self.slug(Indicator, obj.indicator_id)
        if name == "organisation":
            return self.slug(Organisation, obj.organisation_id)
        if name == "cited_places":
            return sorted(
                self.slug(Place, pk) for pk in obj.cited_places.values_list("pk", flat=True)
            )
        return getattr(obj, name)

    def figure_item(self, obj, source):
        item = CommentedMap()
        item["indicator"] = self.slug(Indicator, obj.indicator_id)
        item["value"] = to_yaml(obj.value)
        if obj.value_max is not None:
            item["value_max"] = to_yaml(obj.value_max)
        for name in ("year", "period", "label", "label_en"):
            if getattr(obj, name) not in (None, ""):
                item[name] = to_yaml(getattr(obj, name))
        if obj.headline:
            item["headline"] = True
        self.cite(item, obj, source)
        return item

    def funding_item(self, obj, source):
        item = CommentedMap()
        item["funder"] = self.slug(Organisation, obj.organisation_id)
        item["purpose"] = obj.purpose
        for name in ("amount_eur", "share_pct", "period", "label"):
            if getattr(obj, name) not in (None, ""):
                item[name] = to_yaml(getattr(obj, name))
        self.cite(item, obj, source)
        return item

    def lesson_item(self, obj, source):
        item = CommentedMap()
        item["kind"] = obj.kind
        item["theme"] = obj.theme
        item["text"] = to_yaml(obj.text)
        if obj.text_en:
            item["text_en"] = to_yaml(obj.text_en)
        self.cite(item, obj, source)
        cited = sorted(self.slug(Place, pk) for pk in obj.cited_places.values_list("pk", flat=True))
        if cited:
            item["places"] = cited
        return item

    def cite(self, item, obj, source):
        if obj.section:
            item["section"] = obj.section
        own = self.slug(Source, obj.source_id)
        if own != source:
            item["source"] = own

    # -- case studies and tables -----------------------------------------------------------

    def dump_case_studies(self, data):
        seq = data.get("case_studies")
        if not seq:
            return
        drop = []
        fields = {
            name: (name, same)
            for name in (
                "title",
                "title_en",
                "tagline",
                "tagline_en",
                "kind",
                "source_section",
                "date_written",
                "summary",
                "summary_en",
                "editorial_status",
            )
        }
        for index, entry in enumerate(seq):
            slug = entry["slug"]
            self.defined[CaseStudy].add(slug)
            case = CaseStudy.objects.filter(slug=slug).first()
            if case is None:
                if (label_of(CaseStudy), slug) in self.records:
                    drop.append(index)
                continue
            wanted = corpus.case_values(entry, self.file_checked_on)
            current = {name: getattr(case, name) for name in fields}
            self.patch(entry, wanted, current, fields)
            self.patch_checked_on(entry, wanted, case)
            places = list(case.places.values_list("slug", flat=True))
            listed = list(entry.get("places") or [])
            ordered = [p for p in listed if p in places] + [p for p in places if p not in listed]
            if ordered != listed:
                entry["places"] = flow(ordered)
            self.dump_sections(entry, case)
            self.dump_case_lessons(entry, case)
        self.remove_items(seq, drop)

    def dump_sections(self, entry, case):
        sections = {s.order: s for s in case.sections.all()}
        seq = entry.get("sections")
        if seq is None:
            if not sections:
                return
            seq = entry["sections"] = CommentedSeq()
        drop = []
        for position, item in enumerate(seq, start=1):
            section = sections.pop(item.get("order", position), None)
            if section is None:
                drop.append(position - 1)
                continue
            wanted = corpus.section_values(item)
            for name in ("kind", "heading", "heading_en", "body"):
                if wanted[name] != getattr(section, name):
                    set_key(item, name, getattr(section, name))
            item["_order"] = section.order
        self.remove_items(seq, drop)
        for order in sorted(sections):
            section = sections[order]
            item = CommentedMap(kind=section.kind, heading=section.heading)
            if section.heading_en:
                item["heading_en"] = section.heading_en
            item["body"] = to_yaml(section.body)
            item["_order"] = order
            seq.append(item)
        # A section keeps its number when others before it were deleted, so that it stays
        # the same record: its order is written out when it is not its position.
        for position, item in enumerate(seq, start=1):
            order = item.pop("_order")
            if order != position:
                item["order"] = order
            elif "order" in item:
                del item["order"]

    def dump_case_lessons(self, entry, case):
        seq = entry.get("lessons")
        source = entry.get("source") or self.file_source
        seen = defaultdict(int)
        drop = []
        for index, item in enumerate(seq or []):
            values = self.lesson_values(item, None, self.pk(Source, source))
            key = row_key(f"case:{case.slug}|lesson|", values, seen)
            if not self.patch_recorded(Lesson, "lessons", item, key, source):
                drop.append(index)
        if seq is not None:
            self.remove_items(seq, drop)

    def dump_tables(self, data):
        seq = data.get("comparison_tables")
        if not seq:
            return
        for entry in seq:
            table = ComparisonTable.objects.filter(slug=entry["slug"]).first()
            self.defined[ComparisonTable].add(entry["slug"])
            if table is None:
                continue
            fields = {name: (name, same) for name in ("title", "intro", "section")}
            current = {name: getattr(table, name) for name in fields}
            self.patch(entry, corpus.table_values(entry, self.file_checked_on), current, fields)
            places = [self.slug(Place, r.place_id) for r in table.rows.order_by("order")]
            if places != list(entry.get("places") or []):
                entry["places"] = flow(places)
            columns = list(table.columns.order_by("order"))
            for item, column in zip(entry.get("columns") or [], columns, strict=False):
                for name in ("key", "label", "kind", "attribute", "section_kind"):
                    wanted = corpus.column_values(item)[name]
                    if wanted != getattr(column, name):
                        item[name] = getattr(column, name)
            cells = {
                (self.slug(Place, c.place_id), c.column.key): c
                for c in table.cells.select_related("column")
            }
            for item in entry.get("cells") or []:
                cell = cells.get((item["place"], item["column"]))
                if cell is None:
                    continue
                for name in ("text", "note"):
                    if corpus.text(item.get(name)) != getattr(cell, name):
                        item[name] = to_yaml(getattr(cell, name))

    # -- records the files do not describe yet ---------------------------------------------

    def dump_new_records(self):
        """Rows and records created in the database go where a reader would look for them:
        a row into its place's entry, a new place (and the territories and funders it needs)
        into the editors' file, a new source into sources.yaml."""
        for model, kind, convert in (
            (Figure, "figures", self.figure_item),
            (Funding, "fundings", self.funding_item),
            (Lesson, "lessons", self.lesson_item),
        ):
            rows = model.objects.exclude(place=None).exclude(
                pk__in=self.recorded_by_pk[label_of(model)] | self.recorded_rows[model]
            )
            for obj in rows.order_by("pk"):
                entry = self.base_entries.get(self.slug(Place, obj.place_id))
                if entry is None:
                    continue  # a new place: written whole below
                seq = entry.get(kind)
                if seq is None:
                    seq = entry[kind] = CommentedSeq()
                seq.append(convert(obj, self.entry_sources.get(id(entry))))
        new_sources = Source.objects.exclude(slug__in=self.defined[Source]).order_by("pk")
        if getattr(self, "sources_seq", None) is not None:
            for source in new_sources:
                entry = CommentedMap(slug=source.slug)
                for name in (*corpus.SOURCE_FIELDS, "year", "date", "checked_on"):
                    value = getattr(source, name)
                    if value not in (None, ""):
                        entry[name] = to_yaml(value)
                self.sources_seq.append(entry)
                self.defined[Source].add(source.slug)
        new_places = list(
            Place.objects.exclude(slug__in=self.defined[Place])
            .select_related("territory")
            .prefetch_related("kinds", "services")
            .order_by("pk")
        )
        self.dump_editors_file(new_places)
        new_cases = CaseStudy.objects.exclude(slug__in=self.defined[CaseStudy]).order_by("pk")
        if new_cases:
            seq = self.editors_file().setdefault("case_studies", CommentedSeq())
            for case in new_cases.prefetch_related("places", "sections"):
                seq.append(self.new_case_entry(case))
                self.defined[CaseStudy].add(case.slug)

    def new_case_entry(self, case):
        entry = CommentedMap(slug=case.slug, title=case.title)
        for name in ("title_en", "tagline", "tagline_en", "kind"):
            if getattr(case, name):
                entry[name] = to_yaml(getattr(case, name))
        entry["source"] = self.slug(Source, case.source_id)
        places = [p.slug for p in case.places.all()]
        if places:
            entry["places"] = flow(places)
        for name in (
            "source_section",
            "date_written",
            "summary",
            "summary_en",
            "editorial_status",
            "checked_on",
        ):
            if getattr(case, name) not in (None, ""):
                entry[name] = to_yaml(getattr(case, name))
        sections = []
        for s in case.sections.all():
            section = CommentedMap(kind=s.kind, heading=s.heading)
            if s.heading_en:
                section["heading_en"] = s.heading_en
            section["body"] = to_yaml(s.body)
            sections.append(section)
        if sections:
            entry["sections"] = CommentedSeq(sections)
        return entry

    def editors_file(self):
        path = self.directory / "corpus" / EDITORS_FILE
        for known, _text, data in self.files:
            if known == path:
                return data
        data = CommentedMap()
        self.files.append([path, "", data])
        return data

    def dump_editors_file(self, places):
        wanted_territories, wanted_orgs = [], []
        used = Place.objects.filter(territory__isnull=False).select_related("territory")
        for place in [*used, *places]:
            for territory in self.missing_territories(place.territory):
                if territory not in wanted_territories:
                    wanted_territories.append(territory)
        for org in Organisation.objects.filter(fundings__isnull=False).distinct().order_by("pk"):
            if org.slug not in self.defined[Organisation]:
                wanted_orgs.append(org)
        if not (places or wanted_territories or wanted_orgs):
            return
        data = self.editors_file()
        if wanted_orgs:
            seq = data.setdefault("organisations", CommentedSeq())
            for org in wanted_orgs:
                entry = CommentedMap(slug=org.slug, name=org.name, kind=org.kind)
                if org.website:
                    entry["website"] = org.website
                seq.append(entry)
                self.defined[Organisation].add(org.slug)
        if wanted_territories:
            seq = data.setdefault("territories", CommentedSeq())
            for territory in wanted_territories:
                entry = CommentedMap(slug=territory.slug, name=territory.name, kind=territory.kind)
                if territory.parent_id:
                    entry["parent"] = self.slug(Territory, territory.parent_id)
                for name in ("insee_code", "population", "population_year", "population_section"):
                    if getattr(territory, name) not in (None, ""):
                        entry[name] = to_yaml(getattr(territory, name))
                seq.append(entry)
                self.defined[Territory].add(territory.slug)
        if places:
            seq = data.setdefault("places", CommentedSeq())
            for place in places:
                seq.append(self.new_place_entry(place))
                self.defined[Place].add(place.slug)

    def new_place_entry(self, place):
        entry = CommentedMap(slug=place.slug, name=place.name)
        if place.aliases:
            entry["aliases"] = flow(place.aliases)
        kinds = [k.slug for k in place.kinds.all()]
        if kinds:
            entry["kinds"] = flow(kinds)
        for name, (key, convert) in self.place_fields().items():
            if name == "name":
                continue
            value = convert(getattr(place, place._meta.get_field(name).attname))
            if value not in (None, ""):
                entry[key] = to_yaml(value)
        if place.checked_on:
            entry["checked_on"] = place.checked_on
        services = [s.slug for s in place.services.all()]
        if services:
            entry["services"] = flow(services)
        for kind, model, convert in (
            ("figures", Figure, self.figure_item),
            ("fundings", Funding, self.funding_item),
            ("lessons", Lesson, self.lesson_item),
        ):
            rows = [convert(obj, None) for obj in model.objects.filter(place=place).order_by("pk")]
            if rows:
                entry[kind] = CommentedSeq(rows)
        return entry

    def missing_territories(self, territory):
        chain = []
        while territory is not None and territory.slug not in self.defined[Territory]:
            chain.append(territory)
            territory = territory.parent
        return list(reversed(chain))

    # -- output ----------------------------------------------------------------------------

    def write(self):
        output = self.output
        written = []
        for path, original, data in self.files:
            buffer = io.StringIO()
            self.yaml.dump(data, buffer)
            text = buffer.getvalue()
            if text != original:
                target = path if output is None else Path(output) / path.relative_to(self.directory)
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(text, encoding="utf-8")
                written.append(target)
        return written


def same(value):
    return value


def flow(values):
    seq = CommentedSeq(values)
    seq.fa.set_flow_style()
    return seq


def set_key(entry, key, value):
    """Set ``key`` in a corpus entry, or drop it when the value is empty."""
    if value in (None, "", []):
        entry.pop(key, None)
        return
    value = flow(value) if isinstance(value, list) else to_yaml(value)
    french = key.removesuffix("_en")
    if key not in entry and french != key and french in entry:
        # A new translation goes right after the French it translates.
        entry.insert(list(entry).index(french) + 1, key, value)
    else:
        entry[key] = value


def dump_corpus(directory=FIXTURES_DIR, output=None):
    """Write the database back into the corpus files (or into ``output``, a folder laid out
    like them); returns the files written."""
    return Dumper(directory, output).run()
