"""Faults: the database stopping under the site, a worker killed during an admin save, and
`load_corpus` killed halfway.

The first tests draw the 503 page and the health endpoint with a database that cannot be
reached (on SQLite as on PostgreSQL). The others run on the PostgreSQL pass only, against a
PostgreSQL server of their own (tests/pgcluster.py) that they stop and restart, and with
processes they kill with SIGKILL.
"""

import hashlib
import html
import http.client
import json
import re
import shutil
import time

import pytest
from django.db import OperationalError
from django.db.backends.base.base import BaseDatabaseWrapper
from django.test import Client

from casestudies.corpus import FIXTURES_DIR
from innovplaces import urls as site_urls

from . import test_error_pages
from .pgcluster import LOADED, MIGRATED, free_port, kill, wait_for_line

# The French and English messages of the 503 page the site draws when its database is down.
DOWN_FR = "Le site est momentanément indisponible"
DOWN_EN = "The site is temporarily unavailable"


def text_of(content):
    content = re.sub(r"<(script|style)\b.*?</\1>", " ", content, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", content)).split())


@pytest.fixture
def database_down(monkeypatch):
    """Every attempt to reach the database fails as a stopped PostgreSQL server makes it."""

    def refuse(self):
        raise OperationalError('connection failed: connection to server at "127.0.0.1" refused')

    monkeypatch.setattr(BaseDatabaseWrapper, "ensure_connection", refuse)


# -- the 503 page and /healthz, database simulated down ------------------------------------


@pytest.mark.parametrize(
    ("path", "lang", "message"),
    [("/", "fr", DOWN_FR), ("/lieux/", "fr", DOWN_FR), ("/en/lieux/", "en", DOWN_EN)],
)
def test_a_page_needing_the_database_answers_the_styled_503_page(
    database_down, path, lang, message
):
    response = Client().get(path)
    assert response.status_code == 503
    content = response.content.decode()
    # The site's page, in the visitor's language, in the site's layout, with a way to retry.
    assert f'<html lang="{lang}">' in content
    assert f"<h1>{message}</h1>" in content
    assert "· innovplaces</title>" in content and "css/site.css" in content
    assert response["Retry-After"] == "30"
    assert response["Cache-Control"] == "no-store"
    assert not response.cookies  # drawn without a session or a CSRF token


def test_a_database_error_raised_outside_a_view_is_a_503_too(database_down, settings):
    # A middleware that reads the database before the view is called.
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, "tests.test_faults.QueryingMiddleware"]
    client = Client(raise_request_exception=False)
    response = client.get("/a-propos/")
    assert response.status_code == 503
    assert DOWN_FR in text_of(response.content.decode())


class QueryingMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from catalogue.models import Place

        Place.objects.exists()
        return self.get_response(request)


# The site's URLs, its error handlers, and a view that fails (tests/test_error_pages.py).
urlpatterns = test_error_pages.urlpatterns
handler500 = site_urls.handler500


@pytest.mark.urls("tests.test_faults")
def test_other_errors_are_still_the_500_page(db):
    client = Client()
    with pytest.raises(RuntimeError, match="a failure in a view"):
        client.get("/test-erreur/")  # the view's own error, nothing before it
    client.raise_request_exception = False
    response = client.get("/test-erreur/")
    assert response.status_code == 500
    assert "Une erreur s’est produite de notre côté" in response.content.decode()


def test_healthz_says_the_database_is_unavailable(database_down):
    response = Client().get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "unavailable"}
    assert response["Cache-Control"] == "no-store"


def test_healthz_says_ok_when_the_database_answers(db):
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}
    assert response["Content-Type"] == "application/json"
    assert response["Cache-Control"] == "no-store"
    assert not response.cookies
    # Language-neutral: no /en/ twin, no redirection.
    assert Client().get("/en/healthz").status_code == 404


def test_healthz_answers_over_plain_http_when_pages_redirect_to_https(db, settings):
    settings.SECURE_SSL_REDIRECT = True
    client = Client()
    assert client.get("/a-propos/").status_code == 301
    response = client.get("/healthz")
    assert (response.status_code, response.json()["database"]) == (200, "ok")


# -- a real PostgreSQL server stopped and restarted under the site --------------------------

# The site served by one single-threaded WSGI process, like a gunicorn sync worker: the
# same kept connection (CONN_MAX_AGE) serves request after request.
SERVER = """
import sys
from wsgiref.simple_server import WSGIRequestHandler, make_server

from innovplaces.wsgi import application


class Handler(WSGIRequestHandler):
    def log_message(self, *args):
        pass


server = make_server("127.0.0.1", int(sys.argv[1]), application, handler_class=Handler)
print("serving", flush=True)
server.serve_forever()
"""


class Site:
    def __init__(self, port):
        self.port = port

    def get(self, path):
        """(status, headers, text, seconds) of a GET."""
        started = time.monotonic()
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request("GET", path)
            response = conn.getresponse()
            body = response.read().decode()
        finally:
            conn.close()
        return response.status, response.headers, body, time.monotonic() - started


@pytest.fixture
def site(pg_cluster):
    database = pg_cluster.create_database("faults_site", template=LOADED)
    place = pg_cluster.query(
        database,
        "SELECT slug, name FROM catalogue_place WHERE editorial_status = 'published' "
        "ORDER BY slug LIMIT 1",
    )[0]
    port = free_port()
    process = pg_cluster.python(database, SERVER, port, CONN_MAX_AGE=600)
    wait_for_line(process, "serving")
    site = Site(port)
    site.place_slug, site.place_name = place
    try:
        yield site
    finally:
        process.kill()
        process.wait()
        pg_cluster.ensure_running()  # a failed test may have left it stopped


def assert_page_shows_the_place(site):
    status, _headers, body, _seconds = site.get(f"/lieux/{site.place_slug}/")
    assert status == 200
    assert f"<h1>{html.escape(site.place_name, quote=False)}" in body or (
        site.place_name in text_of(body)
    )


def test_with_postgresql_stopped_pages_answer_503_within_a_second_and_recover(
    pg_cluster, site, record_property
):
    assert_page_shows_the_place(site)
    status, _headers, body, _seconds = site.get("/healthz")
    assert (status, json.loads(body)) == (200, {"status": "ok", "database": "ok"})

    pg_cluster.stop()  # the kept connection dies with the server
    times = {}
    for path in ("/", "/lieux/", f"/lieux/{site.place_slug}/", "/etudes-de-cas/"):
        status, headers, body, seconds = site.get(path)
        times[path] = seconds
        assert status == 503, (path, body[:500])
        text = text_of(body)
        assert DOWN_FR in text and "innovplaces" in text
        assert headers["Retry-After"] == "30"
        assert seconds < 1, (path, seconds)
    status, _headers, body, seconds = site.get("/healthz")
    times["/healthz"] = seconds
    assert (status, json.loads(body)["database"]) == (503, "unavailable")
    assert seconds < 1
    record_property("seconds_with_database_stopped", times)
    print("503 answered in", {path: round(s * 1000, 1) for path, s in times.items()}, "ms")

    pg_cluster.start()
    # The same process answers again: no restart of the site.
    assert_page_shows_the_place(site)
    status, _headers, body, _seconds = site.get("/healthz")
    assert (status, json.loads(body)) == (200, {"status": "ok", "database": "ok"})


def test_a_database_restart_between_two_requests_goes_unnoticed(pg_cluster, site):
    assert_page_shows_the_place(site)
    pg_cluster.stop()
    pg_cluster.start()
    # The kept connection is dead: the health check before reuse replaces it (without
    # CONN_HEALTH_CHECKS this first request would fail).
    assert_page_shows_the_place(site)


# -- a worker killed during an admin save ----------------------------------------------------

# Saves a place in the admin, renamed, with one more figure: the place row is written first,
# then its figures (inlines). With PAUSE set, the process stops right after the place is
# written (inside the save), says so, and waits to be killed.
ADMIN_SAVE = """
import os
import sys
import time

import django

django.setup()

from django.contrib.auth import get_user_model
from django.db.models.signals import post_save
from django.test import Client
from django.test.utils import setup_test_environment
from django.urls import reverse

from catalogue.models import Figure, Indicator, Place, Source
from tests.editing_helpers import form_data

setup_test_environment()  # the client keeps each response's context, for form_data
slug, new_name = sys.argv[1:3]
place = Place.objects.get(slug=slug)
user = get_user_model().objects.filter(username="faults").first()
if user is None:
    user = get_user_model().objects.create_superuser("faults", "faults@example.org", "pw")
client = Client()
client.force_login(user)
url = reverse("admin:catalogue_place_change", args=[place.pk])
data = form_data(client.get(url))
data["name"] = new_name
row = int(data["figures-TOTAL_FORMS"])
data["figures-TOTAL_FORMS"] = str(row + 1)
used = place.figures.values_list("indicator", flat=True)
data[f"figures-{row}-indicator"] = str(Indicator.objects.exclude(pk__in=used).first().pk)
data[f"figures-{row}-value"] = "12"
data[f"figures-{row}-source"] = str(Source.objects.filter(kind="memento").first().pk)
data[f"figures-{row}-section"] = "Section 2"
data[f"figures-{row}-headline"] = "on"

if os.environ.get("PAUSE"):

    def pause(sender, instance, **kwargs):
        written = Place.objects.filter(pk=instance.place_id, name=new_name).exists()
        print(f"paused place-written={written}", flush=True)
        time.sleep(600)

    post_save.connect(pause, sender=Figure)

response = client.post(url, data)
print(f"saved {response.status_code}", flush=True)
"""


def place_state(cluster, database, slug):
    return cluster.query(
        database,
        "SELECT p.name, p.version, (SELECT count(*) FROM catalogue_figure f "
        "WHERE f.place_id = p.id), (SELECT count(*) FROM catalogue_historicalplace h "
        "WHERE h.id = p.id) FROM catalogue_place p WHERE p.slug = %s",
        (slug,),
    )[0]


def test_a_worker_killed_during_an_admin_save_leaves_no_half_written_record(pg_cluster):
    database = pg_cluster.create_database("faults_admin", template=LOADED)
    slug = pg_cluster.query(
        database, "SELECT slug FROM catalogue_place ORDER BY slug LIMIT 1 OFFSET 3"
    )[0][0]
    before = pg_cluster.fingerprint(database)
    name, version, figures, history = place_state(pg_cluster, database, slug)

    worker = pg_cluster.python(database, ADMIN_SAVE, slug, "Nom changé puis perdu", PAUSE=1)
    # Killed mid-save: the place row is written (in the save's transaction), not its figure.
    assert wait_for_line(worker, "paused") == "paused place-written=True"
    kill(worker)

    assert place_state(pg_cluster, database, slug) == (name, version, figures, history)
    after = pg_cluster.fingerprint(database)
    # Nothing differs but the traces of the editor's login (user, session, login log).
    changed = {t for t in before if before[t] != after[t] and not t.startswith("axes_")}
    assert changed <= {"auth_user", "django_session"}

    # The same save, not interrupted, writes both the place and its new figure.
    worker = pg_cluster.python(database, ADMIN_SAVE, slug, "Nom changé")
    assert wait_for_line(worker, "saved") == "saved 302"
    worker.wait(timeout=30)
    new_name, new_version, new_figures, new_history = place_state(pg_cluster, database, slug)
    assert (new_name, new_figures, new_history) == ("Nom changé", figures + 1, history + 1)
    assert new_version > version


# -- load_corpus killed halfway --------------------------------------------------------------

# Runs load_corpus; after `PAUSE_AFTER` records are saved, prints a digest of what its own
# transaction sees, and waits to be killed.
LOAD_CORPUS = """
import hashlib
import json
import os
import sys
import time

import django

django.setup()

from django.core.management import call_command
from django.db import connection
from django.db.models.signals import post_save

from tests.pgcluster import fingerprint

saved = 0


def pause(sender, **kwargs):
    global saved
    saved += 1
    if saved == int(os.environ["PAUSE_AFTER"]):
        with connection.cursor() as cursor:
            seen = json.dumps(fingerprint(cursor), sort_keys=True)
        print(f"paused after {saved} saves, seeing {digest(seen)}", flush=True)
        time.sleep(600)


def digest(text):
    return hashlib.sha256(text.encode()).hexdigest()


post_save.connect(pause)
call_command("load_corpus", fixtures=sys.argv[1])
"""


def digest(tables):
    return hashlib.sha256(json.dumps(tables, sort_keys=True).encode()).hexdigest()


@pytest.mark.parametrize(
    ("template", "pause_after"),
    [(MIGRATED, 300), (LOADED, 30)],
    ids=["first-load", "update"],
)
def test_load_corpus_killed_halfway_leaves_the_database_as_it_was(
    pg_cluster, tmp_path, template, pause_after
):
    database = pg_cluster.create_database("faults_corpus", template=template)
    # A corpus whose every file was checked again a week later: on an update, every place,
    # case study and table changes.
    fixtures = tmp_path / "fixtures"
    shutil.copytree(FIXTURES_DIR, fixtures)
    for path in (fixtures / "corpus").glob("*.yaml"):
        text = path.read_text().replace("checked_on: 2026-11-22", "checked_on: 2026-11-29")
        path.write_text(text)
    before = pg_cluster.fingerprint(database)

    loader = pg_cluster.python(database, LOAD_CORPUS, fixtures, PAUSE_AFTER=pause_after)
    paused = wait_for_line(loader, "paused")
    kill(loader)
    # Killed halfway: its transaction had written rows...
    assert paused.startswith(f"paused after {pause_after} saves, seeing ")
    assert paused.rsplit(" ", 1)[1] != digest(before)
    # ... of which nothing is left.
    assert pg_cluster.fingerprint(database) == before


# -- reindex killed halfway ------------------------------------------------------------------

# Runs `manage.py reindex`; with PAUSE set, stops just before the search vectors are
# written (the documents' digests are written already), says so, and waits to be killed.
REINDEX = """
import os
import time

import django

django.setup()

from django.core.management import call_command
from django.db import connection


def pause(execute, sql, params, many, context):
    if os.environ.get("PAUSE") and sql.lstrip().startswith("UPDATE") and "SET vector" in sql:
        print("paused before the vectors", flush=True)
        time.sleep(600)
    return execute(sql, params, many, context)


with connection.execute_wrapper(pause):
    call_command("reindex")
print("reindexed", flush=True)
"""


def test_reindex_killed_halfway_leaves_the_search_documents_as_they_were(pg_cluster):
    database = pg_cluster.create_database("faults_reindex", template=LOADED)
    # Every document out of date, as after a change to the way they are built.
    pg_cluster.query(database, "UPDATE catalogue_placesearch SET digest = '' RETURNING 1")
    stale = "SELECT count(*) FROM catalogue_placesearch WHERE digest = ''"
    (documents,) = pg_cluster.query(database, stale)[0]
    assert documents > 20
    before = pg_cluster.fingerprint(database)

    worker = pg_cluster.python(database, REINDEX, PAUSE=1)
    wait_for_line(worker, "paused")
    kill(worker)
    # A digest written without its vector would mark a document up to date for good.
    assert pg_cluster.query(database, stale)[0] == (documents,)
    assert pg_cluster.fingerprint(database) == before

    worker = pg_cluster.python(database, REINDEX)
    wait_for_line(worker, "reindexed")
    worker.wait(timeout=30)
    assert pg_cluster.query(database, stale)[0] == (0,)
