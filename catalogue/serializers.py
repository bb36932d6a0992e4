"""Plain-dict views of catalogue records: the JSON contract of the export and the API.

Field names are a contract (docs/data-model.md): tests and outside users rely on them.
"""

from decimal import Decimal

from django.db.models import Prefetch

from .models import Figure, Funding, Lesson, Place, Source


def number(value):
    """Decimals as JSON numbers: integers when whole, floats otherwise."""
    if value is None:
        return None
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return int(value)
    return float(value)


def places_for_export(queryset=None):
    """Published places with everything `place_dict` reads, in a fixed number of queries."""
    queryset = Place.objects.published() if queryset is None else queryset
    return (
        queryset.select_related(
            "territory__parent__parent__parent__parent", "departement", "region"
        )
        .prefetch_related(
            "kinds",
            "services",
            "sources",
            "case_studies",
            Prefetch(
                "figures",
                queryset=Figure.objects.select_related("indicator", "source").order_by(
                    "indicator__position", "-headline", "year", "value", "pk"
                ),
            ),
            Prefetch(
                "fundings",
                queryset=Funding.objects.select_related("organisation").order_by(
                    "organisation__slug", "purpose", "amount_eur", "pk"
                ),
            ),
            Prefetch("lessons", queryset=Lesson.objects.order_by("kind", "theme", "pk")),
        )
        .order_by("slug")
    )


def source_dict(source: Source):
    return {
        "slug": source.slug,
        "title": source.title,
        "short_title": source.short_title,
        "publishers": source.publishers,
        "authors": source.authors,
        "year": source.year,
        "kind": source.kind,
        "file_name": source.file_name,
    }


def place_dict(place: Place):
    """Follows the relations that `places_for_export` fetches."""
    territory = place.territory
    commune = place.commune
    # Where the place is: its own point (precise) or its commune's (not precise).
    point = place.coordinates()
    return {
        "slug": place.slug,
        "name": place.name,
        "aliases": list(place.aliases),
        "kinds": sorted(kind.slug for kind in place.kinds.all()),
        "setting": place.setting,
        "setting_as_stated": place.setting_as_stated,
        "commune": commune.name if commune else None,
        "departement": place.departement.insee_code if place.departement else None,
        "region": place.region.insee_code if place.region else None,
        "territory": {
            "name": territory.name,
            "kind": territory.kind,
            "population": territory.population,
        }
        if territory
        else None,
        "latitude": number(point[0]) if point else None,
        "longitude": number(point[1]) if point else None,
        "coordinates_precise": point[2] if point else None,
        "legal_form": place.legal_form,
        "carrier": place.carrier,
        "year_opened": place.year_opened,
        "status": place.status,
        "website": place.website,
        "summary": place.summary,
        "summary_en": place.summary_en,
        "checked_on": place.checked_on.isoformat() if place.checked_on else None,
        "figures": [
            {
                "indicator": figure.indicator.slug,
                "value": number(figure.value),
                "value_max": number(figure.value_max),
                "year": figure.year,
                "period": figure.period,
                "label": figure.label,
                "label_en": figure.label_en,
                "headline": figure.headline,
                "source": figure.source.slug,
                "section": figure.section,
            }
            for figure in place.figures.all()
        ],
        "funders": [
            {
                "name": funding.organisation.name,
                "slug": funding.organisation.slug,
                "kind": funding.organisation.kind,
                "purpose": funding.purpose,
                "amount_eur": number(funding.amount_eur),
                "share_pct": number(funding.share_pct),
                "period": funding.period,
            }
            for funding in place.fundings.all()
        ],
        "services": sorted(service.slug for service in place.services.all()),
        "lessons": [
            {
                "kind": lesson.kind,
                "theme": lesson.theme,
                "text": lesson.text,
                "text_en": lesson.text_en,
            }
            for lesson in place.lessons.all()
        ],
        "case_studies": sorted(case.slug for case in place.case_studies.all()),
        "sources": sorted(source.slug for source in place.sources.all()),
    }
