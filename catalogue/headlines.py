"""Copy each place's headline figures to columns the directory sorts and filters on."""

from django.db.models import OuterRef, Subquery

from .models import Figure, Place

HEADLINE_COLUMNS = {
    "headline_investment": "investment_eur",
    "headline_budget": "operating_budget_eur",
    "headline_staff": "staff",
}


def refresh_headlines(place_ids=None):
    places = Place.objects.all() if place_ids is None else Place.objects.filter(pk__in=place_ids)
    values = {
        column: Subquery(
            Figure.objects.filter(
                place=OuterRef("pk"), indicator__slug=indicator, headline=True
            ).values("value")[:1]
        )
        for column, indicator in HEADLINE_COLUMNS.items()
    }
    places.update(**values)


def settle_headlines(place_id, indicator_ids):
    """Give the obvious headline to the indicators of a place that have none.

    The only figure of an indicator is its headline value. Returns the figures promoted,
    and (indicator, count) for the indicators left with several figures and no headline:
    someone has to choose.
    """
    groups = {}
    figures = Figure.objects.filter(place_id=place_id, indicator_id__in=indicator_ids)
    for figure in figures.select_related("indicator").order_by("pk"):
        groups.setdefault(figure.indicator_id, []).append(figure)
    promoted, undecided = [], []
    for group in groups.values():
        if any(figure.headline for figure in group):
            continue
        if len(group) == 1:
            group[0].headline = True
            group[0].save()
            promoted.append(group[0])
        else:
            undecided.append((group[0].indicator, len(group)))
    return promoted, undecided
