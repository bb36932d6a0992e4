"""Forms for editing the catalogue (admin forms, inline formsets, quick source form).

Every database constraint has its check here or in the model's `clean()`, with a message
that names the allowed range, shown next to the field it concerns.
"""

import json
from collections import defaultdict

from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.forms.models import BaseInlineFormSet
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.text import capfirst, slugify
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from . import duplicates, validation
from .images import PlaceImageFormMixin
from .models import Figure, Funding, Lesson, Organisation, Place, Source, Territory
from .templatetags.catalogue_tags import figure_value


def https_formfield(db_field, **kwargs):
    """Django 6 assumes https for URLs typed without a scheme; do so already."""
    if isinstance(db_field, models.URLField):
        kwargs.setdefault("assume_scheme", "https")
    return db_field.formfield(**kwargs)


def admin_link(obj, text=None):
    opts = obj._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
    return format_html('<a href="{}">{}</a>', url, text or obj)


class AliasesField(forms.CharField):
    """A JSON list of names, edited as one name per line.

    Blank lines are dropped, and a name repeated (whatever its case or spacing) is kept once.
    A JSON list typed or posted as such is read as the list it is.
    """

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", forms.Textarea(attrs={"rows": 3, "cols": 60}))
        super().__init__(**kwargs)

    def to_python(self, value):
        if isinstance(value, (list, tuple)):
            lines = [str(item) for item in value]
        else:
            text = super().to_python(value)
            lines = text.splitlines()
            if text.startswith("["):
                try:
                    data = json.loads(text)
                except ValueError:
                    data = None
                if isinstance(data, list) and all(isinstance(item, str) for item in data):
                    lines = data
        # Repeats go, but not names that differ by their capitals only: the sources write
        # « L'INKUB » and « L'Inkub », and search matches both forms.
        names = []
        for line in lines:
            name = " ".join(line.split())
            if name and name not in names:
                names.append(name)
        return names

    def prepare_value(self, value):
        if isinstance(value, (list, tuple)):
            return "\n".join(str(item) for item in value)
        return value

    def has_changed(self, initial, data):
        return self.to_python(initial or []) != self.to_python(data or "")


class UniqueSlugMixin:
    """Says which record already holds a slug, with a link to it."""

    def clean_slug(self):
        slug = self.cleaned_data.get("slug")
        if not slug:
            return slug
        model = self._meta.model
        other = model._default_manager.filter(slug=slug).exclude(pk=self.instance.pk).first()
        if other is not None:
            raise ValidationError(
                format_html(
                    gettext(
                        "The slug « {slug} » is already used by {link}: choose another one "
                        "(it is the end of the page's address and must be unique)."
                    ),
                    slug=slug,
                    link=admin_link(other),
                ),
                code="unique",
            )
        return slug


class NearDuplicateMixin:
    """Flags a name close to an existing record of the same kind; a checkbox confirms it
    is another one. The checkbox stays hidden until something is flagged."""

    confirm_field = "confirm_distinct"

    def near_duplicate_queryset(self, cleaned_data):
        raise NotImplementedError

    def near_duplicate_message(self):
        raise NotImplementedError

    def identity_changed(self):
        return self.instance._state.adding or bool(
            {"name", "kind", "parent"} & set(self.changed_data)
        )

    def clean(self):
        cleaned_data = super().clean()
        name = cleaned_data.get("name")
        if not name or self.has_error("name") or not self.identity_changed():
            return cleaned_data
        queryset = self.near_duplicate_queryset(cleaned_data)
        if queryset is None:
            return cleaned_data
        close = duplicates.near_duplicates(queryset, name, exclude_pk=self.instance.pk)
        if close and not cleaned_data.get(self.confirm_field):
            self.fields[self.confirm_field].widget = forms.CheckboxInput()
            links = format_html_join(", ", "{}", ((admin_link(obj),) for obj in close))
            self.add_error(
                "name",
                ValidationError(
                    format_html(
                        self.near_duplicate_message(),
                        links=links,
                        confirm=self.fields[self.confirm_field].label,
                    ),
                    code="near_duplicate",
                ),
            )
        return cleaned_data


# -- places --------------------------------------------------------------------------------

PLACE_HELP = {
    "slug": _(
        "The end of the page's address (/lieux/name-of-the-place/): lower-case letters, "
        "digits and hyphens, filled in from the name."
    ),
    "kinds": _("Tick every kind that fits: a place can be a tiers-lieu and a fab lab."),
    "editorial_status": _("A new place is a draft: only editors see it until it is published."),
    "checked_on": _("When this record was last compared with its sources."),
    "territory": _(
        "The commune (or intercommunality) where the place is: type a few letters to "
        "search. The département and the région follow from it."
    ),
    "setting": _(
        "The normalised setting the directory filters on; the source's own words go in "
        "« setting as stated »."
    ),
    "carrier": _("The organisation that runs the place (association, commune, company…)."),
    "legal_form": _("The legal form of the carrier, when the sources give it."),
    "year_opened": _(
        "The year the place opened, between 1800 and 2100; if it is another milestone, "
        "say which below."
    ),
    "year_opened_label": _(
        "What that year is, when it is not the opening: « création de l'association », "
        "« début des travaux »."
    ),
    "status": _("Whether the place is open today, still a project, or closed."),
    "website": _("The place's own site, starting with https://."),
    "address": _("Street address, as the place gives it."),
    "latitude": _("Decimal degrees between −90 and 90, e.g. 44.72604 (north is positive)."),
    "longitude": _("Decimal degrees between −180 and 180, e.g. 5.02186 (east is positive)."),
    "image_credit": _("Who took the image, and its licence: « Marie Dupont, CC BY »."),
    "summary": _(
        "In your own words, not copied from a source: what the place is and does, in two "
        "to five sentences."
    ),
    "summary_en": _("The same summary in English, for the English version of the site."),
    "services": _("Tick the services the place offers."),
    "sources": _("The documents and other sources this record draws on."),
}


class PlaceAdminForm(UniqueSlugMixin, PlaceImageFormMixin, forms.ModelForm):
    aliases = AliasesField(
        label=capfirst(Place._meta.get_field("aliases").verbose_name),
        required=False,
        help_text=_("Other names the place goes by in the sources or locally: one name per line."),
    )

    class Meta:
        model = Place
        formfield_callback = staticmethod(https_formfield)
        fields = [
            "name",
            "slug",
            "aliases",
            "kinds",
            "editorial_status",
            "checked_on",
            "territory",
            "setting",
            "setting_as_stated",
            "address",
            "latitude",
            "longitude",
            "carrier",
            "legal_form",
            "year_opened",
            "year_opened_label",
            "status",
            "website",
            "image",
            "image_alt",
            "image_credit",
            "summary",
            "summary_en",
            "services",
            "sources",
        ]
        widgets = {
            "kinds": forms.CheckboxSelectMultiple,
            "services": forms.CheckboxSelectMultiple,
        }
        help_texts = PLACE_HELP

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("kinds", "services"):
            widget = self.fields[name].widget if name in self.fields else None
            if hasattr(widget, "widget"):
                # The admin's « + » wrapper would put `required` on every checkbox, which
                # browsers read as « tick them all »: ask the checkboxes instead.
                widget.use_required_attribute = widget.widget.use_required_attribute
        for name, check in (
            ("year_opened", validation.YEAR),
            ("latitude", validation.LATITUDE),
            ("longitude", validation.LONGITUDE),
        ):
            if name in self.fields:
                check.apply_to(self.fields[name])


# -- facts and their sources ---------------------------------------------------------------

SOURCE_HELP = _(
    "Where this comes from. With « + », add an interview, a website, an annual report or a "
    "visit in a few fields."
)
SECTION_HELP = _(
    "For a document (mémento, study, proceedings, project sheet): the part, monograph, "
    "heading or table that prints it. Leave empty for an interview, a website, a report "
    "or a visit."
)


def describe(figure):
    """« 350 m² (surface utile, 2019) »: how an editor recognises a figure."""
    text = figure_value(figure)
    details = [part for part in (figure.label, str(figure.year or figure.period or "")) if part]
    return f"{text} ({', '.join(details)})" if details else text


def headline_taken(other):
    return ValidationError(
        _(
            "« %(other)s » is already the headline value of « %(indicator)s » for this "
            "place: untick one of the two."
        ),
        code="headline_taken",
        params={"other": describe(other), "indicator": other.indicator},
    )


class FigureForm(forms.ModelForm):
    class Meta:
        model = Figure
        fields = [
            "place",
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
        help_texts = {
            "value": _(
                "In the indicator's unit: euros (not thousands or millions), percent, "
                "people, m²; 0 or more."
            ),
            "value_max": _(
                "Only for a range (« 400 à 500 usagers »): the upper bound, at least the value."
            ),
            "year": _("The year the figure describes, between 1800 and 2100."),
            "period": _("When a year is not enough: « 2014-2016 », « par an »."),
            "label": _(
                "What exactly is counted, and why it differs from another figure if it does."
            ),
            "headline": _(
                "The value shown first and used for sorting and filtering: one per "
                "indicator. The only figure of an indicator is its headline value."
            ),
            "source": SOURCE_HELP,
            "section": SECTION_HELP,
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "year" in self.fields:
            validation.YEAR.apply_to(self.fields["year"])
        if "value" in self.fields:
            validation.FIGURE_VALUE.apply_to(self.fields["value"])


class FigureAdminForm(FigureForm):
    """The figure on its own page: checks its headline against the place's other figures."""

    promoted = False

    def clean(self):
        cleaned_data = super().clean()
        place, indicator = cleaned_data.get("place"), cleaned_data.get("indicator")
        if place is None or indicator is None:
            return cleaned_data
        others = Figure.objects.filter(place=place, indicator=indicator).exclude(
            pk=self.instance.pk
        )
        if cleaned_data.get("headline"):
            other = others.filter(headline=True).select_related("indicator").first()
            if other is not None:
                self.add_error("headline", headline_taken(other))
        elif not others.exists():
            cleaned_data["headline"] = True
            self.promoted = True
        return cleaned_data


class SharedChoicesFormSet(BaseInlineFormSet):
    """Inline rows share the options of their small select fields (indicators, sources):
    read once for the whole formset instead of once per row."""

    shared_choice_fields = ("indicator", "source")

    def _construct_form(self, i, **kwargs):
        form = super()._construct_form(i, **kwargs)
        shared = self.__dict__.setdefault("_shared_choices", {})
        for name in self.shared_choice_fields:
            field = form.fields.get(name)
            if field is None:
                continue
            if name not in shared:
                shared[name] = list(field.choices)
            field.choices = shared[name]
            # The admin wraps the select (for its « + » link): the inner one renders.
            widget = field.widget
            while hasattr(widget, "widget"):
                widget.choices = shared[name]
                widget = widget.widget
            widget.choices = shared[name]
        return form


class FigureInlineFormSet(SharedChoicesFormSet):
    """The figures of one place: one headline per indicator, given to the only figure of
    an indicator without a tick, and moved from one figure to another in one save."""

    def clean(self):
        super().clean()
        self.promoted = []
        kept = [
            form
            for form in self.forms
            if getattr(form, "cleaned_data", None)
            and form.cleaned_data.get("indicator")
            and not self._should_delete_form(form)
        ]
        in_forms = {form.instance.pk for form in self.forms if form.instance.pk}
        outside = defaultdict(list)
        if self.instance.pk:
            rows = Figure.objects.filter(place=self.instance).exclude(pk__in=in_forms)
            for figure in rows.select_related("indicator"):
                outside[figure.indicator_id].append(figure)
        by_indicator = defaultdict(list)
        for form in kept:
            by_indicator[form.cleaned_data["indicator"].pk].append(form)
        for indicator_id, group in by_indicator.items():
            ticked = [form for form in group if form.cleaned_data.get("headline")]
            first = next((f for f in outside[indicator_id] if f.headline), None)
            if first is None and ticked:
                first, ticked = ticked[0].instance, ticked[1:]
            for form in ticked:
                form.add_error("headline", headline_taken(first))
            if first is None and len(group) == 1 and not outside[indicator_id]:
                form = group[0]
                form.cleaned_data["headline"] = form.instance.headline = True
                self.promoted.append(form.instance)

    def save_existing_objects(self, commit=True):
        # The database allows one headline per indicator at every moment: clear the old
        # headlines first, or moving the tick from one figure to another would collide.
        if commit:
            clearing = [
                form.instance.pk
                for form in self.initial_forms
                if form.initial.get("headline")
                and (
                    self._should_delete_form(form)
                    or not getattr(form, "cleaned_data", {}).get("headline", True)
                )
            ]
            if clearing:
                Figure.objects.filter(pk__in=clearing).update(headline=False)
        return super().save_existing_objects(commit)


class FundingForm(forms.ModelForm):
    class Meta:
        model = Funding
        fields = [
            "place",
            "organisation",
            "purpose",
            "amount_eur",
            "share_pct",
            "period",
            "label",
            "source",
            "section",
        ]
        help_texts = {
            "organisation": _(
                "Type a few letters to find the funder; « + » creates one (a close name "
                "already in the list is flagged)."
            ),
            "purpose": _(
                "Whether the money pays for the building and equipment, or running costs."
            ),
            "amount_eur": _("In euros, 0 or more; leave empty when only a share is known."),
            "share_pct": _("The share of the cost this funder pays, between 0 and 100 %."),
            "period": _("The years the funding covers: « 2015-2017 »."),
            "label": _("What the money is for, as the source says it."),
            "source": SOURCE_HELP,
            "section": SECTION_HELP,
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "amount_eur" in self.fields:
            validation.AMOUNT.apply_to(self.fields["amount_eur"])
        if "share_pct" in self.fields:
            validation.SHARE.apply_to(self.fields["share_pct"])


class LessonForm(forms.ModelForm):
    class Meta:
        model = Lesson
        fields = [
            "place",
            "kind",
            "theme",
            "text",
            "text_en",
            "source",
            "section",
            "cited_places",
        ]
        help_texts = {
            "kind": _("A success factor, a difficulty met, a recommendation or a challenge ahead."),
            "theme": _("What the lesson is about; the lessons library groups them by theme."),
            "text": _("In your own words, not copied from the source: one idea per lesson."),
            "cited_places": _("Other places the lesson mentions as examples."),
            "source": SOURCE_HELP,
            "section": SECTION_HELP,
        }


# -- sources -------------------------------------------------------------------------------

SOURCE_FIELD_HELP = {
    "slug": _("The end of the source's page address: lower-case letters, digits, hyphens."),
    "title": _(
        "For a document, its title; for an interview, what it was about; for a website, "
        "whose site it is (« La Fabrique du Vigan »)."
    ),
    "short_title": _("How the site cites it in tables, when the title is long."),
    "publishers": _("The bodies that published the document."),
    "authors": _(
        "Who wrote it; for an interview, the person or people interviewed "
        "(« Marie Dupont, directrice »)."
    ),
    "year": _("The year of publication."),
    "kind": _(
        "A document (mémento, study, proceedings, project sheet) has sections that facts "
        "name; an interview, a website, an annual report or a visit has none."
    ),
    "url": _("Where to read it, starting with https://."),
    "file_name": _("The file of the original document, kept outside the repository."),
    "checked_on": _("When someone last checked the document is still available."),
}


class SourceForm(UniqueSlugMixin, forms.ModelForm):
    class Meta:
        model = Source
        formfield_callback = staticmethod(https_formfield)
        fields = [
            "kind",
            "title",
            "short_title",
            "slug",
            "authors",
            "publishers",
            "year",
            "date_as_stated",
            "date",
            "url",
            "file_name",
            "checked_on",
            "summary",
            "summary_en",
        ]
        help_texts = SOURCE_FIELD_HELP

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "year" in self.fields:
            validation.YEAR.apply_to(self.fields["year"])


class SourceQuickForm(SourceForm):
    """The « + » next to a fact's source: an interview, a website, a report or a visit in
    five fields; the slug is made from the title when left empty."""

    class Meta:
        model = Source
        formfield_callback = staticmethod(https_formfield)
        fields = ["kind", "title", "authors", "publishers", "date", "url", "slug"]
        help_texts = SOURCE_FIELD_HELP
        labels = {"authors": _("Author(s) or people interviewed")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        kind = self.fields["kind"]
        kind.choices = [
            (value, label)
            for value, label in Source.Kind.choices
            if value not in Source.DOCUMENT_KINDS
        ]
        kind.initial = Source.Kind.INTERVIEW
        kind.help_text = _(
            "Documents with sections (mémento, study…) are added from the Sources page."
        )
        self.fields["slug"].required = False
        self.fields["slug"].help_text = _("Left empty, it is made from the title.")

    def clean(self):
        cleaned_data = super().clean()
        if not cleaned_data.get("slug") and not self.has_error("slug"):
            base = (
                slugify(
                    " ".join(
                        str(part)
                        for part in (cleaned_data.get("title"), cleaned_data.get("date"))
                        if part
                    )
                )[:90]
                or "source"
            )
            slug, n = base, 1
            while Source.objects.filter(slug=slug).exists():
                n += 1
                slug = f"{base}-{n}"
            cleaned_data["slug"] = slug
        return cleaned_data


# -- organisations and territories ---------------------------------------------------------


class OrganisationAdminForm(UniqueSlugMixin, NearDuplicateMixin, forms.ModelForm):
    confirm_distinct = forms.BooleanField(
        label=_("I confirm this is a different organisation"),
        required=False,
        widget=forms.HiddenInput,
    )

    class Meta:
        model = Organisation
        formfield_callback = staticmethod(https_formfield)
        fields = [
            "name",
            "slug",
            "kind",
            "website",
        ]
        help_texts = {
            "slug": _("Lower-case letters, digits and hyphens, filled in from the name."),
            "kind": _("Who the funder is: the directory groups funders by kind."),
            "website": _("The organisation's site, starting with https://."),
        }

    def near_duplicate_queryset(self, cleaned_data):
        kind = cleaned_data.get("kind")
        return Organisation.objects.filter(kind=kind) if kind else None

    def near_duplicate_message(self):
        return gettext(
            "An organisation of this kind already exists under a close name: {links}. "
            "Use it rather than a copy; if this really is another one, tick "
            "« {confirm} » and save again."
        )


class TerritoryAdminForm(UniqueSlugMixin, NearDuplicateMixin, forms.ModelForm):
    confirm_distinct = forms.BooleanField(
        label=_("I confirm this is a different territory"),
        required=False,
        widget=forms.HiddenInput,
    )

    class Meta:
        model = Territory
        fields = [
            "name",
            "slug",
            "kind",
            "parent",
            "insee_code",
            "population",
            "population_year",
            "population_source",
            "population_section",
            "latitude",
            "longitude",
        ]
        help_texts = {
            "slug": _("Lower-case letters, digits and hyphens, filled in from the name."),
            "latitude": _(
                "A representative point (a commune's town hall), in decimal degrees: places "
                "of this territory without a point of their own are shown there."
            ),
            "parent": _(
                "The territory just above: a commune's EPCI or département, a département's "
                "région. Type a few letters to search."
            ),
            "insee_code": _(
                "The official code: 5 characters for a commune, 2 or 3 for a département."
            ),
            "population": _("Inhabitants, as the source gives them."),
            "population_year": _("The year of that population count, between 1800 and 2100."),
            "population_source": _("Where the population comes from."),
            "population_section": SECTION_HELP,
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "population_year" in self.fields:
            validation.YEAR.apply_to(self.fields["population_year"])

    def near_duplicate_queryset(self, cleaned_data):
        kind = cleaned_data.get("kind")
        if not kind:
            return None
        queryset = Territory.objects.filter(kind=kind)
        # Homonyms in two départements are two territories: compare siblings only.
        if cleaned_data.get("parent") is not None:
            queryset = queryset.filter(parent=cleaned_data["parent"])
        return queryset

    def near_duplicate_message(self):
        return gettext(
            "A territory of this kind already exists under a close name: {links}. "
            "Use it rather than a copy; if this really is another one, tick "
            "« {confirm} » and save again."
        )
