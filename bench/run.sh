#!/usr/bin/env bash
# The scale benchmark: a throwaway PostgreSQL, a synthetic catalogue in its own database
# (never the corpus), then server-time measurements. Usage: bench/run.sh [places] [runs]
set -euo pipefail
cd "$(dirname "$0")/.."
source bin/lib.sh
places=${1:-100000}
runs=${2:-30}

bin/setup-env
apt_install postgresql postgresql-contrib
dir=$(mktemp -d /tmp/innovplaces-bench.XXXXXX)
port=$(free_port)
trap 'stop_postgres; rm -rf "$dir"' EXIT
start_postgres "$dir" "$port"
export DATABASE_URL="postgres://postgres@127.0.0.1:$port/innovplaces_bench"
psql_run=(psql -h 127.0.0.1 -p "$port" -U postgres -q)
"${psql_run[@]}" -c "CREATE DATABASE innovplaces_bench" postgres
.venv/bin/python manage.py migrate -v0
.venv/bin/python bench/generate_catalogue.py --places "$places"
# What autovacuum does in production: visibility map for index-only scans, statistics.
"${psql_run[@]}" -c "VACUUM ANALYZE" innovplaces_bench
.venv/bin/python bench/measure.py --runs "$runs"
.venv/bin/python bench/map_data.py --runs "$runs"
.venv/bin/python bench/measure_open_data.py --runs "$runs"
