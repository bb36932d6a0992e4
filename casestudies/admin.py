from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from catalogue.editing import (
    ChildAdminMixin,
    CreatedByMeFilter,
    EditorialAdminMixin,
    EditorialInlineMixin,
    HistoryAdminMixin,
    PlainNewlinesMixin,
)
from catalogue.models import Place
from catalogue.search import reindex

from .forms import (
    CaseStudyAdminForm,
    CellFormSet,
    ColumnForm,
    ColumnFormSet,
    ComparisonTableForm,
    RowFormSet,
    SectionForm,
    SectionFormSet,
)
from .models import (
    CaseStudy,
    ComparisonCell,
    ComparisonColumn,
    ComparisonRow,
    ComparisonTable,
    Section,
)
from .search import reindex_case_studies
from .tables import MAX_PLACES, available_dimensions, parse_dimensions


class SectionInline(EditorialInlineMixin, admin.StackedInline):
    model = Section
    form = SectionForm
    formset = SectionFormSet
    extra = 0
    fields = [("order", "kind"), "heading", "heading_en", "body"]


@admin.register(CaseStudy)
class CaseStudyAdmin(EditorialAdminMixin, admin.ModelAdmin):
    list_display = [
        "title",
        "kind",
        "source",
        "date_written",
        "editorial_status",
        "last_modified",
        "checked_on",
    ]
    actions = ["publish", "archive", "mark_checked_today"]
    list_filter = [
        "kind",
        "editorial_status",
        CreatedByMeFilter,
        "source",
        "places__setting",
        "places__kinds",
    ]
    search_fields = ["title", "tagline", "summary", "sections__body", "places__name"]
    prepopulated_fields = {"slug": ["title"]}
    autocomplete_fields = ["places", "source", "lessons"]
    form = CaseStudyAdminForm
    list_select_related = ["source"]
    inlines = [SectionInline]

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        # Sections are saved now: rebuild the search text of the case and its places.
        case = form.instance
        reindex_case_studies(CaseStudy.objects.filter(pk=case.pk))
        reindex(case.places.all())


@admin.register(Section)
class SectionAdmin(ChildAdminMixin, admin.ModelAdmin):
    """Sections are edited in their case study; this admin serves their own history and
    restores an earlier version of one section."""

    list_display = ["heading", "case_study", "order", "kind"]
    search_fields = ["heading", "body", "case_study__title"]
    list_select_related = ["case_study"]
    autocomplete_fields = ["case_study"]

    def get_model_perms(self, request):
        return {}  # not listed on the admin index


class RowInline(PlainNewlinesMixin, admin.TabularInline):
    model = ComparisonRow
    formset = RowFormSet
    extra = 0
    autocomplete_fields = ["place"]


class ColumnInline(PlainNewlinesMixin, admin.TabularInline):
    model = ComparisonColumn
    form = ColumnForm
    formset = ColumnFormSet
    extra = 0
    autocomplete_fields = ["indicator"]
    fields = ["order", "key", "label", "kind", "indicator", "attribute", "section_kind"]


class CellInline(PlainNewlinesMixin, admin.TabularInline):
    model = ComparisonCell
    formset = CellFormSet
    extra = 0
    autocomplete_fields = ["place"]
    fields = ["place", "column", "text", "note"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        # Only this table's columns make sense in a cell.
        if db_field.name == "column":
            table_id = request.resolver_match.kwargs.get("object_id")
            kwargs["queryset"] = ComparisonColumn.objects.filter(table_id=table_id)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class SaveComparisonForm(forms.Form):
    title = forms.CharField(label=gettext_lazy("Title"), max_length=300)
    slug = forms.SlugField(label=gettext_lazy("Slug"), max_length=120)
    intro = forms.CharField(
        label=gettext_lazy("Introduction"), widget=forms.Textarea, required=False
    )
    lieux = forms.CharField(widget=forms.HiddenInput)
    colonnes = forms.CharField(widget=forms.HiddenInput, required=False)

    def clean_slug(self):
        slug = self.cleaned_data["slug"]
        if ComparisonTable.objects.filter(slug=slug).exists():
            raise forms.ValidationError(_("A table with this slug already exists."))
        return slug

    def clean(self):
        data = super().clean()
        slugs = [s for s in data.get("lieux", "").split(",") if s]
        places = {p.slug: p for p in Place.objects.filter(slug__in=slugs)}
        if not places:
            raise forms.ValidationError(_("Choose at least one existing place."))
        if len(slugs) > MAX_PLACES:
            raise forms.ValidationError(_("At most %(max)s places.") % {"max": MAX_PLACES})
        data["places"] = [places[s] for s in slugs if s in places]
        data["dimensions"], _unknown = parse_dimensions(
            data.get("colonnes", ""), available_dimensions()
        )
        return data


@admin.register(ComparisonTable)
class ComparisonTableAdmin(HistoryAdminMixin, admin.ModelAdmin):
    list_display = ["title", "source", "section", "checked_on", "last_modified"]
    list_filter = ["source"]
    search_fields = ["title", "intro", "section"]
    prepopulated_fields = {"slug": ["title"]}
    autocomplete_fields = ["source"]
    list_select_related = ["source"]
    inlines = [RowInline, ColumnInline, CellInline]
    form = ComparisonTableForm

    def get_urls(self):
        return [
            path(
                "from-comparison/",
                self.admin_site.admin_view(self.from_comparison),
                name="casestudies_comparisontable_from_comparison",
            ),
            *super().get_urls(),
        ]

    def from_comparison(self, request):
        """Save a comparison composed on the public site as an editable table."""
        if not self.has_add_permission(request):
            return redirect("admin:index")
        source = request.POST if request.method == "POST" else None
        initial = {
            "lieux": request.GET.get("lieux", ""),
            "colonnes": request.GET.get("colonnes", ""),
        }
        form = SaveComparisonForm(source, initial=initial)
        if request.method == "POST" and form.is_valid():
            table = self.create_table(form.cleaned_data)
            messages.success(request, _("Comparison table saved."))
            return redirect(reverse("admin:casestudies_comparisontable_change", args=[table.pk]))
        if not form.is_bound and initial["lieux"]:
            title = _("Comparison of %(count)s places") % {
                "count": len([s for s in initial["lieux"].split(",") if s])
            }
            form.initial.update(title=title, slug=slugify(title))
        return TemplateResponse(
            request,
            "admin/casestudies/save_comparison.html",
            {
                **self.admin_site.each_context(request),
                "form": form,
                "opts": self.model._meta,
                "title": _("Save a comparison as a table"),
            },
        )

    @transaction.atomic
    def create_table(self, data):
        table = ComparisonTable.objects.create(
            slug=data["slug"], title=data["title"], intro=data["intro"]
        )
        ComparisonRow.objects.bulk_create(
            [
                ComparisonRow(table=table, place=place, order=order)
                for order, place in enumerate(data["places"], start=1)
            ]
        )
        kinds = {
            "indicator": ComparisonColumn.Kind.INDICATOR,
            "attribute": ComparisonColumn.Kind.ATTRIBUTE,
            "section": ComparisonColumn.Kind.SECTION,
        }
        ComparisonColumn.objects.bulk_create(
            [
                ComparisonColumn(
                    table=table,
                    order=order,
                    key=slugify(d.key)[:60],
                    label=d.label,
                    kind=kinds[d.kind],
                    indicator=d.indicator,
                    attribute=d.attribute,
                    section_kind=d.section_kind,
                )
                for order, d in enumerate(data["dimensions"], start=1)
            ]
        )
        return table
