#!/usr/bin/env bash
# Load and soak over HTTP, gunicorn with two workers, on two catalogues in turn:
#   - the synthetic catalogue (scale: directory, places, comparisons, territories, lessons,
#     CSV; its monographs are drafts, so it has no public case study, table or PDF);
#   - the corpus loaded on PostgreSQL (real case studies, their PDFs, comparison tables).
# Usage: bench/load.sh [places] [seconds] [soak] [--preload]
#   places   synthetic places (default 100000; BENCH_DATABASE_URL: use a kept catalogue)
#   seconds  of the load at 50 concurrent clients (default 60)
#   soak     requests of the soak that follows, with worker memory (default 10000)
#   --preload  start gunicorn with --preload
# LOAD_CATALOGUES="synthetic corpus" (the default) chooses the catalogues.
# LOAD_GUNICORN_OPTIONS adds gunicorn options (e.g. "--worker-class gthread --threads 1
# --keep-alive 30": workers that keep the clients' connections, docs/deployment.md).
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
soak=${args[2]:-10000}

bin/setup-env bench
BENCH_DIR=$(mktemp -d /tmp/innovplaces-load.XXXXXX)
chmod 755 "$BENCH_DIR"
source bench/common.sh
trap bench_cleanup EXIT
bench_static

run_load() {
  local label=$1 port
  port=$(free_port)
  echo
  echo "== $label: $(date -u '+%Y-%m-%d %H:%M UTC'), load average $(cut -d' ' -f1-3 /proc/loadavg)"
  local options
  read -ra options <<<"${LOAD_GUNICORN_OPTIONS:-}"
  start_gunicorn "$port" "${preload[@]}" "${options[@]}"
  .venv/bin/python bench/load.py --url "http://127.0.0.1:$port" --clients 50 \
    --seconds "$seconds" --soak "$soak" --gunicorn-pid "$GUNICORN_PID" \
    --access-log "$GUNICORN_ACCESS_LOG" || status=1
  kill "$GUNICORN_PID"
  wait "$GUNICORN_PID" 2>/dev/null || true
}

status=0
for catalogue in ${LOAD_CATALOGUES:-synthetic corpus}; do
  case "$catalogue" in
    synthetic)
      bench_catalogue "$places"
      run_load "synthetic catalogue"
      ;;
    corpus)
      [ -n "${PG_PORT:-}" ] || bench_postgres
      psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -q -c "CREATE DATABASE innovplaces_corpus" postgres
      export DATABASE_URL="postgres://postgres@127.0.0.1:$PG_PORT/innovplaces_corpus"
      .venv/bin/python manage.py migrate -v0
      .venv/bin/python manage.py load_corpus | tail -n 1
      psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -q -c "VACUUM ANALYZE" innovplaces_corpus
      run_load "corpus"
      ;;
  esac
done
exit "$status"
