"""Server time of the directory's pages, measured in-process with Django's test client.

    DATABASE_URL=postgres://…/innovplaces_bench python bench/measure.py [--runs 30]

Prints, for each scenario, the median and 95th percentile of the time Django takes to
answer (URL routing, queries, template rendering; no network), and the number of SQL
queries of one request. Directory pages are measured cold (before every request, Django's
cache emptied and whatever the process kept of earlier requests forgotten: search hits,
snippets, facet counts) and warm; facet counts come from the per-process facet index in
both cases, and so do the places of frequent search words (catalogue/postings.py), read
once at the start as a web process reads them. The times to read both at the start, to
rebuild the index and to apply one logged change to it are printed on their own. The
Django admin changelist doing the same filter and search is measured alongside as a peer.
"""

import argparse
import os
import random
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
from django.db import connection, transaction  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from catalogue import facet_index, facets, search, versioning, views  # noqa: E402
from catalogue.models import Place  # noqa: E402

SCENARIOS = [
    ("list, unfiltered", "/lieux/"),
    ("list, 3 filters + facets", "/lieux/?kind=fab-lab&setting=rural&region=84"),
    ("list, search + 2 filters + facets", "/lieux/?q=pépinière&kind=coworking&area=rural"),
    ("list, search only", "/lieux/?q=pépinière"),
    # "coopératives" is in about 45 % of the synthetic places: the worst case.
    ("list, common-word search + 2 filters", "/lieux/?q=coopératives&kind=pepiniere&area=rural"),
    ("list, ranges + sort", "/lieux/?investment_min=100000&budget_max=500000&sort=-investment"),
    (
        "admin changelist, same filter + search",
        "/admin/catalogue/place/?setting__exact=rural&q=coop%C3%A9ratives",
    ),
    ("admin changelist, places", "/admin/catalogue/place/"),
    ("admin changelist, case studies", "/admin/casestudies/casestudy/"),
]


def forget():
    """What a process keeps of earlier requests: the page cache, search hits, snippets and
    marked texts, facet counts, the cards' cut summaries."""
    cache.clear()
    search.forget_recent_hits()
    facets.forget_counts()
    views.card_words.cache_clear()


def timed(client, url, runs, cold):
    client.get(url)  # warm connections and the database's buffers
    samples = []
    for _ in range(runs):
        if cold:
            forget()
        started = time.perf_counter()
        response = client.get(url)
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    if cold:
        forget()
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    return samples, len(queries)


def index_update_times(rng, runs):
    """Time for a process to bring its facet index up to date after another process
    changed one place (its setting and one kind): the change is logged as an editor's
    save logs it, then the next request's `get_index()` applies it."""
    facet_index.get_index()
    ids = list(Place.objects.published().values_list("pk", flat=True)[:5000])
    settings = [value for value, _label in Place._meta.get_field("setting").choices]
    kinds = list(Place.kinds.field.related_model.objects.values_list("pk", flat=True))
    samples = []
    for _ in range(runs):
        pk = rng.choice(ids)
        with transaction.atomic():
            Place.objects.filter(pk=pk).update(setting=rng.choice(settings))
            Place.kinds.through.objects.filter(place_id=pk).delete()
            Place.kinds.through.objects.create(place_id=pk, placekind_id=rng.choice(kinds))
            versioning.record([pk])
        started = time.perf_counter()
        with CaptureQueriesContext(connection) as queries:
            facet_index.get_index()
        samples.append((time.perf_counter() - started) * 1000)
    return samples, len(queries)


def report(label, samples, queries):
    samples = sorted(samples)
    p95 = samples[min(len(samples) - 1, int(round(0.95 * (len(samples) - 1))))]
    print(
        f"{label:42} median {statistics.median(samples):7.1f} ms   p95 {p95:7.1f} ms   "
        f"{queries:3d} queries"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    count = Place.objects.count()
    print(f"{connection.vendor}, {count} places, {args.runs} runs per scenario")
    # As a web process starts (innovplaces/wsgi.py): the index, then the frequent search
    # words' places (PostgreSQL only; read in a thread after a later rebuild).
    started = time.perf_counter()
    index = facet_index.warm_up()
    elapsed = (time.perf_counter() - started) * 1000
    words = len(index.postings.masks) if index.postings else 0
    label = "at start: facet index and search postings"
    print(f"{label:48} {elapsed:7.1f} ms   ({words} frequent words)")
    client = Client()
    admin = Client()
    user, _ = get_user_model().objects.get_or_create(
        username="bench", defaults={"is_staff": True, "is_superuser": True}
    )
    admin.force_login(user)
    for label, url in SCENARIOS:
        if url.startswith("/admin/"):
            report(label, *timed(admin, url, args.runs, cold=False))
            continue
        report(f"{label} (cold)", *timed(client, url, args.runs, cold=True))
        report(f"{label} (warm)", *timed(client, url, args.runs, cold=False))
    started = time.perf_counter()
    index = facet_index.build(versioning.data_version())
    elapsed = (time.perf_counter() - started) * 1000
    values = sum(len(masks) for masks in index.masks.values())
    label = "facet index rebuilt after a change"
    print(f"{label:48} {elapsed:7.1f} ms   ({len(index.ids)} places, {values} values)")
    rng = random.Random(1)
    report("facet index: one change applied", *index_update_times(rng, args.runs))
    slugs = list(Place.objects.values_list("slug", flat=True)[:5000])
    cold, warm = [], []
    for _ in range(args.runs):
        url = f"/lieux/{rng.choice(slugs)}/"
        client.get(f"/lieux/{rng.choice(slugs)}/")  # another page: connections and buffers
        for samples in (cold, warm):  # rendered, then from the page cache
            started = time.perf_counter()
            assert client.get(url).status_code == 200
            samples.append((time.perf_counter() - started) * 1000)
    cache.clear()
    with CaptureQueriesContext(connection) as queries:
        client.get(f"/lieux/{slugs[0]}/")
    report("place page (cold)", cold, len(queries))
    with CaptureQueriesContext(connection) as queries:
        client.get(f"/lieux/{slugs[0]}/")
    report("place page (warm)", warm, len(queries))
    # The admin page an editor opens most: a place with its figures, fundings and lessons.
    place = Place.objects.annotate(n=Count("figures")).order_by("-n", "pk").first()
    url = f"/admin/catalogue/place/{place.pk}/change/"
    report(f"admin change page ({place.n} figures)", *timed(admin, url, args.runs, cold=False))


if __name__ == "__main__":
    main()
