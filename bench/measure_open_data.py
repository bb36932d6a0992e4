"""The downloads and the API at scale, measured in-process with Django's test client.

    DATABASE_URL=postgres://…/innovplaces_bench python bench/measure_open_data.py [--runs 30]

For each download (CSV, GeoJSON; every published place, then about a tenth of them), the
time to stream it whole, its size, and the worker's peak memory: Python's own allocations
(tracemalloc, in a second run, since tracing slows the export down) and the peak resident
set size of the process during the download (Linux: VmHWM, reset before each one). A
download is streamed chunk by chunk and never held whole, so its peak should not depend
on the number of places. Then the API's place list with the directory's filters: median
and 95th percentile of the server time, and the SQL queries of one request.
"""

import argparse
import gc
import os
import statistics
import sys
import time
import tracemalloc
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "innovplaces.settings")
os.environ.setdefault(
    "STATICFILES_BACKEND", "django.contrib.staticfiles.storage.StaticFilesStorage"
)
os.environ.setdefault("ALLOWED_HOSTS", "testserver")
# The benchmark is one client asking again and again: not what throttling is for.
os.environ.setdefault("API_THROTTLE_RATE", "1000000/minute")
os.environ.setdefault("EXPORT_THROTTLE_RATE", "1000000/minute")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from catalogue.models import Place, Territory  # noqa: E402

DOWNLOADS = [
    ("CSV, every place", "/lieux/export.csv"),
    ("GeoJSON, every place", "/lieux/export.geojson"),
    ("JSON, every place", "/lieux/export.json"),
    ("CSV, one région", "/lieux/export.csv?region=84"),
    ("GeoJSON, one région", "/lieux/export.geojson?region=84"),
]
API_SCENARIOS = [
    ("API places, unfiltered", "/api/v1/places/"),
    ("API places, 3 filters", "/api/v1/places/?kind=fab-lab&setting=rural&region=84"),
    ("API places, search + 2 filters", "/api/v1/places/?q=pépinière&kind=coworking&area=rural"),
    ("API places, ranges + sort", "/api/v1/places/?investment_min=100000&sort=-investment"),
    ("API places, 100 per page, middle page", "/api/v1/places/?per_page=100&page={middle}"),
    ("API place detail", None),
]


def give_communes_points():
    """Synthetic communes come without a point: give each one, spread over metropolitan
    France and fixed by its id, so that the downloads carry geometries as the real
    site's do. Returns how many were given one."""
    communes = list(
        Territory.objects.filter(kind=Territory.Kind.COMMUNE, latitude__isnull=True).only("pk")
    )
    for commune in communes:
        commune.latitude = Decimal(42000 + commune.pk * 7919 % 9000) / 1000
        commune.longitude = Decimal(-4500 + commune.pk * 104729 % 12500) / 1000
    Territory.objects.bulk_update(communes, ["latitude", "longitude"], batch_size=2000)
    return len(communes)


def reset_peak_rss():
    """Linux: writing 5 to clear_refs resets the peak resident set size (VmHWM)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def rss_kib(field):
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def stream(client, url):
    """(bytes, chunks): the download read the way a server writes it, chunk by chunk."""
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    size = chunks = 0
    for chunk in response.streaming_content:
        size += len(chunk)
        chunks += 1
    response.close()
    return size, chunks


def measure_download(client, label, url):
    gc.collect()
    resettable = reset_peak_rss()
    before = rss_kib("VmRSS")
    started = time.perf_counter()
    with CaptureQueriesContext(connection) as queries:
        size, _chunks = stream(client, url)
    elapsed = time.perf_counter() - started
    query_count = len(queries)  # read now: the next request empties Django's query log
    peak_rss = rss_kib("VmHWM") - before if resettable else None
    gc.collect()
    tracemalloc.start()
    stream(client, url)
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss = f"{peak_rss / 1024:6.1f} MiB" if peak_rss is not None else "   n/a"
    print(
        f"{label:34} {elapsed:6.2f} s  {size / 2**20:7.1f} MiB out  "
        f"peak Python {peak / 2**20:5.1f} MiB  peak RSS +{rss}  {query_count:3d} queries"
    )


def timed(client, url, runs):
    client.get(url)
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(url)
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code, response.content[:200])
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    samples.sort()
    p95 = samples[min(len(samples) - 1, int(round(0.95 * (len(samples) - 1))))]
    return statistics.median(samples), p95, len(queries)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--skip-downloads", action="store_true")
    args = parser.parse_args()
    given = give_communes_points()
    published = Place.objects.published().count()
    if given:
        print(f"{given} communes given a point")
    print(f"{connection.vendor}, {published} published places, {args.runs} runs per API scenario")
    client = Client()
    if not args.skip_downloads:
        stream(client, "/lieux/export.csv?region=84")  # imports and connections, once
        for label, url in DOWNLOADS:
            measure_download(client, label, url)
    slug = Place.objects.published().order_by("pk").values_list("slug", flat=True)[published // 2]
    for label, url in API_SCENARIOS:
        url = (url or f"/api/v1/places/{slug}/").format(middle=max(1, published // 200))
        median, p95, queries = timed(client, url, args.runs)
        print(f"{label:34} median {median:7.1f} ms   p95 {p95:7.1f} ms   {queries:3d} queries")


if __name__ == "__main__":
    main()
