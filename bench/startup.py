"""A fresh gunicorn, with and without `--preload`: time to the first answer, each worker's
first directory request, and memory per worker.

    DATABASE_URL=… python bench/startup.py [--workers 2] [--rounds 2]

For each mode (plain, then `--preload`; alternating for `--rounds` rounds), starts
`gunicorn innovplaces.wsgi` on a free loopback port with the environment it is given,
and measures: the time from the start to the first 200 of `/lieux/`; the server time of
each worker's first directory request (from gunicorn's access log, which names the
worker); each worker's VmRSS and Pss (pages shared with the master or the other worker
counted in shares) after 40 directory requests. The server is stopped before the next.
"""

import argparse
import asyncio
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))

from httpbench import client, memory, ms, table, timed_get, workers_memory  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
LOG_FORMAT = "%(p)s %(s)s %(M)s %(U)s"
WARM = [
    {},
    {"kind": "fab-lab", "setting": "rural", "region": "84"},
    {"q": "pépinière"},
    {"q": "salariés"},
    {"page": 3},
]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def first_ok(url, timeout=300):
    started = time.perf_counter()
    async with client(1) as http:
        while time.perf_counter() - started < timeout:
            status, _, _ = await timed_get(http, url)
            if status == 200:
                return time.perf_counter()
            await asyncio.sleep(0.02)
    raise SystemExit(f"no answer from {url}")


async def burst(base, count, concurrency=4):
    async with client(concurrency) as http:
        for start in range(0, count, concurrency):
            urls = [
                f"{base}/lieux/?{urlencode(WARM[(start + i) % len(WARM)])}"
                for i in range(concurrency)
            ]
            results = await asyncio.gather(*(timed_get(http, u) for u in urls))
            bad = [r[0] for r in results if r[0] != 200]
            if bad:
                raise SystemExit(f"directory requests failed: {bad}")


def first_requests(log_path):
    """{worker pid: server ms of its first request}."""
    found = {}
    for line in Path(log_path).read_text().splitlines():
        parts = line.split()  # gunicorn writes the pid as <1234>
        if len(parts) == 4 and parts[0].strip("<>").isdigit() and parts[1] == "200":
            found.setdefault(int(parts[0].strip("<>")), int(parts[2]))
    return found


def measure(preload, workers):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.NamedTemporaryFile("w+", suffix=".log", delete=False) as log:
        log_path = log.name
    command = [
        str(ROOT / ".venv/bin/gunicorn"),
        "innovplaces.wsgi",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--access-logfile",
        log_path,
        "--access-logformat",
        LOG_FORMAT,
    ] + (["--preload"] if preload else [])
    started = time.perf_counter()
    server = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        ready = asyncio.run(first_ok(f"{base}/lieux/"))
        asyncio.run(burst(base, 40))
        time.sleep(0.5)  # the access log is written after each response
        firsts = first_requests(log_path)
        found = workers_memory(server.pid)
        master_rss, _ = memory(server.pid)
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        os.unlink(log_path)
    return {
        "mode": "--preload" if preload else "plain",
        "ready": ready - started,
        "firsts": [firsts.get(pid) for pid, _, _ in found],
        "rss": [rss for _, rss, _ in found],
        "pss": [pss for _, _, pss in found],
        "master": master_rss,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    rows = []
    for _ in range(args.rounds):
        for preload in (False, True):
            result = measure(preload, args.workers)
            rows.append(
                [
                    result["mode"],
                    f"{result['ready']:.2f} s",
                    ", ".join(ms(v) if v is not None else "?" for v in result["firsts"]),
                    ", ".join(f"{v:.0f}" for v in result["rss"]),
                    ", ".join(f"{v:.0f}" for v in result["pss"]),
                    f"{result['master']:.0f}",
                ]
            )
            print(f"  {rows[-1]}", flush=True)
    print(
        f"\ngunicorn, {args.workers} workers, started cold (memory after 40 directory requests):\n"
    )
    print(
        table(
            [
                "mode",
                "start → first 200",
                "each worker's first request (server ms)",
                "RSS per worker (MiB)",
                "PSS per worker (MiB)",
                "master RSS (MiB)",
            ],
            rows,
        )
    )


if __name__ == "__main__":
    main()
