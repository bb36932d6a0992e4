"""Facet counts for the directory: for each filter value, how many places it would show.

A facet is counted on the results of every *other* active filter, so the counts of a facet
do not collapse to the one value already chosen (several kinds can be ticked at once).

All facets and the total are computed by one SQL statement: one grouped SELECT per facet,
glued with UNION ALL. When the visitor searches, the full-text match is evaluated once,
into a table of hits that every branch reads, instead of once per facet. The result is
cached per filter state (so paging and sorting reuse it) and keyed by the data version.
"""

import hashlib
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import CharField, F, Value
from django.db.models.expressions import RawSQL
from django.utils.translation import get_language

from . import search, versioning
from .filters import AREA_CHOICES, PlaceFilter
from .models import RURAL_SETTINGS, Funding, LegalForm, Organisation, Place, Setting

MAX_FUNDERS = 40
CACHE_SECONDS = 600
HITS_TABLE = "directory_search_hits"
RESULTS_TABLE = "directory_results"
TOTAL = "_total"


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


def _selected(filterset, name):
    raw = filterset.form.data
    values = raw.getlist(name) if hasattr(raw, "getlist") else [raw.get(name)]
    return {value for value in values if value}


def _text(value):
    return Value(value, output_field=CharField())


def _branch(facet, queryset, value, label=None, label_en=None, per_place=None):
    """One facet: the rows it counts (one per place and value), as (sql, params).

    ``per_place`` names the place column of rows that may repeat a place for one value
    (several fundings from one funder): they are deduplicated before counting.
    """
    columns = {
        "f_value": F(value) if isinstance(value, str) else value,
        "f_label": F(label) if label else _text(""),
        "f_label_en": F(label_en) if label_en else _text(""),
    }
    if per_place:
        columns["f_place"] = F(per_place)
    rows = queryset.order_by().values(**columns)
    if per_place:
        rows = rows.distinct()
    sql, params = rows.query.get_compiler(connection=connection).as_sql()
    return (
        "SELECT %s, s.f_value, s.f_label, s.f_label_en, COUNT(*) "
        f"FROM ({sql}) s GROUP BY s.f_value, s.f_label, s.f_label_en",
        (facet, *params),
    )


def active_filters(filterset):
    return {
        name
        for name, value in filterset.form.cleaned_data.items()
        if name not in ("sort", "q")
        and value not in (None, "", [], ())
        and not (hasattr(value, "exists") and not len(value))
    }


def facet_branches(filterset, base, results_sql=None):
    """The SQL of each facet, and of the total, as (sql, params) pairs.

    ``results_sql`` selects the ids of the fully filtered places, when they were stored:
    a facet whose own filter is not in use counts those places directly.
    """
    active = active_filters(filterset)

    def stored(names):
        return results_sql is not None and not active.intersection(names)

    def places_without(*names):
        if stored(names):
            return Place.objects.filter(pk__in=RawSQL(results_sql, ()))
        queryset = filterset.filter_queryset(base, exclude=names).order_by()
        if queryset.query.distinct:  # a many-to-many filter joined rows: dedupe first
            return Place.objects.filter(pk__in=queryset.values("pk"))
        return queryset

    def ids_without(*names):
        if stored(names):
            return RawSQL(results_sql, ())
        return filterset.filter_queryset(base, exclude=names).order_by().values("pk")

    kinds, services = Place.kinds.through.objects, Place.services.through.objects
    fundings = Funding.objects
    return [
        _branch(TOTAL, places_without(), _text(TOTAL)),
        _branch(
            "kind",
            kinds.filter(place__in=ids_without("kind")),
            "placekind__slug",
            "placekind__name",
            "placekind__name_en",
        ),
        _branch("setting", places_without("setting"), "setting"),
        _branch("area", places_without("area"), "setting"),
        _branch("region", places_without("region"), "region__insee_code", "region__name"),
        _branch(
            "departement",
            places_without("departement"),
            "departement__insee_code",
            "departement__name",
        ),
        _branch(
            "service",
            services.filter(place__in=ids_without("service")),
            "service__slug",
            "service__name",
            "service__name_en",
        ),
        # A place may have several funders of one kind, or one funder twice: count each
        # place once per value.
        _branch(
            "funder_kind",
            fundings.filter(place__in=ids_without("funder_kind")),
            "organisation__kind",
            per_place="place_id",
        ),
        _branch(
            "funder",
            fundings.filter(place__in=ids_without("funder")),
            "organisation__slug",
            "organisation__name",
            per_place="place_id",
        ),
        _branch("legal_form", places_without("legal_form"), "legal_form"),
        _branch("status", places_without("status"), "status"),
    ]


def cache_key(filterset, base):
    """Facets depend on the filters only: not on the page, its size or the sort order."""
    data = filterset.form.data
    items = sorted(
        (key, value)
        for key in data
        if key not in ("page", "per_page", "sort")
        for value in (data.getlist(key) if hasattr(data, "getlist") else [data[key]])
        if value
    )
    # The base differs between the directory and a territory's page.
    state = f"{base.query}|{urlencode(items)}"
    digest = hashlib.sha256(state.encode()).hexdigest()
    return f"directory-facets:{versioning.data_version()}:{digest}"


def count_rows(filterset, base):
    """Every facet's rows (facet, value, label, label_en, n), cached per filter state."""
    key = cache_key(filterset, base)
    rows = cache.get(key)
    if rows is None:
        rows = compute_rows(filterset, base)
        cache.set(key, rows, CACHE_SECONDS)
    return rows


def compute_rows(filterset, base):
    """Run every facet query as one statement (UNION ALL)."""
    query = filterset.form.cleaned_data.get("q")
    if query and not search.query_terms(query):
        return []  # nothing searchable in the query: no place matches
    hits = search.hits(query) if query else None
    if connection.vendor == "postgresql" and (hits is not None or active_filters(filterset)):
        return compute_rows_with_tables(filterset, base, hits)
    if hits is not None:
        # Within this statement the search filter reads the hits of the WITH clause.
        filterset.search_hits_sql = f"SELECT h.place_id FROM {HITS_TABLE} h"
    try:
        sql, params = union(facet_branches(filterset, base))
    finally:
        filterset.search_hits_sql = None
    if hits is not None:
        hits_sql, hits_params = compiled(hits)
        sql, params = f"WITH {HITS_TABLE} AS ({hits_sql}) {sql}", (*hits_params, *params)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def compute_rows_with_tables(filterset, base, hits):
    """PostgreSQL: store the search hits and the filtered places in temporary tables.

    The search is then matched once, and the filters applied once for every facet whose
    own filter is not in use. PostgreSQL cannot estimate the size of a common table
    expression, and a common word matches half the catalogue: tables with fresh
    statistics let it choose hash joins. They are dropped explicitly, because inside an
    outer transaction (tests, ATOMIC_REQUESTS) the end of this block is only a savepoint.
    """
    with transaction.atomic(), connection.cursor() as cursor:
        tables = []

        def store(table, column, sql, params):
            cursor.execute(f"DROP TABLE IF EXISTS {table}")
            cursor.execute(
                f"CREATE TEMPORARY TABLE {table} ({column}) ON COMMIT DROP AS {sql}", params
            )
            cursor.execute(f"ANALYZE {table}")
            tables.append(table)

        if hits is not None:
            store(HITS_TABLE, "place_id", *compiled(hits))
            filterset.search_hits_sql = f"SELECT h.place_id FROM {HITS_TABLE} h"
        try:
            filtered = filterset.filter_queryset(base).order_by().values("pk").distinct()
            store(RESULTS_TABLE, "id", *compiled(filtered))
            results_sql = f"SELECT r.id FROM {RESULTS_TABLE} r"
            sql, params = union(facet_branches(filterset, base, results_sql=results_sql))
        finally:
            filterset.search_hits_sql = None
        cursor.execute(sql, params)
        rows = cursor.fetchall()
        for table in tables:
            cursor.execute(f"DROP TABLE {table}")
        return rows


def compiled(queryset):
    return queryset.query.get_compiler(connection=connection).as_sql()


def union(branches):
    sql = " UNION ALL ".join(branch for branch, _params in branches)
    return sql, [param for _branch_sql, branch_params in branches for param in branch_params]


def build_facets(filterset: PlaceFilter, base):
    """Facets for the current filters, and the number of places they leave."""
    grouped = {}
    for facet, value, label, label_en, n in count_rows(filterset, base):
        if value in (None, ""):
            continue
        if get_language() == "en" and label_en:
            label = label_en
        grouped.setdefault(facet, []).append((value, label, n))
    total = sum(n for _value, _label, n in grouped.get(TOTAL, []))

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
    by_setting = counts("area")
    rural = sum(n for value, n in by_setting.items() if value in RURAL_SETTINGS)
    urban = sum(n for value, n in by_setting.items() if value not in RURAL_SETTINGS)
    add(
        "area",
        [
            (AREA_CHOICES[0][0], AREA_CHOICES[0][1], rural),
            (AREA_CHOICES[1][0], AREA_CHOICES[1][1], urban),
        ],
        False,
        order=None,
    )
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
    add("funder", funders[:MAX_FUNDERS], False)
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
    return facets, total
