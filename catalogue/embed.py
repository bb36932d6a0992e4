"""The directory on partners' sites: `/integrer/` gives the `<iframe>` snippet of a list or
a map of the places a query string selects; `/integrer/lieux/` and `/integrer/carte/` are
the framed pages (docs/map.md).

The framed pages are the only ones other sites may frame (`xframe_options_exempt` and
`embeddable`; every other page keeps X-Frame-Options: DENY and the Content-Security-Policy's
`frame-ancestors 'none'`) and their links open in the partner's window
(`<base target="_top">`), except the pagination, which stays in the frame.
"""

from csp.decorators import csp_replace
from django.core.paginator import Paginator
from django.shortcuts import render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.http import require_safe

from .filters import canonical_params
from .maps import list_equivalent, map_page_context, query_string
from .selection import select_places
from .views import active_filters

EMBED_PAGE_SIZE = 20
# Any site may frame these pages: the policy's frame-ancestors is dropped for them.
embeddable = csp_replace({"frame-ancestors": None})
HEIGHT_PARAM = "hauteur"
DEFAULT_HEIGHT, MIN_HEIGHT, MAX_HEIGHT = 600, 200, 2000
# Parameters of the snippet page itself, not of the places.
OWN_PARAMS = (HEIGHT_PARAM, "page")


def _filters(request):
    """The directory parameters of the request, the places they select and the filters in
    use as a reader reads them."""
    params = canonical_params(request.GET)
    for name in OWN_PARAMS:
        params.pop(name, None)
    selection = select_places(request.GET)
    return params, selection, active_filters(selection.filterset, params)


def _attribute(value):
    """An attribute value escaped for double quotes only, so that the snippet a partner
    copies stays readable (« d'innovation », not « d&#x27;innovation »)."""
    return (
        str(value)
        .replace("&", "&amp;")
        .replace('"', "&quot;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
    )


def snippet(url, title, height):
    return mark_safe(  # every value below is escaped by _attribute
        f'<iframe src="{_attribute(url)}" title="{_attribute(title)}" width="100%" '
        f'height="{int(height)}" loading="lazy" '
        'referrerpolicy="strict-origin-when-cross-origin"></iframe>'
    )


@require_safe
def embed(request):
    """The snippets to paste in another site, built from the query string, with a
    preview of each."""
    params, selection, active = _filters(request)
    height_error = False
    try:
        height = int(request.GET.get(HEIGHT_PARAM, DEFAULT_HEIGHT))
    except ValueError:
        height, height_error = DEFAULT_HEIGHT, True
    if not MIN_HEIGHT <= height <= MAX_HEIGHT:
        height, height_error = DEFAULT_HEIGHT, True
    query = query_string(params)
    suffix = f"?{query}" if query else ""
    frames = []
    for name, title, kind in (
        ("catalogue:embed-list", _("Innovation places (list)"), _("List")),
        ("catalogue:embed-map", _("Innovation places (map)"), _("Map")),
    ):
        path = reverse(name) + suffix
        frames.append(
            {
                "kind": kind,
                "path": path,
                "snippet": snippet(request.build_absolute_uri(path), title, height),
            }
        )
    return render(
        request,
        "catalogue/embed.html",
        {
            "page_title": _("Embed the directory in your site"),
            "frames": frames,
            "count": selection.places.count(),
            "active_filters": active,
            "invalid": selection.errors,
            "error_text": selection.error_text(),
            "height": height,
            "height_error": height_error,
            "height_param": HEIGHT_PARAM,
            "min_height": MIN_HEIGHT,
            "max_height": MAX_HEIGHT,
            "params": params,
            "query_string": query,
        },
    )


@xframe_options_exempt
@embeddable
@require_safe
def embed_list(request):
    """The selected places as a list, in a minimal page made to be framed."""
    params, selection, active = _filters(request)
    paginator = Paginator(selection.places.for_listing(), EMBED_PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    return render(
        request,
        "catalogue/embed_list.html",
        {
            "page_obj": page,
            "paginator": paginator,
            "active_filters": active,
            "invalid": selection.errors,
            "query_string": query_string(params),
        },
    )


@xframe_options_exempt
@embeddable
@require_safe
def embed_map(request):
    """The selected places on a map, with the list beside it, made to be framed."""
    params, selection, active = _filters(request)
    context = list_equivalent(selection.places, params)
    context.update(map_page_context(params))
    context.update({"active_filters": active, "invalid": selection.errors})
    return render(request, "catalogue/embed_map.html", context)
