from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from catalogue.links import slug_url
from catalogue.models import (
    PUBLIC_STATUSES,
    EditorialStatus,
    Indicator,
    Lesson,
    NaturalKeyMixin,
    Place,
    SlugManager,
    SlugQuerySet,
    Source,
    Versioned,
    localized,
)


class SectionKind(models.TextChoices):
    CONTEXTE = "contexte", _("Context")
    GENESE = "genese", _("Origins")
    OBJECTIFS = "objectifs", _("Goals")
    ACTEURS = "acteurs", _("Actors and partners")
    SERVICES = "services", _("Services")
    GOUVERNANCE = "gouvernance", _("Governance")
    MODELE_ECONOMIQUE = "modele-economique", _("Economic model")
    BUDGET = "budget", _("Budget and funding")
    COOPERATION_RURAL_URBAIN = "cooperation-rural-urbain", _("Rural–urban cooperation")
    ENSEIGNEMENTS = "enseignements", _("Lessons")
    DIFFICULTES = "difficultes", _("Difficulties")
    ENJEUX = "enjeux", _("Challenges")
    PROJETS = "projets", _("Projects")
    IMPACTS = "impacts", _("Impacts")
    PERSPECTIVES = "perspectives", _("Outlook")
    TYPOLOGIE = "typologie", _("Typology")
    ANALYSE = "analyse", _("Analysis")
    AUTRE = "autre", _("Other")


class CaseStudyQuerySet(SlugQuerySet):
    def published(self):
        return self.filter(editorial_status=EditorialStatus.PUBLISHED)

    def public(self):
        """Published and archived case studies: what has a public page."""
        return self.filter(editorial_status__in=PUBLIC_STATUSES)

    def for_listing(self):
        # Drafts never show, not even as a name under a published case study.
        return self.select_related("source").prefetch_related(
            models.Prefetch("places", queryset=Place.objects.public())
        )


class CaseStudy(NaturalKeyMixin, Versioned, models.Model):
    class Kind(models.TextChoices):
        MONOGRAPH = "monograph", _("Monograph")
        SYNTHESIS = "synthesis", _("Synthesis")
        EXPERT_VIEW = "expert_view", _("Expert view")

    EditorialStatus = EditorialStatus

    slug = models.SlugField(_("slug"), max_length=120, unique=True)
    title = models.CharField(_("title"), max_length=300)
    title_en = models.CharField(_("English title"), max_length=300, blank=True)
    tagline = models.CharField(_("tagline"), max_length=300, blank=True)
    tagline_en = models.CharField(_("English tagline"), max_length=300, blank=True)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind, default=Kind.MONOGRAPH)
    places = models.ManyToManyField(
        Place, verbose_name=_("places"), blank=True, related_name="case_studies"
    )
    source = models.ForeignKey(
        Source, verbose_name=_("source"), on_delete=models.PROTECT, related_name="case_studies"
    )
    source_section = models.CharField(_("section of the source"), max_length=300, blank=True)
    date_written = models.CharField(
        _("date written"),
        max_length=60,
        blank=True,
        help_text=_("As the source dates the case, e.g. « mars 2014 »."),
    )
    summary = models.TextField(_("summary"), blank=True)
    summary_en = models.TextField(_("English summary"), blank=True)
    lessons = models.ManyToManyField(
        Lesson, verbose_name=_("lessons"), blank=True, related_name="case_studies"
    )
    editorial_status = models.CharField(
        _("editorial status"),
        max_length=10,
        choices=EditorialStatus,
        default=EditorialStatus.DRAFT,
    )
    checked_on = models.DateField(_("last checked against its source"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Lower-case, accent-free copy of the title, summary and sections, rebuilt by
    # casestudies.search.reindex_case_studies: what the case-study search matches.
    search_folded = models.TextField(blank=True, editable=False)

    objects = CaseStudyQuerySet.as_manager()
    history = HistoricalRecords(
        verbose_name=_("case study version"),
        verbose_name_plural=_("case study versions"),
        excluded_fields=["updated_at", "search_folded"],
    )

    class Meta:
        ordering = ["title"]
        verbose_name = _("case study")
        verbose_name_plural = _("case studies")
        permissions = [("publish_casestudy", _("Can publish and archive case studies"))]

    def __str__(self):
        return self.title

    # The route of its page (catalogue.links).
    page_route = "casestudies:case-detail"

    def get_absolute_url(self):
        return slug_url(self.page_route, self.slug)

    @property
    def localized_summary(self):
        return localized(self, "summary")

    @property
    def localized_title(self):
        return localized(self, "title")

    @property
    def localized_tagline(self):
        return localized(self, "tagline")


class Section(Versioned, models.Model):
    case_study = models.ForeignKey(
        CaseStudy,
        verbose_name=_("case study"),
        on_delete=models.CASCADE,
        related_name="sections",
    )
    order = models.PositiveSmallIntegerField(_("order"))
    kind = models.CharField(
        _("kind"), max_length=30, choices=SectionKind, default=SectionKind.AUTRE
    )
    heading = models.CharField(_("heading"), max_length=300)
    heading_en = models.CharField(_("English heading"), max_length=300, blank=True)
    body = models.TextField(_("body (Markdown)"))

    history = HistoricalRecords(
        verbose_name=_("section version"), verbose_name_plural=_("section versions")
    )

    class Meta:
        ordering = ["case_study", "order"]
        verbose_name = _("section")
        verbose_name_plural = _("sections")
        constraints = [
            models.UniqueConstraint(
                fields=["case_study", "order"], name="section_unique_order_per_case_study"
            ),
        ]

    def __str__(self):
        return self.heading

    @property
    def localized_heading(self):
        return localized(self, "heading")

    @property
    def anchor(self):
        return f"section-{self.order}"


class ComparisonTable(NaturalKeyMixin, Versioned, models.Model):
    slug = models.SlugField(_("slug"), max_length=120, unique=True)
    title = models.CharField(_("title"), max_length=300)
    intro = models.TextField(_("introduction"), blank=True)
    source = models.ForeignKey(
        Source,
        verbose_name=_("source"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="comparison_tables",
        help_text=_("Leave empty for a table composed by editors."),
    )
    section = models.CharField(_("section of the source"), max_length=300, blank=True)
    checked_on = models.DateField(_("last checked against its source"), null=True, blank=True)

    objects = SlugManager()
    history = HistoricalRecords(
        verbose_name=_("comparison table version"),
        verbose_name_plural=_("comparison table versions"),
    )

    class Meta:
        ordering = ["title"]
        verbose_name = _("comparison table")
        verbose_name_plural = _("comparison tables")

    def __str__(self):
        return self.title

    # The route of its page (catalogue.links).
    page_route = "casestudies:table-detail"

    def get_absolute_url(self):
        return slug_url(self.page_route, self.slug)


class ComparisonRow(models.Model):
    table = models.ForeignKey(
        ComparisonTable, verbose_name=_("table"), on_delete=models.CASCADE, related_name="rows"
    )
    place = models.ForeignKey(
        Place, verbose_name=_("place"), on_delete=models.CASCADE, related_name="comparison_rows"
    )
    order = models.PositiveSmallIntegerField(_("order"))

    class Meta:
        ordering = ["table", "order"]
        verbose_name = _("row")
        verbose_name_plural = _("rows")
        constraints = [
            models.UniqueConstraint(fields=["table", "order"], name="comparisonrow_unique_order"),
            models.UniqueConstraint(fields=["table", "place"], name="comparisonrow_unique_place"),
        ]

    def __str__(self):
        return f"{self.table} — {self.place}"


class ComparisonColumn(models.Model):
    class Kind(models.TextChoices):
        TEXT = "text", _("Text printed in the source")
        INDICATOR = "indicator", _("Headline figure")
        ATTRIBUTE = "attribute", _("Attribute of the place")
        SECTION = "section", _("Case-study section")

    class Attribute(models.TextChoices):
        KINDS = "kinds", _("Kinds")
        SETTING = "setting", _("Setting")
        SETTING_AS_STATED = "setting_as_stated", _("Setting as stated")
        TERRITORY = "territory", _("Territory")
        POPULATION = "population", _("Territory population")
        REGION = "region", _("Region")
        LEGAL_FORM = "legal_form", _("Legal form")
        CARRIER = "carrier", _("Carrier")
        YEAR_OPENED = "year_opened", _("Year opened")
        FUNDERS = "funders", _("Funders")
        SERVICES = "services", _("Services")

    table = models.ForeignKey(
        ComparisonTable,
        verbose_name=_("table"),
        on_delete=models.CASCADE,
        related_name="columns",
    )
    key = models.SlugField(_("key"), max_length=60)
    label = models.CharField(_("label"), max_length=200)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind, default=Kind.TEXT)
    indicator = models.ForeignKey(
        Indicator,
        verbose_name=_("indicator"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    attribute = models.CharField(_("attribute"), max_length=30, choices=Attribute, blank=True)
    section_kind = models.CharField(
        _("section kind"), max_length=30, choices=SectionKind, blank=True
    )
    order = models.PositiveSmallIntegerField(_("order"))

    class Meta:
        ordering = ["table", "order"]
        verbose_name = _("column")
        verbose_name_plural = _("columns")
        constraints = [
            models.UniqueConstraint(
                fields=["table", "order"], name="comparisoncolumn_unique_order"
            ),
            models.UniqueConstraint(fields=["table", "key"], name="comparisoncolumn_unique_key"),
            models.CheckConstraint(
                condition=~Q(kind="indicator") | Q(indicator__isnull=False),
                name="comparisoncolumn_indicator_named",
            ),
            models.CheckConstraint(
                condition=~Q(kind="attribute") | ~Q(attribute=""),
                name="comparisoncolumn_attribute_named",
            ),
            models.CheckConstraint(
                condition=~Q(kind="section") | ~Q(section_kind=""),
                name="comparisoncolumn_section_kind_named",
            ),
        ]

    def __str__(self):
        return self.label

    def clean(self):
        # What each kind of column reads must be named, or the column stays empty.
        required = {
            self.Kind.INDICATOR: (
                "indicator",
                self.indicator_id,
                _("A « Headline figure » column shows one indicator: choose it."),
            ),
            self.Kind.ATTRIBUTE: (
                "attribute",
                self.attribute,
                _("An « Attribute of the place » column shows one attribute: choose it."),
            ),
            self.Kind.SECTION: (
                "section_kind",
                self.section_kind,
                _("A « Case-study section » column shows one kind of section: choose it."),
            ),
        }
        if self.kind in required:
            field, value, message = required[self.kind]
            if not value:
                raise ValidationError({field: message})


class ComparisonCell(models.Model):
    """What the source prints in one cell, with an optional editor's note."""

    table = models.ForeignKey(
        ComparisonTable, verbose_name=_("table"), on_delete=models.CASCADE, related_name="cells"
    )
    place = models.ForeignKey(
        Place, verbose_name=_("place"), on_delete=models.CASCADE, related_name="+"
    )
    column = models.ForeignKey(
        ComparisonColumn,
        verbose_name=_("column"),
        on_delete=models.CASCADE,
        related_name="cells",
    )
    text = models.TextField(_("text"), blank=True)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        ordering = ["table", "pk"]
        verbose_name = _("cell")
        verbose_name_plural = _("cells")
        constraints = [
            models.UniqueConstraint(
                fields=["table", "place", "column"], name="comparisoncell_unique_position"
            ),
        ]

    def __str__(self):
        return self.text[:60]


class CorpusRecord(models.Model):
    """What `load_corpus` last wrote to one record, so that the next load can tell an
    editor's change (the record no longer matches) from its own, and leave the first alone.

    `key` names the record in the corpus (a slug, or a path such as
    ``place-slug|source-slug|figure|2``); `values` holds the fields the corpus owns, as
    written, and `digest` their fingerprint.
    """

    model = models.CharField(max_length=60)
    key = models.CharField(max_length=400)
    object_id = models.BigIntegerField()
    values = models.JSONField(default=dict)
    digest = models.CharField(max_length=64)
    loaded_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["model", "key"]
        verbose_name = _("corpus record")
        verbose_name_plural = _("corpus records")
        constraints = [
            models.UniqueConstraint(fields=["model", "key"], name="corpusrecord_unique_key"),
        ]
        indexes = [models.Index(fields=["model", "object_id"])]

    def __str__(self):
        return f"{self.model} {self.key}"
