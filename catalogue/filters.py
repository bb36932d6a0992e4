"""The directory's filters. Query parameter names are a stable contract (DESIGN §6)."""

import django_filters
from django import forms
from django.db.models import F
from django.utils.translation import gettext_lazy as _

from . import search
from .models import (
    RURAL_SETTINGS,
    URBAN_SETTINGS,
    LegalForm,
    Organisation,
    Place,
    PlaceKind,
    Service,
    Setting,
    Territory,
)

AREA_CHOICES = [("rural", _("Rural areas and small towns")), ("urbain", _("Urban areas"))]
SORT_CHOICES = [
    ("name", _("Name")),
    ("-year", _("Most recent opening")),
    ("year", _("Oldest opening")),
    ("-investment", _("Largest investment")),
    ("investment", _("Smallest investment")),
    ("-budget", _("Largest operating budget")),
    ("budget", _("Smallest operating budget")),
    ("relevance", _("Relevance (with a search)")),
]
SORT_ORDER = {
    "name": ["name"],
    "-year": [F("year_opened").desc(nulls_last=True), "name"],
    "year": [F("year_opened").asc(nulls_last=True), "name"],
    "-investment": [F("headline_investment").desc(nulls_last=True), "name"],
    "investment": [F("headline_investment").asc(nulls_last=True), "name"],
    "-budget": [F("headline_budget").desc(nulls_last=True), "name"],
    "budget": [F("headline_budget").asc(nulls_last=True), "name"],
}
MAX_AMOUNT = 10**12


class RangeNumberFilter(django_filters.NumberFilter):
    """A bound on a number; refuses negative and absurd values with a form error."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 0)
        kwargs.setdefault("max_value", MAX_AMOUNT)
        kwargs.setdefault("widget", forms.NumberInput(attrs={"min": 0, "step": "any"}))
        super().__init__(*args, **kwargs)


class PlaceFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        method="filter_search",
        label=_("Search"),
        max_length=search.MAX_QUERY_LENGTH,
        widget=forms.TextInput(attrs={"type": "search"}),
    )
    kind = django_filters.ModelMultipleChoiceFilter(
        field_name="kinds__slug",
        queryset=PlaceKind.objects.all(),
        to_field_name="slug",
        label=_("Kind of place"),
        widget=forms.CheckboxSelectMultiple,
        distinct=True,
    )
    setting = django_filters.MultipleChoiceFilter(
        choices=Setting.choices, label=_("Setting"), widget=forms.CheckboxSelectMultiple
    )
    area = django_filters.ChoiceFilter(
        choices=AREA_CHOICES,
        method="filter_area",
        label=_("Rural or urban"),
        empty_label=_("All"),
    )
    region = django_filters.ModelChoiceFilter(
        queryset=Territory.objects.filter(kind=Territory.Kind.REGION),
        to_field_name="insee_code",
        label=_("Region"),
        empty_label=_("All regions"),
    )
    departement = django_filters.ModelChoiceFilter(
        queryset=Territory.objects.filter(kind=Territory.Kind.DEPARTEMENT),
        to_field_name="insee_code",
        label=_("Département"),
        empty_label=_("All départements"),
    )
    service = django_filters.ModelMultipleChoiceFilter(
        field_name="services__slug",
        queryset=Service.objects.all(),
        to_field_name="slug",
        label=_("Services"),
        widget=forms.CheckboxSelectMultiple,
        distinct=True,
    )
    funder = django_filters.ModelChoiceFilter(
        field_name="fundings__organisation",
        queryset=Organisation.objects.all(),
        to_field_name="slug",
        label=_("Funder"),
        empty_label=_("All funders"),
        distinct=True,
    )
    funder_kind = django_filters.ChoiceFilter(
        field_name="fundings__organisation__kind",
        choices=Organisation.Kind.choices,
        label=_("Kind of funder"),
        empty_label=_("All"),
        distinct=True,
    )
    legal_form = django_filters.MultipleChoiceFilter(
        choices=LegalForm.choices, label=_("Legal form"), widget=forms.CheckboxSelectMultiple
    )
    status = django_filters.MultipleChoiceFilter(
        choices=Place.Status.choices, label=_("Status"), widget=forms.CheckboxSelectMultiple
    )
    year_min = django_filters.NumberFilter(
        field_name="year_opened",
        lookup_expr="gte",
        label=_("Opened from"),
        min_value=1800,
        max_value=2100,
    )
    year_max = django_filters.NumberFilter(
        field_name="year_opened",
        lookup_expr="lte",
        label=_("Opened until"),
        min_value=1800,
        max_value=2100,
    )
    investment_min = RangeNumberFilter(
        field_name="headline_investment", lookup_expr="gte", label=_("Investment from (€)")
    )
    investment_max = RangeNumberFilter(
        field_name="headline_investment", lookup_expr="lte", label=_("Investment up to (€)")
    )
    budget_min = RangeNumberFilter(
        field_name="headline_budget", lookup_expr="gte", label=_("Operating budget from (€)")
    )
    budget_max = RangeNumberFilter(
        field_name="headline_budget", lookup_expr="lte", label=_("Operating budget up to (€)")
    )
    staff_min = RangeNumberFilter(
        field_name="headline_staff", lookup_expr="gte", label=_("Staff from")
    )
    staff_max = RangeNumberFilter(
        field_name="headline_staff", lookup_expr="lte", label=_("Staff up to")
    )
    sort = django_filters.ChoiceFilter(
        choices=SORT_CHOICES, method="filter_sort", label=_("Sort by"), empty_label=None
    )

    class Meta:
        model = Place
        fields = []

    # Facets group these filters; the view counts each value of each facet.
    FACETS = [
        "kind",
        "setting",
        "area",
        "region",
        "departement",
        "service",
        "funder_kind",
        "funder",
        "legal_form",
        "status",
    ]

    def filter_search(self, queryset, name, value):
        return search.search(queryset, value)

    def filter_area(self, queryset, name, value):
        settings = RURAL_SETTINGS if value == "rural" else URBAN_SETTINGS
        return queryset.filter(setting__in=settings)

    def filter_sort(self, queryset, name, value):
        # Ordering happens in `filter_queryset`, once every filter has run.
        return queryset

    def filter_queryset(self, queryset, exclude=()):
        """Apply the valid filters except those named in ``exclude``, then sort."""
        for name, value in self.form.cleaned_data.items():
            if name in exclude or name == "sort":
                continue
            queryset = self.filters[name].filter(queryset, value)
        return self.order(queryset)

    def order(self, queryset):
        sort = self.form.cleaned_data.get("sort") or ""
        searching = bool(self.form.cleaned_data.get("q"))
        if sort == "relevance" or (not sort and searching):
            if searching:
                return queryset.order_by(F("rank").desc(nulls_last=True), "name")
            sort = "name"
        return queryset.order_by(*SORT_ORDER.get(sort, ["name"]))
