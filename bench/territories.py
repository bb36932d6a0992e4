"""The whole territory of France loaded: how long loading takes, and how fast the pages that
list or pick territories stay.

    DATABASE_URL=postgres://…/innovplaces_territories python bench/territories.py [--runs 20]

Needs a database with the corpus loaded (`manage.py load_corpus`). Runs `load_territories`
twice (the first run on an empty cache also downloads the datasets: pass --warm-cache to
time the loading alone), then times, in-process with Django's test client as a superuser,
the admin autocomplete and pages that pick a territory, and the public pages that list
them. Prints the median and 95th percentile, and the number and total time of the SQL
queries of one request (less sensitive than wall time to a busy machine).
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "innovplaces.settings")
os.environ.setdefault(
    "STATICFILES_BACKEND", "django.contrib.staticfiles.storage.StaticFilesStorage"
)
os.environ.setdefault("ALLOWED_HOSTS", "testserver")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.cache import cache  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from catalogue import territories  # noqa: E402
from catalogue.models import Place, Territory  # noqa: E402


def timed_load(label):
    start = time.perf_counter()
    report = territories.load()
    elapsed = time.perf_counter() - start
    created = sum(report.created.values())
    updated = sum(report.updated.values())
    print(f"{label}: {elapsed:.1f} s ({created} created, {updated} updated)")


def measure(client, label, url, runs, params=None):
    times = []
    for _ in range(runs):
        cache.clear()
        start = time.perf_counter()
        response = client.get(url, params or {})
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    with CaptureQueriesContext(connection) as queries:
        client.get(url, params or {})
    times.sort()
    p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
    sql = sum(float(q["time"]) for q in queries.captured_queries) * 1000
    print(
        f"| {label} | {statistics.median(times):.0f} ms | {p95:.0f} ms "
        f"| {len(queries.captured_queries)} | {sql:.0f} ms |"
    )


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--skip-load", action="store_true")
    args = parser.parse_args()
    if not args.skip_load:
        timed_load("load_territories, first run")
        timed_load("load_territories, second run (nothing changed)")
    counts = {kind: Territory.objects.filter(kind=kind).count() for kind in territories.KINDS}
    print("territories:", counts)

    user = get_user_model().objects.filter(is_superuser=True).first()
    if user is None:
        user = get_user_model().objects.create_superuser("bench-territories", "", "x")
    client = Client()
    client.force_login(user)
    place = Place.objects.order_by("pk").first()
    commune = (
        Territory.objects.filter(kind="commune").exclude(insee_code="").first()
        or Territory.objects.filter(kind="commune").first()
    )
    departement = Territory.objects.get(kind="departement", insee_code="26")
    autocomplete = "/admin/autocomplete/"
    print("| page | median | p95 | queries | SQL time (one request) |")
    print("| --- | --- | --- | --- | --- |")
    for term in ("saint", "gueret", "val"):
        measure(
            client,
            f"admin autocomplete (place → territory), « {term} »",
            autocomplete,
            args.runs,
            {
                "app_label": "catalogue",
                "model_name": "place",
                "field_name": "territory",
                "term": term,
            },
        )
    measure(
        client,
        "admin autocomplete (territory → parent), « drome »",
        autocomplete,
        args.runs,
        {
            "app_label": "catalogue",
            "model_name": "territory",
            "field_name": "parent",
            "term": "drome",
        },
    )
    measure(
        client, "admin place change page", f"/admin/catalogue/place/{place.pk}/change/", args.runs
    )
    measure(client, "admin place add page", "/admin/catalogue/place/add/", args.runs)
    measure(client, "admin territory changelist", "/admin/catalogue/territory/", args.runs)
    measure(
        client,
        "admin territory changelist, search « saint »",
        "/admin/catalogue/territory/",
        args.runs,
        {"q": "saint"},
    )
    measure(
        client,
        "admin territory change page (a commune)",
        f"/admin/catalogue/territory/{commune.pk}/change/",
        args.runs,
    )
    measure(client, "proposal form", "/proposer/", args.runs)
    measure(client, "directory, unfiltered", "/lieux/", args.runs)
    measure(client, "territory page, a département", departement.get_absolute_url(), args.runs)
    measure(client, "place page", place.get_absolute_url(), args.runs)


if __name__ == "__main__":
    main()
