"""Admin forms for case studies and comparison tables.

The rows of a parent that must differ (a section's order, a column's key) are checked by
their formset, with the error next to the repeated field and naming the row that already
has the value, instead of the database's « constraint violated ».
"""

from django import forms
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet
from django.utils.translation import gettext_lazy as _

from catalogue.forms import SECTION_HELP, UniqueSlugMixin

from .models import CaseStudy, ComparisonColumn, ComparisonTable, Section

# The database refuses two rows with the same order at any moment: rows whose order
# changes are parked above every real order first, so that two sections can swap.
PARKING_ORDER = 32767


class DistinctRowsFormSet(BaseInlineFormSet):
    """`checks`: (fields that together must differ between rows, field that gets the
    error, message with %(value)s and %(other)s)."""

    checks = ()
    order_field = "order"

    def describe(self, form):
        return str(form.instance)

    def validate_unique(self):
        for names, error_field, message in self.checks:
            seen = {}
            for form in self.forms:
                data = getattr(form, "cleaned_data", None)
                if not data or self._should_delete_form(form):
                    continue
                values = [data.get(name) for name in names]
                if any(value in (None, "") for value in values):
                    continue
                key = tuple(getattr(value, "pk", value) for value in values)
                if key in seen:
                    if not form.has_error(error_field):
                        form.add_error(
                            error_field,
                            ValidationError(
                                message,
                                code="unique",
                                params={
                                    "value": data.get(error_field),
                                    "other": self.describe(seen[key]),
                                },
                            ),
                        )
                else:
                    seen[key] = form
        super().validate_unique()

    def save_existing_objects(self, commit=True):
        if commit and self.order_field:
            moving = [
                form.instance.pk
                for form in self.initial_forms
                if self._should_delete_form(form) or self.order_field in form.changed_data
            ]
            for offset, pk in enumerate(moving):
                self.model._default_manager.filter(pk=pk).update(
                    **{self.order_field: PARKING_ORDER - offset}
                )
        return super().save_existing_objects(commit)


class SectionFormSet(DistinctRowsFormSet):
    checks = [
        (
            ["order"],
            "order",
            _(
                "Order %(value)s is already taken by the section « %(other)s »: each section "
                "of a case study has its own order."
            ),
        )
    ]

    def describe(self, form):
        return form.cleaned_data.get("heading") or form.instance.heading


class RowFormSet(DistinctRowsFormSet):
    checks = [
        (
            ["order"],
            "order",
            _("Order %(value)s is already taken by the row of « %(other)s »."),
        ),
        (["place"], "place", _("« %(value)s » already has a row in this table.")),
    ]

    def describe(self, form):
        return form.cleaned_data.get("place") or ""


class ColumnFormSet(DistinctRowsFormSet):
    checks = [
        (
            ["order"],
            "order",
            _("Order %(value)s is already taken by the column « %(other)s »."),
        ),
        (
            ["key"],
            "key",
            _(
                "The key « %(value)s » is already used by the column « %(other)s »: each "
                "column of a table has its own key."
            ),
        ),
    ]

    def describe(self, form):
        return form.cleaned_data.get("label") or form.instance.label


class CellFormSet(DistinctRowsFormSet):
    checks = [
        (
            ["place", "column"],
            "column",
            _(
                "This table already has a cell for « %(other)s » in the column « %(value)s »: "
                "change that one."
            ),
        )
    ]
    order_field = None

    def describe(self, form):
        return form.cleaned_data.get("place") or ""


class SectionForm(forms.ModelForm):
    class Meta:
        model = Section
        fields = [
            "case_study",
            "order",
            "kind",
            "heading",
            "heading_en",
            "body",
        ]
        help_texts = {
            "order": _("Position in the case study (1, 2, 3…): each section has its own."),
            "kind": _("What the section is about; pages compare sections of the same kind."),
            "heading": _("The heading shown above the section."),
            "body": _("Markdown: *italics*, **bold**, lists with « - », links [text](https://…)."),
        }


class ColumnForm(forms.ModelForm):
    class Meta:
        model = ComparisonColumn
        fields = [
            "table",
            "order",
            "key",
            "label",
            "kind",
            "indicator",
            "attribute",
            "section_kind",
        ]
        help_texts = {
            "order": _("Position of the column: each column has its own."),
            "key": _("A short identifier, unique in the table: letters, digits, hyphens."),
            "kind": _(
                "Text printed in the source (cells below), or a value read from each place: "
                "a headline figure, an attribute, a case-study section."
            ),
            "indicator": _("For a « Headline figure » column: the indicator shown."),
            "attribute": _("For an « Attribute of the place » column: the attribute shown."),
            "section_kind": _("For a « Case-study section » column: the kind of section shown."),
        }


class CaseStudyAdminForm(UniqueSlugMixin, forms.ModelForm):
    class Meta:
        model = CaseStudy
        fields = [
            "title",
            "title_en",
            "slug",
            "tagline",
            "tagline_en",
            "kind",
            "places",
            "source",
            "source_section",
            "date_written",
            "summary",
            "summary_en",
            "lessons",
            "editorial_status",
            "checked_on",
        ]
        help_texts = {
            "slug": _(
                "The end of the page's address: lower-case letters, digits and hyphens, "
                "filled in from the title."
            ),
            "tagline": _("One line under the title: what makes this case worth reading."),
            "kind": _(
                "A monograph tells one place; a synthesis crosses several; an expert view "
                "is a person's analysis."
            ),
            "places": _("The places the case study is about: type a few letters to search."),
            "source": _("The document the case study is written from."),
            "source_section": SECTION_HELP,
            "summary": _("In your own words: what the case shows, in two to five sentences."),
            "summary_en": _("The same summary in English."),
            "lessons": _("Lessons drawn from this case, shown with it."),
            "editorial_status": _(
                "A new case study is a draft: only editors see it until it is published."
            ),
            "checked_on": _("When the text was last compared with its source."),
        }


class ComparisonTableForm(UniqueSlugMixin, forms.ModelForm):
    class Meta:
        model = ComparisonTable
        fields = [
            "title",
            "slug",
            "intro",
            "source",
            "section",
            "checked_on",
        ]
        help_texts = {
            "slug": _("The end of the table's address: lower-case letters, digits, hyphens."),
            "intro": _("What the table compares and how to read it."),
            "section": SECTION_HELP,
        }
