import datetime
import itertools
import os
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from django.utils import translation

from casestudies.corpus import load_corpus
from casestudies.models import CaseStudy, Section
from catalogue import facets, search
from catalogue.models import (
    Figure,
    Indicator,
    Lesson,
    Place,
    PlaceKind,
    Service,
    Source,
    Territory,
)
from catalogue.version_feed import feed
from tests import corpus_snapshot

# Playwright's sync API runs an event loop in the test thread; ORM calls there are safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

_counter = itertools.count(1)


def pytest_collection_modifyitems(config, items):
    """Browser tests run last: their live server empties the database after each test."""
    if os.environ.get("REQUIRE_POSTGRES") and os.environ.get("DATABASE_URL", "").startswith(
        "sqlite"
    ):
        raise pytest.UsageError("REQUIRE_POSTGRES is set but DATABASE_URL is SQLite")
    items.sort(key=lambda item: "/e2e/" in str(item.path))


@pytest.fixture(autouse=True)
def _french_by_default():
    """Each test starts in French: a request to /en/ leaves English active in the thread,
    which would otherwise make the next test's reverse() build English URLs."""
    translation.activate("fr")
    yield
    translation.activate("fr")


@pytest.fixture(autouse=True)
def _empty_cache():
    """Cached facet counts and search hits must not leak from one test into another."""
    cache.clear()
    search.forget_recent_hits()
    facets.forget_counts()
    # A flush between tests changes the data behind the listening thread's back: public
    # pages ask the database until the thread has read the version again.
    feed.changed_here()


@pytest.fixture(autouse=True)
def _plain_static_storage(settings):
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """The test database starts with the real corpus, loaded once per run."""
    with django_db_blocker.unblock():
        load_corpus()
        corpus_snapshot.take()
    yield
    # The data version's listening thread keeps a connection: closed before the test
    # database is dropped.
    feed.stop()


@pytest.fixture
def corpus(db):
    """The real corpus. Browser tests flush the database: put it back when it is gone."""
    if not Place.objects.exists() and not corpus_snapshot.restore():
        load_corpus()


@pytest.fixture
def postgres(db):
    if connection.vendor != "postgresql":
        if os.environ.get("REQUIRE_POSTGRES"):
            pytest.fail("PostgreSQL is required on this run but the database is not PostgreSQL")
        pytest.skip("needs PostgreSQL (set DATABASE_URL)")


@pytest.fixture(scope="session")
def pg_cluster():
    """A PostgreSQL server of the tests' own, which they may stop and kill processes on
    (tests/pgcluster.py). PostgreSQL pass only."""
    from tests import pgcluster

    yield from pgcluster.session_cluster()


def unique(prefix):
    return f"{prefix}-{next(_counter)}"


@pytest.fixture
def make_source(corpus):
    def make(**fields):
        slug = fields.pop("slug", unique("source"))
        fields.setdefault("title", f"Document {slug}")
        return Source.objects.create(slug=slug, **fields)

    return make


@pytest.fixture
def make_territory(corpus):
    def make(name=None, kind=Territory.Kind.COMMUNE, parent=None, **fields):
        name = name or unique("Commune")
        if parent is None and kind == Territory.Kind.COMMUNE:
            parent = Territory.objects.get(slug="drome-26")
        return Territory.objects.create(
            slug=unique("t"), name=name, kind=kind, parent=parent, **fields
        )

    return make


@pytest.fixture
def make_place(db, make_territory):
    def make(name=None, kinds=("fab-lab",), services=(), **fields):
        name = name or unique("Lieu test")
        fields.setdefault("territory", make_territory())
        fields.setdefault("setting", "rural")
        fields.setdefault("summary", f"Résumé de {name}.")
        fields.setdefault("checked_on", datetime.date(2026, 11, 22))
        fields.setdefault("editorial_status", "published")
        place = Place.objects.create(slug=unique("lieu"), name=name, **fields)
        place.kinds.set(PlaceKind.objects.filter(slug__in=kinds))
        place.services.set(Service.objects.filter(slug__in=services))
        return place

    return make


@pytest.fixture
def make_figure(db, make_source):
    def make(place, indicator="investment_eur", value=1000, headline=True, source=None, **kw):
        return Figure.objects.create(
            place=place,
            indicator=Indicator.objects.get(slug=indicator),
            value=Decimal(value),
            headline=headline,
            source=source or make_source(),
            section=kw.pop("section", "Section test"),
            **kw,
        )

    return make


@pytest.fixture
def make_lesson(db, make_source):
    def make(place, text="Une leçon.", kind=Lesson.Kind.SUCCESS_FACTOR, **kw):
        kw.setdefault("source", make_source())
        kw.setdefault("section", "Section test")
        return Lesson.objects.create(place=place, text=text, kind=kind, **kw)

    return make


@pytest.fixture
def make_case_study(db, make_source):
    def make(places=(), sections=3, **fields):
        fields.setdefault("source", make_source())
        fields.setdefault("title", unique("Étude"))
        fields.setdefault("editorial_status", "published")
        case = CaseStudy.objects.create(slug=unique("etude"), **fields)
        case.places.set(places)
        for order in range(1, sections + 1):
            Section.objects.create(
                case_study=case,
                order=order,
                kind="contexte",
                heading=f"Partie {order}",
                body=f"Texte de la partie {order}.",
            )
        return case

    return make
