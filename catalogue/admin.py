from django.contrib import admin, messages
from django.contrib.admin.options import IS_POPUP_VAR
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.models import User
from django.db import models
from django.http import JsonResponse
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from import_export.admin import ExportMixin as BaseExportMixin
from import_export.admin import ImportExportMixin as BaseImportExportMixin
from import_export.formats.base_formats import CSV, XLSX

from . import admin_notices
from .editing import (
    ChildAdminMixin,
    CreatedByMeFilter,
    EditorialAdminMixin,
    EditorialInlineMixin,
    HistoryAdminMixin,
    VersionLockAdminMixin,
)
from .forms import (
    FigureAdminForm,
    FigureForm,
    FigureInlineFormSet,
    FundingForm,
    LessonForm,
    OrganisationAdminForm,
    PlaceAdminForm,
    SharedChoicesFormSet,
    SourceForm,
    SourceQuickForm,
    TerritoryAdminForm,
)
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
from .resources import FigureResource, PlaceResource
from .search import reindex

# Django 6 assumes https for URLs typed without a scheme; do so already.
URL_FIELDS = {models.URLField: {"assume_scheme": "https"}}

admin.site.site_header = _("innovplaces")
admin.site.site_title = _("innovplaces")
admin.site.index_title = _("Catalogue administration")


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
class SourceAdmin(HistoryAdminMixin, admin.ModelAdmin):
    formfield_overrides = URL_FIELDS
    list_display = ["__str__", "publishers", "year", "kind", "checked_on", "last_modified"]
    list_filter = ["kind", "year"]
    search_fields = ["title", "short_title", "publishers", "authors"]
    prepopulated_fields = {"slug": ["short_title"]}
    form = SourceForm
    fieldsets = [
        (None, {"fields": ["kind", "title", "short_title", "slug"]}),
        (
            _("Who and when"),
            {"fields": ["authors", "publishers", "year", "date_as_stated", "date"]},
        ),
        (_("Where to find it"), {"fields": ["url", "file_name", "checked_on"]}),
        (_("Summary"), {"fields": ["summary", "summary_en"]}),
    ]
    # The « + » next to a fact's source opens this short form in a popup.
    quick_fieldsets = [
        (None, {"fields": ["kind", "title", "authors", "publishers", "date", "url", "slug"]})
    ]

    def _is_quick_add(self, request, obj):
        return obj is None and (IS_POPUP_VAR in request.GET or IS_POPUP_VAR in request.POST)

    def get_fieldsets(self, request, obj=None):
        if self._is_quick_add(request, obj):
            return self.quick_fieldsets
        return super().get_fieldsets(request, obj)

    def get_form(self, request, obj=None, change=False, **kwargs):
        if self._is_quick_add(request, obj):
            kwargs["form"] = SourceQuickForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_prepopulated_fields(self, request, obj=None):
        if self._is_quick_add(request, obj):
            return {"slug": ["title"]}
        return super().get_prepopulated_fields(request, obj)


@admin.register(Territory)
class TerritoryAdmin(VersionLockAdminMixin, admin.ModelAdmin):
    list_display = ["name", "kind", "parent", "insee_code", "population", "population_year"]
    list_filter = ["kind", ("region", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["name", "slug", "insee_code"]
    autocomplete_fields = ["parent", "population_source"]
    prepopulated_fields = {"slug": ["name"]}
    list_select_related = ["parent"]
    form = TerritoryAdminForm


@admin.register(Organisation)
class OrganisationAdmin(HistoryAdminMixin, admin.ModelAdmin):
    formfield_overrides = URL_FIELDS
    list_display = ["name", "kind", "slug"]
    list_filter = ["kind"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    form = OrganisationAdminForm


class FigureInline(EditorialInlineMixin, admin.TabularInline):
    model = Figure
    form = FigureForm
    formset = FigureInlineFormSet
    extra = 0
    # Indicators and sources are few: plain selects whose options all rows share (one query
    # each), where autocompletes would ask for each row's value.
    fields = [
        "indicator",
        "value",
        "value_max",
        "year",
        "period",
        "label",
        "label_en",
        "headline",
        "source",
        "section",
    ]


class FundingInline(EditorialInlineMixin, admin.TabularInline):
    model = Funding
    form = FundingForm
    formset = SharedChoicesFormSet
    extra = 0
    autocomplete_fields = ["organisation"]
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


class LessonInline(EditorialInlineMixin, admin.StackedInline):
    model = Lesson
    form = LessonForm
    fk_name = "place"
    formset = SharedChoicesFormSet
    extra = 0
    autocomplete_fields = ["cited_places"]
    fields = [("kind", "theme"), "text", "text_en", ("source", "section"), "cited_places"]


class ExportFormMixin:
    """The export form posts back to its own address: the library's template reads an
    `export_url` that only its changelist action sets."""

    def get_export_context_data(self, **kwargs):
        return {"export_url": "", **super().get_export_context_data(**kwargs)}


class ExportMixin(ExportFormMixin, BaseExportMixin):
    pass


class ImportExportMixin(ExportFormMixin, BaseImportExportMixin):
    pass


@admin.register(Place)
class PlaceAdmin(ImportExportMixin, EditorialAdminMixin, admin.ModelAdmin):
    formfield_overrides = URL_FIELDS
    form = PlaceAdminForm
    resource_classes = [PlaceResource]
    import_formats = [CSV, XLSX]
    export_formats = [CSV, XLSX]
    import_template_name = "admin/catalogue/place/import.html"
    list_display = [
        "name",
        "setting",
        "territory",
        "region",
        "year_opened",
        "status",
        "editorial_status",
        "figure_count",
        "last_modified",
        "checked_on",
    ]
    actions = ["publish", "archive", "mark_checked_today"]
    list_filter = [
        "editorial_status",
        CreatedByMeFilter,
        "kinds",
        "setting",
        "status",
        ("region", admin.RelatedOnlyFieldListFilter),
        "sources",
        "legal_form",
    ]
    search_fields = ["name", "slug", "aliases", "summary", "carrier", "territory__name"]
    prepopulated_fields = {"slug": ["name"]}
    autocomplete_fields = ["territory", "sources"]
    list_select_related = ["territory", "region"]
    readonly_fields = ["departement", "region", "updated_at"]
    inlines = [FigureInline, FundingInline, LessonInline]

    class Media:
        js = ["admin/js/innovplaces-place.js"]

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        # Kinds, services and lessons are saved now: rebuild the search document.
        place = form.instance
        reindex(Place.objects.filter(pk=place.pk))
        for formset in formsets:
            if isinstance(formset, FigureInlineFormSet):
                self.report_figures(request, place, formset)

    def report_figures(self, request, place, formset):
        """Headline values given or missing, and texts quoting a value that changed."""
        touched = set()
        for figure_form in formset.forms:
            if figure_form.has_changed() or formset._should_delete_form(figure_form):
                touched.add(figure_form.initial.get("indicator"))
                touched.add(figure_form.instance.indicator_id)
        touched.discard(None)
        admin_notices.report_headlines(
            request, place.pk, touched, promoted=getattr(formset, "promoted", [])
        )
        saved = [f for f in formset.initial_forms if not formset._should_delete_form(f)]
        admin_notices.report_old_values(request, place, admin_notices.changed_values(saved))

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if db_field.name == "territory" and field is not None:
            # innovplaces-place.js asks this URL for the département and région.
            field.widget.attrs["data-territory-info-url"] = reverse(
                "admin:catalogue_place_territory_info"
            )
        return field

    def get_urls(self):
        return [
            path(
                "territory-info/",
                self.admin_site.admin_view(self.territory_info),
                name="catalogue_place_territory_info",
            ),
            *super().get_urls(),
        ]

    def territory_info(self, request):
        """The département and région a place in this territory gets (staff only)."""
        if not (self.has_add_permission(request) or self.has_change_permission(request)):
            return JsonResponse({"error": "forbidden"}, status=403)
        territory_id = request.GET.get("id", "")
        if not territory_id.isdigit():
            return JsonResponse({"error": "id expected"}, status=400)
        territory = get_object_or_404(
            Territory.objects.select_related("departement", "region"), pk=territory_id
        )
        departement, region = territory.departement, territory.region
        if territory.kind == Territory.Kind.DEPARTEMENT:
            departement = territory
        elif territory.kind == Territory.Kind.REGION:
            region = territory

        def describe(node):
            if node is None:
                return None
            url = reverse("admin:catalogue_territory_change", args=[node.pk])
            return {"name": str(node), "url": url}

        return JsonResponse({"departement": describe(departement), "region": describe(region)})

    def has_import_permission(self, request):
        return self.has_add_permission(request)

    def add_success_message(self, result, request):
        super().add_success_message(result, request)
        skipped = [row.object_repr for row in result.rows if row.import_type == "skip"]
        if skipped:
            self.message_user(
                request,
                ngettext(
                    "Left unchanged, already in the catalogue (the import only creates "
                    "places): %(places)s.",
                    "Left unchanged, already in the catalogue (the import only creates "
                    "places): %(places)s.",
                    len(skipped),
                )
                % {"places": ", ".join(skipped)},
                messages.WARNING,
            )

    def has_export_permission(self, request):
        return self.has_view_permission(request)

    def get_export_queryset(self, request):
        return (
            super()
            .get_export_queryset(request)
            .select_related("territory", "departement", "region")
            .prefetch_related("kinds", "services")
        )

    fieldsets = [
        (None, {"fields": ["name", "slug", "aliases", "kinds", "editorial_status", "checked_on"]}),
        (
            _("Location"),
            {
                "description": _(
                    "The département and the région follow the territory: they are filled "
                    "in as soon as it is chosen, or on saving."
                ),
                "fields": [
                    "territory",
                    "departement",
                    "region",
                    "setting",
                    "setting_as_stated",
                    "address",
                    "latitude",
                    "longitude",
                ],
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
                    "image_alt",
                    "image_credit",
                ]
            },
        ),
        (_("Content"), {"fields": ["summary", "summary_en", "services", "sources"]}),
        (_("History"), {"fields": ["updated_at"]}),
    ]


@admin.register(Figure)
class FigureAdmin(ExportMixin, ChildAdminMixin, admin.ModelAdmin):
    form = FigureAdminForm
    resource_classes = [FigureResource]
    export_formats = [CSV, XLSX]
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

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        # The figure may have left another indicator or place without a headline.
        touched = {(obj.place_id, obj.indicator_id)}
        if change:
            touched.add((form.initial.get("place"), form.initial.get("indicator")))
        for place_id, indicator_id in touched:
            if place_id and indicator_id:
                promoted = [obj] if form.promoted and place_id == obj.place_id else []
                admin_notices.report_headlines(request, place_id, [indicator_id], promoted)
        if change:
            changes = admin_notices.changed_values([form])
            admin_notices.report_old_values(request, obj.place, changes)

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        admin_notices.report_headlines(request, obj.place_id, [obj.indicator_id])

    def delete_queryset(self, request, queryset):
        touched = set(queryset.values_list("place_id", "indicator_id"))
        super().delete_queryset(request, queryset)
        for place_id, indicator_id in touched:
            admin_notices.report_headlines(request, place_id, [indicator_id])


@admin.register(Funding)
class FundingAdmin(ChildAdminMixin, admin.ModelAdmin):
    list_display = ["place", "organisation", "purpose", "amount_eur", "share_pct", "source"]
    list_filter = ["purpose", "organisation__kind", "source"]
    search_fields = ["place__name", "organisation__name", "label"]
    autocomplete_fields = ["place", "organisation", "source"]
    list_select_related = ["place", "organisation", "source"]


@admin.register(Lesson)
class LessonAdmin(ChildAdminMixin, admin.ModelAdmin):
    list_display = ["__str__", "place", "kind", "theme", "source"]
    list_filter = ["kind", "theme", "source", "place__setting"]
    search_fields = ["text", "place__name", "section"]
    autocomplete_fields = ["place", "source", "cited_places"]
    list_select_related = ["place", "source"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if obj.place_id:
            reindex(Place.objects.filter(pk=obj.place_id))


# Proposals from the public, for reviewers.
from . import admin_proposals  # noqa: E402, F401


class UserAdmin(BaseUserAdmin):
    """Administrators manage accounts and their groups; only a superuser makes another
    superuser or grants permissions one by one (an administrator could otherwise make
    themselves superuser)."""

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            fields += ["is_superuser", "user_permissions"]
        return fields


admin.site.unregister(User)
admin.site.register(User, UserAdmin)
