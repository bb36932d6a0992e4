"""The place page in few queries: the place's kinds, services, sources, figures, fundings,
lessons and case studies are read in one query, each relation as a JSON array built by
the database (one subquery per relation), instead of one query per relation. What they
name from the vocabularies (kinds, services, sources, indicators, funders) and its
territories come from memory, kept with the facet index, as do those of the directory's
cards."""

import datetime
import functools
import json
import re
from decimal import Decimal

from django.conf import settings
from django.db import connections
from django.db.models import (
    Aggregate,
    BooleanField,
    CharField,
    DateTimeField,
    DecimalField,
    F,
    ForeignKey,
    Func,
    IntegerField,
    JSONField,
    OuterRef,
    Subquery,
    TextField,
    Value,
    prefetch_related_objects,
)
from django.db.models.base import ModelState
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast
from django.db.models.signals import post_init, pre_init
from django.utils import timezone

from . import prepared
from .editing import last_modified_expression
from .facet_index import current_index, get_index, has_bit
from .models import (
    PUBLIC_STATUSES,
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


class JSONRows(Aggregate):
    """The rows of a group as one JSON array."""

    function = "JSON_GROUP_ARRAY"
    output_field = JSONField()

    def as_postgresql(self, compiler, connection, **extra_context):
        return super().as_sql(compiler, connection, function="JSONB_AGG", **extra_context)


class JSONRow(Func):
    """The columns of a row as one JSON array. Unlike Django's JSONArray, without a cast
    around each column on PostgreSQL (needed for parameters, not for columns): the place
    page's statement stays short enough for psycopg to keep its parsed form."""

    function = "JSON_ARRAY"
    output_field = JSONField()

    def as_postgresql(self, compiler, connection, **extra_context):
        return super().as_sql(compiler, connection, function="JSONB_BUILD_ARRAY", **extra_context)


# Columns the page never shows: long texts kept for search.
SKIPPED = {"search_folded", "text_folded", "summary", "summary_en"}


def _columns(model):
    """(field, expression) for each column of ``model`` the page may show; decimals as
    text, so that they come back exact rather than as binary floats."""
    found = []
    for field in model._meta.concrete_fields:
        if field.attname in SKIPPED:
            continue
        expression = F(field.attname)
        if isinstance(field, DecimalField):
            expression = Cast(expression, TextField())
        found.append((field, expression))
    return found


# Fields whose values come out of JSON as the ORM gives them (text, whole numbers, keys);
# the others (decimals, dates, booleans on SQLite…) go through `_value`.
AS_IN_JSON = (CharField, TextField, IntegerField, ForeignKey)


def _value(field, raw):
    """A column's value as its field gives it when read by the ORM."""
    value = field.to_python(raw)
    if value is None:
        return None
    if isinstance(field, DecimalField):
        # As the database backends do: to the field's decimal places (SQLite's text
        # has none).
        value = value.quantize(Decimal(1).scaleb(-field.decimal_places))
    elif isinstance(field, DateTimeField) and settings.USE_TZ and timezone.is_naive(value):
        value = value.replace(tzinfo=datetime.UTC)  # SQLite keeps UTC, without its offset
    return value


class Relation:
    """One relation of the place page: the rows of ``queryset`` (correlated to the place
    with OuterRef), each with the vocabulary entries its foreign keys ``related`` name
    attached from memory. Or, with ``vocabulary`` (model, column), the entries of a
    vocabulary the place is linked to (its kinds…): ``queryset`` then gives the rows of
    the link table, and their ``column`` is read."""

    def __init__(self, name, queryset, order, related=(), vocabulary=None):
        self.name, self.queryset, self.order = name, queryset, order
        self.vocabulary = vocabulary
        self.model = queryset.model if vocabulary is None else vocabulary[0]
        # (attribute, vocabulary model, column of its id)
        self.related = [
            (fk, field.related_model, field.attname)
            for fk in related
            for field in [self.model._meta.get_field(fk)]
        ]
        columns = [] if vocabulary else _columns(self.model)
        self.columns = [expression for _field, expression in columns]
        self.names = [field.attname for field, _e in columns]
        # The fields whose JSON value needs converting (None: taken as it comes).
        self.fields = [None if isinstance(field, AS_IN_JSON) else field for field, _e in columns]

    def expression(self):
        """The relation's rows as one JSON array; NULL when there is none (`_decoded`)."""
        rows = F(self.vocabulary[1]) if self.vocabulary else JSONRow(*self.columns)
        return Subquery(
            self.queryset.order_by()
            .annotate(_group=Value(1))
            .values("_group")
            .annotate(rows=JSONRows(rows))
            .values("rows")
        )

    def instances(self, rows, using, entries):
        """The relation's objects from its JSON ``rows``; ``entries(model, ids)`` gives the
        vocabulary entries of those ids ({id: object})."""
        if self.vocabulary:
            found = list(entries(self.model, rows).values())
        else:
            found = []
            model, names, fields = self.model, self.names, self.fields
            for row in rows:
                data = [
                    value if field is None else _value(field, value)
                    for field, value in zip(fields, row, strict=True)
                ]
                found.append(loaded(model, using, names, data))
            for attribute, vocabulary, column in self.related:
                known = entries(vocabulary, {getattr(obj, column) for obj in found})
                for obj in found:
                    obj._state.fields_cache[attribute] = known.get(getattr(obj, column))
        high = connections[using or "default"].vendor == "postgresql"
        found.sort(key=lambda obj: self.order(obj, high))
        return found


def loaded(model, using, names, values):
    """``model.from_db(using, names, values)``, its columns ``names`` set directly:
    ``Model.__init__`` sets each field in turn (a model with thirty-odd fields has them
    all looked at) and sends ``pre_init``, 8-20 µs a row, and a place page makes some
    twenty. Sends ``post_init`` as Django does; made by ``from_db`` if something listens
    to ``pre_init``, which receives ``__init__``'s arguments. Columns left out stay
    deferred, as ``from_db`` leaves them."""
    if pre_init.has_listeners(model):
        return model.from_db(using, names, values)
    obj = model.__new__(model)
    state = obj._state = ModelState()
    state.adding, state.db = False, using
    obj.__dict__.update(zip(names, values, strict=True))
    if post_init.has_listeners(model):
        post_init.send(sender=model, instance=obj)
    return obj


class KeptRelations(dict):
    """A place page's ``_prefetched_objects_cache``: its relations' rows (``rows``,
    {name: list}), read with the place, turned into the querysets Django's related
    managers expect only when one is asked for (``place.figures.all()``). The page reads
    the lists (``Place.prefetched``): making seven managers and querysets it would not
    use cost 90 µs a page."""

    def __init__(self, place, rows):
        super().__init__()
        self.place, self.rows, self._making = place, rows, False

    def __missing__(self, name):
        if self._making or name not in self.rows:
            raise KeyError(name)
        # The manager finds nothing kept while its queryset is made (KeyError above),
        # so it filters its own; that queryset then holds the rows, read no more.
        self._making = True
        try:
            queryset = getattr(self.place, name).all()
        finally:
            self._making = False
        queryset._result_cache = self.rows[name]
        queryset._prefetch_done = True
        self[name] = queryset
        return queryset

    def __contains__(self, name):
        return name in self.rows or super().__contains__(name)

    def get(self, name, default=None):
        try:
            return self[name]
        except KeyError:
            return default


# Sort keys that place NULL as the database does: PostgreSQL above every value, SQLite
# below (so the page lists rows in the order the ORM's ORDER BY gave before).
def _asc(value, nulls_high):
    return ((value is None) == nulls_high, value or 0)


def _desc(value, nulls_high):
    return ((value is None) != nulls_high, -(value or 0))


def _linked(name, order):
    """The relation of a vocabulary the place is linked to (its many-to-many ``name``):
    the ids its link table holds."""
    field = Place._meta.get_field(name)
    through = field.remote_field.through
    column = through._meta.get_field(field.m2m_reverse_field_name()).attname
    return Relation(
        name,
        through.objects.filter(**{field.m2m_field_name(): OuterRef("pk")}),
        order,
        vocabulary=(field.related_model, column),
    )


@functools.cache
def relations():
    case_study = Place._meta.get_field("case_studies").related_model
    place = OuterRef("pk")
    return [
        _linked("kinds", lambda o, high: (o.name, o.pk)),
        _linked("services", lambda o, high: (o.name, o.pk)),
        _linked("sources", lambda o, high: (o.slug, o.pk)),
        Relation(
            "figures",
            Figure.objects.filter(place=place),
            lambda o, high: (o.indicator.position, not o.headline, *_asc(o.year, high), o.pk),
            related=("indicator", "source"),
        ),
        Relation(
            "fundings",
            Funding.objects.filter(place=place),
            lambda o, high: (o.purpose, *_desc(o.amount_eur, high), o.pk),
            related=("organisation", "source"),
        ),
        Relation(
            "lessons",
            Lesson.objects.filter(place=place),
            lambda o, high: (o.kind, o.theme, o.pk),
            related=("source",),
        ),
        Relation(
            "case_studies",
            case_study.objects.filter(places=place, editorial_status__in=PUBLIC_STATUSES),
            lambda o, high: (o.title, o.pk),
        ),
    ]


# A slug no place has (slugs are letters, digits and hyphens): it marks where the
# page's slug goes in the compiled statement.
_SENTINEL = "\x1fplace page\x1f"
_statements = {}
# The place's own columns, read with its relations.
PLACE_FIELDS = [field.attname for field in Place._meta.concrete_fields]


REDUNDANT_ALIAS = re.compile(r'(\."(\w+)") AS "\2"')


class Statement:
    """A query compiled once per process, then run with one parameter changed (the one
    given as ``marker``): building and compiling the place page's eleven subqueries, or
    a page of places, cost as much as running them. Run prepared (catalogue.prepared)."""

    def __init__(self, queryset, connection, marker):
        self.compiler = queryset.query.get_compiler(connection=connection)
        sql, params = self.compiler.as_sql()
        # `"table"."name" AS "name"` names a column as it is named already: shorter
        # without (psycopg keeps the parsed form of statements up to 4 kB only).
        sql = REDUNDANT_ALIAS.sub(r"\1", sql)
        [position] = [i for i, value in enumerate(params) if value is marker]
        if connection.vendor == "postgresql":
            # The other parameters are constants (statuses, dates): written into the
            # statement, they are not adapted again on every run.
            sql, params, position = _constants_written(connection, sql, params, position)
        self.sql, self.params, self.position = sql, list(params), position
        # What the ORM does to each column it reads (JSON decoded, SQLite's numbers…).
        self.converters = self.compiler.get_converters(
            [column for column, _sql, _alias in self.compiler.select]
        )

    def rows(self, connection, value):
        """The rows, converted as the ORM converts them, with ``value`` for the marker."""
        params = list(self.params)
        params[self.position] = value
        with prepared.cursor(connection) as cursor:
            cursor.execute(self.sql, params)
            rows = cursor.fetchall()
        if self.converters:
            rows = list(self.compiler.apply_converters(rows, self.converters))
        return rows


# A parameter's place in a statement, or a percent sign written as %%.
PLACEHOLDER = re.compile(r"(%[%s])")


def _constants_written(connection, sql, params, keep):
    """(sql, params, position): ``sql`` with each of its ``params`` but the one at
    ``keep`` written in as an SQL literal; the one kept is then its only parameter."""
    written, number = [], 0
    for piece in PLACEHOLDER.split(sql):
        if piece == "%s":
            if number != keep:
                # A literal's own percent signs doubled: the statement still takes one
                # parameter.
                piece = connection.ops.compose_sql("%s", [params[number]]).replace("%", "%%")
            number += 1
        written.append(piece)
    return "".join(written), [params[keep]], 0


def _statement(connection):
    """The statement reading one place, by its slug, with every relation."""
    found = _statements.get(connection.alias)
    if found is None:
        names = [f"{relation.name}_rows" for relation in relations()]
        queryset = (
            Place.objects.using(connection.alias)
            .filter(slug=_SENTINEL)
            .annotate(**{f"{r.name}_rows": r.expression() for r in relations()})
            .annotate(last_change=last_modified_expression(Place))
            .values_list(*PLACE_FIELDS, *names, "last_change")
        )
        found = _statements[connection.alias] = Statement(queryset, connection, _SENTINEL)
    return found


def _decoded(value):
    if value is None:
        return []
    if isinstance(value, (str, bytes)):
        return json.loads(value)
    return value


def place_for_page(slug, using="default"):
    """The place of ``slug`` (any status) with its relations, in one query, or None.

    Its relations are kept as its prefetched rows: ``place.prefetched("figures")`` (a
    list), ``place.kinds.all()``, ``place.figures.all()``… then read no more. Sets
    ``last_modified`` too (as ``catalogue.editing.with_last_modified`` does)."""
    connection = connections[using]
    # Prepared on PostgreSQL: planning this statement costs more than running it.
    found = _statement(connection).rows(connection, slug)
    if not found:
        return None
    [row] = found
    own, rows, last_change = row[: len(PLACE_FIELDS)], row[len(PLACE_FIELDS) : -1], row[-1]
    place = loaded(Place, using, PLACE_FIELDS, own)
    # When the place or one of its children last changed (catalogue.editing).
    place.last_modified = _value(DateTimeField(), last_change)
    entries = _entries(get_index(), using)
    kept = {}
    for relation, found in zip(relations(), rows, strict=True):
        objects = kept[relation.name] = relation.instances(_decoded(found), using, entries)
        for obj in objects:
            if "place_id" in obj.__dict__:  # a figure, a funding, a lesson: its place
                obj._state.fields_cache["place"] = place
    place._prefetched_objects_cache = KeptRelations(place, kept)
    return place


# The vocabularies whose entries a place page names: few rows, each named by many places.
# Any change to one is logged as a change to everything (catalogue.signals), which
# rebuilds the facet index's vocabularies and drops these with them.
PAGE_VOCABULARIES = (PlaceKind, Service, Source, Indicator, Organisation)


def vocabulary_entries(index, model):
    """{id: entry} of every row of ``model``, one of PAGE_VOCABULARIES, read once and kept
    with the index's vocabularies. Shared by the pages: read them, never change them."""
    kept = index.vocabularies.entries
    found = kept.get(model)
    if found is None:
        found = kept[model] = {entry.pk: entry for entry in model._base_manager.all()}
    return found


def _entries(index, using):
    """``entries(model, ids)`` → {id: entry}, for `Relation.instances`: from memory; an
    entry memory lacks (added since, in a transaction not committed yet) is read from the
    database, and not kept."""

    def entries(model, ids):
        kept = vocabulary_entries(index, model)
        found, missing = {}, []
        for pk in ids:
            if pk in kept:
                found[pk] = kept[pk]
            elif pk is not None:
                missing.append(pk)
        if missing:
            found.update(model._base_manager.using(using).in_bulk(missing))
        return found

    return entries


# ------------------------------------------------------------ a page of places

# Marks where the ids go in the compiled statement (compared by identity).
_IDS = [-1]
_rows_statements = {}


def _rows_statement(connection, passages):
    """The statement reading places by their ids (one array parameter), with their search
    passages when ``passages``."""
    key = (connection.alias, passages)
    found = _rows_statements.get(key)
    if found is None:
        column = (
            f"{connection.ops.quote_name(Place._meta.db_table)}.{connection.ops.quote_name('id')}"
        )
        queryset = Place.objects.using(connection.alias).filter(
            RawSQL(f"{column} = ANY(%s::bigint[])", (_IDS,), output_field=BooleanField())
        )
        names = list(PLACE_FIELDS)
        if passages:
            queryset = queryset.annotate(search_passages=F("search_text__passages"))
            names.append("search_passages")
        queryset = queryset.order_by().values_list(*names)
        found = _rows_statements[key] = Statement(queryset, connection, _IDS)
    return found


def places_by_ids(ids, passages=False, using="default"):
    """{id: place} of the places of ``ids`` (any status), as ``Place.objects.filter(
    pk__in=ids)`` gives them, with ``search_passages`` set when ``passages``: the rows of
    a directory page. On PostgreSQL one statement compiled once and prepared; elsewhere
    the ORM's query."""
    connection = connections[using]
    if not ids:
        return {}
    if connection.vendor != "postgresql":
        listed = Place.objects.using(using).filter(pk__in=ids)
        if passages:
            listed = listed.annotate(search_passages=F("search_text__passages"))
        return {place.pk: place for place in listed}
    rows = _rows_statement(connection, passages).rows(connection, list(ids))
    found = {}
    count = len(PLACE_FIELDS)
    for row in rows:
        place = loaded(Place, using, PLACE_FIELDS, row[:count])
        if passages:
            place.search_passages = row[count]
        found[place.pk] = place
    return found


# ------------------------------------------------------------------ territories

# Territory columns the pages read (not what the national dataset last wrote).
TERRITORY_FIELDS = [
    f.attname for f in Territory._meta.concrete_fields if f.name != "dataset_values"
]


def _territory_rows(index=None):
    """{id: row} of every territory, read once per process and kept with the facet
    index's vocabularies: any change to a territory rebuilds them (catalogue.versioning
    logs it as a change to everything), so they never hold an outdated name or parent.
    A few hundred bytes a territory: about 2 MB for 5,000, 13 MB for every commune."""
    vocabularies = (index or get_index()).vocabularies
    rows = vocabularies.territory_rows
    if rows is None:
        rows = {row[0]: row for row in Territory.objects.values_list(*TERRITORY_FIELDS)}
        vocabularies.territory_rows = rows
    return rows


def territory_by_code(kind, code, using=None):
    """The région or département (``kind``) of INSEE code ``code``, from memory (as
    `attach_territories`); None if none has it or if the process's facet index is not up
    to date (the caller then asks the database: building the index is not its job)."""
    index = current_index()
    if index is None:
        return None
    rows = _territory_rows(index)
    codes = index.vocabularies.territory_codes
    if codes is None:
        wanted = {Territory.Kind.REGION, Territory.Kind.DEPARTEMENT}
        kind_at, code_at = TERRITORY_FIELDS.index("kind"), TERRITORY_FIELDS.index("insee_code")
        codes = {}
        for pk, row in rows.items():
            key = (row[kind_at], row[code_at])
            if key[0] in wanted:
                # Two territories of one kind with one code: left to the database to refuse.
                codes[key] = None if key in codes else pk
        index.vocabularies.territory_codes = codes
    pk = codes.get((kind, code))
    return None if pk is None else _territory(rows, pk, using)


def _territory(rows, pk, using, depth=0, shared=None):
    """The territory ``pk`` with its chain of parents attached (no query), or None; taken
    from ``shared`` ({pk: territory}) when it holds it, and then kept there."""
    if shared is not None and pk in shared:
        return shared[pk]
    row = rows.get(pk)
    if row is None or depth > 20:  # (a loop in the parents: Territory.clean forbids it)
        return None
    node = loaded(Territory, using, TERRITORY_FIELDS, row)
    parent = (
        None
        if node.parent_id is None
        else _territory(rows, node.parent_id, using, depth + 1, shared)
    )
    node._state.fields_cache["parent"] = parent
    if shared is not None:
        shared[pk] = node
    return node


def attach_territories(place, rows=None, shared=None):
    """Set the place's territory (with the chain above it), département and région from
    the territories kept in memory, as ``select_related`` up the chain would, without
    the query (whose planning and joins cost more than the rest of the place's row).
    Each place gets territory objects of its own (a page may annotate them), unless
    ``shared`` ({pk: territory}) is given: places given the same dict share them."""
    rows = _territory_rows() if rows is None else rows
    for name in ("territory", "departement", "region"):
        pk = getattr(place, f"{name}_id")
        node = None if pk is None else _territory(rows, pk, place._state.db, shared=shared)
        if pk is not None and node is None:
            continue  # added since the rows were read: the ORM reads it when asked
        place._state.fields_cache[name] = node
    return place


def kinds_by_slug():
    """{slug: PlaceKind} of every kind in the order of names, from memory (kept with the
    facet index's vocabularies, which any change to a kind rebuilds); None if the index is
    not up to date (as `territory_by_code`)."""
    index = current_index()
    return None if index is None else dict(kinds_in_memory(index))


def kinds_in_memory(index):
    """[(slug, PlaceKind)] of the index's kinds, in the order of their names (kept with
    its vocabularies, as the territories). Shared: read them, never change them."""
    vocabularies = index.vocabularies
    kinds = vocabularies.kind_objects
    if kinds is None:
        # From what the index read already (no query): a card shows a kind's names only.
        kinds = [
            (slug, PlaceKind.from_db(None, ["id", "slug", "name", "name_en"], (pk, slug, *row)))
            for pk, (slug, *row) in vocabularies.kind.items()
        ]
        kinds.sort(key=lambda pair: (pair[1].name, pair[1].pk))
        vocabularies.kind_objects = kinds
    return kinds


# At most this many territory objects kept for the cards (about 1 kB each).
CARD_TERRITORIES_KEPT = 10_000


def attach_cards(places):
    """What a directory card shows beside a place's own row: its territories, and its
    kinds as ``place.kinds.all()``, from the facet index (which holds each kind's
    published places) rather than two more joins and a query. A place the index does
    not hold (not published) has its kinds read from the database."""
    index = get_index()
    rows, kinds = _territory_rows(index), kinds_in_memory(index)
    masks = [(kind, index.byte_mask("kind", slug)) for slug, kind in kinds]
    published = index.published_bytes()
    unknown = []
    # Cards only read their territories: one object per territory, kept from one request
    # to the next with the territories' rows (dropped with them on any change).
    shared = index.vocabularies.card_territories
    if len(shared) > CARD_TERRITORIES_KEPT:
        shared.clear()
    for place in places:
        attach_territories(place, rows, shared)
        position = index.positions.get(place.pk)
        if position is None or not has_bit(published, position):
            unknown.append(place)
            continue
        own = [kind for kind, bits in masks if has_bit(bits, position)]
        queryset = place.kinds.all()
        queryset._result_cache, queryset._prefetch_done = own, True
        place.__dict__.setdefault("_prefetched_objects_cache", {})["kinds"] = queryset
    prefetch_related_objects(unknown, "kinds")
    return places
