"""A PostgreSQL server of the tests' own, which fault tests may stop, start and kill under
the site without touching the test database.

Only on the PostgreSQL pass (DATABASE_URL=postgres://…), where `bin/test` has installed
PostgreSQL: the server is a throwaway cluster (initdb) on a free local port. PostgreSQL
refuses to run as root: root runs its programs as the `postgres` system user.
"""

import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg
import pytest

ROOT = Path(__file__).resolve().parent.parent
# Databases every test copies from (CREATE DATABASE … TEMPLATE): migrated, and with the corpus.
MIGRATED = "faults_migrated"
LOADED = "faults_loaded"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def postgres_bindir():
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=_version)
    if found:
        return Path(found[-1]).parent
    pg_ctl = shutil.which("pg_ctl")
    return Path(pg_ctl).parent if pg_ctl else None


def _version(path):
    return [int(part) if part.isdigit() else 0 for part in Path(path).parts[-3].split(".")]


def require_own_cluster():
    """Skip unless this is the PostgreSQL pass; there, fail if PostgreSQL is missing."""
    if not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        pytest.skip(
            "runs on the PostgreSQL pass only (DATABASE_URL=postgres://…), on a PostgreSQL "
            "server of its own that it may stop, restart and kill processes on"
        )
    if postgres_bindir() is None:
        message = "PostgreSQL's programs (initdb, pg_ctl) are not installed"
        if os.environ.get("REQUIRE_POSTGRES"):
            pytest.fail(message)
        pytest.skip(message)


class Cluster:
    def __init__(self, directory):
        self.directory = Path(directory)
        self.data = self.directory / "data"
        self.port = free_port()
        self.bindir = postgres_bindir()
        self.as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    # -- the server ------------------------------------------------------------------------

    def run(self, program, *args, check=True):
        done = subprocess.run(
            [*self.as_postgres, str(self.bindir / program), *map(str, args)],
            capture_output=True,
            text=True,
        )
        if check and done.returncode:
            raise AssertionError(f"{program} failed: {done.stdout}{done.stderr}")
        return done

    def init(self):
        if self.as_postgres:
            shutil.chown(self.directory, "postgres")
        self.run(
            "initdb", "-D", self.data, "-U", "postgres", "-A", "trust", "-E", "UTF8",
            "--locale=C.UTF-8",
        )  # fmt: skip
        self.start()

    def start(self):
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.directory} "
            "-c fsync=off -c full_page_writes=off"
        )
        log = self.directory / "log"
        self.run("pg_ctl", "-D", self.data, "-l", log, "-w", "-o", options, "start")

    def stop(self, mode="fast"):
        """`fast`: what a clean shutdown does (clients are disconnected at once)."""
        self.run("pg_ctl", "-D", self.data, "-m", mode, "-w", "stop")

    def ensure_running(self):
        if self.run("pg_ctl", "-D", self.data, "status", check=False).returncode != 0:
            self.start()

    def destroy(self):
        self.run("pg_ctl", "-D", self.data, "-m", "immediate", "stop", check=False)
        shutil.rmtree(self.directory, ignore_errors=True)

    # -- databases -------------------------------------------------------------------------

    def url(self, database):
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def connect(self, database="postgres"):
        return psycopg.connect(
            host="127.0.0.1", port=self.port, user="postgres", dbname=database, autocommit=True
        )

    def query(self, database, sql, params=()):
        with self.connect(database) as conn:
            return conn.execute(sql, params).fetchall()

    def create_database(self, name, template=None):
        with self.connect() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            template_clause = f' TEMPLATE "{template}"' if template else ""
            conn.execute(f'CREATE DATABASE "{name}"{template_clause}')
        return name

    def fingerprint(self, database):
        """Every row of every table of the site, as one digest per table."""
        with self.connect(database) as conn:
            return fingerprint(conn.cursor())

    # -- the site against one of its databases ---------------------------------------------

    def env(self, database, **extra):
        env = {
            **os.environ,
            "DATABASE_URL": self.url(database),
            "DJANGO_SETTINGS_MODULE": "innovplaces.settings",
            "STATICFILES_BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage",
            "DEBUG": "0",
            "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
            "PYTHONPATH": str(ROOT),
        }
        env.pop("REQUIRE_POSTGRES", None)
        env.update({key: str(value) for key, value in extra.items()})
        return env

    def manage(self, database, *args):
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env(database),
            capture_output=True,
            text=True,
        )
        if done.returncode:
            raise AssertionError(f"manage.py {' '.join(args)} failed: {done.stderr}")
        return done

    def python(self, database, code, *args, **env):
        """A Python process running `code` against `database`; stdout is a pipe."""
        return subprocess.Popen(
            [sys.executable, "-c", code, *map(str, args)],
            cwd=ROOT,
            env=self.env(database, **env),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )


def fingerprint(cursor):
    """{table: (rows, digest of the rows)} for every table, as `cursor` sees them (a cursor
    of psycopg or of Django's connection: inside a transaction, its uncommitted rows)."""
    cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")
    digests = {}
    for (table,) in cursor.fetchall():
        cursor.execute(
            "SELECT count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) "
            f'FROM "{table}" t'
        )
        digests[table] = tuple(cursor.fetchone())
    return digests


def wait_for_line(process, prefix, timeout=120):
    """The first line of the process's output that starts with `prefix`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if line.startswith(prefix):
            return line.strip()
        if not line and process.poll() is not None:
            break
    process.kill()
    raise AssertionError(
        f"no line starting with {prefix!r} (exit {process.poll()}): {process.stderr.read()}"
    )


def kill(process):
    """SIGKILL, as the kernel's OOM killer or a supervisor's hard timeout would."""
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    assert process.returncode == -signal.SIGKILL


def session_cluster():
    """A running cluster with two template databases, MIGRATED and LOADED (the corpus)."""
    require_own_cluster()
    directory = tempfile.mkdtemp(prefix="innovplaces-faults-")
    os.chmod(directory, 0o755)
    cluster = Cluster(directory)
    try:
        cluster.init()
        cluster.create_database(MIGRATED)
        cluster.manage(MIGRATED, "migrate", "-v0")
        cluster.create_database(LOADED, template=MIGRATED)
        cluster.manage(LOADED, "load_corpus", "-v0")
        yield cluster
    finally:
        cluster.destroy()
