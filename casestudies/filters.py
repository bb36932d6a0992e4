"""Filters of the case-study index, the read-across pages and the lessons library."""

import django_filters
from django import forms
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext_lazy as _

from catalogue.models import Lesson, Place, PlaceKind, Setting, Source, Territory
from catalogue.search import MAX_QUERY_LENGTH

from .models import CaseStudy, Section
from .search import filter_by_words


def search_field(**kwargs):
    return django_filters.CharFilter(
        label=_("Search"),
        max_length=MAX_QUERY_LENGTH,
        widget=forms.TextInput(attrs={"type": "search"}),
        **kwargs,
    )


class PlaceAttributeFilters(django_filters.FilterSet):
    """Filters on the places a text is about: kind, setting, région, and the source."""

    source = django_filters.ModelChoiceFilter(
        queryset=Source.objects.all(),
        to_field_name="slug",
        label=_("Source document"),
        empty_label=_("All sources"),
    )
    place_kind = django_filters.ModelMultipleChoiceFilter(
        queryset=PlaceKind.objects.all(),
        to_field_name="slug",
        label=_("Kind of place"),
        widget=forms.CheckboxSelectMultiple,
        method="filter_places",
    )
    setting = django_filters.MultipleChoiceFilter(
        choices=Setting.choices,
        label=_("Setting"),
        widget=forms.CheckboxSelectMultiple,
        method="filter_places",
    )
    region = django_filters.ModelChoiceFilter(
        queryset=Territory.objects.filter(kind=Territory.Kind.REGION),
        to_field_name="insee_code",
        label=_("Region"),
        empty_label=_("All regions"),
        method="filter_places",
    )

    LOOKUPS = {"place_kind": "kinds__in", "setting": "setting__in", "region": "region"}
    # The path from the filtered model to its places.
    PLACES = "places"

    # Whether places_condition joins the places (a row may then come once per place).
    JOINS_PLACES = True

    def places_condition(self, lookup, value):
        return Q(**{f"{self.PLACES}__{lookup}": value})

    def filter_places(self, queryset, name, value):
        if not value:  # an empty choice of model instances arrives as an empty queryset
            return queryset
        queryset = queryset.filter(self.places_condition(self.LOOKUPS[name], value))
        return queryset.distinct() if self.JOINS_PLACES else queryset


class CaseStudyFilter(PlaceAttributeFilters):
    q = search_field(method="filter_search")
    kind = django_filters.ChoiceFilter(
        choices=CaseStudy.Kind.choices, label=_("Kind of text"), empty_label=_("All")
    )

    class Meta:
        model = CaseStudy
        fields = ["q", "source", "kind", "place_kind", "setting", "region"]

    def filter_search(self, queryset, name, value):
        return filter_by_words(queryset, value, "search_folded")


class SectionFilter(PlaceAttributeFilters):
    PLACES = "case_study__places"

    q = search_field(method="filter_search")
    source = django_filters.ModelChoiceFilter(
        field_name="case_study__source",
        queryset=Source.objects.all(),
        to_field_name="slug",
        label=_("Source document"),
        empty_label=_("All sources"),
    )

    class Meta:
        model = Section
        fields = ["q", "source", "place_kind", "setting", "region"]

    def filter_search(self, queryset, name, value):
        return filter_by_words(queryset, value, "case_study__search_folded")


class LessonFilter(PlaceAttributeFilters):
    q = search_field(method="filter_search")
    # (columns of the lesson: no join, no DISTINCT)
    kind = django_filters.MultipleChoiceFilter(
        choices=Lesson.Kind.choices,
        label=_("Kind of lesson"),
        widget=forms.CheckboxSelectMultiple,
        distinct=False,
    )
    theme = django_filters.MultipleChoiceFilter(
        choices=Lesson.Theme.choices,
        label=_("Theme"),
        widget=forms.CheckboxSelectMultiple,
        distinct=False,
    )

    class Meta:
        model = Lesson
        fields = ["q", "kind", "theme", "place_kind", "setting", "region", "source"]

    # A lesson is about its own place or, for a cross-case lesson, the places it cites:
    # both as subqueries, so that no lesson comes twice and none needs DISTINCT (a région's
    # lessons among 200,000: 0.4-0.5 s with the joins and DISTINCT).
    JOINS_PLACES = False

    def places_condition(self, lookup, value):
        own = Place.objects.filter(pk=OuterRef("place_id"), **{lookup: value})
        cited = Lesson.cited_places.through.objects.filter(
            lesson_id=OuterRef("pk"), **{f"place__{lookup}": value}
        )
        return Q(Exists(own)) | Q(place=None) & Q(Exists(cited))

    def filter_search(self, queryset, name, value):
        return filter_by_words(queryset, value, "text_folded")
