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
