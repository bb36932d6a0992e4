#!/usr/bin/env bash
# Our app against Datasette, side by side over HTTP, on the same synthetic places.
# Usage: bench/compare.sh [places] [seconds] [runs]
#   places   synthetic places to generate (default 100000)
#   seconds  per server and scenario at 8 concurrent clients (default 10)
#   runs     single-client requests per server and scenario (default 30; a random place
#            page: 300 places, COMPARE_PLACE_RUNS)
# With BENCH_DATABASE_URL set to a catalogue generated earlier (bench/catalogue.sh keeps
# one running), no cluster is started and nothing is generated: that catalogue is used.
# Results: the tables on stdout, the figures also in bench/out/compare-DATE.json.
set -euo pipefail
cd "$(dirname "$0")/.."
source bin/lib.sh
places=${1:-100000}
seconds=${2:-10}
runs=${3:-30}

bin/setup-env bench
BENCH_DIR=$(mktemp -d /tmp/innovplaces-compare.XXXXXX)
chmod 755 "$BENCH_DIR"
source bench/common.sh
trap bench_cleanup EXIT

bench_catalogue "$places"
bench_prewarm
bench_static
.venv/bin/python bench/datasette_copy.py "$BENCH_DIR/catalogue.db" "$BENCH_DIR/metadata.json"
ours_port=$(free_port)
# As docs/deployment.md serves clients that reach gunicorn directly, as this one does:
# - --preload: the two workers share the master's memory (index, templates, code), which
#   keeps their CPU caches warm when requests alternate between them (a random place
#   page: 9-11 ms server time against 16 without);
# - one thread a worker that keeps the client's connection, as Datasette's server does:
#   sync workers close it after each answer, which costs this client 1.5-2 ms a request
#   that has nothing to do with either application (bench/README.md).
# OURS_GUNICORN_OPTIONS="--preload" starts sync workers, "" each with its own copy.
read -ra ours_options <<<"${OURS_GUNICORN_OPTIONS---preload --worker-class gthread --threads 1 --keep-alive 30}"
start_gunicorn "$ours_port" "${ours_options[@]}"
peer_port=$(free_port)
start_datasette "$peer_port" "$BENCH_DIR/catalogue.db" "$BENCH_DIR/metadata.json"

mkdir -p bench/out
echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
.venv/bin/python bench/compare.py --ours "http://127.0.0.1:$ours_port" \
  --datasette "http://127.0.0.1:$peer_port" --sqlite "$BENCH_DIR/catalogue.db" \
  --runs "$runs" --place-runs "${COMPARE_PLACE_RUNS:-300}" --seconds "$seconds" --clients 8 \
  --json "bench/out/compare-$(date -u +%Y%m%d-%H%M).json"
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
