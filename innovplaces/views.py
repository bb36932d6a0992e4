"""Pages that draw on both apps."""

from dataclasses import dataclass

from django.conf import settings
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _
from django.views.static import serve

from casestudies.models import CaseStudy
from catalogue.facet_index import get_index
from catalogue.models import Setting
from catalogue.place_page import kinds_in_memory

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


@dataclass
class KindCount:
    slug: str
    display_name: str
    place_count: int


def home(request):
    # Counted from the directory's facet index (published places, as the directory's
    # own counts): three aggregates over every place cost about 200 ms at 100,000.
    index = get_index()
    kind_masks, setting_masks = index.masks["kind"], index.masks["setting"]
    counted = (
        KindCount(kind.slug, kind.display_name, kind_masks.get(slug, 0).bit_count())
        for slug, kind in kinds_in_memory(index)
    )
    # Most places first; sorted() is stable, so equal counts keep the order of names.
    kinds = sorted((kind for kind in counted if kind.place_count), key=lambda k: -k.place_count)
    settings = [
        (value, label, setting_masks.get(value, 0).bit_count())
        for value, label in Setting.choices
        if setting_masks.get(value, 0)
    ]
    latest = CaseStudy.objects.published().for_listing().order_by("-updated_at", "title")[:6]
    return render(
        request,
        "home.html",
        {
            "kinds": kinds,
            "quick_links": quick_links({kind.slug for kind in kinds}),
            "settings": settings,
            "place_count": index.all.bit_count(),
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
