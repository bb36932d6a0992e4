"""What the API answers for each kind of record.

Details use the field names of `export_catalogue` (catalogue.serializers, DESIGN §6): the
place and case-study details are those dicts, plus the record's page (`url`) and, for a
place, its point. The declared fields describe them in the OpenAPI schema; a test checks
that they name exactly the keys answered.
"""

from django.conf import settings
from django.utils import translation
from rest_framework import serializers

from casestudies.export import case_study_dict
from casestudies.models import CaseStudy, ComparisonColumn, SectionKind
from casestudies.tables import build_grid, cell_as_text

from ..models import LegalForm, Lesson, Organisation, Place, Setting, Source, Territory
from ..serializers import number, place_dict, source_dict


def page_url(request, obj):
    """The record's page on the site, in French (the canonical version)."""
    with translation.override(settings.LANGUAGE_CODE):
        path = obj.get_absolute_url()
    return request.build_absolute_uri(path) if request is not None else path


class PageUrlMixin:
    def page_url(self, obj):
        return page_url(self.context.get("request"), obj)


def point(place):
    coordinates = place.coordinates()
    if coordinates is None:
        return {"latitude": None, "longitude": None, "coordinates_precise": None}
    lat, lon, precise = coordinates
    return {"latitude": number(lat), "longitude": number(lon), "coordinates_precise": precise}


class PointFields(serializers.Serializer):
    latitude = serializers.FloatField(
        allow_null=True, help_text="WGS 84; the place's own point, else its commune's."
    )
    longitude = serializers.FloatField(allow_null=True)
    coordinates_precise = serializers.BooleanField(
        allow_null=True, help_text="True when an editor set the place's own point."
    )


class TerritoryBriefSerializer(serializers.Serializer):
    slug = serializers.SlugField()
    name = serializers.CharField()
    kind = serializers.ChoiceField(choices=Territory.Kind.choices)
    insee_code = serializers.CharField()
    population = serializers.IntegerField(allow_null=True)
    population_year = serializers.IntegerField(allow_null=True)


class HeadlineFiguresSerializer(serializers.Serializer):
    investment_eur = serializers.FloatField(allow_null=True)
    operating_budget_eur = serializers.FloatField(allow_null=True)
    staff = serializers.FloatField(allow_null=True)


class PlaceListSerializer(PageUrlMixin, PointFields):
    """A place in a list: what the directory shows of it."""

    slug = serializers.SlugField()
    name = serializers.CharField()
    url = serializers.URLField(help_text="The place's page.")
    kinds = serializers.ListField(child=serializers.SlugField())
    setting = serializers.ChoiceField(choices=[("", ""), *Setting.choices])
    legal_form = serializers.ChoiceField(choices=[("", ""), *LegalForm.choices])
    status = serializers.ChoiceField(choices=Place.Status.choices)
    year_opened = serializers.IntegerField(allow_null=True)
    territory = TerritoryBriefSerializer(allow_null=True)
    departement = serializers.CharField(allow_null=True, help_text="INSEE code.")
    region = serializers.CharField(allow_null=True, help_text="INSEE code.")
    figures = HeadlineFiguresSerializer(help_text="Headline figures.")
    summary = serializers.CharField()
    summary_en = serializers.CharField()

    def to_representation(self, place):
        """Reads `territory`, `departement`, `region` and `kinds` (fetch them)."""
        territory = place.territory
        return {
            "slug": place.slug,
            "name": place.name,
            "url": self.page_url(place),
            "kinds": sorted(kind.slug for kind in place.kinds.all()),
            "setting": place.setting,
            "legal_form": place.legal_form,
            "status": place.status,
            "year_opened": place.year_opened,
            "territory": {
                "slug": territory.slug,
                "name": territory.name,
                "kind": territory.kind,
                "insee_code": territory.insee_code,
                "population": territory.population,
                "population_year": territory.population_year,
            }
            if territory
            else None,
            "departement": place.departement.insee_code if place.departement else None,
            "region": place.region.insee_code if place.region else None,
            **point(place),
            "figures": {
                "investment_eur": number(place.headline_investment),
                "operating_budget_eur": number(place.headline_budget),
                "staff": number(place.headline_staff),
            },
            "summary": place.summary,
            "summary_en": place.summary_en,
        }


class PlaceTerritorySerializer(serializers.Serializer):
    name = serializers.CharField()
    kind = serializers.ChoiceField(choices=Territory.Kind.choices)
    population = serializers.IntegerField(allow_null=True)


class FigureSerializer(serializers.Serializer):
    indicator = serializers.SlugField()
    value = serializers.FloatField()
    value_max = serializers.FloatField(allow_null=True)
    year = serializers.IntegerField(allow_null=True)
    period = serializers.CharField()
    label = serializers.CharField()
    label_en = serializers.CharField()
    headline = serializers.BooleanField()
    source = serializers.SlugField()
    section = serializers.CharField(help_text="Where in the source the figure is.")


class FunderSerializer(serializers.Serializer):
    name = serializers.CharField()
    slug = serializers.SlugField()
    kind = serializers.ChoiceField(choices=Organisation.Kind.choices)
    purpose = serializers.CharField()
    amount_eur = serializers.FloatField(allow_null=True)
    share_pct = serializers.FloatField(allow_null=True)
    period = serializers.CharField()


class PlaceLessonSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Lesson.Kind.choices)
    theme = serializers.ChoiceField(choices=Lesson.Theme.choices)
    text = serializers.CharField()
    text_en = serializers.CharField()


class PlaceDetailSerializer(PageUrlMixin, PointFields):
    """A place whole: the `export_catalogue` record, its page and its point."""

    slug = serializers.SlugField()
    name = serializers.CharField()
    url = serializers.URLField(help_text="The place's page.")
    aliases = serializers.ListField(child=serializers.CharField())
    kinds = serializers.ListField(child=serializers.SlugField())
    setting = serializers.CharField()
    setting_as_stated = serializers.CharField()
    commune = serializers.CharField(allow_null=True)
    departement = serializers.CharField(allow_null=True, help_text="INSEE code.")
    region = serializers.CharField(allow_null=True, help_text="INSEE code.")
    territory = PlaceTerritorySerializer(allow_null=True)
    legal_form = serializers.CharField()
    carrier = serializers.CharField()
    year_opened = serializers.IntegerField(allow_null=True)
    status = serializers.ChoiceField(choices=Place.Status.choices)
    website = serializers.CharField()
    summary = serializers.CharField()
    summary_en = serializers.CharField()
    checked_on = serializers.DateField(allow_null=True)
    figures = FigureSerializer(many=True)
    funders = FunderSerializer(many=True)
    services = serializers.ListField(child=serializers.SlugField())
    lessons = PlaceLessonSerializer(many=True)
    case_studies = serializers.ListField(child=serializers.SlugField())
    sources = serializers.ListField(child=serializers.SlugField())

    def to_representation(self, place):
        """Reads what `catalogue.serializers.places_for_export` fetches."""
        return {**place_dict(place), "url": self.page_url(place), **point(place)}


class TerritorySerializer(PageUrlMixin, serializers.Serializer):
    slug = serializers.SlugField()
    name = serializers.CharField()
    kind = serializers.ChoiceField(choices=Territory.Kind.choices)
    insee_code = serializers.CharField()
    population = serializers.IntegerField(allow_null=True)
    population_year = serializers.IntegerField(allow_null=True)
    parent = serializers.SlugField(allow_null=True)
    departement = serializers.CharField(allow_null=True, help_text="INSEE code.")
    region = serializers.CharField(allow_null=True, help_text="INSEE code.")
    latitude = serializers.FloatField(allow_null=True)
    longitude = serializers.FloatField(allow_null=True)
    url = serializers.URLField()

    def to_representation(self, territory):
        """Reads `parent`, `departement` and `region` (fetch them)."""
        return {
            "slug": territory.slug,
            "name": territory.name,
            "kind": territory.kind,
            "insee_code": territory.insee_code,
            "population": territory.population,
            "population_year": territory.population_year,
            "parent": territory.parent.slug if territory.parent else None,
            "departement": territory.departement.insee_code if territory.departement else None,
            "region": territory.region.insee_code if territory.region else None,
            "latitude": number(territory.latitude),
            "longitude": number(territory.longitude),
            "url": self.page_url(territory),
        }


class CaseStudyListSerializer(PageUrlMixin, serializers.Serializer):
    slug = serializers.SlugField()
    title = serializers.CharField()
    title_en = serializers.CharField()
    tagline = serializers.CharField()
    tagline_en = serializers.CharField()
    kind = serializers.ChoiceField(choices=CaseStudy.Kind.choices)
    places = serializers.ListField(child=serializers.SlugField())
    source = serializers.SlugField()
    date_written = serializers.CharField()
    summary = serializers.CharField()
    summary_en = serializers.CharField()
    url = serializers.URLField()

    def to_representation(self, case):
        """Reads `source` and `places` (fetch them)."""
        return {
            "slug": case.slug,
            "title": case.title,
            "title_en": case.title_en,
            "tagline": case.tagline,
            "tagline_en": case.tagline_en,
            "kind": case.kind,
            "places": sorted(place.slug for place in case.places.all()),
            "source": case.source.slug,
            "date_written": case.date_written,
            "summary": case.summary,
            "summary_en": case.summary_en,
            "url": self.page_url(case),
        }


class SectionSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=SectionKind.choices)
    heading = serializers.CharField()
    heading_en = serializers.CharField()
    body = serializers.CharField(help_text="Markdown.")


class CaseStudyDetailSerializer(PageUrlMixin, serializers.Serializer):
    """A case study whole: the `export_catalogue` record and its page."""

    slug = serializers.SlugField()
    title = serializers.CharField()
    title_en = serializers.CharField()
    tagline = serializers.CharField()
    tagline_en = serializers.CharField()
    kind = serializers.ChoiceField(choices=CaseStudy.Kind.choices)
    places = serializers.ListField(child=serializers.SlugField())
    source = serializers.SlugField()
    source_section = serializers.CharField()
    date_written = serializers.CharField()
    summary = serializers.CharField()
    summary_en = serializers.CharField()
    sections = SectionSerializer(many=True)
    url = serializers.URLField()

    def to_representation(self, case):
        return {**case_study_dict(case), "url": self.page_url(case)}


class LessonSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="Lessons have no slug: their number is stable.")
    place = serializers.SlugField()
    kind = serializers.ChoiceField(choices=Lesson.Kind.choices)
    theme = serializers.ChoiceField(choices=Lesson.Theme.choices)
    text = serializers.CharField()
    text_en = serializers.CharField()
    source = serializers.SlugField()
    section = serializers.CharField()
    cited_places = serializers.ListField(child=serializers.SlugField())

    def to_representation(self, lesson):
        """Reads `place`, `source` and `cited_places` (fetch them)."""
        return {
            "id": lesson.pk,
            "place": lesson.place.slug,
            "kind": lesson.kind,
            "theme": lesson.theme,
            "text": lesson.text,
            "text_en": lesson.text_en,
            "source": lesson.source.slug,
            "section": lesson.section,
            "cited_places": sorted(place.slug for place in lesson.cited_places.all()),
        }


class SourceSerializer(PageUrlMixin, serializers.Serializer):
    slug = serializers.SlugField()
    title = serializers.CharField()
    short_title = serializers.CharField()
    publishers = serializers.CharField()
    authors = serializers.CharField()
    year = serializers.IntegerField(allow_null=True)
    kind = serializers.ChoiceField(choices=Source.Kind.choices)
    file_name = serializers.CharField()
    document_url = serializers.CharField(help_text="Where the document itself is published.")
    url = serializers.URLField()

    def to_representation(self, source):
        return {**source_dict(source), "document_url": source.url, "url": self.page_url(source)}


class TableColumnSerializer(serializers.Serializer):
    key = serializers.SlugField()
    label = serializers.CharField()
    kind = serializers.ChoiceField(choices=ComparisonColumn.Kind.choices)
    indicator = serializers.SlugField(allow_null=True)


class TableRowSerializer(serializers.Serializer):
    place = serializers.SlugField()
    cells = serializers.DictField(
        child=serializers.CharField(), help_text="Column key → the cell as text ('' if none)."
    )


class TableListSerializer(PageUrlMixin, serializers.Serializer):
    slug = serializers.SlugField()
    title = serializers.CharField()
    intro = serializers.CharField()
    source = serializers.SlugField(allow_null=True)
    section = serializers.CharField()
    url = serializers.URLField()

    def to_representation(self, table):
        return {
            "slug": table.slug,
            "title": table.title,
            "intro": table.intro,
            "source": table.source.slug if table.source else None,
            "section": table.section,
            "url": self.page_url(table),
        }


class TableDetailSerializer(TableListSerializer):
    columns = TableColumnSerializer(many=True)
    rows = TableRowSerializer(many=True)

    def to_representation(self, table):
        """Reads what `casestudies.views.table_queryset` fetches."""
        grid = build_grid(table)
        keys = [column.key for column in grid["columns"]]
        return {
            **super().to_representation(table),
            "columns": [
                {
                    "key": column.key,
                    "label": column.label,
                    "kind": column.kind,
                    "indicator": column.indicator.slug if column.indicator else None,
                }
                for column in grid["columns"]
            ],
            "rows": [
                {
                    "place": place.slug,
                    "cells": {
                        key: cell_as_text(cell) for key, cell in zip(keys, cells, strict=True)
                    },
                }
                for place, cells in grid["rows"]
            ],
        }
