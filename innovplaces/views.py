"""Pages that draw on both apps."""

from django.conf import settings
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _
from django.views.static import serve

from casestudies.models import CaseStudy
from catalogue.models import Place, PlaceKind, Setting

# The home page's quick links: (label, query). A kind without a published place is left
# out of its link, and a link left with no kind at all is not shown.
QUICK_LINKS = [
    (_("Rural places and small towns"), {"area": ["rural"]}),
    (_("PTCE"), {"kind": ["ptce"]}),
    (_("Fab labs"), {"kind": ["fab-lab"]}),
    (_("Third places"), {"kind": ["tiers-lieu"]}),
    (_("Incubators and business hotels"), {"kind": ["pepiniere", "hotel-entreprises"]}),
    (
        _("Training places"),
        {"kind": ["centre-formation", "campus-connecte", "ecole-production"]},
    ),
    (_("Clusters"), {"kind": ["cluster"]}),
]


def quick_links(kinds_with_places):
    url = reverse("catalogue:place-list")
    links = []
    for label, query in QUICK_LINKS:
        if "kind" in query:
            kinds = [kind for kind in query["kind"] if kind in kinds_with_places]
            if not kinds:
                continue
            query = {**query, "kind": kinds}
        links.append((label, f"{url}?{urlencode(query, doseq=True)}"))
    return links


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
    settings = [
        (value, label, setting_counts[value])
        for value, label in Setting.choices
        if setting_counts.get(value)
    ]
    latest = CaseStudy.objects.published().for_listing().order_by("-updated_at", "title")[:6]
    return render(
        request,
        "home.html",
        {
            "kinds": kinds,
            "quick_links": quick_links({kind.slug for kind in kinds}),
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
