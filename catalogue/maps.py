"""The map of places (`/carte/`), its marker data, the density map (`/carte/densite/`) and
the small maps of place and territory pages (docs/map.md).

Every view takes the directory's query parameters and asks `catalogue.selection` which
places they select, so the map shows the places the list shows. Where a place is drawn
comes from `PlaceQuerySet.with_coordinates()`: its own point, else its commune's.
"""

import hashlib
import json
import math
from functools import lru_cache

from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.cache import cache
from django.core.signals import setting_changed
from django.db.models import Count, FloatField, Q
from django.db.models.functions import Cast
from django.dispatch import receiver
from django.http import HttpResponse, JsonResponse, QueryDict
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.formats import number_format
from django.utils.html import format_html, format_html_join
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from .filters import canonical_params
from .models import Place, PlaceKind, Territory
from .selection import select_places
from .versioning import data_version
from .views import directory_context, directory_template, places_within

# Up to this many places, the list beside the map names every place; beyond, it gives
# the count of each département with a link to it.
LIST_LIMIT = 500
# Parameter of the marker data (not a directory filter): only the places of a territory
# page (its slug), as the territory page lists them.
TERRITORY_PARAM = "territoire"
LEVELS = {"departement": Territory.Kind.DEPARTEMENT, "region": Territory.Kind.REGION}
DEFAULT_LEVEL = "departement"
LEVEL_PARAM = "niveau"


def map_settings():
    """What every map element carries: the tile server and the local outline."""
    return dict(_map_settings())


# Looked up once: finding a file's hashed name in the static files' manifest took 40 µs
# each time, on every place page. Django's static storage is made once per process too.
@lru_cache(maxsize=1)
def _map_settings():
    return {
        "tile_url": settings.MAP_TILE_URL,
        "tile_attribution": settings.MAP_TILE_ATTRIBUTION,
        "regions_url": static("geo/regions.geojson"),
        "departements_url": static("geo/departements.geojson"),
    }


@receiver(setting_changed)
def _settings_changed(**kwargs):
    _map_settings.cache_clear()


def query_string(params, **changes):
    """The query string of ``params`` without pagination (and with ``changes``)."""
    query = params.copy()
    query.pop("page", None)
    for key, value in changes.items():
        query[key] = value
    return query.urlencode()


def located_ids(places):
    """The selected places as a plain ``pk IN (…)`` subquery: the selection's joins
    (kinds, funders…) would otherwise multiply rows in the counts below."""
    return Place.objects.filter(pk__in=places.order_by().values("pk"))


def list_equivalent(places, params, limit=None):
    """The places of the map as a reader without the map gets them: régions, then
    départements within, then the places (when there are at most ``limit``), and those
    without a location apart. Two queries."""
    limit = LIST_LIMIT if limit is None else limit
    plain = located_ids(places).with_coordinates()
    groups = list(
        plain.order_by()
        .values(
            "region__insee_code",
            "region__name",
            "departement__insee_code",
            "departement__name",
        )
        .annotate(
            n=Count("pk"),
            located=Count("pk", filter=Q(map_latitude__isnull=False)),
        )
    )
    total = sum(group["n"] for group in groups)
    unlocated_count = sum(group["n"] - group["located"] for group in groups)
    rows = []
    if total <= limit:
        rows = list(
            plain.order_by("name").values_list(
                "slug",
                "name",
                "territory__name",
                "region__insee_code",
                "departement__insee_code",
                "map_latitude",
            )
        )
    regions = {}
    for group in groups:
        code = group["region__insee_code"] or ""
        region = regions.setdefault(
            code,
            {
                "code": code,
                "name": group["region__name"] or _("No région"),
                "count": 0,
                "departements": {},
            },
        )
        region["count"] += group["n"]
        dep_code = group["departement__insee_code"] or ""
        region["departements"][dep_code] = {
            "code": dep_code,
            "name": group["departement__name"]
            or (_("Elsewhere in the région") if code else _("No département")),
            "count": group["n"],
            "located": group["located"],
            "places": [],
            "map_query": query_string(params, departement=dep_code) if dep_code else "",
        }
    unlocated = []
    for slug, name, territory, region_code, dep_code, latitude in rows:
        place = {
            "url": reverse("catalogue:place-detail", args=[slug]),
            "name": name,
            "territory": territory or "",
            "located": latitude is not None,
        }
        regions[region_code or ""]["departements"][dep_code or ""]["places"].append(place)
        if latitude is None:
            unlocated.append(place)
    ordered = sorted(regions.values(), key=lambda r: (not r["code"], r["name"]))
    for region in ordered:
        region["departements"] = sorted(
            region["departements"].values(), key=lambda d: (not d["code"], d["name"])
        )
    return {
        "map_total": total,
        "map_located": total - unlocated_count,
        "map_unlocated": unlocated_count,
        "map_unlocated_places": unlocated,
        "map_regions": ordered,
        "map_lists_places": total <= limit,
        "map_list_limit": limit,
    }


def map_page_context(params):
    """What `map_results.html` needs besides the list: the map's settings and data URL."""
    query = query_string(params)
    return {
        "map": map_settings(),
        "map_src": reverse("catalogue:map-data") + (f"?{query}" if query else ""),
        "map_label": _("the places selected"),
        "query_string": query,
    }


@require_safe
def place_map(request):
    """The directory's filters and counts, with a map of the places they select and the
    same places as a list by région and département."""
    base = Place.objects.published()
    context = directory_context(request, base)
    params = canonical_params(request.GET)
    selection = select_places(request.GET, base)
    context.update(list_equivalent(selection.places, params))
    context.update(map_page_context(params))
    context.update({"page_title": _("Map of places"), "map_view": True})
    return render(request, directory_template(request, "catalogue/map.html"), context)


def marker_data(places):
    """What the map script draws, compact (one array per place): the places' points,
    names, territories and kinds, and how many have no location."""
    plain = located_ids(places)
    # Floats straight from the database: converting 100,000 decimals costs more than
    # the query. Points have five decimals, which a double holds exactly enough.
    rows = (
        plain.with_coordinates()
        .annotate(lat=Cast("map_latitude", FloatField()), lon=Cast("map_longitude", FloatField()))
        .values_list("pk", "slug", "name", "lat", "lon", "map_precise", "territory__name")
    )
    kinds = {}
    for place_id, kind_id in Place.kinds.through.objects.filter(
        place_id__in=places.order_by().values("pk")
    ).values_list("place_id", "placekind_id"):
        kinds.setdefault(place_id, []).append(kind_id)
    kind_list = list(PlaceKind.objects.order_by("pk"))
    kind_index = {kind.pk: position for position, kind in enumerate(kind_list)}
    markers, unlocated = [], []
    for pk, slug, name, latitude, longitude, precise, territory in rows:
        if latitude is None or longitude is None:
            unlocated.append([name, slug])
            continue
        markers.append(
            [
                round(latitude, 5),
                round(longitude, 5),
                name,
                slug,
                territory or "",
                [kind_index[k] for k in kinds.get(pk, ())],
                1 if precise else 0,
            ]
        )
    return {
        "count": len(markers) + len(unlocated),
        "located": len(markers),
        "unlocated": len(unlocated),
        "kinds": [kind.display_name for kind in kind_list],
        "place_url": reverse("catalogue:place-detail", args=["-slug-"]).replace("-slug-", "{slug}"),
        "fields": ["latitude", "longitude", "name", "slug", "territory", "kinds", "precise"],
        "places": markers,
        # Counted, not drawn: [name, slug] of the places with no point anywhere.
        "unlocated_places": unlocated,
    }


# Marker data kept in the cache, keyed by the data version: a change to the catalogue
# makes every entry stale at once. Only small answers, and the unfiltered one (the map's
# first view, the largest), are kept, so the cache never fills with large payloads.
CACHE_SECONDS = 600
CACHE_MAX_BYTES = 1_000_000


@require_safe
def map_data(request):
    """The markers of the places a query string selects (the directory's parameters), as
    JSON. Values the directory does not understand are ignored as the directory ignores
    them (the map must show what the page beside it lists) and reported in ``errors``."""
    query = request.GET.urlencode()
    key = f"map-data:{data_version()}:{get_language()}:{hashlib.sha256(query.encode()).hexdigest()}"
    body = cache.get(key)
    if body is None:
        base = Place.objects.published()
        slug = request.GET.get(TERRITORY_PARAM)
        if slug is not None:
            # PostgreSQL refuses a NUL character in a query: such a slug is simply unknown.
            territory = (
                Territory.objects.filter(slug=slug[:200]).first() if "\x00" not in slug else None
            )
            if territory is None:
                return JsonResponse({"error": _("Unknown territory: %s") % slug[:200]}, status=400)
            base = places_within(territory)
        selection = select_places(request.GET, base)
        data = marker_data(selection.places)
        data["errors"] = {
            name: [str(m) for m in messages] for name, messages in selection.errors.items()
        }
        body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
        if not query or len(body) <= CACHE_MAX_BYTES:
            cache.set(key, body, CACHE_SECONDS)
    return HttpResponse(body, content_type="application/json")


def small_map(place=None, territory=None, request=None):
    """The context of `catalogue/map_small.html`: one place's point, or the places of a
    territory (with the directory filters of the page)."""
    context = {
        "map": map_settings(),
        "latitude": None,
        "longitude": None,
        "precise": False,
        "src": "",
        "map_query": "",
    }
    if place is not None:
        point = place.coordinates()
        if point is not None:
            context.update(latitude=point[0], longitude=point[1], precise=point[2])
        context.update(mode="point", label=place.name)
    if territory is not None:
        params = canonical_params(request.GET) if request is not None else QueryDict()
        query = query_string(params)
        context.update(
            mode="places",
            label=territory.name,
            src=f"{reverse('catalogue:map-data')}?"
            + query_string(params, **{TERRITORY_PARAM: territory.slug}),
        )
        if territory.insee_code and territory.kind in LEVELS.values():
            level = "region" if territory.kind == Territory.Kind.REGION else "departement"
            context["map_query"] = query_string(params, **{level: territory.insee_code})
        else:
            context["map_query"] = query
        if territory.latitude is not None and territory.longitude is not None:
            context.update(latitude=territory.latitude, longitude=territory.longitude)
    return context


# The density map: départements or régions drawn from the local GeoJSON as SVG paths.

WIDTH, HEIGHT = 600, 580
# The metropolitan area (and Corsica) fills the picture; the overseas départements are
# drawn in boxes down the left side, each at its own scale.
METROPOLE = (-5.3, 41.3, 9.7, 51.2)  # west, south, east, north
INSET = 88  # side of an overseas box, in pixels
OVERSEAS = ["971", "972", "973", "974", "976"]
OVERSEAS_REGIONS = {"01": "971", "02": "972", "03": "973", "04": "974", "06": "976"}


def _project(bounds, box):
    """A function from (longitude, latitude) to (x, y) in ``box`` (x, y, width, height),
    an equirectangular projection scaled at the middle latitude, centred in the box."""
    west, south, east, north = bounds
    squeeze = math.cos(math.radians((south + north) / 2))
    width, height = (east - west) * squeeze, north - south
    scale = min(box[2] / width, box[3] / height)
    left = box[0] + (box[2] - width * scale) / 2
    top = box[1] + (box[3] - height * scale) / 2
    return lambda lon, lat: (left + (lon - west) * squeeze * scale, top + (north - lat) * scale)


def _rings(geometry):
    if geometry["type"] == "Polygon":
        return geometry["coordinates"]
    return [ring for polygon in geometry["coordinates"] for ring in polygon]


def _bounds(rings):
    lons = [point[0] for ring in rings for point in ring]
    lats = [point[1] for ring in rings for point in ring]
    return min(lons), min(lats), max(lons), max(lats)


def _path(rings, project):
    parts = []
    for ring in rings:
        points = [project(lon, lat) for lon, lat in ring]
        parts.append("M" + "L".join(f"{x:.1f},{y:.1f}" for x, y in points) + "Z")
    return "".join(parts)


@lru_cache(maxsize=4)
def shapes(level):
    """{INSEE code: (name, SVG path)} for ``level`` ('departement' or 'region'), read once
    from static/geo/, and the boxes of the overseas insets [(x, y, w, h), ...]."""
    path = finders.find(f"geo/{level}s.geojson")
    with open(path, encoding="utf-8") as handle:
        features = json.load(handle)["features"]
    metropole = _project(METROPOLE, (INSET + 16, 4, WIDTH - INSET - 20, HEIGHT - 8))
    insets = {
        code: (6, 6 + index * (INSET + 24), INSET, INSET) for index, code in enumerate(OVERSEAS)
    }
    found = {}
    for feature in features:
        code, name = feature["properties"]["code"], feature["properties"]["nom"]
        rings = _rings(feature["geometry"])
        overseas = code if code in insets else OVERSEAS_REGIONS.get(code)
        if level == "region" and code not in OVERSEAS_REGIONS:
            overseas = None
        project = metropole
        if overseas:
            project = _project(_bounds(rings), insets[overseas])
        found[code] = (name, _path(rings, project))
    return found, list(insets.values())


def classes(counts, steps=5):
    """Upper bounds of the colour classes for ``counts`` (0 has its own): quantiles of
    the non-zero counts, without repeats, so that each class holds some territories."""
    values = sorted(v for v in counts if v)
    if not values:
        return []
    bounds = []
    for step in range(1, steps + 1):
        bound = values[min(len(values) - 1, math.ceil(step * len(values) / steps) - 1)]
        if not bounds or bound > bounds[-1]:
            bounds.append(bound)
    return bounds


def shade(index, bounds):
    """The colour (1 to 5) of class ``index``: spread over the five shades when there are
    fewer classes, so that the most always gets the darkest."""
    return math.ceil(index * 5 / len(bounds))


def class_of(count, bounds):
    if not count:
        return 0
    for index, bound in enumerate(bounds, start=1):
        if count <= bound:
            return shade(index, bounds)
    return 5


def choropleth_svg(level, counts, bounds, title, description):
    """The map as an ``<svg role="img">``: each territory filled by its class (CSS
    classes `density-0` … `density-5`), with its name and count in a ``<title>``."""
    found, insets = shapes(level)
    paths = format_html_join(
        "",
        '<path class="density-{}" d="{}"><title>{}</title></path>',
        (
            (
                class_of(counts.get(code, 0), bounds),
                path,
                f"{name} : {number_format(counts.get(code, 0), force_grouping=True)}",
            )
            for code, (name, path) in sorted(found.items())
        ),
    )
    frames = format_html_join(
        "",
        '<rect class="density-inset" x="{}" y="{}" width="{}" height="{}"></rect>',
        ((x - 3, y - 3, w + 6, h + 6) for x, y, w, h in insets),
    )
    return format_html(
        '<svg class="density-map" role="img" viewBox="0 0 {w} {h}" '
        'aria-labelledby="density-title density-desc" xmlns="http://www.w3.org/2000/svg">'
        '<title id="density-title">{title}</title><desc id="density-desc">{desc}</desc>'
        "{frames}{paths}</svg>",
        w=WIDTH,
        h=HEIGHT,
        title=title,
        desc=description,
        frames=frames,
        paths=paths,
    )


@require_safe
def density_map(request):
    """How many of the selected places each département (or région) holds: a map and the
    same numbers as a table. Works without JavaScript and in print."""
    params = canonical_params(request.GET)
    params.pop(LEVEL_PARAM, None)
    level = request.GET.get(LEVEL_PARAM, DEFAULT_LEVEL)
    level_error = level not in LEVELS
    if level_error:
        level = DEFAULT_LEVEL
    selection = select_places(request.GET)
    plain = located_ids(selection.places)
    field = f"{level}__insee_code"
    counts = dict(
        plain.order_by().values_list(field).annotate(n=Count("pk")).values_list(field, "n")
    )
    outside = counts.pop(None, 0) + counts.pop("", 0)
    total = sum(counts.values()) + outside
    found, _insets = shapes(level)
    names = dict(
        Territory.objects.filter(kind=LEVELS[level], insee_code__in=list(counts)).values_list(
            "insee_code", "name"
        )
    )
    rows = sorted(
        (
            {
                "code": code,
                "name": names.get(code) or found.get(code, (code,))[0],
                "count": n,
                "share": 100 * n / total if total else 0,
                "list_query": query_string(params, **{level: code}),
                "drawn": code in found,
            }
            for code, n in counts.items()
        ),
        key=lambda row: (-row["count"], row["name"]),
    )
    bounds = classes(counts.values())
    legend, low = [], 1
    for index, bound in enumerate(bounds, start=1):
        legend.append((shade(index, bounds), low, bound))
        low = bound + 1
    level_name = _("département") if level == "departement" else _("région")
    title = _("Places per %(level)s") % {"level": level_name}
    description = _(
        "%(total)s places selected, in %(territories)s territories; the darker, the more "
        "places. The table beside the map gives each number."
    ) % {"total": total, "territories": len(rows)}
    context = {
        "page_title": title,
        "level": level,
        "level_error": level_error,
        "levels": [
            ("departement", _("By département"), query_string(params, niveau="departement")),
            ("region", _("By région"), query_string(params, niveau="region")),
        ],
        "svg": choropleth_svg(level, counts, bounds, title, description),
        "legend": legend,
        "rows": rows,
        "total": total,
        "outside": outside,
        "invalid": selection.errors,
        "error_text": selection.error_text(),
        "query_string": query_string(params),
        "level_param": LEVEL_PARAM,
    }
    return render(request, "catalogue/map_density.html", context)
