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
from django.utils.translation import get_language

from . import search, versioning
from .filters import AREA_CHOICES, PlaceFilter
from .models import RURAL_SETTINGS, Funding, LegalForm, Organisation, Place, Setting

MAX_FUNDERS = 40
CACHE_SECONDS = 600
HITS_TABLE = "directory_search_hits"
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


def facet_branches(filterset, base):
    """The SQL of each facet, and of the total, as (sql, params) pairs."""

    def places_without(*names):
        queryset = filterset.filter_queryset(base, exclude=names).order_by()
        if queryset.query.distinct:  # a many-to-many filter joined rows: dedupe first
            return Place.objects.filter(pk__in=queryset.values("pk"))
        return queryset

    def ids_without(*names):
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
    if hits is not None:
        # Within this statement the search filter reads the table of hits.
        filterset.search_hits_sql = f"SELECT place_id FROM {HITS_TABLE}"
    try:
        branches = facet_branches(filterset, base)
    finally:
        filterset.search_hits_sql = None
    sql = " UNION ALL ".join(branch for branch, _params in branches)
    params = [param for _branch_sql, branch_params in branches for param in branch_params]
    if hits is None:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()
    hits_sql, hits_params = hits.query.get_compiler(connection=connection).as_sql()
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"WITH {HITS_TABLE} AS ({hits_sql}) {sql}", (*hits_params, *params))
            return cursor.fetchall()
    # PostgreSQL cannot estimate how many rows a common table expression yields, and a
    # common word matches half the catalogue: joined row by row, every facet would crawl.
    # A temporary table with fresh statistics lets it choose hash joins.
    # Dropped explicitly too: inside an outer transaction (tests, ATOMIC_REQUESTS) the
    # end of this block is only a savepoint, and ON COMMIT would come too late.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {HITS_TABLE}")
        cursor.execute(
            f"CREATE TEMPORARY TABLE {HITS_TABLE} ON COMMIT DROP AS {hits_sql}", hits_params
        )
        cursor.execute(f"ANALYZE {HITS_TABLE}")
        cursor.execute(sql, params)
        rows = cursor.fetchall()
        cursor.execute(f"DROP TABLE {HITS_TABLE}")
        return rows


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
