"""Pivot a comparison table's rows, columns and cells into a grid for templates.

Rows, columns and cells come from three prefetched queries, headline figures from one more;
the grid is assembled in Python (as djangopackages builds its comparison grids).
"""

from dataclasses import dataclass

from catalogue.models import Figure

from .models import ComparisonColumn


@dataclass
class GridCell:
    text: str = ""
    note: str = ""
    figure: Figure | None = None

    @property
    def missing(self):
        return not self.text and self.figure is None


def attribute_text(place, attribute):
    """A place attribute as text; follows `territory` (fetch it with the rows)."""
    Attribute = ComparisonColumn.Attribute
    if attribute == Attribute.SETTING:
        return place.get_setting_display()
    if attribute == Attribute.LEGAL_FORM:
        return place.get_legal_form_display()
    if attribute == Attribute.TERRITORY:
        return place.territory.name if place.territory else ""
    if attribute == Attribute.POPULATION:
        population = place.territory.population if place.territory else None
        return f"{population:n}" if population is not None else ""
    if attribute == Attribute.YEAR_OPENED:
        return str(place.year_opened or "")
    if attribute in (Attribute.SETTING_AS_STATED, Attribute.CARRIER):
        return getattr(place, attribute)
    return ""


def build_grid(table):
    columns = list(table.columns.all())
    places = [row.place for row in table.rows.all()]
    cells = {(cell.place_id, cell.column_id): cell for cell in table.cells.all()}
    indicator_ids = {c.indicator_id for c in columns if c.kind == ComparisonColumn.Kind.INDICATOR}
    figures = {}
    if indicator_ids and places:
        for figure in Figure.objects.filter(
            place__in=places, indicator_id__in=indicator_ids, headline=True
        ).select_related("source", "indicator"):
            figures[(figure.place_id, figure.indicator_id)] = figure
    rows = []
    for place in places:
        line = []
        for column in columns:
            cell = cells.get((place.pk, column.pk))
            grid_cell = GridCell(text=cell.text, note=cell.note) if cell else GridCell()
            if not grid_cell.text:
                if column.kind == ComparisonColumn.Kind.INDICATOR:
                    grid_cell.figure = figures.get((place.pk, column.indicator_id))
                elif column.kind == ComparisonColumn.Kind.ATTRIBUTE:
                    grid_cell.text = attribute_text(place, column.attribute)
            line.append(grid_cell)
        rows.append((place, line))
    return {"columns": columns, "rows": rows}
