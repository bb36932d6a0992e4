import functools
import heapq
import itertools
import operator
from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from . import validation
from .links import slug_url
from .text import fold


class SlugManager(models.Manager):
    """Natural keys are slugs, so fixtures and exports never depend on primary keys."""

    def get_by_natural_key(self, slug):
        return self.get(slug=slug)


class SlugQuerySet(models.QuerySet):
    def get_by_natural_key(self, slug):
        return self.get(slug=slug)


class NaturalKeyMixin:
    def natural_key(self):
        return (self.slug,)


def localized(obj, field):
    """``obj.<field>_en`` under /en/ when it is written, else the French reference."""
    if get_language() == "en":
        english = getattr(obj, f"{field}_en", "")
        if english:
            return english
    return getattr(obj, field)


def is_localized(obj, field):
    """Whether ``localized(obj, field)`` is in the current language (else it is French)."""
    return get_language() != "en" or bool(getattr(obj, f"{field}_en", ""))


class TranslatedNameMixin:
    """Vocabulary entries carry a French name and an English one."""

    @property
    def display_name(self):
        if get_language() == "en" and self.name_en:
            return self.name_en
        return self.name


class EditorialStatus(models.TextChoices):
    """Where a record stands in the editorial workflow (places and case studies)."""

    DRAFT = "draft", _("Draft")
    REVIEW = "review", _("In review")
    PUBLISHED = "published", _("Published")
    ARCHIVED = "archived", _("Archived")


# What the public sees: published records, and archived ones (closed places, reachable with
# a banner but left out of the default directory).
PUBLIC_STATUSES = [EditorialStatus.PUBLISHED, EditorialStatus.ARCHIVED]


class Versioned(models.Model):
    """A version number that every save increments: a form opened on version n cannot
    overwrite a record saved since (optimistic locking, checked by the admin)."""

    version = models.PositiveIntegerField(_("version"), default=1, editable=False)

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            self.version = (self.version or 0) + 1
        super().save(*args, **kwargs)


class Source(NaturalKeyMixin, Versioned, models.Model):
    class Kind(models.TextChoices):
        MEMENTO = "memento", _("Memento / good-practice guide")
        PROCEEDINGS = "proceedings", _("Proceedings")
        STUDY = "study", _("Study")
        PROJECT_SHEET = "project-sheet", _("Project sheet")
        INTERVIEW = "interview", _("Interview")
        WEBSITE = "website", _("Website")
        ANNUAL_REPORT = "annual-report", _("Annual report")
        VISIT = "visit", _("Visit")
        PRESS = "press", _("Press article")
        OTHER = "other", _("Other")

    # Kinds of source that are documents with parts: a fact taken from one names its section.
    DOCUMENT_KINDS = [Kind.MEMENTO, Kind.PROCEEDINGS, Kind.STUDY, Kind.PROJECT_SHEET]

    slug = models.SlugField(_("slug"), max_length=100, unique=True)
    title = models.CharField(_("title"), max_length=300)
    short_title = models.CharField(_("short title"), max_length=150, blank=True)
    publishers = models.CharField(_("publishers"), max_length=300, blank=True)
    authors = models.CharField(_("authors"), max_length=300, blank=True)
    year = models.PositiveSmallIntegerField(_("year"), null=True, blank=True)
    date_as_stated = models.CharField(
        _("date as stated"),
        max_length=100,
        blank=True,
        help_text=_("The publication date as the document prints it, or how it was inferred."),
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind, default=Kind.OTHER)
    date = models.DateField(
        _("date"),
        null=True,
        blank=True,
        help_text=_("For an interview, a visit or a web page: the day it took place or was read."),
    )
    file_name = models.CharField(_("file name"), max_length=200, blank=True)
    url = models.URLField(_("URL"), max_length=500, blank=True)
    summary = models.TextField(_("summary"), blank=True)
    summary_en = models.TextField(_("English summary"), blank=True)
    checked_on = models.DateField(_("last checked on"), null=True, blank=True)

    objects = SlugManager()
    history = HistoricalRecords(
        verbose_name=_("source version"), verbose_name_plural=_("source versions")
    )

    class Meta:
        ordering = ["slug"]
        verbose_name = _("source")
        verbose_name_plural = _("sources")

    def __str__(self):
        return self.short_title or self.title

    # The route of its page (catalogue.links).
    page_route = "catalogue:source-detail"

    def get_absolute_url(self):
        return slug_url(self.page_route, self.slug)

    def clean(self):
        # What a reader needs to trust a fact that comes from no document: who said it and
        # when, which site and when it was read.
        errors = {}
        if self.kind == self.Kind.INTERVIEW and not self.authors.strip():
            errors["authors"] = _("Name the person or people interviewed.")
        if self.kind in (self.Kind.INTERVIEW, self.Kind.VISIT, self.Kind.WEBSITE) and not self.date:
            errors["date"] = {
                self.Kind.INTERVIEW: _("Give the date of the interview."),
                self.Kind.VISIT: _("Give the date of the visit."),
                self.Kind.WEBSITE: _("Give the date the site was read."),
            }[self.kind]
        if self.kind == self.Kind.WEBSITE and not self.url:
            errors["url"] = _("Give the address of the web page.")
        if self.kind == self.Kind.ANNUAL_REPORT and not (self.date or self.year):
            errors["date"] = _("Give the date of the report (or at least its year).")
        if errors:
            raise ValidationError(errors)


class Territory(NaturalKeyMixin, Versioned, models.Model):
    class Kind(models.TextChoices):
        REGION = "region", _("Region")
        DEPARTEMENT = "departement", _("Département")
        PAYS = "pays", _("Pays / PETR")
        EPCI = "epci", _("Intercommunality (EPCI)")
        COMMUNE = "commune", _("Commune")
        QUARTIER = "quartier", _("Neighbourhood")

    slug = models.SlugField(_("slug"), max_length=120, unique=True)
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    insee_code = models.CharField(_("INSEE code"), max_length=10, blank=True)
    population = models.PositiveIntegerField(_("population"), null=True, blank=True)
    population_year = models.PositiveSmallIntegerField(_("population year"), null=True, blank=True)
    population_source = models.ForeignKey(
        Source,
        verbose_name=_("population source"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="territory_populations",
    )
    population_section = models.CharField(_("population section"), max_length=300, blank=True)
    # A representative point (for a commune, its town hall): places without a point of their
    # own are shown there (PlaceQuerySet.with_coordinates).
    latitude = models.DecimalField(
        _("latitude"), max_digits=8, decimal_places=5, null=True, blank=True
    )
    longitude = models.DecimalField(
        _("longitude"), max_digits=8, decimal_places=5, null=True, blank=True
    )
    # What the national dataset (manage.py load_territories) last wrote here, by field group:
    # a value that no longer matches was changed by an editor, and the dataset leaves it.
    dataset_values = models.JSONField(default=dict, blank=True, editable=False)
    # Denormalised from the parent chain on save, so that filtering places by région or
    # département is one indexed lookup instead of a recursive walk.
    departement = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    region = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    objects = SlugManager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("territory")
        verbose_name_plural = _("territories")
        constraints = [
            models.CheckConstraint(
                condition=~Q(parent=models.F("id")), name="territory_not_own_parent"
            ),
            models.CheckConstraint(
                condition=Q(latitude__isnull=True) | Q(latitude__gte=-90, latitude__lte=90),
                name="territory_latitude_range",
            ),
            models.CheckConstraint(
                condition=Q(longitude__isnull=True) | Q(longitude__gte=-180, longitude__lte=180),
                name="territory_longitude_range",
            ),
        ]
        indexes = [
            models.Index(fields=["kind", "insee_code"]),
            # With every commune loaded, lists ordered by name read this index, not 37,000 rows.
            models.Index(fields=["name"], name="catalogue_territory_name_idx"),
        ]

    def __str__(self):
        if self.kind == self.Kind.DEPARTEMENT and self.insee_code:
            return f"{self.name} ({self.insee_code})"
        return self.name

    def save(self, *args, **kwargs):
        self.departement, self.region = self.compute_ancestors()
        super().save(*args, **kwargs)

    # The route of its page (catalogue.links).
    page_route = "catalogue:territory-detail"

    def get_absolute_url(self):
        return slug_url(self.page_route, self.slug)

    def clean(self):
        if self.parent_id is None:
            return
        if self.pk is not None and self.parent_id == self.pk:
            raise ValidationError({"parent": _("A territory cannot be its own parent.")})
        if self.pk is not None and any(node.pk == self.pk for node in self.parent.ancestors()):
            raise ValidationError(
                {
                    "parent": _(
                        "« %(parent)s » lies within this territory: it cannot be its parent."
                    )
                    % {"parent": self.parent}
                }
            )

    def ancestors(self):
        """The chain from this territory up to its région (follows parents: one query each)."""
        chain, node, seen = [], self, set()
        while node is not None and node.pk not in seen:
            chain.append(node)
            seen.add(node.pk)
            node = node.parent
        return chain

    def compute_ancestors(self):
        """The département and région strictly above this territory."""
        departement = region = None
        for node in self.ancestors()[1:]:
            if node.kind == self.Kind.DEPARTEMENT and departement is None:
                departement = node
            if node.kind == self.Kind.REGION and region is None:
                region = node
        if departement is not None and region is None:
            region = departement.parent
        return departement, region


class PlaceKind(NaturalKeyMixin, TranslatedNameMixin, models.Model):
    slug = models.SlugField(_("slug"), max_length=60, unique=True)
    name = models.CharField(_("name"), max_length=120)
    name_en = models.CharField(_("English name"), max_length=120, blank=True)
    description = models.TextField(_("description"), blank=True)

    objects = SlugManager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("kind of place")
        verbose_name_plural = _("kinds of place")

    def __str__(self):
        return self.name


class Service(NaturalKeyMixin, TranslatedNameMixin, models.Model):
    slug = models.SlugField(_("slug"), max_length=60, unique=True)
    name = models.CharField(_("name"), max_length=150)
    name_en = models.CharField(_("English name"), max_length=150, blank=True)

    objects = SlugManager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("service")
        verbose_name_plural = _("services")

    def __str__(self):
        return self.name


class Indicator(NaturalKeyMixin, TranslatedNameMixin, models.Model):
    class Unit(models.TextChoices):
        EUR = "eur", _("euros")
        PCT = "pct", _("percent")
        PEOPLE = "people", _("people")
        FTE = "fte", _("full-time equivalents")
        COUNT = "count", _("count")
        M2 = "m2", _("square metres")

    slug = models.SlugField(_("slug"), max_length=60, unique=True)
    name = models.CharField(_("name"), max_length=150)
    name_en = models.CharField(_("English name"), max_length=150, blank=True)
    unit = models.CharField(_("unit"), max_length=10, choices=Unit, default=Unit.COUNT)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    objects = SlugManager()

    class Meta:
        ordering = ["position", "name"]
        verbose_name = _("indicator")
        verbose_name_plural = _("indicators")

    def __str__(self):
        return self.name


class Organisation(NaturalKeyMixin, Versioned, models.Model):
    class Kind(models.TextChoices):
        EU = "eu", _("European Union")
        STATE = "state", _("State")
        REGION = "region", _("Region")
        DEPARTEMENT = "departement", _("Département")
        EPCI = "epci", _("Intercommunality")
        COMMUNE = "commune", _("Commune")
        PUBLIC_AGENCY = "public-agency", _("Public agency or bank")
        CHAMBER = "chamber", _("Chamber (CCI, CMA, agriculture)")
        RESEARCH = "research-education", _("Research or education")
        PRIVATE = "private", _("Private company")
        ASSOCIATION = "association", _("Association or network")
        FOUNDATION = "foundation", _("Foundation")
        OTHER = "other", _("Other")

    slug = models.SlugField(_("slug"), max_length=120, unique=True)
    name = models.CharField(_("name"), max_length=250)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind, default=Kind.OTHER)
    website = models.URLField(_("website"), blank=True)

    objects = SlugManager()
    history = HistoricalRecords(
        verbose_name=_("organisation version"), verbose_name_plural=_("organisation versions")
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")

    def __str__(self):
        return self.name


class Setting(models.TextChoices):
    RURAL = "rural", _("Rural")
    SMALL_TOWN = "petite-ville", _("Small town")
    MEDIUM_TOWN = "ville-moyenne", _("Medium-sized town")
    PERIURBAN = "periurbain", _("Peri-urban")
    METROPOLIS = "metropole", _("Metropolis")


# The directory's quick rural / urban switch groups the normalised settings.
RURAL_SETTINGS = [Setting.RURAL, Setting.SMALL_TOWN]
URBAN_SETTINGS = [Setting.MEDIUM_TOWN, Setting.PERIURBAN, Setting.METROPOLIS]


class LegalForm(models.TextChoices):
    ASSOCIATION = "association", _("Association (loi 1901)")
    SCIC = "scic", _("SCIC (cooperative of collective interest)")
    SCOP = "scop", _("SCOP (workers' cooperative)")
    SAS = "sas", _("SAS")
    SARL = "sarl", _("SARL")
    SA = "sa", _("SA")
    SEM = "sem", _("SEM (semi-public company)")
    SPL = "spl", _("SPL (local public company)")
    GIP = "gip", _("GIP (public interest group)")
    EPIC = "epic", _("EPIC")
    COLLECTIVITE = "collectivite", _("Run by a local authority")
    PUBLIC_BODY = "etablissement-public", _("Public body")
    FOUNDATION = "fondation", _("Foundation")
    GROUPING = "groupement", _("Informal grouping or consortium")
    OTHER = "autre", _("Other")


# How far up the territory chain a place without a point of its own looks for one
# (quartier → commune → EPCI → département → région).
COORDINATE_FALLBACK_DEPTH = 5


def _point_lookups():
    """(latitude, longitude, precise) lookups, best first: the place's own point, then its
    territory's, then that territory's parent's…"""
    yield "latitude", "longitude", True
    prefix = "territory"
    for _depth in range(COORDINATE_FALLBACK_DEPTH):
        yield f"{prefix}__latitude", f"{prefix}__longitude", False
        prefix += "__parent"


def _point(value):
    """A coordinate as a Decimal with five places (about a metre), whatever the database."""
    return Decimal(value).quantize(Decimal("0.00001"))


class PlaceQuerySet(SlugQuerySet):
    def with_coordinates(self):
        """Annotate `map_latitude`, `map_longitude` (the place's own point if an editor
        set one, else its territory's, else the territory's parent's…; None when no
        territory up the chain has a point) and `map_precise` (True for the place's own
        point). Latitude and longitude always come from the same point."""
        lookups = list(_point_lookups())

        def pick(index, output_field):
            return models.Case(
                *[
                    models.When(
                        Q(**{f"{lat}__isnull": False, f"{lon}__isnull": False}),
                        then=models.F((lat, lon)[index]) if index < 2 else models.Value(precise),
                    )
                    for lat, lon, precise in lookups
                ],
                default=None,
                output_field=output_field,
            )

        point = models.DecimalField(max_digits=8, decimal_places=5)
        return self.annotate(
            map_latitude=pick(0, point),
            map_longitude=pick(1, point),
            map_precise=pick(2, models.BooleanField()),
        )

    def published(self):
        return self.filter(editorial_status=EditorialStatus.PUBLISHED)

    def public(self):
        """Published and archived places: what has a public page."""
        return self.filter(editorial_status__in=PUBLIC_STATUSES)

    def for_listing(self):
        return self.select_related("territory", "departement", "region").prefetch_related("kinds")


class Place(NaturalKeyMixin, Versioned, models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        PROJECT = "project", _("Project")
        CLOSED = "closed", _("Closed")
        UNKNOWN = "unknown", _("Unknown")

    EditorialStatus = EditorialStatus

    slug = models.SlugField(_("slug"), max_length=120, unique=True)
    name = models.CharField(_("name"), max_length=200)
    aliases = models.JSONField(
        _("aliases"),
        default=list,
        blank=True,
        help_text=_("Other names used by the sources, as a list of strings."),
    )
    kinds = models.ManyToManyField(PlaceKind, verbose_name=_("kinds"), related_name="places")
    setting = models.CharField(_("setting"), max_length=20, choices=Setting, blank=True)
    setting_as_stated = models.CharField(
        _("setting as stated"),
        max_length=200,
        blank=True,
        help_text=_("The source's own wording (e.g. « Petites villes et Rural »)."),
    )
    territory = models.ForeignKey(
        Territory,
        verbose_name=_("territory"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="places",
    )
    departement = models.ForeignKey(
        Territory,
        verbose_name=_("département"),
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="places_in_departement",
    )
    region = models.ForeignKey(
        Territory,
        verbose_name=_("region"),
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="places_in_region",
    )
    legal_form = models.CharField(_("legal form"), max_length=30, choices=LegalForm, blank=True)
    carrier = models.CharField(_("carrier"), max_length=250, blank=True)
    year_opened = models.PositiveSmallIntegerField(_("year opened"), null=True, blank=True)
    year_opened_label = models.CharField(_("what that year is"), max_length=150, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status, default=Status.UNKNOWN)
    website = models.URLField(_("website"), max_length=300, blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    latitude = models.DecimalField(
        _("latitude"), max_digits=8, decimal_places=5, null=True, blank=True
    )
    longitude = models.DecimalField(
        _("longitude"), max_digits=8, decimal_places=5, null=True, blank=True
    )
    image = models.ImageField(
        _("image"),
        upload_to="places/",
        blank=True,
        width_field="image_width",
        height_field="image_height",
    )
    image_width = models.PositiveIntegerField(null=True, blank=True, editable=False)
    image_height = models.PositiveIntegerField(null=True, blank=True, editable=False)
    image_alt = models.CharField(
        _("image description"),
        max_length=300,
        blank=True,
        help_text=_(
            "What the image shows, for readers who cannot see it (required with an image)."
        ),
    )
    image_credit = models.CharField(_("image credit"), max_length=200, blank=True)
    # Resized copies made once at upload: {"<width>": {"name": ..., "width": ..., "height": ...}}.
    image_variants = models.JSONField(default=dict, blank=True, editable=False)
    summary = models.TextField(_("summary"), blank=True)
    summary_en = models.TextField(_("English summary"), blank=True)
    services = models.ManyToManyField(
        Service, verbose_name=_("services"), blank=True, related_name="places"
    )
    sources = models.ManyToManyField(
        Source, verbose_name=_("sources"), blank=True, related_name="places"
    )
    editorial_status = models.CharField(
        _("editorial status"),
        max_length=10,
        choices=EditorialStatus,
        default=EditorialStatus.DRAFT,
    )
    checked_on = models.DateField(_("last checked against its sources"), null=True, blank=True)
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

    # Copied from the headline figures by catalogue.headlines: what the directory sorts
    # and filters on.
    headline_investment = models.DecimalField(
        max_digits=14, decimal_places=2, null=True, blank=True, editable=False
    )
    headline_budget = models.DecimalField(
        max_digits=14, decimal_places=2, null=True, blank=True, editable=False
    )
    headline_staff = models.DecimalField(
        max_digits=14, decimal_places=2, null=True, blank=True, editable=False
    )

    objects = PlaceQuerySet.as_manager()
    history = HistoricalRecords(
        verbose_name=_("place version"),
        verbose_name_plural=_("place versions"),
        excluded_fields=[
            "updated_at",
            "headline_investment",
            "headline_budget",
            "headline_staff",
            "image_width",
            "image_height",
            "image_variants",
        ],
        m2m_fields=[kinds, services],
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("place")
        verbose_name_plural = _("places")
        permissions = [("publish_place", _("Can publish and archive places"))]
        constraints = [
            models.CheckConstraint(
                condition=Q(year_opened__isnull=True)
                | Q(year_opened__gte=1800, year_opened__lte=2100),
                name="place_year_opened_plausible",
            ),
            models.CheckConstraint(
                condition=Q(latitude__isnull=True) | Q(latitude__gte=-90, latitude__lte=90),
                name="place_latitude_range",
            ),
            models.CheckConstraint(
                condition=Q(longitude__isnull=True) | Q(longitude__gte=-180, longitude__lte=180),
                name="place_longitude_range",
            ),
        ]
        indexes = [
            models.Index(fields=["setting"]),
            models.Index(fields=["year_opened"]),
            models.Index(fields=["editorial_status", "name"]),
            models.Index(fields=["headline_investment"]),
            models.Index(fields=["headline_budget"]),
            models.Index(fields=["headline_staff"]),
            models.Index(fields=["legal_form"]),
            models.Index(fields=["status"]),
        ]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        if self.territory_id:
            territory = self.territory
            self.departement_id = (
                territory.pk
                if territory.kind == Territory.Kind.DEPARTEMENT
                else territory.departement_id
            )
            self.region_id = (
                territory.pk if territory.kind == Territory.Kind.REGION else territory.region_id
            )
        else:
            self.departement_id = self.region_id = None
        super().save(*args, **kwargs)

    # The route of its page (catalogue.links).
    page_route = "catalogue:place-detail"

    def get_absolute_url(self):
        return slug_url(self.page_route, self.slug)

    def clean(self):
        errors = validation.field_errors(
            self,
            year_opened=validation.YEAR,
            latitude=validation.LATITUDE,
            longitude=validation.LONGITUDE,
        )
        if errors:
            raise ValidationError(errors)

    @property
    def localized_summary(self):
        return localized(self, "summary")

    def territory_chain(self):
        """From the place's territory up to its région; follows `territory__parent…`."""
        return self.territory.ancestors() if self.territory_id else []

    def prefetched(self, name):
        """The rows of the relation ``name``: ``getattr(self, name).all()``, without making
        its manager (10-30 µs each time) when they were read with the place (prefetched);
        a list when catalogue.place_page read them."""
        kept = self.__dict__.get("_prefetched_objects_cache", {})
        rows = getattr(kept, "rows", None)  # a place page's (catalogue.place_page)
        if rows is not None and name in rows:
            return rows[name]
        found = kept.get(name)
        return getattr(self, name).all() if found is None else found

    def similar(self, limit=5):
        """Published places sharing kinds, setting and services with this one, best first.

        Shared kinds count double, then a common setting, then shared services, then the
        same région. Candidates come from the facet index (bit sets of the places of each
        kind and région), most shared kinds first and within the région first, so the
        cost stays flat however large the catalogue, and no query is made. Reads `kinds`,
        `services` and `region` (fetch them). The places returned hold only their slug,
        name and setting (from the index).
        """
        from .facet_index import get_index, has_bit
        from .place_page import loaded

        index = get_index()
        kind_masks = [index.masks["kind"].get(kind.slug, 0) for kind in self.prefetched("kinds")]
        if not kind_masks:
            return []
        others = index.all
        if self.pk in index.positions:
            others &= ~(1 << index.positions[self.pk])
        region = index.masks["region"].get(self.region.insee_code, 0) if self.region else 0
        shared_kinds, taken = {}, 0
        # Places sharing at least n kinds, for n from all of them down to one.
        for n in range(len(kind_masks), 0, -1):
            at_least = 0
            for group in itertools.combinations(kind_masks, n):
                at_least |= functools.reduce(operator.and_, group)
            for scope in (region, index.all):
                fresh = at_least & scope & others & ~taken
                for pk in index.first_members(fresh, 10 * limit - len(shared_kinds)):
                    shared_kinds[pk] = n
                taken |= fresh
                if len(shared_kinds) >= 10 * limit:
                    break
            if len(shared_kinds) >= 10 * limit:
                break
        if not shared_kinds:
            return []
        # Scored from the index too (a bit test per setting, service and région, names
        # for ties): only the places shown are read, with what the page shows of them.
        # Bits tested in byte copies of the sets (shifting a set copies it), kept with the
        # index.
        service_masks = [index.byte_mask("service", s.slug) for s in self.prefetched("services")]
        setting = index.byte_mask("setting", self.setting) if self.setting else b""
        region = index.byte_mask("region", self.region.insee_code) if self.region else b""
        # (`has_bit` written out: fifty candidates, a few sets each, on every place page.)
        scored, positions, names = [], index.positions, index.names
        for pk, kinds in shared_kinds.items():
            position = positions[pk]
            byte, bit = position >> 3, 1 << (position & 7)
            same_setting = byte < len(setting) and setting[byte] & bit != 0
            has = [byte < len(mask) and mask[byte] & bit != 0 for mask in service_masks]
            services = has.count(True)
            same_region = byte < len(region) and region[byte] & bit != 0
            score = 2 * kinds + 2 * same_setting + services + same_region
            scored.append((-score, names[position], pk, kinds, same_setting, services))
        best = heapq.nsmallest(limit, scored)
        # What the page shows of them (slug, name, setting) is in the index too: no query.
        settings = [(value, index.byte_mask("setting", value)) for value in index.masks["setting"]]
        similar = []
        for _score, name, pk, kinds, same_setting, services in best:
            position = index.positions[pk]
            setting = next((value for value, bits in settings if has_bit(bits, position)), "")
            place = loaded(
                Place,
                self._state.db,
                ["id", "slug", "name", "setting"],
                (pk, index.slugs[position], name, setting),
            )
            place.shared_kinds, place.same_setting = kinds, same_setting
            place.shared_services, place.score = services, -_score
            similar.append(place)
        return similar

    def coordinates(self):
        """(latitude, longitude, precise) where the place is shown, or None: its own
        point if an editor set one (precise), else the nearest point up its territory
        chain (its commune's centre, usually). Uses the `with_coordinates` annotations
        when present, else follows the chain (one query per level not yet fetched)."""
        if hasattr(self, "map_latitude"):
            if self.map_latitude is None or self.map_longitude is None:
                return None
            return _point(self.map_latitude), _point(self.map_longitude), bool(self.map_precise)
        if self.latitude is not None and self.longitude is not None:
            return _point(self.latitude), _point(self.longitude), True
        for node in self.territory_chain()[:COORDINATE_FALLBACK_DEPTH]:
            if node.latitude is not None and node.longitude is not None:
                return _point(node.latitude), _point(node.longitude), False
        return None

    @property
    def commune(self):
        for node in self.territory_chain():
            if node.kind == Territory.Kind.COMMUNE:
                return node
        return None


class DataVersion(models.Model):
    """One row whose token changes with every change to the catalogue's data
    (catalogue.versioning): derived data, such as the facet index, is keyed by it.

    ``seq`` counts the changes; each one is recorded in `DataChange` with its number.
    """

    token = models.PositiveBigIntegerField(default=0)
    seq = models.PositiveBigIntegerField(default=0)
    changed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return str(self.token)


class DataChange(models.Model):
    """What one change to the catalogue touched, numbered by `DataVersion.seq`, written
    in the same transaction as the change: a process holding derived data (the facet
    index) at an older number reads the changes after it and updates only those places.
    """

    class Scope(models.TextChoices):
        PLACES = "places", "places"  # the rows of ``place_id`` (one row per place)
        ALL = "all", "all"  # vocabularies, territories, bulk loads: rebuild everything
        NONE = "none", "none"  # nothing the facet index holds (figures, lessons)
        SEARCH = "search", "search"  # search documents rebuilt (catalogue.search.reindex)

    seq = models.PositiveBigIntegerField(db_index=True)
    # The data version's token after this change: a process whose index says "seq n,
    # token t" checks that change n still has token t (n may have been rolled back and
    # given to another change since).
    token = models.PositiveBigIntegerField()
    scope = models.CharField(max_length=8, choices=Scope.choices)
    # No foreign key: a deleted place's change must stay readable.
    place_id = models.BigIntegerField(null=True, blank=True)

    def __str__(self):
        return f"{self.seq} {self.scope} {self.place_id or ''}"


class PlaceSearch(models.Model):
    """A place's search document, rebuilt by catalogue.search.reindex.

    It lives in its own narrow table: the directory's counts and facets scan small place
    rows, and on PostgreSQL each row stays small enough to keep its tsvector inline
    (uncompressed, not TOASTed), which makes matching it several times cheaper.
    """

    place = models.OneToOneField(
        Place, primary_key=True, on_delete=models.CASCADE, related_name="search"
    )
    # Fingerprint of the indexed text: a document is rebuilt only when it changed.
    digest = models.CharField(max_length=64, blank=True)
    # PostgreSQL full-text document (French configuration, accents folded, GIN-indexed),
    # weighted: A name and aliases, B territories, C the place's own text, D the passages
    # of cross-case texts that name it. SQLite keeps the same four columns, stemmed, in an
    # FTS5 table (catalogue.search.FTS_TABLE).
    vector = SearchVectorField(null=True, blank=True)

    class Meta:
        verbose_name = _("search document")

    def __str__(self):
        return str(self.place_id)


class PlaceSearchText(models.Model):
    """The passages of a place's search document as written, with their weight (A to D):
    what a result's snippet is cut from. Kept apart from `PlaceSearch` so that the table
    searched stays narrow."""

    place = models.OneToOneField(
        Place, primary_key=True, on_delete=models.CASCADE, related_name="search_text"
    )
    passages = models.JSONField(default=list)

    class Meta:
        verbose_name = _("search passages")

    def __str__(self):
        return str(self.place_id)


class SearchWord(models.Model):
    """A word of the places' names, aliases and territories (folded, and compounds such as
    « fablab »): what a misspelt query word is matched against by trigram similarity."""

    word = models.CharField(max_length=100, primary_key=True)

    class Meta:
        verbose_name = _("search word")

    def __str__(self):
        return self.word


class SourcedMixin(models.Model):
    """Every fact points to where it comes from: a document and the section that prints it,
    or an interview, a website, an annual report, a visit (which have no sections)."""

    source = models.ForeignKey(
        Source, verbose_name=_("source"), on_delete=models.PROTECT, related_name="+"
    )
    section = models.CharField(
        _("section of the source"),
        max_length=300,
        blank=True,
        help_text=_(
            "Where a document prints it: part, monograph, heading or table. "
            "Not needed for an interview, a website or a visit."
        ),
    )

    class Meta:
        abstract = True

    def clean(self):
        # A document has parts, and a fact taken from it says which; an interview, a web
        # page or a visit has none.
        if (
            self.source_id
            and not self.section.strip()
            and self.source.kind in Source.DOCUMENT_KINDS
        ):
            raise ValidationError(
                {
                    "section": _(
                        "« %(source)s » is a document (%(kind)s): name the section that "
                        "prints this (part, monograph, heading or table)."
                    )
                    % {"source": self.source, "kind": self.source.get_kind_display()}
                }
            )


class Figure(SourcedMixin, Versioned, models.Model):
    place = models.ForeignKey(
        Place, verbose_name=_("place"), on_delete=models.CASCADE, related_name="figures"
    )
    indicator = models.ForeignKey(
        Indicator, verbose_name=_("indicator"), on_delete=models.PROTECT, related_name="figures"
    )
    value = models.DecimalField(_("value"), max_digits=14, decimal_places=2)
    value_max = models.DecimalField(
        _("upper bound"),
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("For ranges (« 400 à 500 usagers »)."),
    )
    year = models.PositiveSmallIntegerField(_("year"), null=True, blank=True)
    period = models.CharField(_("period"), max_length=60, blank=True)
    label = models.CharField(
        _("label"),
        max_length=400,
        blank=True,
        help_text=_("What exactly is counted, and why it differs from another figure if it does."),
    )
    label_en = models.CharField(_("English label"), max_length=400, blank=True)
    headline = models.BooleanField(
        _("headline value"),
        default=False,
        help_text=_("The value shown first and used for sorting and filtering."),
    )

    history = HistoricalRecords(
        verbose_name=_("figure version"), verbose_name_plural=_("figure versions")
    )

    class Meta:
        ordering = ["place", "indicator__position", "-headline", "year", "pk"]
        verbose_name = _("figure")
        verbose_name_plural = _("figures")
        constraints = [
            # Two sources may disagree; one of their figures is the one the site leads with.
            models.UniqueConstraint(
                fields=["place", "indicator"],
                condition=Q(headline=True),
                name="figure_one_headline_per_place_indicator",
            ),
            models.CheckConstraint(condition=Q(value__gte=0), name="figure_value_non_negative"),
            models.CheckConstraint(
                condition=Q(value_max__isnull=True) | Q(value_max__gte=models.F("value")),
                name="figure_range_ordered",
            ),
            models.CheckConstraint(
                condition=Q(year__isnull=True) | Q(year__gte=1800, year__lte=2100),
                name="figure_year_plausible",
            ),
        ]
        indexes = [models.Index(fields=["indicator", "headline", "value"])]

    def __str__(self):
        return f"{self.place} — {self.indicator}: {self.value}"

    @property
    def localized_label(self):
        return localized(self, "label")

    def clean(self):
        errors = {}
        try:
            super().clean()
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        errors.update(
            validation.field_errors(self, value=validation.FIGURE_VALUE, year=validation.YEAR)
        )
        order_error = validation.range_order_error(self.value, self.value_max)
        if order_error and "value" not in errors:
            errors.setdefault("value_max", order_error)
        if errors:
            raise ValidationError(errors)


class Funding(SourcedMixin, Versioned, models.Model):
    class Purpose(models.TextChoices):
        INVESTMENT = "investment", _("Investment")
        OPERATING = "operating", _("Operating")
        BOTH = "both", _("Investment and operating")
        UNKNOWN = "unknown", _("Unspecified")

    place = models.ForeignKey(
        Place, verbose_name=_("place"), on_delete=models.CASCADE, related_name="fundings"
    )
    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("funder"),
        on_delete=models.PROTECT,
        related_name="fundings",
    )
    purpose = models.CharField(
        _("purpose"), max_length=12, choices=Purpose, default=Purpose.UNKNOWN
    )
    amount_eur = models.DecimalField(
        _("amount (€)"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    share_pct = models.DecimalField(
        _("share (%)"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    period = models.CharField(_("period"), max_length=60, blank=True)
    label = models.CharField(_("label"), max_length=400, blank=True)

    history = HistoricalRecords(
        verbose_name=_("funding version"), verbose_name_plural=_("funding versions")
    )

    class Meta:
        ordering = ["place", "purpose", "-amount_eur", "pk"]
        indexes = [models.Index(fields=["place", "organisation"])]
        verbose_name = _("funding")
        verbose_name_plural = _("fundings")
        constraints = [
            models.CheckConstraint(
                condition=Q(amount_eur__isnull=True) | Q(amount_eur__gte=0),
                name="funding_amount_non_negative",
            ),
            models.CheckConstraint(
                condition=Q(share_pct__isnull=True) | Q(share_pct__gte=0, share_pct__lte=100),
                name="funding_share_within_0_100",
            ),
        ]

    def __str__(self):
        return f"{self.organisation} → {self.place}"

    def clean(self):
        errors = {}
        try:
            super().clean()
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        errors.update(
            validation.field_errors(self, amount_eur=validation.AMOUNT, share_pct=validation.SHARE)
        )
        if errors:
            raise ValidationError(errors)


class Lesson(SourcedMixin, Versioned, models.Model):
    class Kind(models.TextChoices):
        SUCCESS_FACTOR = "success_factor", _("Success factor")
        DIFFICULTY = "difficulty", _("Difficulty")
        RECOMMENDATION = "recommendation", _("Recommendation")
        CHALLENGE = "challenge", _("Challenge")

    class Theme(models.TextChoices):
        ECOSYSTEM = "ecosystem", _("Ecosystem and actors")
        FUNDING = "funding", _("Funding")
        GOVERNANCE = "governance", _("Governance")
        TEAM = "team", _("Team and skills")
        LOCATION = "location", _("Location")
        ECONOMIC_MODEL = "economic_model", _("Economic model")
        PUBLIC_SUPPORT = "public_support", _("Public support")
        COMMUNICATION = "communication", _("Communication")
        PARTNERSHIPS = "partnerships", _("Partnerships and cooperation")
        SERVICES = "services", _("Services")
        REAL_ESTATE = "real_estate", _("Building and real estate")
        COMMUNITY = "community", _("Community and users")
        TRAINING = "training", _("Training and skills")
        RURAL_URBAN = "rural_urban", _("Rural–urban link")
        OTHER = "other", _("Other")

    place = models.ForeignKey(
        Place,
        verbose_name=_("place"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="lessons",
    )
    cited_places = models.ManyToManyField(
        Place, verbose_name=_("places cited"), blank=True, related_name="cited_in_lessons"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind)
    theme = models.CharField(_("theme"), max_length=20, choices=Theme, default=Theme.OTHER)
    text = models.TextField(_("text"))
    text_en = models.TextField(_("English text"), blank=True)
    # Lower-case, accent-free copy of the text: what the lessons library search matches.
    text_folded = models.TextField(blank=True, editable=False)

    history = HistoricalRecords(
        verbose_name=_("lesson version"),
        verbose_name_plural=_("lesson versions"),
        excluded_fields=["text_folded"],
    )

    class Meta:
        ordering = ["kind", "theme", "pk"]
        verbose_name = _("lesson")
        verbose_name_plural = _("lessons")

    def __str__(self):
        return self.text[:80]

    def save(self, *args, **kwargs):
        self.text_folded = fold(self.text)
        super().save(*args, **kwargs)

    @property
    def localized_text(self):
        return localized(self, "text")


class Proposal(models.Model):
    """A new place or a correction suggested by a visitor, waiting for a reviewer.

    It never changes the catalogue by itself: a proposed place becomes a draft, a correction
    stays a request until a reviewer acts on it. Contact details are erased after
    PROPOSAL_CONTACT_DAYS days (`purge_proposals`).
    """

    class Kind(models.TextChoices):
        NEW_PLACE = "new-place", _("New place")
        CORRECTION = "correction", _("Correction")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        ACCEPTED = "accepted", _("Accepted")
        REJECTED = "rejected", _("Rejected")

    kind = models.CharField(_("kind"), max_length=12, choices=Kind)
    status = models.CharField(_("status"), max_length=10, choices=Status, default=Status.PENDING)
    place = models.ForeignKey(
        Place,
        verbose_name=_("place concerned"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="proposals",
    )
    draft_place = models.ForeignKey(
        Place,
        verbose_name=_("draft created"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    place_name = models.CharField(_("name of the place"), max_length=200, blank=True)
    commune = models.CharField(_("town"), max_length=200, blank=True)
    website = models.URLField(_("website"), max_length=300, blank=True)
    message = models.TextField(_("message"))
    evidence = models.TextField(
        _("where the information comes from"),
        blank=True,
        help_text=_("A document, a web page, an interview…"),
    )
    contact_name = models.CharField(_("contact name"), max_length=200, blank=True)
    contact_email = models.EmailField(_("contact e-mail"), blank=True)
    created_at = models.DateTimeField(_("received at"), auto_now_add=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewed by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    reviewer_note = models.TextField(_("reviewer's note"), blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("proposal")
        verbose_name_plural = _("proposals")
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self):
        return self.place_name or (self.place.name if self.place_id else str(self.pk))
