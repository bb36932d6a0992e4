"""Server time of the map's marker data (`/carte/lieux.json`) and of the map page.

    DATABASE_URL=postgres://…/innovplaces_bench python bench/map_data.py [--runs 20]

Run after `bench/generate_catalogue.py` (bench/run.sh does both). The synthetic communes
have no point of their own: each one without a point is first given one, drawn at random
(fixed seed) near the centre of its département's outline in static/geo/, so that every
place has a location as on the real site. Everything runs in one transaction rolled back
at the end: the database is left as it was. Prints the median and 95th percentile of the
time Django takes to answer (in-process test client: routing, SQL, JSON; no network), the
size of the answer, the number of markers and the SQL queries of one request.
"""

import argparse
import json
import os
import random
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "innovplaces.settings")
os.environ.setdefault(
    "STATICFILES_BACKEND", "django.contrib.staticfiles.storage.StaticFilesStorage"
)
os.environ.setdefault("ALLOWED_HOSTS", "testserver")

import django  # noqa: E402

django.setup()

from django.core.cache import cache  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from catalogue.models import Place, Territory  # noqa: E402

SCENARIOS = [
    ("marker data, all places", "/carte/lieux.json"),
    ("marker data, 1 kind", "/carte/lieux.json?kind=fab-lab"),
    ("marker data, 3 filters", "/carte/lieux.json?kind=fab-lab&setting=rural&region=84"),
    ("marker data, search + 1 filter", "/carte/lieux.json?q=pépinière&area=rural"),
    ("map page, 3 filters (list by département)", "/carte/?kind=fab-lab&setting=rural&region=84"),
    ("density map, 1 kind", "/carte/densite/?kind=fab-lab"),
]


def centres():
    """{département code: (latitude, longitude)}: the mean of its outline's points."""
    data = json.loads((ROOT / "static/geo/departements.geojson").read_text(encoding="utf-8"))
    found = {}
    for feature in data["features"]:
        geometry = feature["geometry"]
        polygons = (
            [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
        )
        points = [point for polygon in polygons for point in polygon[0]]
        found[feature["properties"]["code"]] = (
            sum(p[1] for p in points) / len(points),
            sum(p[0] for p in points) / len(points),
        )
    return found


def place_communes(seed=2026):
    """Give every commune without a point one near its département's centre."""
    rng = random.Random(seed)
    points = centres()
    communes = list(
        Territory.objects.filter(kind=Territory.Kind.COMMUNE, latitude__isnull=True)
        .select_related("departement")
        .only("pk", "departement__insee_code")
    )
    changed = []
    for commune in communes:
        centre = points.get(commune.departement.insee_code if commune.departement else "")
        if centre is None:
            continue
        commune.latitude = Decimal(f"{centre[0] + rng.uniform(-0.3, 0.3):.5f}")
        commune.longitude = Decimal(f"{centre[1] + rng.uniform(-0.4, 0.4):.5f}")
        changed.append(commune)
    Territory.objects.bulk_update(changed, ["latitude", "longitude"], batch_size=2000)
    return len(changed)


def timed(client, url, runs, cold=True):
    client.get(url)  # warm connections and the database's buffers
    times = []
    for _ in range(runs):
        if cold:
            cache.clear()
        start = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    return times, response


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    with transaction.atomic():
        measure(args.runs)
        transaction.set_rollback(True)


def measure(runs):
    print(f"{place_communes()} communes given a point")
    print(f"{Place.objects.published().count()} published places")
    client = Client()
    for label, url in SCENARIOS:
        times, response = timed(client, url, runs)
        report(client, label, url, times, response, cold=True)
    # The unfiltered markers again, from the cache (until the data changes).
    times, response = timed(client, SCENARIOS[0][1], runs, cold=False)
    report(client, "marker data, all places, cached", SCENARIOS[0][1], times, response, cold=False)


def report(client, label, url, times, response, cold):
    if cold:
        cache.clear()
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    size = len(response.content)
    extra = ""
    if url.startswith("/carte/lieux.json"):
        data = json.loads(response.content)
        extra = f"  {data['located']:>6} markers"
    p95 = statistics.quantiles(times, n=20)[-1] if len(times) > 1 else times[0]
    print(
        f"{label:<44} median {statistics.median(times):8.1f} ms   p95 {p95:8.1f} ms"
        f"  {len(queries):2d} queries  {size / 1024:8.0f} KB{extra}"
    )


if __name__ == "__main__":
    main()
