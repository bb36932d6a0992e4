#!/usr/bin/env bash
# Readers under writes, and a fresh worker's start, over HTTP on the synthetic catalogue.
# Usage: bench/writes.sh [places] [seconds] [--preload]
#   places   synthetic places (default 100000; BENCH_DATABASE_URL: use a kept catalogue,
#            whose places the writes rename and move to another setting)
#   seconds  without writes and with one write a second, each (default 60; in blocks of
#            10 s ordered A B B A)
#   --preload  the write test's gunicorn starts with --preload (the start-up table
#            always shows both)
set -euo pipefail
cd "$(dirname "$0")/.."
source bin/lib.sh
args=()
preload=()
for arg in "$@"; do
  if [ "$arg" = --preload ]; then preload=(--preload); else args+=("$arg"); fi
done
places=${args[0]:-100000}
seconds=${args[1]:-60}

bin/setup-env bench
BENCH_DIR=$(mktemp -d /tmp/innovplaces-writes.XXXXXX)
chmod 755 "$BENCH_DIR"
source bench/common.sh
trap bench_cleanup EXIT

bench_catalogue "$places"
bench_static
echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
.venv/bin/python bench/startup.py --workers 2 --rounds 2
port=$(free_port)
echo
start_gunicorn "$port" "${preload[@]}"
.venv/bin/python bench/writes.py --url "http://127.0.0.1:$port" --clients 8 \
  --seconds "$seconds" --block 10 --interval 1 --visibility 10
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
