"""Each web process learns of new data versions from PostgreSQL rather than asking on
every public page.

A public page needs the data version before anything else (its ETag, the page kept for
it, the facet index): one round trip to the database, and a second one for Django's check
that the kept connection still works. On PostgreSQL a thread of each web process instead
keeps a connection of its own that LISTENs on a channel; `versioning.record` NOTIFYs it in
the writer's transaction, so the notification leaves when the change commits, and never if
it rolls back. On each notification, and at least once a second, the thread reads the
version row. Public pages take the version it last read.

The version it holds is trusted only when it cannot be older than what this process has
seen: the thread is connected, the request is outside a transaction (a test's, say), and
the thread read the row after this process's last committed change. Otherwise the page
asks the database, as before. Editors' requests always ask (catalogue.http_cache).

While the thread stays connected the server has not gone away, so the request's kept
connection, made since, skips Django's health check (CONN_HEALTH_CHECKS) on GET and HEAD;
a lost connection makes every request check again until the thread is back.

Turned off by ``DATA_VERSION_LISTENER = False`` (a pooler in transaction mode cannot
LISTEN), and on SQLite. See docs/deployment.md, « Data version ».
"""

import logging
import os
import threading
import time

from django.conf import settings
from django.core.signals import request_started
from django.db import connections
from django.db.backends.signals import connection_created
from django.dispatch import receiver

logger = logging.getLogger(__name__)

CHANNEL = "innovplaces_data_version"
# Seconds between two readings of the version row when nothing is notified: also how
# soon a connection that died without a word is noticed.
HEARTBEAT = 1.0
# Seconds to wait before connecting again after a failure.
RETRY = 0.25
# A version the thread read longer ago than this many heartbeats is not trusted (a thread
# stuck on a connection that hangs): pages ask the database.
STALE_AFTER_HEARTBEATS = 3


def enabled(connection):
    return connection.vendor == "postgresql" and getattr(settings, "DATA_VERSION_LISTENER", True)


class Feed:
    """The version last read by this process's listening thread."""

    def __init__(self, heartbeat=HEARTBEAT):
        self.heartbeat = heartbeat
        self.lock = threading.Lock()
        self.pid = None
        self.thread = None
        self.version = None  # (token, seq, changed_at), None while not connected
        self.read_started = 0.0  # when the reading of ``version`` began (monotonic)
        self.written = 0.0  # when this process last committed a change (monotonic)
        self.generation = 0  # counts the listening connections lost
        self.stopping = False
        self.params = None

    # ---------------------------------------------------------------- in requests

    def current(self, connection):
        """The version, or None when it may be outdated (then ask the database)."""
        if connection.alias != "default" or not enabled(connection):
            return None
        self._ensure_started(connection)
        if connection.in_atomic_block:
            return None
        with self.lock:
            if not self._fresh() or self.read_started <= self.written:
                return None
            return self.version

    def _fresh(self):
        """(Lock held.) Whether the thread is connected and read the version lately."""
        limit = self.heartbeat * STALE_AFTER_HEARTBEATS + 1
        return self.version is not None and time.monotonic() - self.read_started < limit

    def changed_here(self):
        """A change by this process has committed: what the thread read before is old."""
        with self.lock:
            self.written = time.monotonic()

    def vouches_for(self, connection):
        """Whether ``connection`` was opened while the thread was connected, and it has
        stayed connected since: the server has not restarted under it."""
        with self.lock:
            return (
                self._fresh()
                and getattr(connection, "_version_feed_generation", None) == self.generation
            )

    # ---------------------------------------------------------------- the thread

    def _ensure_started(self, connection):
        if self.pid == os.getpid():
            return
        from .versioning import version_sql

        params = connection.get_connection_params()
        params.pop("cursor_factory", None)
        params.pop("prepare_threshold", None)
        self.start(params, version_sql(connection))

    def start(self, params, sql):
        """Starts this process's thread (once per process: a worker forked from a process
        that listened starts its own), connecting with ``params`` (psycopg's)."""
        pid = os.getpid()
        with self.lock:
            if self.pid == pid:
                return
            self.pid, self.version, self.generation = pid, None, self.generation + 1
            self.params, self.stopping = params, False
            self.thread = threading.Thread(
                target=self._run, args=(params, sql), name="data-version-listener", daemon=True
            )
            self.thread.start()

    def stop(self):
        """Ends the thread and closes its connection (before a test database is dropped)."""
        import psycopg

        thread = self.thread
        if thread is None or not thread.is_alive():
            return
        self.stopping = True
        try:  # wakes it up now rather than at its next heartbeat
            with psycopg.connect(**self.params, autocommit=True) as conn:
                conn.execute("SELECT pg_notify(%s, 'stop')", [CHANNEL])
        except psycopg.Error:
            pass
        thread.join(timeout=self.heartbeat + RETRY + 5)
        with self.lock:
            self.pid, self.thread, self.version = None, None, None

    def _run(self, params, sql):
        import psycopg

        try:
            while not self.stopping:
                try:
                    with psycopg.connect(**params, autocommit=True) as conn:
                        conn.execute(f"LISTEN {CHANNEL}")
                        self._read(conn, sql)
                        while not self.stopping:
                            for _notify in conn.notifies(timeout=self.heartbeat, stop_after=1):
                                pass
                            self._read(conn, sql)
                except psycopg.Error as error:
                    self._lost(error)
                    time.sleep(RETRY)
        except Exception as error:  # never leave a version behind that nothing updates
            logger.exception("Data version listener stopped")
            self._lost(error)
        finally:
            self._lost(None)

    def _read(self, conn, sql):
        started = time.monotonic()
        row = conn.execute(sql).fetchone()
        with self.lock:
            if self.version is None:
                logger.info("Listening for data versions")
            self.version = tuple(row) if row is not None else (0, 0, None)
            self.read_started = started

    def _lost(self, error):
        with self.lock:
            if self.version is not None:
                if error is not None:
                    logger.warning("Data version listener disconnected: %s", error)
                self.generation += 1
            self.version = None


feed = Feed()


def _generation_if_connected():
    with feed.lock:
        return feed.generation if feed.version is not None else None


@receiver(connection_created, dispatch_uid="version-feed-connection-created")
def _tag_connection(sender, connection, **kwargs):
    connection._version_feed_generation = _generation_if_connected()


@receiver(request_started, dispatch_uid="version-feed-request-started")
def _skip_health_check(environ=None, **kwargs):
    """Runs after Django's own request_started receiver, which asks for a health check of
    each kept connection: not needed when the listening thread vouches for it. A kept
    connection the thread does not know yet is checked now, once, and then vouched for."""
    if environ is None or environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
        return
    connection = connections["default"]
    if connection.connection is None or not enabled(connection):
        return
    if feed.vouches_for(connection):
        connection.health_check_done = True
        return
    generation = _generation_if_connected()
    if generation is not None:
        connection.close_if_health_check_failed()
        if connection.connection is not None:
            connection._version_feed_generation = generation
