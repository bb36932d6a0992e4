from django.contrib import admin

from .models import (
    CaseStudy,
    ComparisonCell,
    ComparisonColumn,
    ComparisonRow,
    ComparisonTable,
    Section,
)


class SectionInline(admin.StackedInline):
    model = Section
    extra = 0
    fields = [("order", "kind"), "heading", "body"]


@admin.register(CaseStudy)
class CaseStudyAdmin(admin.ModelAdmin):
    list_display = ["title", "kind", "source", "date_written", "editorial_status", "checked_on"]
    list_filter = ["kind", "editorial_status", "source", "places__setting", "places__kinds"]
    search_fields = ["title", "tagline", "summary", "sections__body", "places__name"]
    prepopulated_fields = {"slug": ["title"]}
    autocomplete_fields = ["places", "source", "lessons"]
    list_select_related = ["source"]
    inlines = [SectionInline]


class RowInline(admin.TabularInline):
    model = ComparisonRow
    extra = 0
    autocomplete_fields = ["place"]


class ColumnInline(admin.TabularInline):
    model = ComparisonColumn
    extra = 0
    autocomplete_fields = ["indicator"]
    fields = ["order", "key", "label", "kind", "indicator", "attribute", "section_kind"]


class CellInline(admin.TabularInline):
    model = ComparisonCell
    extra = 0
    autocomplete_fields = ["place"]
    fields = ["place", "column", "text", "note"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        # Only this table's columns make sense in a cell.
        if db_field.name == "column":
            table_id = request.resolver_match.kwargs.get("object_id")
            kwargs["queryset"] = ComparisonColumn.objects.filter(table_id=table_id)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(ComparisonTable)
class ComparisonTableAdmin(admin.ModelAdmin):
    list_display = ["title", "source", "section", "checked_on"]
    list_filter = ["source"]
    search_fields = ["title", "intro", "section"]
    prepopulated_fields = {"slug": ["title"]}
    autocomplete_fields = ["source"]
    list_select_related = ["source"]
    inlines = [RowInline, ColumnInline, CellInline]
