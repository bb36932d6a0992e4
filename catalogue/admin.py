from django.contrib import admin
from django.db import models
from django.utils.translation import gettext_lazy as _

from .models import (
    Figure,
    Funding,
    Indicator,
    Lesson,
    Organisation,
    Place,
    PlaceKind,
    Service,
    Source,
    Territory,
)
from .search import reindex

# Django 6 assumes https for URLs typed without a scheme; do so already.
URL_FIELDS = {models.URLField: {"assume_scheme": "https"}}


class VocabularyAdmin(admin.ModelAdmin):
    list_display = ["name", "name_en", "slug"]
    search_fields = ["name", "name_en", "slug"]
    prepopulated_fields = {"slug": ["name"]}


admin.site.register(PlaceKind, VocabularyAdmin)
admin.site.register(Service, VocabularyAdmin)


@admin.register(Indicator)
class IndicatorAdmin(VocabularyAdmin):
    list_display = ["name", "name_en", "unit", "position", "slug"]
    list_editable = ["position"]


@admin.register(Source)
class SourceAdmin(admin.ModelAdmin):
    formfield_overrides = URL_FIELDS
    list_display = ["__str__", "publishers", "year", "kind", "checked_on"]
    list_filter = ["kind", "year"]
    search_fields = ["title", "short_title", "publishers", "authors"]
    prepopulated_fields = {"slug": ["short_title"]}


@admin.register(Territory)
class TerritoryAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "parent", "insee_code", "population", "population_year"]
    list_filter = ["kind", ("region", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["name", "slug", "insee_code"]
    autocomplete_fields = ["parent", "population_source"]
    prepopulated_fields = {"slug": ["name"]}
    list_select_related = ["parent"]


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    formfield_overrides = URL_FIELDS
    list_display = ["name", "kind", "slug"]
    list_filter = ["kind"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}


class FigureInline(admin.TabularInline):
    model = Figure
    extra = 0
    autocomplete_fields = ["indicator", "source"]
    fields = [
        "indicator",
        "value",
        "value_max",
        "year",
        "period",
        "label",
        "headline",
        "source",
        "section",
    ]


class FundingInline(admin.TabularInline):
    model = Funding
    extra = 0
    autocomplete_fields = ["organisation", "source"]
    fields = [
        "organisation",
        "purpose",
        "amount_eur",
        "share_pct",
        "period",
        "label",
        "source",
        "section",
    ]


class LessonInline(admin.StackedInline):
    model = Lesson
    fk_name = "place"
    extra = 0
    autocomplete_fields = ["source", "cited_places"]
    fields = [("kind", "theme"), "text", ("source", "section"), "cited_places"]


@admin.register(Place)
class PlaceAdmin(admin.ModelAdmin):
    formfield_overrides = URL_FIELDS
    list_display = [
        "name",
        "setting",
        "territory",
        "region",
        "year_opened",
        "status",
        "editorial_status",
        "checked_on",
    ]
    list_filter = [
        "editorial_status",
        "kinds",
        "setting",
        "status",
        ("region", admin.RelatedOnlyFieldListFilter),
        "sources",
        "legal_form",
    ]
    search_fields = ["name", "slug", "aliases", "summary", "carrier", "territory__name"]
    prepopulated_fields = {"slug": ["name"]}
    autocomplete_fields = ["territory", "kinds", "services", "sources"]
    list_select_related = ["territory", "region"]
    readonly_fields = ["departement", "region", "updated_at"]
    inlines = [FigureInline, FundingInline, LessonInline]

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        # Kinds, services and lessons are saved now: rebuild the search document.
        reindex(Place.objects.filter(pk=form.instance.pk))

    fieldsets = [
        (None, {"fields": ["name", "slug", "aliases", "kinds", "editorial_status", "checked_on"]}),
        (
            _("Location"),
            {
                "fields": [
                    "territory",
                    "departement",
                    "region",
                    "setting",
                    "setting_as_stated",
                    "address",
                    "latitude",
                    "longitude",
                ]
            },
        ),
        (
            _("Identity"),
            {
                "fields": [
                    "carrier",
                    "legal_form",
                    "year_opened",
                    "year_opened_label",
                    "status",
                    "website",
                    "image",
                ]
            },
        ),
        (_("Content"), {"fields": ["summary", "summary_en", "services", "sources"]}),
        (_("History"), {"fields": ["updated_at"]}),
    ]


@admin.register(Figure)
class FigureAdmin(admin.ModelAdmin):
    list_display = [
        "place",
        "indicator",
        "value",
        "value_max",
        "year",
        "headline",
        "source",
        "section",
    ]
    list_filter = ["indicator", "headline", "source"]
    search_fields = ["place__name", "label", "section"]
    autocomplete_fields = ["place", "indicator", "source"]
    list_select_related = ["place", "indicator", "source"]


@admin.register(Funding)
class FundingAdmin(admin.ModelAdmin):
    list_display = ["place", "organisation", "purpose", "amount_eur", "share_pct", "source"]
    list_filter = ["purpose", "organisation__kind", "source"]
    search_fields = ["place__name", "organisation__name", "label"]
    autocomplete_fields = ["place", "organisation", "source"]
    list_select_related = ["place", "organisation", "source"]


@admin.register(Lesson)
class LessonAdmin(admin.ModelAdmin):
    list_display = ["__str__", "place", "kind", "theme", "source"]
    list_filter = ["kind", "theme", "source", "place__setting"]
    search_fields = ["text", "place__name", "section"]
    autocomplete_fields = ["place", "source", "cited_places"]
    list_select_related = ["place", "source"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if obj.place_id:
            reindex(Place.objects.filter(pk=obj.place_id))
