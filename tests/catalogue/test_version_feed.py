"""Public pages take the data version from the process's listening thread (PostgreSQL
LISTEN/NOTIFY) instead of asking the database, and never show what is older than what
the process has seen."""

import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from markupsafe import escape

from catalogue import version_feed, versioning
from catalogue.models import Place
from catalogue.version_feed import Feed, feed
from tests.editing_helpers import save_place_in_another_process
from tests.pgcluster import LOADED

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def listening(postgres, corpus):
    """The process's listening thread, connected and up to date."""
    feed.current(connection)  # starts it if needed
    wait_until(lambda: feed.current(connection) is not None, "the thread to read the version")
    return feed


def wait_until(condition, what, seconds=10):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"still waiting for {what}"
        time.sleep(0.01)


class HealthChecks:
    """Counts Django's checks of the kept connection (a `SELECT 1` the query log misses)."""

    def __init__(self, monkeypatch):
        self.count = 0
        usable = connection.is_usable

        def counted():
            self.count += 1
            return usable()

        monkeypatch.setattr(connection, "is_usable", counted)


def test_a_public_page_asks_neither_for_the_version_nor_for_a_health_check(
    client, listening, monkeypatch
):
    place = Place.objects.published().order_by("slug").first()
    client.get(place.get_absolute_url())  # the kept connection, checked once
    checks = HealthChecks(monkeypatch)
    other = Place.objects.published().order_by("-slug").first()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(other.get_absolute_url())
    assert response.status_code == 200
    assert str(escape(other.name)) in response.text
    sql = [query["sql"] for query in queries.captured_queries]
    assert not [s for s in sql if "catalogue_dataversion" in s], sql
    assert checks.count == 0
    # The page's own reading of the place is all that is left.
    assert len(sql) == 1, sql


def test_an_editors_request_still_asks_for_the_version(client, listening, admin_user):
    client.force_login(admin_user)
    place = Place.objects.published().order_by("slug").first()
    with CaptureQueriesContext(connection) as queries:
        assert client.get(place.get_absolute_url()).status_code == 200
    assert [q for q in queries.captured_queries if "catalogue_dataversion" in q["sql"]]


def test_inside_a_transaction_the_database_is_asked(listening):
    before = versioning.current()
    from django.db import transaction

    with transaction.atomic():
        Place.objects.filter(slug="mecateam").update(name="Dans la transaction")
        versioning.record(place_ids=[Place.objects.get(slug="mecateam").pk])
        assert feed.current(connection) is None
        # What this transaction wrote, not what the thread last read.
        assert versioning.current(public=True)[0] != before[0]
        transaction.set_rollback(True)


def test_a_change_made_here_is_on_the_next_public_page_at_once(client, listening):
    place = Place.objects.get(slug="mecateam")
    assert client.get(place.get_absolute_url()).status_code == 200
    place.name = "Mecateam renommé ici"
    place.save()
    # No wait: until the thread has read the new version, pages ask the database.
    response = client.get(place.get_absolute_url())
    assert "Mecateam renommé ici" in response.text


def test_a_change_committed_by_another_process_is_notified_at_once(postgres, corpus):
    """A thread of its own that reads the version only when notified (its heartbeat is
    a minute away): the change reaches it in well under a second."""
    own = Feed(heartbeat=60)
    try:
        own.current(connection)
        wait_until(lambda: own.current(connection) is not None, "the thread to connect")
        token, seq, _at = own.current(connection)
        save_place_in_another_process("mecateam", name="Mecateam notifié")
        committed = time.monotonic()
        wait_until(lambda: own.current(connection)[1] > seq, "the notification", seconds=1)
        seen = time.monotonic() - committed
        assert own.current(connection)[0] != token
        assert own.current(connection) == versioning.current()
        print(f"notified in {seen * 1000:.1f} ms")
    finally:
        own.stop()
    assert not own.thread


def test_public_pages_show_another_process_change_within_a_second(client, listening):
    place = Place.objects.get(slug="mecateam")
    assert "Mecateam vu ailleurs" not in client.get(place.get_absolute_url()).text
    save_place_in_another_process("mecateam", name="Mecateam vu ailleurs")
    committed = time.monotonic()
    wait_until(
        lambda: "Mecateam vu ailleurs" in client.get(place.get_absolute_url()).text,
        "the new name on the page",
        seconds=1,
    )
    print(f"shown after {(time.monotonic() - committed) * 1000:.1f} ms")


def test_turned_off_public_pages_ask_the_database(client, listening, settings):
    settings.DATA_VERSION_LISTENER = False
    place = Place.objects.published().order_by("slug").first()
    with CaptureQueriesContext(connection) as queries:
        assert client.get(place.get_absolute_url()).status_code == 200
    assert [q for q in queries.captured_queries if "catalogue_dataversion" in q["sql"]]
    assert not version_feed.enabled(connection)


def test_the_thread_notices_the_server_stopping_and_listens_again_once_it_is_back(pg_cluster):
    """On a PostgreSQL server of the tests' own, stopped and started again."""
    database = pg_cluster.create_database("version_feed", template=LOADED)
    own = Feed(heartbeat=60)  # what it notices comes from its connection, not a timer
    params = {"host": "127.0.0.1", "port": pg_cluster.port, "user": "postgres"}
    own.start({**params, "dbname": database}, versioning.version_sql(connection))
    try:
        wait_until(lambda: own.version is not None, "the thread to connect")
        generation = own.generation
        pg_cluster.stop()
        wait_until(lambda: own.version is None, "the thread to notice", seconds=1)
        assert own.generation == generation + 1  # connections made before are checked again
        pg_cluster.start()
        wait_until(lambda: own.version is not None, "the thread to connect again")
        seq = own.version[1]
        with pg_cluster.connect(database) as conn:
            conn.execute("UPDATE catalogue_dataversion SET seq = seq + 1, token = token + 1")
            conn.execute("SELECT pg_notify(%s, 'test')", [version_feed.CHANNEL])
        wait_until(lambda: own.version[1] == seq + 1, "the notification", seconds=1)
    finally:
        own.stop()
        pg_cluster.ensure_running()


def test_a_version_the_thread_has_not_read_lately_is_not_trusted(postgres, corpus):
    """A thread stuck on a connection that hangs: pages ask the database again, and kept
    connections are checked again."""
    own = Feed(heartbeat=60)
    try:
        own.current(connection)
        wait_until(lambda: own.current(connection) is not None, "the thread to connect")
        connection.ensure_connection()
        connection._version_feed_generation = own.generation
        assert own.vouches_for(connection)
        with own.lock:  # its last reading, as long ago as a stuck thread's
            own.read_started -= own.heartbeat * version_feed.STALE_AFTER_HEARTBEATS + 2
        assert own.current(connection) is None
        assert not own.vouches_for(connection)
    finally:
        own.stop()
