"""Pages that draw on both apps."""

from django.conf import settings
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import render
from django.views.static import serve

from casestudies.models import CaseStudy
from catalogue.models import Place, PlaceKind, Setting


def home(request):
    published = Q(places__editorial_status=Place.EditorialStatus.PUBLISHED)
    kinds = (
        PlaceKind.objects.annotate(place_count=Count("places", filter=published))
        .filter(place_count__gt=0)
        .order_by("-place_count", "name")
    )
    setting_counts = dict(
        Place.objects.published()
        .exclude(setting="")
        .values_list("setting")
        .annotate(n=Count("pk"))
        .values_list("setting", "n")
    )
    settings = [(value, label, setting_counts.get(value, 0)) for value, label in Setting.choices]
    latest = CaseStudy.objects.published().for_listing().order_by("-updated_at", "title")[:6]
    return render(
        request,
        "home.html",
        {
            "kinds": kinds,
            "settings": settings,
            "place_count": Place.objects.published().count(),
            "case_count": CaseStudy.objects.published().count(),
            "latest_case_studies": latest,
        },
    )


def media(request, path):
    """An uploaded file, when Django serves them (settings.SERVE_MEDIA): read from
    MEDIA_ROOT at request time."""
    if not settings.SERVE_MEDIA:
        raise Http404
    return serve(request, path, document_root=settings.MEDIA_ROOT)
