"""The whole published catalogue as one JSON-ready dict (DESIGN §6 contract)."""

from django.db.models import Prefetch

from catalogue.models import Place, Source
from catalogue.serializers import place_dict, places_for_export, source_dict

from .models import CaseStudy, Section


def case_study_dict(case: CaseStudy):
    """Follows `source`, `places` and `sections`: fetch them with the case studies."""
    return {
        "slug": case.slug,
        "title": case.title,
        "title_en": case.title_en,
        "tagline": case.tagline,
        "tagline_en": case.tagline_en,
        "kind": case.kind,
        "places": sorted(place.slug for place in case.places.all()),
        "source": case.source.slug,
        "source_section": case.source_section,
        "date_written": case.date_written,
        "summary": case.summary,
        "summary_en": case.summary_en,
        "sections": [
            {"kind": s.kind, "heading": s.heading, "heading_en": s.heading_en, "body": s.body}
            for s in case.sections.all()
        ],
    }


def catalogue_data():
    cases = (
        CaseStudy.objects.published()
        .select_related("source")
        .prefetch_related(
            # The export lists published places only: a case study names those.
            Prefetch("places", queryset=Place.objects.published()),
            Prefetch("sections", queryset=Section.objects.order_by("order")),
        )
        .order_by("slug")
    )
    return {
        "sources": [source_dict(source) for source in Source.objects.order_by("slug")],
        "places": [place_dict(place) for place in places_for_export()],
        "case_studies": [case_study_dict(case) for case in cases],
    }
