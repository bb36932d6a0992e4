"""Comparison grids: saved tables from the sources and side-by-side tables users compose.

Rows, columns and cells come from a handful of prefetched queries; the grid is pivoted in
Python (as djangopackages builds its comparison grids). A missing value stays missing: it
is shown as such and never as zero.
"""

from dataclasses import dataclass, field

from django.db.models import Prefetch
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from catalogue.models import Figure, Funding, Indicator, Place

from .models import CaseStudy, ComparisonColumn, Section, SectionKind

Attribute = ComparisonColumn.Attribute
MAX_PLACES = 20
DEFAULT_DIMENSIONS = [
    "kinds",
    "setting",
    "population",
    "region",
    "year_opened",
    "legal_form",
    "investment_eur",
    "operating_budget_eur",
    "staff",
    "funders",
]


@dataclass
class Dimension:
    key: str
    label: str
    kind: str  # attribute | indicator | section | text
    indicator: Indicator | None = None
    attribute: str = ""
    section_kind: str = ""


@dataclass
class GridCell:
    text: str = ""
    note: str = ""
    figure: Figure | None = None
    sections: list = field(default_factory=list)

    @property
    def missing(self):
        return not self.text and self.figure is None and not self.sections

    @property
    def sort_key(self):
        """Numbers sort as numbers, text as text, missing values last."""
        if self.figure is not None:
            return (0, float(self.figure.value), "")
        return (1 if self.text else 2, 0.0, self.text.casefold())

    @property
    def comparable(self):
        if self.figure is not None:
            return (self.figure.value, self.figure.value_max)
        if self.sections:
            return tuple(s.pk for _case, s in self.sections)
        return self.text


def available_dimensions():
    """Every dimension a user can pick, by key (one query for the indicators)."""
    dimensions = {
        value: Dimension(value, str(label), "attribute", attribute=value)
        for value, label in Attribute.choices
    }
    for indicator in Indicator.objects.all():
        dimensions[indicator.slug] = Dimension(
            indicator.slug, indicator.display_name, "indicator", indicator=indicator
        )
    for value, label in SectionKind.choices:
        key = f"section:{value}"
        dimensions[key] = Dimension(key, str(label), "section", section_kind=value)
    return dimensions


def parse_dimensions(raw, available):
    """Dimensions named in ``raw`` (comma-separated keys), and the unknown keys."""
    keys = [k.strip() for k in raw.split(",") if k.strip()] if raw else DEFAULT_DIMENSIONS
    chosen, unknown = [], []
    for key in dict.fromkeys(keys):
        if key in available:
            chosen.append(available[key])
        else:
            unknown.append(key)
    return chosen, unknown


def dimension_from_column(column):
    if column.kind == ComparisonColumn.Kind.INDICATOR:
        return Dimension(column.key, column.label, "indicator", indicator=column.indicator)
    if column.kind == ComparisonColumn.Kind.ATTRIBUTE:
        return Dimension(column.key, column.label, "attribute", attribute=column.attribute)
    if column.kind == ComparisonColumn.Kind.SECTION:
        return Dimension(column.key, column.label, "section", section_kind=column.section_kind)
    return Dimension(column.key, column.label, "text")


def places_for_comparison(queryset):
    """Places with everything an attribute or indicator cell reads."""
    return queryset.select_related("territory", "region").prefetch_related(
        "kinds",
        "services",
        Prefetch("fundings", queryset=Funding.objects.select_related("organisation")),
        Prefetch(
            "figures",
            queryset=Figure.objects.filter(headline=True).select_related("indicator", "source"),
            to_attr="headline_figures",
        ),
    )


def attribute_text(place, attribute):
    """A place attribute as text; follows what `places_for_comparison` fetches."""
    if attribute == Attribute.SETTING:
        return place.get_setting_display()
    if attribute == Attribute.LEGAL_FORM:
        return place.get_legal_form_display()
    if attribute == Attribute.TERRITORY:
        return place.territory.name if place.territory else ""
    if attribute == Attribute.REGION:
        return place.region.name if place.region else ""
    if attribute == Attribute.POPULATION:
        population = place.territory.population if place.territory else None
        if population is None:
            return ""
        return _("%(population)s (%(territory)s)") % {
            "population": number_format(population, force_grouping=True),
            "territory": place.territory.name,
        }
    if attribute == Attribute.YEAR_OPENED:
        return str(place.year_opened or "")
    if attribute == Attribute.KINDS:
        return ", ".join(kind.display_name for kind in place.kinds.all())
    if attribute == Attribute.SERVICES:
        return ", ".join(service.display_name for service in place.services.all())
    if attribute == Attribute.FUNDERS:
        names = dict.fromkeys(f.organisation.name for f in place.fundings.all())
        return ", ".join(names)
    if attribute in (Attribute.SETTING_AS_STATED, Attribute.CARRIER):
        return getattr(place, attribute)
    return ""


def sections_by_place(places, dimensions):
    """(place pk, section kind) → [(case study, section)] for the section dimensions."""
    kinds = {d.section_kind for d in dimensions if d.kind == "section"}
    found = {}
    if not kinds or not places:
        return found
    sections = (
        Section.objects.filter(
            kind__in=kinds,
            case_study__editorial_status=CaseStudy.EditorialStatus.PUBLISHED,
            case_study__places__in=places,
        )
        .select_related("case_study")
        .prefetch_related("case_study__places")
        .order_by("case_study__title", "order")
        .distinct()
    )
    wanted = {place.pk for place in places}
    for section in sections:
        for place in section.case_study.places.all():
            if place.pk in wanted:
                found.setdefault((place.pk, section.kind), []).append((section.case_study, section))
    return found


def cell_for(place, dimension, sections, printed=None):
    """One cell; ``printed`` is the ComparisonCell a saved table holds, if any."""
    cell = GridCell(text=printed.text, note=printed.note) if printed else GridCell()
    if cell.text:
        return cell
    if dimension.kind == "indicator":
        figures = getattr(place, "headline_figures", [])
        cell.figure = next((f for f in figures if f.indicator_id == dimension.indicator.pk), None)
    elif dimension.kind == "attribute":
        cell.text = attribute_text(place, dimension.attribute)
    elif dimension.kind == "section":
        cell.sections = sections.get((place.pk, dimension.section_kind), [])
    return cell


def build_grid(table, sort_key=None, descending=False):
    """A saved table: rows are its places in order, columns its columns, cells as printed."""
    columns = list(table.columns.all())
    dimensions = [dimension_from_column(column) for column in columns]
    places = [row.place for row in table.rows.all()]
    printed = {(cell.place_id, cell.column_id): cell for cell in table.cells.all()}
    sections = sections_by_place(places, dimensions)
    rows = [
        (
            place,
            [
                cell_for(place, d, sections, printed.get((place.pk, c.pk)))
                for c, d in zip(columns, dimensions, strict=True)
            ],
        )
        for place in places
    ]
    keys = [c.key for c in columns]
    if sort_key in keys:
        index = keys.index(sort_key)
        present = [r for r in rows if not r[1][index].missing]
        missing = [r for r in rows if r[1][index].missing]
        present.sort(key=lambda r: r[1][index].sort_key, reverse=descending)
        rows = present + missing
    return {"columns": columns, "rows": rows}


def build_comparison(places, dimensions):
    """Side by side: one row per dimension, one column per place."""
    sections = sections_by_place(places, dimensions)
    rows = []
    for dimension in dimensions:
        cells = [cell_for(place, dimension, sections) for place in places]
        present = {cell.comparable for cell in cells if not cell.missing}
        rows.append({"dimension": dimension, "cells": cells, "differs": len(present) > 1})
    return rows


def cell_as_text(cell):
    if cell.figure is not None:
        value = cell.figure.value
        text = f"{value.normalize():f}"
        if cell.figure.value_max is not None:
            text += f"-{cell.figure.value_max.normalize():f}"
        return text
    if cell.sections:
        return "\n\n".join(
            f"{case.localized_title} — {s.localized_heading}: {s.body}" for case, s in cell.sections
        )
    return cell.text


def place_queryset_for(slugs):
    return places_for_comparison(Place.objects.published().filter(slug__in=slugs))
