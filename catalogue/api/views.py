"""Read-only endpoints of /api/v1/. Records are published ones only, named by their slugs
(lessons, which have none, by their number)."""

import django_filters
from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.filters import BaseFilterBackend

from casestudies.models import CaseStudy, ComparisonTable, Section
from casestudies.views import table_queryset

from ..exports import LICENSE
from ..filters import PlaceFilter
from ..models import COORDINATE_FALLBACK_DEPTH, PUBLIC_STATUSES, Lesson, Place, Territory
from ..selection import select_places
from ..serializers import places_for_export
from ..views import public_sources
from . import serializers


class LicensedMixin:
    """Every answer names the data's licence (RFC 8288 `license` link)."""

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        response["Link"] = f'<{LICENSE["url"]}>; rel="license"'
        response["X-License"] = f"{LICENSE['name']} ({LICENSE['spdx']})"
        return response


class ReadOnlyViewSet(LicensedMixin, viewsets.ReadOnlyModelViewSet):
    lookup_field = "slug"
    detail_serializer_class = None

    def get_serializer_class(self):
        if self.action == "retrieve" and self.detail_serializer_class is not None:
            return self.detail_serializer_class
        return self.serializer_class


class DirectoryFilterBackend(BaseFilterBackend):
    """The directory's query parameters, applied by `catalogue.selection` exactly as the
    directory, the map and the downloads apply them; a value not understood is a 400."""

    def filter_queryset(self, request, queryset, view):
        if view.action != "list":
            return queryset
        return self.select(request, queryset).places

    @staticmethod
    def select(request, queryset):
        selection = select_places(request.query_params, base=queryset)
        if not selection.valid:
            raise ValidationError(
                {name: [str(m) for m in messages] for name, messages in selection.errors.items()}
            )
        return selection

    def get_schema_operation_parameters(self, view):
        """PlaceFilter's parameters, as the OpenAPI schema lists them."""
        parameters = []
        for name, declared in PlaceFilter.base_filters.items():
            multiple = isinstance(
                declared,
                (django_filters.MultipleChoiceFilter, django_filters.ModelMultipleChoiceFilter),
            )
            if isinstance(declared, django_filters.NumberFilter):
                schema = {"type": "number"}
            else:
                schema = {"type": "string"}
                choices = declared.extra.get("choices")
                if choices and not callable(choices):
                    schema["enum"] = [str(value) for value, _label in choices]
            if multiple:
                schema = {"type": "array", "items": schema}
            parameter = {
                "name": name,
                "in": "query",
                "required": False,
                "description": str(declared.label or name),
                "schema": schema,
            }
            if multiple:
                parameter.update(style="form", explode=True)
            parameters.append(parameter)
        return parameters


@extend_schema_view(
    list=extend_schema(
        summary="Places the directory's parameters select",
        description=(
            "Takes the query parameters of the directory (/lieux/): the same query string "
            "selects the same places, in the same order (by relevance with `q`), as the "
            "directory and the CSV, JSON and GeoJSON downloads."
        ),
    ),
    retrieve=extend_schema(summary="A place, with its figures, funders, lessons and sources"),
)
class PlaceViewSet(ReadOnlyViewSet):
    serializer_class = serializers.PlaceListSerializer
    detail_serializer_class = serializers.PlaceDetailSerializer
    filter_backends = [DirectoryFilterBackend]

    def get_queryset(self):
        if self.action == "retrieve":
            # Archived places keep their page, and their record here.
            return places_for_export(Place.objects.public()).with_coordinates()
        return Place.objects.published().for_listing()

    def list(self, request, *args, **kwargs):
        # Counted and, for a search, ordered as the directory does (facet index, ranked
        # hits): no COUNT(*) over the selection, no second full-text query.
        selection = DirectoryFilterBackend.select(request, Place.objects.published())
        ordered, total = selection.listing()
        page = self.paginate_queryset(CountedPlaces(ordered, total))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        attach_points(page)
        return page


class CountedPlaces:
    """The places of a listing whose number is already known: a page of ids is fetched
    (in that order) with what a listing shows; a queryset is sliced as usual."""

    # Not named `ordered`: Django's paginator reads that attribute and tests its truth,
    # which would fetch a whole queryset.
    def __init__(self, places, total):
        self.places, self.total = places, total

    def count(self):
        return self.total

    def __len__(self):
        return self.total

    def __getitem__(self, key):
        if not isinstance(self.places, QuerySet):  # ids in order (list or index-sorted)
            ids = self.places[key]
            found = Place.objects.for_listing().in_bulk(ids)
            return [found[pk] for pk in ids if pk in found]
        return list(self.places.for_listing()[key])


def attach_points(places):
    """Give a page of places the annotations of `PlaceQuerySet.with_coordinates` (the
    place's own point, else the nearest one up its territory chain), read from the
    territories the listing already fetched, then one query per level climbed, if any.
    Building and compiling the annotation's chain of joins costs more than the page."""
    pending = {}
    for place in places:
        place.map_latitude = place.map_longitude = place.map_precise = None
        if place.latitude is not None and place.longitude is not None:
            place.map_latitude, place.map_longitude = place.latitude, place.longitude
            place.map_precise = True
        elif place.territory is not None:
            pending.setdefault(place.territory_id, []).append(place)
    territories = {place.territory_id: place.territory for place in places if place.territory}
    rows = [(t.pk, t.parent_id, t.latitude, t.longitude) for t in territories.values()]
    for _level in range(COORDINATE_FALLBACK_DEPTH):
        climbing = {}
        for pk, parent_id, latitude, longitude in rows:
            waiting = pending.get(pk, [])
            if latitude is not None and longitude is not None:
                for place in waiting:
                    place.map_latitude, place.map_longitude = latitude, longitude
                    place.map_precise = False
            elif parent_id is not None:
                climbing.setdefault(parent_id, []).extend(waiting)
        pending = climbing
        if not pending:
            break
        rows = Territory.objects.filter(pk__in=pending).values_list(
            "pk", "parent_id", "latitude", "longitude"
        )


class TerritoryFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=Territory.Kind.choices, label=_("Kind"))
    parent = django_filters.CharFilter(
        field_name="parent__slug", lookup_expr="exact", label=_("Parent (slug)"), max_length=120
    )
    insee_code = django_filters.CharFilter(
        lookup_expr="exact", label=_("INSEE code"), max_length=10
    )
    q = django_filters.CharFilter(
        field_name="name", lookup_expr="icontains", label=_("Name contains"), max_length=100
    )

    class Meta:
        model = Territory
        fields = []


@extend_schema_view(
    list=extend_schema(summary="Territories: régions, départements, EPCI, communes…"),
    retrieve=extend_schema(summary="A territory"),
)
class TerritoryViewSet(ReadOnlyViewSet):
    serializer_class = serializers.TerritorySerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = TerritoryFilter
    queryset = Territory.objects.select_related("parent", "departement", "region").order_by(
        "kind", "name", "pk"
    )


class CaseStudyFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=CaseStudy.Kind.choices, label=_("Kind"))
    place = django_filters.CharFilter(
        field_name="places__slug", lookup_expr="exact", label=_("Place (slug)"), distinct=True
    )
    source = django_filters.CharFilter(
        field_name="source__slug", lookup_expr="exact", label=_("Source (slug)")
    )

    class Meta:
        model = CaseStudy
        fields = []


@extend_schema_view(
    list=extend_schema(summary="Case studies (monographs, syntheses, expert views)"),
    retrieve=extend_schema(summary="A case study with its sections (Markdown)"),
)
class CaseStudyViewSet(ReadOnlyViewSet):
    serializer_class = serializers.CaseStudyListSerializer
    detail_serializer_class = serializers.CaseStudyDetailSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = CaseStudyFilter

    def get_queryset(self):
        cases = (
            CaseStudy.objects.published()
            .select_related("source")
            .prefetch_related(Prefetch("places", queryset=Place.objects.published()))
            .order_by("title", "pk")
        )
        if self.action == "retrieve":
            cases = cases.prefetch_related(
                Prefetch("sections", queryset=Section.objects.order_by("order"))
            )
        return cases


class LessonFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=Lesson.Kind.choices, label=_("Kind"))
    theme = django_filters.ChoiceFilter(choices=Lesson.Theme.choices, label=_("Theme"))
    place = django_filters.CharFilter(
        field_name="place__slug", lookup_expr="exact", label=_("Place (slug)")
    )

    class Meta:
        model = Lesson
        fields = []


@extend_schema_view(
    list=extend_schema(summary="Lessons the places' founders drew"),
    retrieve=extend_schema(summary="A lesson"),
)
class LessonViewSet(ReadOnlyViewSet):
    serializer_class = serializers.LessonSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = LessonFilter
    lookup_field = "pk"
    lookup_value_regex = "[0-9]{1,18}"
    queryset = (
        Lesson.objects.filter(place__editorial_status__in=PUBLIC_STATUSES)
        .select_related("place", "source")
        .prefetch_related(Prefetch("cited_places", queryset=Place.objects.public()))
        .order_by("pk")
    )


@extend_schema_view(
    list=extend_schema(summary="Source documents"),
    retrieve=extend_schema(summary="A source document"),
)
class SourceViewSet(ReadOnlyViewSet):
    serializer_class = serializers.SourceSerializer

    def get_queryset(self):
        return public_sources().order_by("slug")


@extend_schema_view(
    list=extend_schema(summary="Comparison tables"),
    retrieve=extend_schema(summary="A comparison table: its columns and rows, cells as text"),
)
class TableViewSet(ReadOnlyViewSet):
    serializer_class = serializers.TableListSerializer
    detail_serializer_class = serializers.TableDetailSerializer

    def get_queryset(self):
        if self.action == "retrieve":
            return table_queryset()
        return ComparisonTable.objects.select_related("source").order_by("title", "pk")
