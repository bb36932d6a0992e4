"""Readers under writes: does an edit stall the directory's readers?

    DATABASE_URL=… python bench/writes.py --url http://127.0.0.1:8001 [--clients 8]
        [--seconds 60] [--block 10] [--interval 1] [--visibility 10]

`--clients` clients read directory pages (unfiltered, filters, searches, a common word,
random pages) as fast as they are answered, for `--seconds` without writes and `--seconds`
with one write every `--interval` seconds, in blocks of `--block` seconds ordered A B B A
(quiet, writes, writes, quiet, ...) so that the machine's drift weighs on both. The
writes come from a separate process (this script with `--writer`, on the same
DATABASE_URL) that loads a random published place through the ORM, changes its setting
and its name, and calls `.save()`, so that every signal runs as in the admin. Prints p50,
p95, max and throughput with and without writes, the ratio of the p95s (target ≤ 1.2, and
max < 500 ms), and how long the writes themselves took. Then `--visibility` writes, one
every 2 s, each followed by how long the directory takes to show it in both workers.

The writer changes places of the database it is given: it refuses any but a synthetic
catalogue (bench/writes.sh generates one).
"""

import argparse
import asyncio
import os
import random
import re
import select
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "innovplaces.settings")

from httpbench import client, closed_loop, ms, summary, table, timed_get  # noqa: E402

MARK = " (bis)"
READS = [
    {},
    {"kind": "fab-lab", "setting": "rural", "region": "84"},
    {"q": "pépinière", "kind": "tiers-lieu", "setting": "rural"},
    {"q": "pépinière"},
    {"q": "salariés"},
    {"kind": "pepiniere"},
    {"setting": "metropole", "region": "11"},
]


def writer(interval, duration, seed, controlled):
    """Writes, one every `interval` seconds; prints each one's time. Timed: for `duration`
    seconds. Controlled: prints "ready", then writes between the "start" and "stop" lines
    read from its standard input, until "quit"."""
    import django

    django.setup()
    from catalogue.models import Place, Setting

    rng = random.Random(seed)
    ids = list(Place.objects.published().values_list("pk", flat=True))
    slugs = Place.objects.values_list("slug", flat=True)[:50]
    if not all(slug.startswith("synth-") for slug in slugs):
        sys.exit("writer: this is not a synthetic catalogue; refusing to change it")
    settings = [value for value, _ in Setting.choices]
    started = time.perf_counter()

    def write():
        began = time.perf_counter()
        place = Place.objects.get(pk=rng.choice(ids))
        place.setting = rng.choice([s for s in settings if s != place.setting])
        place.name = place.name[: -len(MARK)] if place.name.endswith(MARK) else place.name + MARK
        place.save()
        done = time.perf_counter()
        kinds = [k for k in place.kinds.values_list("slug", flat=True) if k != "coworking"]
        where = f"{place.slug} {place.setting} {place.departement.insee_code} {','.join(kinds)}"
        took = (done - began) * 1000
        print(f"write {place.pk} {took:.1f} {done - started:.3f} {where}", flush=True)

    if not controlled:
        next_at = started
        while time.perf_counter() - started < duration:
            next_at += interval
            write()
            time.sleep(max(0.0, next_at - time.perf_counter()))
        return
    print("ready", flush=True)
    writing, next_at = False, 0.0
    while True:
        timeout = max(0.0, next_at - time.perf_counter()) if writing else None
        ready, _, _ = select.select([sys.stdin], [], [], timeout)
        if ready:
            command = sys.stdin.readline().strip()
            if command == "start":
                writing, next_at = True, time.perf_counter()
            elif command == "stop":
                writing = False
            else:
                return
        elif writing:
            write()
            next_at += interval


COUNT = re.compile(r'class="results-count">([^<]*)<')


async def visibility(http, base, writes, interval):
    """After each of `writes` writes (one every `interval` s), how long until the directory
    shows it: the place listed under its new setting, with the count the database gives,
    in 6 answers in a row (3 rounds of 2 concurrent requests, so both workers answer)."""
    import django

    django.setup()
    from asgiref.sync import sync_to_async

    from catalogue.models import Place

    def expected(setting, departement, kind):
        places = Place.objects.published().filter(
            setting=setting, departement__insee_code=departement, kinds__slug=kind
        )
        return places.distinct().count()

    process = await asyncio.create_subprocess_exec(
        sys.executable,
        __file__,
        "--writer",
        "--interval",
        str(interval),
        "--seconds",
        str(writes * interval),
        "--seed",
        "99",
        stdout=asyncio.subprocess.PIPE,
    )
    lags = []
    async for line in process.stdout:
        fields = line.decode().split()
        if fields[0] != "write" or len(fields) < 8:
            continue
        seen_at = time.perf_counter()
        slug, setting, departement, kind = fields[4], fields[5], fields[6], fields[7].split(",")[0]
        want = await sync_to_async(expected)(setting, departement, kind)
        params = {"setting": setting, "departement": departement, "kind": kind, "per_page": 100}
        url = f"{base}/lieux/?{urlencode(params)}"
        streak, first = 0, None
        while time.perf_counter() - seen_at < 10 and streak < 6:
            answers = await asyncio.gather(timed_get(http, url), timed_get(http, url))
            for status, _, response in answers:
                found = COUNT.search(response.text) if status == 200 else None
                count = int(re.sub(r"\D", "", found.group(1))) if found else None
                ok = count == want and f"/lieux/{slug}/" in response.text
                streak = streak + 1 if ok else 0
                if ok and first is None:
                    first = time.perf_counter() - seen_at
        lags.append((first, time.perf_counter() - seen_at if streak >= 6 else None))
    await process.wait()
    return lags


async def phase(http, base, clients, seconds, rng):
    def pick():
        params = dict(rng.choice(READS))
        if not params or rng.random() < 0.2:
            params["page"] = rng.randint(1, 5)
        return "read", f"{base}/lieux/?{urlencode(params)}"

    started = time.perf_counter()
    latencies, errors = await closed_loop(http, pick, clients, seconds)
    return latencies, errors, time.perf_counter() - started


async def run(args):
    base = args.url.rstrip("/")
    rng = random.Random(args.seed)
    blocks = max(1, round(args.seconds / args.block))
    order = []
    for number in range(blocks):
        order += ["quiet", "writes"] if number % 2 == 0 else ["writes", "quiet"]
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        __file__,
        "--writer",
        "--controlled",
        "--interval",
        str(args.interval),
        "--seed",
        str(args.seed),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    if (await process.stdout.readline()).strip() != b"ready":
        sys.exit("the writer did not start")
    found = {"quiet": [[], [], 0.0, []], "writes": [[], [], 0.0, []]}
    async with client(args.clients) as http:
        await phase(http, base, args.clients, min(5, args.block), rng)  # warm both workers
        for condition in order:
            if condition == "writes":
                process.stdin.write(b"start\n")
                await process.stdin.drain()
            latencies, errors, elapsed = await phase(http, base, args.clients, args.block, rng)
            if condition == "writes":
                process.stdin.write(b"stop\n")
                await process.stdin.drain()
            pooled = found[condition]
            pooled[0] += latencies
            pooled[1] += errors
            pooled[2] += elapsed
            pooled[3].append(summary(latencies)["p95"])
            print(
                f"  {condition}: {len(latencies)} requests, p95 {ms(pooled[3][-1])} ms, "
                f"{len(errors)} errors",
                flush=True,
            )
    out, _ = await process.communicate(b"quit\n")
    if process.returncode:
        sys.exit(f"the writer failed ({process.returncode})")
    writes = [
        float(line.split()[2]) for line in out.decode().splitlines() if line.startswith("write ")
    ]
    rows = []
    for condition, (latencies, errors, elapsed, _) in found.items():
        stats = summary(latencies)
        rows.append(
            [
                "no write" if condition == "quiet" else f"one write every {args.interval:g} s",
                len(latencies),
                len(errors),
                ms(stats["median"]),
                ms(stats["p95"]),
                ms(stats["max"]),
                sum(1 for v in latencies if v >= 500),
                f"{len(latencies) / elapsed:.1f}",
            ]
        )
    print(
        f"\n{args.clients} clients on directory pages, {blocks * args.block:g} s without writes "
        f"and {blocks * args.block:g} s with, in blocks of {args.block:g} s (A B B A):\n"
    )
    header = ["", "requests", "errors", "p50 ms", "p95 ms", "max ms", "≥ 500 ms", "requests/s"]
    print(table(header, rows))
    for condition, (_, _, _, p95s) in found.items():
        print(f"  p95 of each block, {condition}: {', '.join(ms(v) for v in p95s)}")
    quiet, loaded = summary(found["quiet"][0]), summary(found["writes"][0])
    if quiet["p95"] and loaded["p95"]:
        ratio = loaded["p95"] / quiet["p95"]
        verdict = "met" if ratio <= 1.2 and loaded["max"] < 500 else "not met"
        print(
            f"\np95 with writes ÷ p95 without: {ratio:.2f} "
            f"(target ≤ 1.2 and max < 500 ms: {verdict})"
        )
        rate = len(found["writes"][0]) / found["writes"][2]
        quiet_rate = len(found["quiet"][0]) / found["quiet"][2]
        print(f"throughput with writes ÷ without: {rate / quiet_rate:.2f}")
    if writes:
        stats = summary(writes)
        print(
            f"writes: {len(writes)}, each .save() took median {ms(stats['median'])} ms, "
            f"p95 {ms(stats['p95'])} ms, max {ms(stats['max'])} ms"
        )
    if args.visibility:
        async with client(2) as http:
            lags = await visibility(http, base, args.visibility, max(args.interval, 2))
        firsts = [a for a, _ in lags if a is not None]
        alls = [b for _, b in lags if b is not None]
        print(
            f"\nvisibility of a write in the directory (listed under its new setting, count "
            f"as in the database), {len(lags)} writes: first answer showing it median "
            f"{ms(summary([x * 1000 for x in firsts])['median'])} ms; 6 answers in a row "
            f"(both workers) median {ms(summary([x * 1000 for x in alls])['median'])} ms, "
            f"max {ms(summary([x * 1000 for x in alls])['max'])} ms; "
            f"not seen within 10 s: {len(lags) - len(alls)}"
        )
    return 1 if found["quiet"][1] or found["writes"][1] else 0


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", help="the server's base URL")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--block", type=float, default=10)
    parser.add_argument("--interval", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument(
        "--visibility", type=int, default=10, help="writes whose visibility is timed (0: none)"
    )
    parser.add_argument("--writer", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--controlled", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.writer:
        writer(args.interval, args.seconds, args.seed, args.controlled)
        return
    if not args.url:
        parser.error("--url is required")
    sys.exit(asyncio.run(run(args)))


if __name__ == "__main__":
    main()
