"""Our directory and place page against Datasette on a copy of the same places, over HTTP.

    python bench/compare.py --ours http://127.0.0.1:8001 --datasette http://127.0.0.1:8002 \
        --sqlite catalogue.db [--runs 30] [--place-runs 300] [--seconds 10] [--clients 8]

Both servers must be running (bench/compare.sh starts them). For each scenario the same
question is asked of both, with equivalent URLs (printed): one client alternating between
the servers request by request (`--runs` each, `--place-runs` for a random place page:
each request a different place, whose figures, fundings and lessons vary, so its median
needs more of them to hold still; median and p95), then `--clients`
concurrent clients for `--seconds` per server, in two halves ordered A B B A so that a drift
of the machine's load weighs on both (throughput). Place pages pick a random place per
request, the same on both sides. Hit counts are printed for both: the two searches do not
read the same text (ours stems words and reads kinds, lessons and monographs; Datasette's
FTS5 matches the words of the name and summary).
"""

import argparse
import asyncio
import json
import random
import re
import sqlite3
import sys
import time
from pathlib import Path
from urllib.parse import quote, urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))

from httpbench import client, closed_loop, ms, summary, table, timed_get  # noqa: E402

COUNT = re.compile(r'class="results-count">([^<]*)<')


def scenarios(region_name):
    """(label, our path, Datasette's path relative to the table, counted) for each
    question. Lists are ordered by name on both sides, except searches: ours by relevance,
    Datasette by row id (it has no ranking)."""

    def ours(**params):
        return "/lieux/?" + urlencode(params) if params else "/lieux/"

    def peer(**params):
        return "?" + urlencode(params)

    return [
        ("list, unfiltered", ours(), peer(_sort="name"), True),
        (
            "list, 3 filters (kind, setting, région)",
            ours(kind="fab-lab", setting="rural", region="84"),
            peer(kinds__arraycontains="fab-lab", setting="rural", region=region_name, _sort="name"),
            True,
        ),
        (
            "search « pépinière » + 2 filters",
            ours(q="pépinière", kind="tiers-lieu", setting="rural"),
            peer(_search="pépinière", kinds__arraycontains="tiers-lieu", setting="rural"),
            True,
        ),
        # « salariés » is in one summary sentence of eight (three are drawn): the same
        # places on both sides, about 41 % of them.
        ("common word « salariés »", ours(q="salariés"), peer(_search="salariés"), True),
        # The word of bench/measure.py: 45 % of places for us (stemmed, it also finds
        # « coopérative » and « coopération »), far fewer for FTS5.
        ("word « coopératives »", ours(q="coopératives"), peer(_search="coopératives"), True),
    ]


def hits_ours(response):
    found = COUNT.search(response.text)
    return int(re.sub(r"\D", "", found.group(1))) if found else None


async def hits_datasette(http, url):
    json_url = url.replace("/places?", "/places.json?", 1)
    response = await http.get(json_url + "&_size=1")
    data = response.json()
    if data.get("facets_timed_out"):
        print(f"  warning: Datasette's facets timed out: {data['facets_timed_out']}")
    return data.get("filtered_table_rows_count")


async def single_client(http, pairs, runs):
    """Alternating requests, one at a time: {side: [ms]} and the errors."""
    samples = {"ours": [], "datasette": []}
    errors = []
    for run in range(runs):
        ours_url, peer_url = pairs()
        order = [("ours", ours_url), ("datasette", peer_url)]
        if run % 2:
            order.reverse()
        for side, url in order:
            status, elapsed, _ = await timed_get(http, url)
            if status == 200:
                samples[side].append(elapsed)
            else:
                errors.append((side, status, url))
    return samples, errors


async def throughput(http, pairs, clients, seconds):
    """Requests per second of each side at `clients` concurrent clients, A B B A."""
    done = {"ours": [0, 0.0], "datasette": [0, 0.0]}
    errors = []
    for side in ("ours", "datasette", "datasette", "ours"):
        index = 0 if side == "ours" else 1
        started = time.perf_counter()
        latencies, failed = await closed_loop(
            http, lambda index=index, side=side: (side, pairs()[index]), clients, seconds / 2
        )
        done[side][0] += len(latencies)
        done[side][1] += time.perf_counter() - started
        errors += [(side, *e) for e in failed]
    return {side: n / elapsed for side, (n, elapsed) in done.items()}, errors


async def warm(http, pairs, count=4):
    for _ in range(count):
        ours_url, peer_url = pairs()
        await asyncio.gather(timed_get(http, ours_url), timed_get(http, peer_url))


async def run(args):
    db = sqlite3.connect(args.sqlite)
    places = db.execute("SELECT id, slug FROM places ORDER BY id").fetchall()
    region = db.execute("SELECT region FROM places WHERE region_code = '84' LIMIT 1").fetchone()
    db.close()
    region_name = region[0] if region else "Auvergne-Rhône-Alpes"
    ours_base = args.ours.rstrip("/")
    table_url = args.datasette.rstrip("/") + "/catalogue/places"
    rng = random.Random(args.seed)
    repeated = rng.sample(places, min(10, len(places)))

    def random_place():
        pk, slug = rng.choice(places)
        return f"{ours_base}/lieux/{quote(slug)}/", f"{table_url}/{pk}"

    def repeated_place():
        pk, slug = rng.choice(repeated)
        return f"{ours_base}/lieux/{quote(slug)}/", f"{table_url}/{pk}"

    plan = [
        (label, (lambda o=ours_base + o, p=table_url + p: (o, p)), counted, 4, args.runs)
        for label, o, p, counted in scenarios(region_name)
    ]
    plan.append(("place page, random place", random_place, False, 4, args.place_runs))
    # Each of the 10 places asked often enough that both workers keep it: the warm page.
    plan.append(("place page, 10 places again and again", repeated_place, False, 60, args.runs))

    rows, throughput_rows, all_errors, report = [], [], [], []
    async with client(args.clients) as http:
        for label, pairs, counted, warming, runs in plan:
            ours_url, peer_url = pairs()
            print(f"\n{label}\n  ours:      {ours_url}\n  Datasette: {peer_url}", flush=True)
            await warm(http, pairs, warming)
            hits = ("", "")
            if counted:
                _, _, response = await timed_get(http, ours_url)
                hits = (hits_ours(response), await hits_datasette(http, peer_url))
                print(f"  hits: ours {hits[0]}, Datasette {hits[1]}")
            samples, errors = await single_client(http, pairs, runs)
            rates, failed = await throughput(http, pairs, args.clients, args.seconds)
            all_errors += errors + failed
            ours, peer = summary(samples["ours"]), summary(samples["datasette"])
            speedup = peer["median"] / ours["median"] if ours["median"] and peer["median"] else 0
            rows.append(
                [
                    label,
                    *hits,
                    ms(ours["median"]),
                    ms(ours["p95"]),
                    ms(peer["median"]),
                    ms(peer["p95"]),
                    f"{speedup:.1f}×",
                ]
            )
            rate_ratio = rates["ours"] / rates["datasette"] if rates["datasette"] else 0
            throughput_rows.append(
                [label, f"{rates['ours']:.1f}", f"{rates['datasette']:.1f}", f"{rate_ratio:.1f}×"]
            )
            report.append(
                {
                    "scenario": label,
                    "ours": ours,
                    "datasette": peer,
                    "hits": hits,
                    "throughput": rates,
                }
            )
            print(
                f"  ours {ms(ours['median'])} ms, Datasette {ms(peer['median'])} ms; "
                f"{args.clients} clients: {rates['ours']:.1f} vs {rates['datasette']:.1f} req/s",
                flush=True,
            )
    print(
        f"\nSingle client, {args.runs} requests per side ({args.place_runs} random places),"
        " alternating (ms):\n"
    )
    print(
        table(
            [
                "scenario",
                "hits (ours)",
                "hits (Datasette)",
                "ours median",
                "ours p95",
                "Datasette median",
                "Datasette p95",
                "Datasette ÷ ours (median)",
            ],
            rows,
        )
    )
    print(
        f"\nThroughput at {args.clients} concurrent clients, {args.seconds:g} s per side "
        "(A B B A halves), requests per second:\n"
    )
    print(table(["scenario", "ours", "Datasette", "ours ÷ Datasette"], throughput_rows))
    print(f"\nerrors: {len(all_errors)}")
    for side, status, url in all_errors[:10]:
        print(f"  {side}: {status} {url}")
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2, ensure_ascii=False))
    return 1 if all_errors else 0


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ours", required=True, help="our app's base URL")
    parser.add_argument("--datasette", required=True, help="Datasette's base URL")
    parser.add_argument("--sqlite", required=True, help="Datasette's SQLite file (place ids)")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--place-runs", type=int, default=300)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    sys.exit(asyncio.run(run(args)))


if __name__ == "__main__":
    main()
