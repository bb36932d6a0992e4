"""Facet counts for the directory: for each filter value, how many places it would show.

A facet is counted on the results of every *other* active filter, so the counts of a facet
do not collapse to the one value already chosen (several kinds can be ticked at once).

All facets and the total are computed by one SQL statement: one grouped SELECT per facet,
glued with UNION ALL. When the visitor searches, the full-text match is evaluated once, in
a common table expression that every branch reads, instead of once per facet.
"""

from dataclasses import dataclass, field

from django.db import connection
from django.db.models import CharField, Count, F, Value
from django.utils.translation import get_language

from . import search
from .filters import AREA_CHOICES, PlaceFilter
from .models import RURAL_SETTINGS, Funding, LegalForm, Organisation, Place, Setting

MAX_FUNDERS = 40
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


def _row(queryset, facet, value, label=None, label_en=None, count="pk", distinct=False):
    """A facet's grouped query, with the same columns as every other branch."""
    return (
        queryset.order_by()
        .values(
            f_facet=_text(facet),
            f_value=F(value) if isinstance(value, str) else value,
            f_label=F(label) if label else _text(""),
            f_label_en=F(label_en) if label_en else _text(""),
        )
        .annotate(n=Count(count, distinct=distinct))
    )


def facet_queries(filterset, base):
    """The grouped query of each facet, and of the total."""

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
        _row(places_without(), TOTAL, _text(TOTAL)),
        _row(
            kinds.filter(place__in=ids_without("kind")),
            "kind",
            "placekind__slug",
            "placekind__name",
            "placekind__name_en",
            count="place_id",
        ),
        _row(places_without("setting"), "setting", "setting"),
        _row(places_without("area"), "area", "setting"),
        _row(places_without("region"), "region", "region__insee_code", "region__name"),
        _row(
            places_without("departement"),
            "departement",
            "departement__insee_code",
            "departement__name",
        ),
        _row(
            services.filter(place__in=ids_without("service")),
            "service",
            "service__slug",
            "service__name",
            "service__name_en",
            count="place_id",
        ),
        # A place may have several funders of one kind: count places, not fundings.
        _row(
            fundings.filter(place__in=ids_without("funder_kind")),
            "funder_kind",
            "organisation__kind",
            count="place_id",
            distinct=True,
        ),
        _row(
            fundings.filter(place__in=ids_without("funder")),
            "funder",
            "organisation__slug",
            "organisation__name",
            count="place_id",
            distinct=True,
        ),
        _row(places_without("legal_form"), "legal_form", "legal_form"),
        _row(places_without("status"), "status", "status"),
    ]


def count_rows(filterset, base):
    """Run every facet query as one statement; rows are (facet, value, label, label_en, n)."""
    query = filterset.form.cleaned_data.get("q")
    if query and not search.query_terms(query):
        return []  # nothing searchable in the query: no place matches
    hits = search.hits(query) if query else None
    if hits is not None:
        # Within this statement the search filter reads the shared table of hits.
        filterset.search_hits_sql = f"SELECT place_id FROM {HITS_TABLE}"
    try:
        branches = facet_queries(filterset, base)
    finally:
        filterset.search_hits_sql = None
    union = branches[0].union(*branches[1:], all=True)
    sql, params = union.query.get_compiler(connection=connection).as_sql()
    if hits is not None:
        hits_sql, hits_params = hits.query.get_compiler(connection=connection).as_sql()
        hint = "MATERIALIZED " if connection.vendor == "postgresql" else ""
        sql = f"WITH {HITS_TABLE} AS {hint}({hits_sql}) {sql}"
        params = (*hits_params, *params)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


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
