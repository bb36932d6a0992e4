"""CSV/XLSX import and export of places (and export of figures) with django-import-export.

Columns are the model's field names (as in the JSON export). Kinds and services are slugs
separated by « ; », aliases too; the territory is given by its slug or its INSEE code.

The import only creates places: a row whose slug already exists is skipped and reported,
never applied, so that a spreadsheet cannot silently overwrite what an editor changed
since (changes to existing places go through their page, with history and locking).
Imported places start as drafts, created by the importing user. The preview (a dry run in
a transaction that is rolled back) lists each row's errors in words; nothing is written
until the editor confirms a preview without errors.
"""

from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.utils.text import slugify
from django.utils.translation import gettext as _
from import_export import fields, resources, widgets

from .models import EditorialStatus, Figure, Place, PlaceKind, Service, Territory
from .search import reindex

SEPARATOR = ";"


def _text(value):
    return "" if value is None else str(value).strip()


class SlugListWidget(widgets.ManyToManyWidget):
    """Slugs separated by « ; »; an unknown slug is an error that names it."""

    def __init__(self, model, unknown_message):
        super().__init__(model, separator=SEPARATOR, field="slug")
        self.unknown_message = unknown_message

    def clean(self, value, row=None, **kwargs):
        slugs = [s.strip() for s in _text(value).split(SEPARATOR) if s.strip()]
        if not slugs:
            return self.model.objects.none()
        known = dict(self.model.objects.filter(slug__in=slugs).values_list("slug", "pk"))
        unknown = [slug for slug in slugs if slug not in known]
        if unknown:
            raise ValueError(
                self.unknown_message
                % {
                    "unknown": ", ".join(f"« {slug} »" for slug in unknown),
                    "known": ", ".join(self.model.objects.values_list("slug", flat=True)),
                }
            )
        return self.model.objects.filter(pk__in=known.values())

    def render(self, value, obj=None, **kwargs):
        if value is None:
            return ""
        return f"{SEPARATOR} ".join(item.slug for item in value.all())


class TerritoryWidget(widgets.ForeignKeyWidget):
    """A territory by slug or INSEE code (a commune's code first: « 26108 » is Crest)."""

    ORDER = ["commune", "epci", "pays", "departement", "region", "quartier"]

    def __init__(self):
        super().__init__(Territory, field="slug")

    def clean(self, value, row=None, **kwargs):
        text = _text(value)
        if text.endswith(".0"):  # a spreadsheet's number: 26108.0
            text = text[:-2]
        if not text:
            return None
        territory = Territory.objects.filter(slug=text).first()
        if territory is None:
            matches = sorted(
                Territory.objects.filter(insee_code=text),
                key=lambda t: self.ORDER.index(t.kind) if t.kind in self.ORDER else 99,
            )
            territory = matches[0] if matches else None
        if territory is None:
            raise ValueError(
                _("Unknown territory « %(value)s »: give its slug or its INSEE code.")
                % {"value": text}
            )
        return territory

    def render(self, value, obj=None, **kwargs):
        return value.slug if value is not None else ""


class ListWidget(widgets.Widget):
    """A list of names separated by « ; » (blank ones dropped, repeats kept once)."""

    def clean(self, value, row=None, **kwargs):
        names, seen = [], set()
        for part in _text(value).split(SEPARATOR):
            name = " ".join(part.split())
            if name and name.casefold() not in seen:
                seen.add(name.casefold())
                names.append(name)
        return names

    def render(self, value, obj=None, **kwargs):
        return f"{SEPARATOR} ".join(value or [])


def _number(value):
    """A number as a spreadsheet or a French editor writes it: 44,726 or « 1 200 »."""
    if isinstance(value, (int, float, Decimal)):
        return Decimal(str(value))
    text = "".join(_text(value).split()).replace(",", ".")
    if not text:
        return None
    try:
        return Decimal(text)
    except InvalidOperation:
        raise ValueError(_("« %(value)s » is not a number.") % {"value": value}) from None


class NumberWidget(widgets.DecimalWidget):
    def clean(self, value, row=None, **kwargs):
        return _number(value)


class WholeNumberWidget(widgets.IntegerWidget):
    def clean(self, value, row=None, **kwargs):
        number = _number(value)
        if number is None:
            return None
        if number != number.to_integral_value():
            raise ValueError(_("« %(value)s » is not a whole number.") % {"value": value})
        return int(number)


class PlaceResource(resources.ModelResource):
    slug = fields.Field(attribute="slug", column_name="slug")
    aliases = fields.Field(attribute="aliases", column_name="aliases", widget=ListWidget())
    kinds = fields.Field(
        attribute="kinds",
        column_name="kinds",
        widget=SlugListWidget(
            PlaceKind,
            _("Unknown kind of place %(unknown)s. Known kinds: %(known)s."),
        ),
    )
    services = fields.Field(
        attribute="services",
        column_name="services",
        widget=SlugListWidget(
            Service, _("Unknown service %(unknown)s. Known services: %(known)s.")
        ),
    )
    territory = fields.Field(
        attribute="territory", column_name="territory", widget=TerritoryWidget()
    )
    departement = fields.Field(
        attribute="departement__name", column_name="departement", readonly=True
    )
    region = fields.Field(attribute="region__name", column_name="region", readonly=True)
    year_opened = fields.Field(
        attribute="year_opened", column_name="year_opened", widget=WholeNumberWidget()
    )
    latitude = fields.Field(attribute="latitude", column_name="latitude", widget=NumberWidget())
    longitude = fields.Field(attribute="longitude", column_name="longitude", widget=NumberWidget())
    editorial_status = fields.Field(
        attribute="editorial_status", column_name="editorial_status", readonly=True
    )

    class Meta:
        model = Place
        import_id_fields = ["slug"]
        fields = [
            "slug",
            "name",
            "aliases",
            "kinds",
            "services",
            "territory",
            "departement",
            "region",
            "setting",
            "setting_as_stated",
            "legal_form",
            "carrier",
            "year_opened",
            "year_opened_label",
            "status",
            "website",
            "address",
            "latitude",
            "longitude",
            "summary",
            "summary_en",
            "editorial_status",
        ]
        export_order = fields
        use_transactions = True
        clean_model_instances = True
        skip_unchanged = False
        report_skipped = True

    def get_queryset(self):
        return Place.objects.select_related("territory", "departement", "region")

    def before_import(self, dataset, **kwargs):
        # « Slug », « slug » and « slug » with a trailing space are the same column.
        dataset.headers = [_text(header).lower() for header in dataset.headers]

    def before_import_row(self, row, **kwargs):
        for key, value in list(row.items()):
            if isinstance(value, str):
                row[key] = value.strip()
        if not row.get("slug") and row.get("name"):
            row["slug"] = slugify(row["name"])[:120]

    def import_instance(self, instance, row, **kwargs):
        """Set the row's values, and check its kinds and services now (the library only
        reads them after saving), so that every error of the row shows in the preview."""
        errors = {}
        try:
            super().import_instance(instance, row, **kwargs)
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        for field in self.get_import_fields():
            if not isinstance(field.widget, widgets.ManyToManyWidget):
                continue
            try:
                chosen = field.clean(row) if field.column_name in row else None
            except ValueError as error:
                errors[field.attribute] = [ValidationError(str(error), code="invalid")]
                continue
            if field.attribute == "kinds" and (chosen is None or not chosen.exists()):
                errors["kinds"] = [
                    ValidationError(
                        _("Give at least one kind of place (slugs separated by « ; »)."),
                        code="required",
                    )
                ]
        if errors:
            raise ValidationError(errors)

    def skip_row(self, instance, original, row, import_validation_errors=None):
        # Create only: an existing place is left as its editors made it.
        return original is not None and original.pk is not None

    def before_save_instance(self, instance, row, **kwargs):
        if instance._state.adding:
            instance.editorial_status = EditorialStatus.DRAFT
            user = kwargs.get("user")
            if user is not None and user.is_authenticated:
                instance.created_by = user

    def after_import(self, dataset, result, **kwargs):
        super().after_import(dataset, result, **kwargs)
        if kwargs.get("dry_run"):
            return
        created = [row.object_id for row in result.rows if row.import_type == "new"]
        if created:
            reindex(Place.objects.filter(pk__in=created))


class FigureResource(resources.ModelResource):
    """Export only: one row per figure, places and sources by slug."""

    place = fields.Field(attribute="place__slug", column_name="place")
    place_name = fields.Field(attribute="place__name", column_name="place_name")
    indicator = fields.Field(attribute="indicator__slug", column_name="indicator")
    source = fields.Field(attribute="source__slug", column_name="source")

    class Meta:
        model = Figure
        fields = [
            "place",
            "place_name",
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
        export_order = fields

    def get_queryset(self):
        return Figure.objects.select_related("place", "indicator", "source")
