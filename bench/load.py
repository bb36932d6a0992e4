"""A realistic mix of visitors against a running server: load, then soak.

    DATABASE_URL=… python bench/load.py --url http://127.0.0.1:8001 [--clients 50]
        [--seconds 60] [--soak 10000] [--gunicorn-pid PID] [--access-log PATH]

DATABASE_URL is the database the server reads: the script takes the slugs of places, case
studies, tables and territories from it (reading only). Visitors are anonymous, keep no
cookie and never send a conditional request. The mix, by weight:

    directory with 1–3 filters and a random page   18    place page (random)         30
    directory with a search (+ a filter or not)    12    case study (random)         10
    comparison of 2–4 random places                 8    territory page (a région)    4
    lessons, by theme, kind and région              4    home page                    4
    CSV download of a filtered selection            4    table (if any)               4
    case study as PDF                               2

Load: `--clients` clients, each sending its next request as soon as the previous one is
answered, for `--seconds`; prints, per page type, the requests, errors (anything but 200),
p50, p95 and max as the clients saw them (waiting in the queue included), the same of the
workers' own time when `--access-log` names gunicorn's access log (written as
`%(s)s %(M)s %(U)s ?%(q)s`), and the requests per second. Soak: `--soak` more requests of
the same mix (same clients), with each gunicorn worker's memory (found as the children of
the `--gunicorn-pid` master; VmRSS and Pss from /proc) at its start, every fifth of the way
and at its end. Exits 1 on any error.
"""

import argparse
import asyncio
import os
import random
import sys
import time
from collections import defaultdict
from pathlib import Path
from urllib.parse import quote, urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "innovplaces.settings")

from httpbench import client, ms, summary, table, timed_get, workers_memory  # noqa: E402

SEARCH_WORDS = [
    "pépinière",
    "fab lab",
    "coworking",
    "tiers-lieu",
    "numérique",
    "bois",
    "patrimoine",
    "insertion",
    "agricole",
    "formation",
    "salariés",
    "coopératives",
]


def pools(limit=20_000):
    """What the mix picks from, read from the database the server uses."""
    import django

    django.setup()
    from casestudies.models import CaseStudy, ComparisonTable
    from catalogue.models import Lesson, Place, PlaceKind, Setting, Territory

    places = list(Place.objects.published().values_list("slug", flat=True).order_by("?")[:limit])
    cases = list(CaseStudy.objects.public().values_list("slug", flat=True).order_by("?")[:limit])
    regions = Territory.objects.filter(kind=Territory.Kind.REGION)
    used = Place.objects.published().values("region")
    return {
        "places": places,
        "cases": cases,
        "tables": list(ComparisonTable.objects.values_list("slug", flat=True)),
        "kinds": list(PlaceKind.objects.values_list("slug", flat=True)),
        "settings": [value for value, _ in Setting.choices],
        "regions": list(regions.filter(pk__in=used).values_list("insee_code", "slug")),
        "themes": list(Lesson.Theme.values),
        "lesson_kinds": list(Lesson.Kind.values),
        "count": Place.objects.published().count(),
    }


class Mix:
    def __init__(self, base, data, seed):
        self.base = base.rstrip("/")
        self.data = data
        self.rng = random.Random(seed)
        self.pages = [
            ("directory, filters", 18, self.directory_filters),
            ("directory, search", 12, self.directory_search),
            ("place", 30, self.place),
            ("case study", 10, self.case),
            ("comparison", 8, self.comparison),
            ("territory", 4, self.territory),
            ("lessons", 4, self.lessons),
            ("home", 4, lambda: "/"),
            ("CSV download", 4, self.csv),
            ("table", 4, self.table),
            ("case study PDF", 2, self.pdf),
        ]
        self.pages = [p for p in self.pages if self.available(p[0])]
        self.weights = [weight for _, weight, _ in self.pages]

    def available(self, label):
        if label in ("case study", "case study PDF"):
            return bool(self.data["cases"])
        if label == "table":
            return bool(self.data["tables"])
        return bool(self.data["places"])

    def __call__(self):
        label, _, make = self.rng.choices(self.pages, weights=self.weights)[0]
        return label, self.base + make()

    def filters(self, count):
        rng, data = self.rng, self.data
        chosen = rng.sample(["kind", "setting", "region"], count)
        params = {}
        if "kind" in chosen:
            params["kind"] = rng.choice(data["kinds"])
        if "setting" in chosen:
            params["setting"] = rng.choice(data["settings"])
        if "region" in chosen and data["regions"]:
            params["region"] = rng.choice(data["regions"])[0]
        return params

    def directory_filters(self):
        params = self.filters(self.rng.randint(1, 3))
        if self.rng.random() < 0.3:
            params["page"] = self.rng.randint(2, 3)
        return "/lieux/?" + urlencode(params)

    def directory_search(self):
        params = {"q": self.rng.choice(SEARCH_WORDS)}
        if self.rng.random() < 0.5:
            params.update(self.filters(1))
        return "/lieux/?" + urlencode(params)

    def place(self):
        return f"/lieux/{quote(self.rng.choice(self.data['places']))}/"

    def case(self):
        return f"/etudes-de-cas/{quote(self.rng.choice(self.data['cases']))}/"

    def pdf(self):
        return f"/etudes-de-cas/{quote(self.rng.choice(self.data['cases']))}/pdf/"

    def comparison(self):
        slugs = self.rng.sample(self.data["places"], min(len(self.data["places"]), 4))
        return "/comparer/?" + urlencode({"lieux": ",".join(slugs[: self.rng.randint(2, 4)])})

    def territory(self):
        return f"/territoires/{quote(self.rng.choice(self.data['regions'])[1])}/"

    def lessons(self):
        params = {
            "theme": self.rng.choice(self.data["themes"]),
            "kind": self.rng.choice(self.data["lesson_kinds"]),
        }
        if self.data["count"] > 1000 and self.data["regions"]:
            # At scale, a région's lessons (the whole library is hundreds of pages).
            params["region"] = self.rng.choice(self.data["regions"])[0]
        return "/enseignements/?" + urlencode(params)

    def csv(self):
        params = self.filters(2 if self.data["count"] > 1000 else 1)
        return "/lieux/export.csv?" + urlencode(params)

    def table(self):
        return f"/tableaux/{quote(self.rng.choice(self.data['tables']))}/"


def page_type(path, query):
    """The mix's label of a request, from its path and query (as gunicorn logs them)."""
    if path == "/":
        return "home"
    if path == "/lieux/export.csv":
        return "CSV download"
    if path == "/lieux/":
        return "directory, search" if "q=" in query else "directory, filters"
    for prefix, label in (
        ("/lieux/", "place"),
        ("/comparer/", "comparison"),
        ("/territoires/", "territory"),
        ("/enseignements/", "lessons"),
        ("/tableaux/", "table"),
    ):
        if path.startswith(prefix):
            return label
    if path.startswith("/etudes-de-cas/"):
        return "case study PDF" if path.endswith("/pdf/") else "case study"
    return "other"


class AccessLog:
    """Server times read from gunicorn's access log (`%(s)s %(M)s %(U)s ?%(q)s`): what
    each page costs a worker, without the time spent waiting in the queue."""

    def __init__(self, path):
        self.path = Path(path) if path else None
        self.offset = 0

    def mark(self):
        if self.path:
            self.offset = self.path.stat().st_size

    def times(self):
        found = defaultdict(list)
        if not self.path:
            return found
        time.sleep(0.5)  # the last lines are written after their responses
        with self.path.open() as log:
            log.seek(self.offset)
            for line in log:
                parts = line.split()
                if len(parts) == 4 and parts[0] == "200" and parts[1].isdigit():
                    found[page_type(parts[2], parts[3])].append(float(parts[1]))
        return found


class Recorder:
    def __init__(self):
        self.samples = defaultdict(list)
        self.errors = defaultdict(list)
        self.count = 0

    def __call__(self, label, status, elapsed):
        self.count += 1
        if status == 200:
            self.samples[label].append(elapsed)
        else:
            self.errors[label].append(status)

    def report(self, title, elapsed, order, server=None):
        print(f"\n{title}\n")
        server = server or {}
        rows = []

        def row(label, samples, errors, served):
            stats, cost = summary(samples), summary(served)
            cells = [label, stats["n"] + errors, errors]
            cells += [ms(stats["median"]), ms(stats["p95"]), ms(stats["max"])]
            if server:
                cells += [ms(cost["median"]), ms(cost["p95"]), ms(cost["max"])]
            rows.append(cells)

        for label in order + sorted(set(self.samples) - set(order)):
            errors = len(self.errors.get(label, []))
            if self.samples.get(label) or errors:
                row(label, self.samples.get(label, []), errors, server.get(label, []))
        every = [v for values in self.samples.values() for v in values]
        errors = sum(len(v) for v in self.errors.values())
        row("all", every, errors, [v for values in server.values() for v in values])
        header = ["page type", "requests", "errors", "p50 ms", "p95 ms", "max ms"]
        if server:
            header += ["server p50", "server p95", "server max"]
        print(table(header, rows))
        if server:
            print(
                "\n(p50, p95, max: as the clients saw them, queue included; server: the "
                "worker's own time, from gunicorn's access log)"
            )
        print(
            f"\n{self.count} requests in {elapsed:.1f} s: {self.count / elapsed:.1f} requests/s, "
            f"{errors} errors"
        )
        for label, statuses in self.errors.items():
            print(f"  errors on {label}: {sorted(set(map(str, statuses)))}")
        return errors


def memory_line(master, when):
    if not master:
        return None
    found = workers_memory(master)
    parts = [f"worker {pid}: RSS {rss:.1f} MiB, PSS {pss:.1f} MiB" for pid, rss, pss in found]
    print(f"  {when}: " + "; ".join(parts), flush=True)
    return found


async def load(args, mix):
    order = [label for label, _, _ in mix.pages]
    recorder = Recorder()
    async with client(args.clients) as http:
        # Both workers warm (imports, the facet index), as after a deploy's first minute.
        for _ in range(4):
            await asyncio.gather(*(timed_get(http, mix()[1]) for _ in range(4)))
        access = AccessLog(args.access_log)
        access.mark()
        deadline = time.perf_counter() + args.seconds
        started = time.perf_counter()

        async def visitor():
            while time.perf_counter() < deadline:
                label, url = mix()
                status, elapsed, _ = await timed_get(http, url)
                recorder(label, status, elapsed)

        await asyncio.gather(*(visitor() for _ in range(args.clients)))
        errors = recorder.report(
            f"Load: {args.clients} concurrent clients for {args.seconds:g} s",
            time.perf_counter() - started,
            order,
            access.times(),
        )
        if args.soak:
            soak = Recorder()
            print(f"\nSoak: {args.soak} requests, {args.clients} clients")
            start_memory = memory_line(args.gunicorn_pid, "start")
            access.mark()
            sent = 0
            checkpoints = {args.soak * k // 5 for k in range(1, 5)}
            started = time.perf_counter()

            async def soaker():
                nonlocal sent
                while sent < args.soak:
                    sent += 1
                    if sent in checkpoints:
                        memory_line(args.gunicorn_pid, f"after {sent} requests")
                    label, url = mix()
                    status, elapsed, _ = await timed_get(http, url)
                    soak(label, status, elapsed)

            await asyncio.gather(*(soaker() for _ in range(args.clients)))
            elapsed = time.perf_counter() - started
            end_memory = memory_line(args.gunicorn_pid, "end")
            errors += soak.report("Soak", elapsed, order, access.times())
            if start_memory and end_memory:
                before = {pid: rss for pid, rss, _ in start_memory}
                rows = []
                for pid, rss, pss in end_memory:
                    start = before.get(pid)
                    rows.append(
                        [
                            pid,
                            f"{start:.1f}" if start else "(new worker)",
                            f"{rss:.1f}",
                            f"{rss - start:+.1f}" if start else "–",
                            f"{pss:.1f}",
                        ]
                    )
                print("\nWorker memory over the soak (MiB):\n")
                print(table(["worker", "RSS start", "RSS end", "change", "PSS end"], rows))
                if set(before) != {pid for pid, _, _ in end_memory}:
                    print("  workers changed during the soak (one was restarted)")
    return errors


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", required=True, help="the server's base URL")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--soak", type=int, default=0, help="requests of the soak (0: none)")
    parser.add_argument("--gunicorn-pid", type=int, help="the gunicorn master's process id")
    parser.add_argument("--access-log", help="gunicorn's access log, for server times")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    data = pools()
    mix = Mix(args.url, data, args.seed)
    print(
        f"{data['count']} published places, {len(data['cases'])} case studies, "
        f"{len(data['tables'])} tables; page types: {', '.join(p[0] for p in mix.pages)}"
    )
    errors = asyncio.run(load(args, mix))
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
