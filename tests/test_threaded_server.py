"""Threaded workers (the development server, and gunicorn's gthread workers that
docs/deployment.md offers): pages drawn by several threads of one process at once are the
pages one thread draws.

Two servers run on the same corpus, each with empty caches: one with a single thread,
asked one page at a time, and one with eight threads, asked the same pages by eight
clients at once. The search words, kept hits, facet counts, snippets and translations of
the second are worked out by threads racing each other."""

import http.client
import random
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote

import pytest
from django.utils.html import escape

from .pgcluster import LOADED, ROOT, free_port

# Two servers draw a page differently in two places only: the form token, and their
# address in absolute links.
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="[^"]*"')


def get(port, path):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request("GET", path, headers={"Accept-Language": "fr"})
        response = conn.getresponse()
        body = TOKEN.sub("", response.read().decode())
        return response.status, body.replace(f"127.0.0.1:{port}", "127.0.0.1")
    finally:
        conn.close()


def start_gunicorn(pg_cluster, database, *options):
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "innovplaces.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            *options,
        ],
        cwd=ROOT,
        env=pg_cluster.env(database),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"gunicorn stopped: {process.stderr.read()}")
        try:
            if get(port, "/healthz")[0] == 200:
                return process, port
        except OSError:
            pass
        time.sleep(0.2)
    process.kill()
    raise AssertionError("gunicorn did not answer within 120 s")


# How many places a directory page found (« 3 lieux », « 3 places »).
FOUND = re.compile(r'class="results-count">(\d+) (?:lieu|place)')


def pages(pg_cluster, database):
    """The paths to ask, and the name each place page must show."""
    places = dict(
        pg_cluster.query(
            database,
            "SELECT slug, name FROM catalogue_place WHERE editorial_status = 'published'",
        )
    )
    cases = [
        slug
        for (slug,) in pg_cluster.query(
            database, "SELECT slug FROM casestudies_casestudy WHERE editorial_status = 'published'"
        )
    ]
    words = sorted(
        {word.lower() for name in places.values() for word in re.findall(r"\w{5,}", name)}
    )
    slugs = sorted(places)
    paths = [f"/lieux/{slug}/" for slug in slugs]
    paths += [f"/en/lieux/{slug}/" for slug in slugs[:10]]
    paths += [f"/etudes-de-cas/{slug}/" for slug in cases[:10]]
    paths += [f"/lieux/?q={quote(word)}" for word in words[:40]]
    paths += [f"/en/lieux/?q={quote(word)}&setting=rural" for word in words[:10]]
    paths += [
        "/lieux/",
        "/lieux/?kind=fab-lab",
        "/enseignements/",
        "/enseignements/?setting=rural",
        "/etudes-de-cas/",
    ]
    names = {f"/lieux/{slug}/": name for slug, name in places.items()}
    return paths, names


@pytest.fixture
def servers(pg_cluster):
    database = pg_cluster.create_database("threads_site", template=LOADED)
    started = []
    try:
        started.append(start_gunicorn(pg_cluster, database))
        started.append(
            start_gunicorn(pg_cluster, database, "--worker-class", "gthread", "--threads", "8")
        )
        yield database, started[0][1], started[1][1]
    finally:
        for process, _port in started:
            process.kill()
            process.wait()


def test_pages_drawn_by_eight_threads_at_once_are_those_one_thread_draws(pg_cluster, servers):
    database, single, threaded = servers
    paths, names = pages(pg_cluster, database)
    assert len(paths) > 100
    expected = {path: get(single, path) for path in paths}
    assert all(status == 200 for status, _body in expected.values()), [
        path for path, (status, _body) in expected.items() if status != 200
    ]
    # What is compared is real pages: each place page shows its place, and each search
    # for a word of a place's name finds places.
    for path, name in names.items():
        assert f"<h1>{escape(name)}</h1>" in expected[path][1], path
    for path, (_status, body) in expected.items():
        if path.startswith("/lieux/?q="):
            assert int(FOUND.search(body).group(1)) > 0, path

    asked = paths * 2
    random.Random(7).shuffle(asked)
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda path: (path, get(threaded, path)), asked))
    different = [path for path, answer in answers if answer != expected[path]]
    assert different == []
