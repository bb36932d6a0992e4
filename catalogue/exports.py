"""The directory as open data: CSV, JSON and GeoJSON downloads of the places a query
string selects (`/lieux/export.csv`, `.json`, `.geojson`).

Every download takes the directory's query parameters (catalogue.selection), refuses the
values it does not understand (400, with the reason), and is streamed: places are read in
chunks of `CHUNK_SIZE` rows as plain values (no model instances), with their kinds,
headline figures and sources fetched per chunk, so memory stays flat however many places
are exported.
"""

import csv
import datetime
import json
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection
from django.http import HttpResponse, JsonResponse, StreamingHttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe
from rest_framework.throttling import AnonRateThrottle

from .models import Figure, Indicator, Place, Source
from .selection import select_places

CHUNK_SIZE = 2000

# The data licence (docs/api.md says why this one).
LICENSE = {
    "name": "Licence Ouverte / Open Licence 2.0",
    "spdx": "etalab-2.0",
    "url": "https://www.etalab.gouv.fr/licence-ouverte-open-licence/",
}
ATTRIBUTION = (
    "innovplaces — catalogue des lieux d'innovation, d'après les documents sources cités "
    "(champ « sources »)."
)

# (column, values() lookup) read for every place, in the order of the CSV's columns.
PLACE_VALUES = [
    ("slug", "slug"),
    ("name", "name"),
    ("setting", "setting"),
    ("legal_form", "legal_form"),
    ("status", "status"),
    ("year_opened", "year_opened"),
    ("website", "website"),
    ("territory", "territory__name"),
    ("territory_kind", "territory__kind"),
    ("territory_insee_code", "territory__insee_code"),
    ("territory_population", "territory__population"),
    ("territory_population_year", "territory__population_year"),
    ("departement", "departement__insee_code"),
    ("departement_name", "departement__name"),
    ("region", "region__insee_code"),
    ("region_name", "region__name"),
    ("latitude", "map_latitude"),
    ("longitude", "map_longitude"),
    ("coordinates_precise", "map_precise"),
]
PLACE_NAMES = [name for name, _lookup in PLACE_VALUES]
# Formula injection: a spreadsheet runs a cell that starts with one of these.
FORMULA_STARTS = frozenset("=+-@\t\r")


def of_places(queryset, ids):
    """``queryset`` (a model with a `place` key) restricted to the places ``ids``. On
    PostgreSQL the ids go as one array parameter: thousands of IN parameters cost more to
    prepare and send than the query takes to run."""
    if connection.vendor == "postgresql":
        column = f'"{queryset.model._meta.db_table}"."place_id"'
        return queryset.extra(where=[f"{column} = ANY(%s)"], params=[list(ids)])
    return queryset.filter(place_id__in=ids)


def number(value):
    """Decimals as JSON numbers: integers when whole, floats otherwise."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


@dataclass
class Export:
    """The rows of a download, one dict per place, read chunk by chunk."""

    places: object  # the selection's queryset
    base_url: str  # scheme and host, for the places' URLs
    indicators: list = field(default_factory=list)
    source_ids: set = field(default_factory=set)

    def __post_init__(self):
        self.indicators = list(
            Indicator.objects.order_by("position", "slug").values_list("slug", flat=True)
        )

    def rows(self):
        lookups = ["pk"] + [lookup for _name, lookup in PLACE_VALUES]
        values = self.places.with_coordinates().values_list(*lookups)
        chunk = []
        for row in values.iterator(chunk_size=CHUNK_SIZE):
            chunk.append(row)
            if len(chunk) == CHUNK_SIZE:
                yield from self._complete(chunk)
                chunk = []
        if chunk:
            yield from self._complete(chunk)

    def _complete(self, chunk):
        """The chunk's rows with their kinds, headline figures and sources (three queries)."""
        ids = [row[0] for row in chunk]
        kinds, figures, sources = {}, {}, {}
        for place_id, slug in (
            of_places(Place.kinds.through.objects, ids)
            .order_by("placekind__slug")
            .values_list("place_id", "placekind__slug")
        ):
            kinds.setdefault(place_id, []).append(slug)
        for place_id, indicator, value in of_places(
            Figure.objects.filter(headline=True), ids
        ).values_list("place_id", "indicator__slug", "value"):
            figures.setdefault(place_id, {})[indicator] = number(value)
        for place_id, source_id, slug in (
            of_places(Place.sources.through.objects, ids)
            .order_by("source__slug")
            .values_list("place_id", "source_id", "source__slug")
        ):
            sources.setdefault(place_id, []).append(slug)
            self.source_ids.add(source_id)
        prefix = self.base_url + reverse("catalogue:place-list")
        for row in chunk:
            pk = row[0]
            place = dict(zip(PLACE_NAMES, row[1:], strict=True))
            place["latitude"] = number(place["latitude"])
            place["longitude"] = number(place["longitude"])
            place["url"] = f"{prefix}{place['slug']}/"
            place["kinds"] = kinds.get(pk, [])
            place["figures"] = figures.get(pk, {})
            place["sources"] = sources.get(pk, [])
            yield place

    def credited_sources(self):
        """The documents the exported places cite: what the licence asks to credit."""
        return [
            {
                "slug": source.slug,
                "title": source.title,
                "authors": source.authors,
                "publishers": source.publishers,
                "year": source.year,
                "url": source.url,
            }
            for source in Source.objects.filter(pk__in=self.source_ids).order_by("slug")
        ]


# ------------------------------------------------------------------ formats


class Echo:
    """A file-like object whose write returns the line: csv.writer feeds a generator."""

    def write(self, value):
        return value


def csv_cell(value):
    if value is None:
        return ""
    kind = type(value)
    if kind is str:
        return "'" + value if value[:1] in FORMULA_STARTS else value
    if kind is list:
        return csv_cell("|".join(value))
    if kind is bool:
        return "1" if value else "0"
    return value


def csv_columns(export):
    return ["slug", "name", "url", "kinds", *PLACE_NAMES[2:], *export.indicators, "sources"]


def csv_lines(export):
    writer = csv.writer(Echo())
    place_columns = ["slug", "name", "url", "kinds", *PLACE_NAMES[2:]]
    indicators = export.indicators
    # A byte-order mark: without it, Excel reads UTF-8 as Windows-1252 and garbles accents.
    yield "\ufeff" + writer.writerow(csv_columns(export))
    for place in export.rows():
        figures = place["figures"]
        yield writer.writerow(
            [csv_cell(place[name]) for name in place_columns]
            + [csv_cell(figures.get(slug)) for slug in indicators]
            + [csv_cell(place["sources"])]
        )


def json_place(place):
    """A place as the JSON export gives it (GeoJSON's properties are the same)."""
    return {
        "slug": place["slug"],
        "name": place["name"],
        "url": place["url"],
        "kinds": place["kinds"],
        "setting": place["setting"],
        "legal_form": place["legal_form"],
        "status": place["status"],
        "year_opened": place["year_opened"],
        "website": place["website"],
        "territory": {
            "name": place["territory"],
            "kind": place["territory_kind"],
            "insee_code": place["territory_insee_code"],
            "population": place["territory_population"],
            "population_year": place["territory_population_year"],
        }
        if place["territory"] is not None
        else None,
        "departement": place["departement"],
        "departement_name": place["departement_name"],
        "region": place["region"],
        "region_name": place["region_name"],
        "latitude": place["latitude"],
        "longitude": place["longitude"],
        "coordinates_precise": place["coordinates_precise"],
        "figures": place["figures"],
        "sources": place["sources"],
    }


def dumps(value):
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def header(export, request):
    return {
        "license": LICENSE,
        "attribution": ATTRIBUTION,
        "query": request.GET.urlencode(),
        "generated": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
    }


def json_chunks(export, request):
    head = dumps(header(export, request))
    yield head[:-1] + ',"places":['
    first = True
    for place in export.rows():
        yield ("" if first else ",\n") + dumps(json_place(place))
        first = False
    yield '],"sources":' + dumps(export.credited_sources()) + "}\n"


def geojson_chunks(export, request):
    """RFC 7946: a FeatureCollection, one Feature per place, [longitude, latitude]; a place
    with no known point has a null geometry. The licence and credits are foreign members."""
    head = dumps({"type": "FeatureCollection", **header(export, request)})
    yield head[:-1] + ',"features":['
    first = True
    for place in export.rows():
        properties = json_place(place)
        lat, lon = properties.pop("latitude"), properties.pop("longitude")
        geometry = (
            {"type": "Point", "coordinates": [lon, lat]}
            if lat is not None and lon is not None
            else None
        )
        feature = {"type": "Feature", "id": place["slug"], "geometry": geometry}
        feature["properties"] = properties
        yield ("" if first else ",\n") + dumps(feature)
        first = False
    yield '],"sources":' + dumps(export.credited_sources()) + "}\n"


FORMATS = {
    "csv": ("text/csv; charset=utf-8", csv_lines),
    "json": ("application/json", json_chunks),
    "geojson": ("application/geo+json", geojson_chunks),
}


class ExportThrottle(AnonRateThrottle):
    """Downloads per anonymous address (settings: EXPORT_THROTTLE_RATE). Only the
    downloads that run count: a refused query costs nothing."""

    scope = "export"


@require_safe
def export(request, fmt):
    selection = select_places(request.GET)
    if not selection.valid:
        message = _("These parameters were not understood: %(errors)s") % {
            "errors": selection.error_text()
        }
        if fmt == "csv":
            response = HttpResponse(message, status=400, content_type="text/plain; charset=utf-8")
        else:
            response = JsonResponse(
                {"detail": message, "errors": error_lists(selection)},
                status=400,
                json_dumps_params={"ensure_ascii": False},
            )
        return licensed(response)
    throttle = ExportThrottle()
    if not throttle.allow_request(request, None):
        wait = int(throttle.wait() or 60)
        response = HttpResponse(
            _("Too many downloads from your address: try again in %(seconds)d seconds.")
            % {"seconds": wait},
            status=429,
            content_type="text/plain; charset=utf-8",
        )
        response["Retry-After"] = str(wait)
        return licensed(response)
    content_type, lines = FORMATS[fmt]
    export = Export(selection.places, request.build_absolute_uri("/")[:-1])
    if fmt == "csv":
        chunks = lines(export)
    else:
        chunks = lines(export, request)
    response = StreamingHttpResponse(chunks, content_type=content_type)
    stamp = datetime.date.today().strftime("%Y%m%d")
    response["Content-Disposition"] = f'attachment; filename="lieux-{stamp}.{fmt}"'
    return licensed(response)


def error_lists(selection):
    return {name: [str(m) for m in messages] for name, messages in selection.errors.items()}


def licensed(response):
    response["Link"] = f'<{LICENSE["url"]}>; rel="license"'
    response["X-License"] = f"{LICENSE['name']} ({LICENSE['spdx']})"
    return response
