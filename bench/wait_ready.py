"""Wait for a server just started to answer a page with 200, and say how long it took.

    python bench/wait_ready.py URL [--label NAME] [--timeout 300]

Prints the time from this script's start (started right after the server) to the first
200, and the time that request took on its own. Exits 1 if the server does not answer
within the timeout.
"""

import argparse
import sys
import time
import urllib.error
import urllib.request


def first_ok(url, timeout):
    """(seconds until the first 200, seconds the answering request took)."""
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        sent = time.perf_counter()
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response:
                response.read()
                if response.status == 200:
                    done = time.perf_counter()
                    return done - started, done - sent
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.05)
    return None


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("url")
    parser.add_argument("--label", default="server")
    parser.add_argument("--timeout", type=float, default=300)
    args = parser.parse_args()
    found = first_ok(args.url, args.timeout)
    if found is None:
        sys.exit(f"{args.label}: no answer from {args.url} after {args.timeout:.0f} s")
    total, last = found
    print(f"{args.label}: first 200 after {total:.2f} s (that request: {last * 1000:.0f} ms)")


if __name__ == "__main__":
    main()
