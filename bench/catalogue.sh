#!/usr/bin/env bash
# A synthetic catalogue kept running, for several HTTP benchmarks in a row.
# Usage: bench/catalogue.sh start DIR [places] [port]   (default 100000 places, a free port)
#        bench/catalogue.sh stop DIR
# `start` creates a PostgreSQL cluster in DIR (which must not exist), generates the places,
# runs VACUUM ANALYZE and prints the BENCH_DATABASE_URL to export for bench/compare.sh,
# bench/load.sh and bench/writes.sh; the cluster keeps running until `stop`.
set -euo pipefail
cd "$(dirname "$0")/.."
source bin/lib.sh
action=${1:?start or stop}
dir=${2:?a directory for the cluster}

case "$action" in
  start)
    [ ! -e "$dir" ] || { echo "$dir exists: choose a new directory" >&2; exit 1; }
    places=${3:-100000}
    port=${4:-$(free_port)}
    bin/setup-env bench
    apt_install postgresql postgresql-contrib
    mkdir -p "$dir"
    chmod 755 "$dir"
    # Enough shared buffers to hold the catalogue (bench/common.sh).
    start_postgres "$dir/pg" "$port" "${BENCH_PG_OPTIONS--c shared_buffers=1GB}"
    psql -h 127.0.0.1 -p "$port" -U postgres -q -c "CREATE DATABASE innovplaces_bench" postgres
    export DATABASE_URL="postgres://postgres@127.0.0.1:$port/innovplaces_bench"
    .venv/bin/python manage.py migrate -v0
    started=$SECONDS
    .venv/bin/python bench/generate_catalogue.py --places "$places" | tail -n 1
    echo "generation: $((SECONDS - started)) s"
    psql -h 127.0.0.1 -p "$port" -U postgres -q -c "VACUUM ANALYZE" innovplaces_bench
    echo "export BENCH_DATABASE_URL=$DATABASE_URL"
    ;;
  stop)
    bindir=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
    run=()
    if [ "$(id -u)" = 0 ]; then run=(runuser -u postgres --); fi
    "${run[@]}" "$bindir/pg_ctl" -D "$dir/pg/data" -m fast stop
    ;;
  *)
    echo "usage: bench/catalogue.sh start DIR [places] [port] | stop DIR" >&2
    exit 2
    ;;
esac
