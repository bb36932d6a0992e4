"""Facet counts for the directory: for each filter value, how many places it would show.

A facet is counted on the results of every *other* active filter, so the counts of a facet
do not collapse to the one value already chosen (several kinds can be ticked at once).
Each facet costs one grouped query, whatever the number of places or values.
"""

from dataclasses import dataclass, field

from django.db.models import Count
from django.utils.translation import get_language

from .filters import AREA_CHOICES, PlaceFilter
from .models import (
    RURAL_SETTINGS,
    Funding,
    LegalForm,
    Organisation,
    Place,
    Setting,
)

MAX_FUNDERS = 40


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
        return any(option.count for option in self.options) or any(
            option.selected for option in self.options
        )


def localized(row, name_key, name_en_key):
    if get_language() == "en" and row.get(name_en_key):
        return row[name_en_key]
    return row[name_key]


def _selected(filterset, name):
    raw = filterset.form.data
    values = raw.getlist(name) if hasattr(raw, "getlist") else [raw.get(name)]
    return {value for value in values if value}


def build_facets(filterset: PlaceFilter, base):
    """Facets for the current filters; ``base`` is the unfiltered queryset of the page."""

    def ids_without(*names):
        return filterset.filter_queryset(base, exclude=names).order_by().values("pk")

    def places_without(*names):
        """The places of every other filter, ready to group (each place once)."""
        queryset = filterset.filter_queryset(base, exclude=names).order_by()
        if queryset.query.distinct:  # a many-to-many filter joined rows: dedupe first
            return Place.objects.filter(pk__in=queryset.values("pk"))
        return queryset

    def grouped(queryset, *fields, count="pk", distinct=False):
        # Rows are unique per place (or per place and value), so counting needs no
        # DISTINCT, which PostgreSQL would pay for with a sort.
        return queryset.values(*fields).annotate(n=Count(count, distinct=distinct)).order_by()

    facets = []

    def add(name, label, multiple, rows):
        selected = _selected(filterset, name)
        options = [Option(value, text, n, value in selected) for value, text, n in rows if value]
        facets.append(Facet(name, label, multiple, options))

    through = Place.kinds.through
    rows = grouped(
        through.objects.filter(place__in=ids_without("kind")),
        "placekind__slug",
        "placekind__name",
        "placekind__name_en",
        count="place_id",
    )
    add(
        "kind",
        filterset.filters["kind"].label,
        True,
        sorted(
            (
                (
                    r["placekind__slug"],
                    localized(r, "placekind__name", "placekind__name_en"),
                    r["n"],
                )
                for r in rows
            ),
            key=lambda o: (-o[2], o[1]),
        ),
    )

    setting_counts = {r["setting"]: r["n"] for r in grouped(places_without("setting"), "setting")}
    add(
        "setting",
        filterset.filters["setting"].label,
        True,
        [(value, label, setting_counts.get(value, 0)) for value, label in Setting.choices],
    )

    by_setting = {r["setting"]: r["n"] for r in grouped(places_without("area"), "setting")}
    rural = sum(n for value, n in by_setting.items() if value in RURAL_SETTINGS)
    urban = sum(n for value, n in by_setting.items() if value and value not in RURAL_SETTINGS)
    add(
        "area",
        filterset.filters["area"].label,
        False,
        [
            (AREA_CHOICES[0][0], AREA_CHOICES[0][1], rural),
            (AREA_CHOICES[1][0], AREA_CHOICES[1][1], urban),
        ],
    )

    for name, prefix in (("region", "region"), ("departement", "departement")):
        rows = grouped(
            places_without(name),
            f"{prefix}__insee_code",
            f"{prefix}__name",
        )
        add(
            name,
            filterset.filters[name].label,
            False,
            sorted(
                ((r[f"{prefix}__insee_code"], r[f"{prefix}__name"], r["n"]) for r in rows),
                key=lambda o: o[1] or "",
            ),
        )

    through = Place.services.through
    rows = grouped(
        through.objects.filter(place__in=ids_without("service")),
        "service__slug",
        "service__name",
        "service__name_en",
        count="place_id",
    )
    add(
        "service",
        filterset.filters["service"].label,
        True,
        sorted(
            (
                (r["service__slug"], localized(r, "service__name", "service__name_en"), r["n"])
                for r in rows
            ),
            key=lambda o: (-o[2], o[1]),
        ),
    )

    kind_labels = dict(Organisation.Kind.choices)
    rows = grouped(
        Funding.objects.filter(place__in=ids_without("funder_kind")),
        "organisation__kind",
        count="place_id",
    )
    add(
        "funder_kind",
        filterset.filters["funder_kind"].label,
        False,
        sorted(
            (
                (r["organisation__kind"], kind_labels.get(r["organisation__kind"], ""), r["n"])
                for r in rows
            ),
            key=lambda o: (-o[2], str(o[1])),
        ),
    )

    rows = grouped(
        Funding.objects.filter(place__in=ids_without("funder")),
        "organisation__slug",
        "organisation__name",
        count="place_id",
    ).order_by("-n", "organisation__name")[:MAX_FUNDERS]
    add(
        "funder",
        filterset.filters["funder"].label,
        False,
        [(r["organisation__slug"], r["organisation__name"], r["n"]) for r in rows],
    )

    legal_labels = dict(LegalForm.choices)
    rows = grouped(places_without("legal_form"), "legal_form")
    add(
        "legal_form",
        filterset.filters["legal_form"].label,
        True,
        sorted(
            (
                (r["legal_form"], legal_labels.get(r["legal_form"], r["legal_form"]), r["n"])
                for r in rows
            ),
            key=lambda o: (-o[2], str(o[1])),
        ),
    )

    status_counts = {r["status"]: r["n"] for r in grouped(places_without("status"), "status")}
    add(
        "status",
        filterset.filters["status"].label,
        True,
        [(value, label, status_counts.get(value, 0)) for value, label in Place.Status.choices],
    )
    return {facet.name: facet for facet in facets}
