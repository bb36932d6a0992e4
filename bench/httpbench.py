"""Shared by the HTTP benchmarks (compare.py, load.py, writes.py): a client that sends no
cookie back and no conditional header, so that every answer is a real render, and the
statistics they print."""

import asyncio
import http.cookiejar
import math
import statistics
import time
from pathlib import Path

import httpx

HEADERS = {"User-Agent": "innovplaces-bench", "Accept": "text/html,*/*"}


def client(concurrency, timeout=120.0):
    """An HTTP client for `concurrency` parallel requests that keeps no cookie (a visitor
    without a session) and never asks for a conditional answer."""
    jar = http.cookiejar.CookieJar(policy=http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
    return httpx.AsyncClient(
        headers=HEADERS,
        cookies=jar,
        timeout=timeout,
        follow_redirects=False,
        limits=httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency),
    )


async def timed_get(http, url):
    """(status, milliseconds, response) of one GET, the whole body read."""
    started = time.perf_counter()
    try:
        response = await http.get(url)
    except httpx.HTTPError as error:
        return f"error {type(error).__name__}", (time.perf_counter() - started) * 1000, None
    return response.status_code, (time.perf_counter() - started) * 1000, response


def percentile(samples, fraction):
    """Nearest-rank percentile of a non-empty list."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def summary(samples):
    """{n, median, p95, max} in milliseconds (None when there is no sample)."""
    if not samples:
        return {"n": 0, "median": None, "p95": None, "max": None}
    return {
        "n": len(samples),
        "median": statistics.median(samples),
        "p95": percentile(samples, 0.95),
        "max": max(samples),
    }


def ms(value):
    if value is None:
        return "–"
    return f"{value:,.0f}" if value >= 100 else f"{value:.1f}"


def table(header, rows):
    """A Markdown table, columns padded."""
    cells = [header] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = []
    for n, row in enumerate(cells):
        lines.append("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |")
        if n == 0:
            lines.append("| " + " | ".join("-" * w for w in widths) + " |")
    return "\n".join(lines)


async def closed_loop(http, pick_url, clients, seconds, on_result=None):
    """`clients` clients, each sending its next request as soon as the previous one is
    answered, for `seconds`. Returns (latencies in ms, errors, statuses seen)."""
    deadline = time.perf_counter() + seconds
    latencies, errors = [], []

    async def one_client(number):
        while time.perf_counter() < deadline:
            label, url = pick_url()
            status, elapsed, _ = await timed_get(http, url)
            if status == 200:
                latencies.append(elapsed)
            else:
                errors.append((status, url))
            if on_result is not None:
                on_result(label, status, elapsed)

    await asyncio.gather(*(one_client(n) for n in range(clients)))
    return latencies, errors


def children(pid):
    """The process ids of a process's children (gunicorn's workers under its master)."""
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        found += [int(p) for p in text]
    return sorted(found)


def memory(pid):
    """(RSS, PSS) of a process in MiB: resident set, and proportional set (pages shared
    with other processes counted in shares, so what `--preload` saves shows)."""
    rss = pss = None
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1]) / 1024
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                pss = int(line.split()[1]) / 1024
    except OSError:
        pass
    return rss, pss


def workers_memory(master):
    """[(worker pid, RSS MiB, PSS MiB)] of a gunicorn master's workers."""
    return [(pid, *memory(pid)) for pid in children(master)]
