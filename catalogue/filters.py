"""The directory's filters. Query parameter names are a stable contract (DESIGN §6)."""

import copy

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import F, QuerySet
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from . import place_page, search
from .models import (
    RURAL_SETTINGS,
    URBAN_SETTINGS,
    LegalForm,
    Organisation,
    Place,
    PlaceKind,
    Service,
    Setting,
    Source,
    Territory,
)
from .text import fold

AREA_CHOICES = [("rural", _("Rural areas and small towns")), ("urbain", _("Urban areas"))]
SORT_CHOICES = [
    ("name", _("Name")),
    ("-year", _("Most recent opening")),
    ("year", _("Oldest opening")),
    ("-investment", _("Largest investment")),
    ("investment", _("Smallest investment")),
    ("-budget", _("Largest operating budget")),
    ("budget", _("Smallest operating budget")),
    ("-population", _("Most populated territory")),
    ("population", _("Least populated territory")),
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
    "-population": [F("territory__population").desc(nulls_last=True), "name"],
    "population": [F("territory__population").asc(nulls_last=True), "name"],
}
MAX_AMOUNT = 10**12

# One question, one control. The directory shows the setting checkboxes (grouped as rural /
# urban) and the service « coworking »; the other parameters stay accepted as aliases and
# are rewritten into these before filtering, so that every link ever shared still works.
AREA_SETTINGS = {"rural": RURAL_SETTINGS, "urbain": URBAN_SETTINGS}
# kind value → (parameter, value) it stands for. Every place of the kind « coworking »
# also offers the service « coworking », which some other places offer too.
KIND_ALIASES = {"coworking": ("service", "coworking")}


def in_use(value):
    """Whether a cleaned filter value asks for something (not empty, not an empty list)."""
    if isinstance(value, QuerySet) and value.query.is_empty():
        # A model choice filter left empty (``.none()``): known without compiling it.
        return False
    return value not in (None, "") and not (hasattr(value, "__len__") and not len(value))


def narrowing(filterset):
    """Whether a filter other than the search and the sort is in use."""
    return any(
        in_use(value)
        for name, value in filterset.form.cleaned_data.items()
        if name not in ("q", "sort")
    )


def canonical_params(data):
    """The query with its aliases rewritten: ``area=rural`` → ``setting=rural&setting=
    petite-ville``, ``kind=coworking`` → ``service=coworking``. Unknown values are kept,
    so that the form reports them."""
    canonical = QueryDict(mutable=True)
    for key in data:
        canonical.setlist(key, list(data.getlist(key)))

    def add(key, values):
        current = canonical.getlist(key)
        canonical.setlist(key, current + [str(v) for v in values if str(v) not in current])

    areas = canonical.getlist("area")
    if areas and all(area in AREA_SETTINGS for area in areas):
        canonical.pop("area")
        for area in areas:
            add("setting", AREA_SETTINGS[area])
    kinds = canonical.getlist("kind")
    if any(kind in KIND_ALIASES for kind in kinds):
        canonical.setlist("kind", [kind for kind in kinds if kind not in KIND_ALIASES])
        if not canonical.getlist("kind"):
            canonical.pop("kind")
        for kind in kinds:
            if kind in KIND_ALIASES:
                key, value = KIND_ALIASES[kind]
                add(key, [value])
    return canonical


class FunderField(forms.CharField):
    """A funder given by its slug (what links carry) or by its name, as a reader types it
    in the text box when the page runs without JavaScript."""

    default_error_messages = {
        "unknown": _("no funder of that name"),
        "ambiguous": _("several funders match"),
    }
    MAX_CANDIDATES = 10

    def clean(self, value):
        text = super().clean(value)
        if not text:
            return None
        found = Organisation.objects.filter(slug=text).first()
        if found is not None:
            return found
        wanted = fold(text).strip()
        # Few funders (hundreds at most): compare folded names in Python.
        candidates = []
        funders = Organisation.objects.filter(fundings__place__editorial_status="published")
        for organisation in funders.distinct():
            name = fold(organisation.name)
            if name == wanted:
                return organisation
            position = name.find(wanted)
            if position != -1:
                word_start = position == 0 or not name[position - 1].isalnum()
                candidates.append((not word_start, name, organisation))
        if len(candidates) == 1:
            return candidates[0][2]
        if candidates:
            error = ValidationError(self.error_messages["ambiguous"], code="ambiguous")
            # Names with a word starting with the text first.
            candidates.sort(key=lambda row: row[:2])
            error.candidates = [row[2] for row in candidates[: self.MAX_CANDIDATES]]
            raise error
        raise ValidationError(self.error_messages["unknown"], code="unknown")


class FunderFilter(django_filters.Filter):
    field_class = FunderField

    def filter(self, queryset, value):
        if value is None:
            return queryset
        return queryset.filter(fundings__organisation=value).distinct()


class SharedQuerysetMixin:
    """For a model choice field: its copies (one per form, so one per request) share its
    queryset rather than cloning it twice each (Django's ``__deepcopy__`` and setter do),
    which was most of the cost of building the directory's form. Safe because nothing
    evaluates that queryset in place: checking values filters it into new querysets, and
    listing choices iterates it with ``.iterator()``, which keeps no results."""

    def __deepcopy__(self, memo):
        result = super(forms.ChoiceField, self).__deepcopy__(memo)  # as Django does
        result._queryset = self._queryset
        result.widget.choices = result.choices
        return result


class SharedModelMultipleChoiceField(
    SharedQuerysetMixin, django_filters.fields.ModelMultipleChoiceField
):
    pass


class SharedModelMultipleChoiceFilter(django_filters.ModelMultipleChoiceFilter):
    field_class = SharedModelMultipleChoiceField


class KnownKindsField(SharedModelMultipleChoiceField):
    """Kind slugs checked against the kinds kept in memory with the facet index (every
    kind, read again whenever one changes) instead of a query on each request. A slug
    not found there, or a process whose index is not up to date, has the database check
    it, as before (which refuses it with the same message)."""

    def _check_values(self, value):
        if isinstance(value, (list, tuple)) and self.null_label is None:
            known = place_page.kinds_by_slug() or {}
            wanted = {str(slug) for slug in value}
            if wanted and wanted <= known.keys():
                # In the order of names, as the queryset (PlaceKind.Meta.ordering) gives them.
                return [kind for slug, kind in known.items() if slug in wanted]
        return super()._check_values(value)


class KnownTerritoryField(SharedQuerysetMixin, django_filters.fields.ModelChoiceField):
    """A région or a département by its INSEE code, from the territories kept in memory
    (as on the place pages); a code not found there is looked up as before."""

    def __init__(self, *args, territory_kind, **kwargs):
        self.territory_kind = territory_kind
        super().__init__(*args, **kwargs)

    def to_python(self, value):
        if isinstance(value, str) and value:
            found = place_page.territory_by_code(self.territory_kind, value)
            if found is not None:
                return found
        return super().to_python(value)


class KnownKindsFilter(django_filters.ModelMultipleChoiceFilter):
    field_class = KnownKindsField


class TerritoryFilter(django_filters.ModelChoiceFilter):
    """The régions or the départements (``territory_kind``), by INSEE code."""

    field_class = KnownTerritoryField

    def __init__(self, *args, territory_kind, **kwargs):
        kwargs["queryset"] = Territory.objects.filter(kind=territory_kind)
        super().__init__(*args, to_field_name="insee_code", territory_kind=territory_kind, **kwargs)


class RangeNumberFilter(django_filters.NumberFilter):
    """A bound on a number; refuses negative and absurd values with a form error."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 0)
        kwargs.setdefault("max_value", MAX_AMOUNT)
        kwargs.setdefault("widget", forms.NumberInput(attrs={"min": 0, "step": "any"}))
        super().__init__(*args, **kwargs)


class SharedExtras(dict):
    """A filter set's filters, whose copies (a filter set deep-copies them all, so once
    per request) share the querysets, choices and widgets each filter was given instead
    of deep-copying them: a queryset's whole query, choices' lists of lazy labels. Safe
    for the same reason as SharedQuerysetMixin: nothing changes them in place (a form
    field copies the widget it is given)."""

    def __deepcopy__(self, memo):
        for filter_ in self.values():
            for value in filter_.extra.values():
                if isinstance(value, (QuerySet, list, tuple, forms.Widget)):
                    memo[id(value)] = value
        return {name: copy.deepcopy(filter_, memo) for name, filter_ in self.items()}


class PlaceFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        method="filter_search",
        label=_("Search"),
        max_length=search.MAX_QUERY_LENGTH,
        widget=forms.TextInput(attrs={"type": "search"}),
    )
    kind = KnownKindsFilter(
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
    region = TerritoryFilter(
        territory_kind=Territory.Kind.REGION,
        label=_("Region"),
        empty_label=_("All regions"),
    )
    departement = TerritoryFilter(
        territory_kind=Territory.Kind.DEPARTEMENT,
        label=_("Département"),
        empty_label=_("All départements"),
    )
    service = SharedModelMultipleChoiceFilter(
        field_name="services__slug",
        queryset=Service.objects.all(),
        to_field_name="slug",
        label=_("Services"),
        widget=forms.CheckboxSelectMultiple,
        distinct=True,
    )
    funder = FunderFilter(label=_("Funder"), max_length=200)
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
    population_min = RangeNumberFilter(
        field_name="territory__population",
        lookup_expr="gte",
        label=_("Territory population from"),
    )
    population_max = RangeNumberFilter(
        field_name="territory__population",
        lookup_expr="lte",
        label=_("Territory population up to"),
    )
    source = SharedModelMultipleChoiceFilter(
        field_name="sources__slug",
        queryset=Source.objects.all(),
        to_field_name="slug",
        label=_("Source document"),
        widget=forms.CheckboxSelectMultiple,
        distinct=True,
    )
    sort = django_filters.ChoiceFilter(
        choices=SORT_CHOICES, method="filter_sort", label=_("Sort by"), empty_label=None
    )

    class Meta:
        model = Place
        fields = []

    def get_form_class(self):
        """The same form class for every request, built once: its fields do not depend on
        the request (static querysets, lazily translated labels), and each form copies
        them, as Django forms do."""
        form_class = type(self).__dict__.get("_form_class")
        if form_class is None:
            form_class = super().get_form_class()
            type(self)._form_class = form_class
        return form_class

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
        "source",
    ]

    def filter_search(self, queryset, name, value):
        # The view sets `search_query` to the query it resolved (typos corrected).
        return search.search(queryset, getattr(self, "search_query", None) or value)

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


PlaceFilter.base_filters = SharedExtras(PlaceFilter.base_filters)
