# Shell helpers shared by the HTTP benchmarks (sourced by compare.sh, load.sh, writes.sh).
# Needs bin/lib.sh sourced first, the working directory at the repository's root and
# BENCH_DIR set to a scratch directory (bench_cleanup removes it).

# The environment of a production-like server: DEBUG off, a secret key, loopback only,
# persistent connections, static files collected with a manifest (no compression: the
# benchmarks fetch pages, not assets).
export DEBUG=0
export SECRET_KEY=bench-not-secret-0123456789-abcdefghijklmnopqrstuvwxyz
export ALLOWED_HOSTS=127.0.0.1
export CONN_MAX_AGE=${CONN_MAX_AGE:-60}
export STATICFILES_BACKEND=django.contrib.staticfiles.storage.ManifestStaticFilesStorage
export WHITENOISE_USE_FINDERS=0
# Plain HTTP on loopback: no redirect to HTTPS whatever the caller's environment says.
export SECURE_SSL_REDIRECT=0
# One address sends every request: without this the downloads' throttle (60 an hour per
# address) answers 429 after the first minute of a load test.
export EXPORT_THROTTLE_RATE=${EXPORT_THROTTLE_RATE:-1000000/hour}
export API_THROTTLE_RATE=${API_THROTTLE_RATE:-1000000/minute}
BENCH_PIDS=()
# The benchmark cluster's memory for cached pages: enough to hold the 100,000-place
# catalogue (about 725 MB), as docs/deployment.md recommends for production.
BENCH_PG_OPTIONS=${BENCH_PG_OPTIONS--c shared_buffers=1GB}

# bench_postgres: a throwaway PostgreSQL cluster in $BENCH_DIR; sets PG_PORT.
bench_postgres() {
  apt_install postgresql postgresql-contrib
  PG_PORT=$(free_port)
  start_postgres "$BENCH_DIR/pg" "$PG_PORT" "$BENCH_PG_OPTIONS"
}

# bench_catalogue PLACES: DATABASE_URL → a database holding a synthetic catalogue of PLACES
# places, generated in the throwaway cluster, unless BENCH_DATABASE_URL names a catalogue
# generated earlier (used as it is; only bench/writes.py writes to it, renaming places).
bench_catalogue() {
  local places=$1
  if [ -n "${BENCH_DATABASE_URL:-}" ]; then
    export DATABASE_URL=$BENCH_DATABASE_URL
    echo "Using the catalogue at BENCH_DATABASE_URL as it is."
    return
  fi
  [ -n "${PG_PORT:-}" ] || bench_postgres
  local psql=(psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -q)
  "${psql[@]}" -c "CREATE DATABASE innovplaces_bench" postgres
  export DATABASE_URL="postgres://postgres@127.0.0.1:$PG_PORT/innovplaces_bench"
  .venv/bin/python manage.py migrate -v0
  local started=$SECONDS
  .venv/bin/python bench/generate_catalogue.py --places "$places" | tail -n 1
  echo "generation: $((SECONDS - started)) s"
  # What autovacuum does in production: visibility map for index-only scans, statistics.
  "${psql[@]}" -c "VACUUM ANALYZE" innovplaces_bench
}

# bench_prewarm: read the catalogue's tables and indexes into PostgreSQL's shared buffers,
# as a server that has been serving for a while holds them (Datasette's SQLite file is in
# the operating system's cache as well), rather than measuring its first minutes.
bench_prewarm() {
  psql "$DATABASE_URL" -q -At -c "CREATE EXTENSION IF NOT EXISTS pg_prewarm" \
    -c "SELECT 'prewarmed: ' || pg_size_pretty(sum(pg_prewarm(c.oid)) * current_setting('block_size')::bigint) FROM pg_class c WHERE c.relnamespace IN ('public'::regnamespace, 'pg_toast'::regnamespace) AND c.relkind IN ('r', 'i', 't')" \
    -c "SELECT 'shared_buffers: ' || current_setting('shared_buffers')"
}

# bench_static: collect static files once per run (their URLs are in every page).
bench_static() {
  export STATIC_ROOT="$BENCH_DIR/static"
  [ -f "$STATIC_ROOT/staticfiles.json" ] || .venv/bin/python manage.py collectstatic --noinput -v0
}

# start_gunicorn PORT [gunicorn options...]: our app on 127.0.0.1:PORT, two sync workers
# unless the options say otherwise; sets GUNICORN_PID (the master) and GUNICORN_ACCESS_LOG
# (status, server time in ms, path and query of each request). Waits for the first answer
# of a directory page and prints how long it took from the start.
start_gunicorn() {
  local port=$1
  shift
  .venv/bin/gunicorn innovplaces.wsgi --bind "127.0.0.1:$port" --workers 2 \
    --access-logfile "$BENCH_DIR/access-$port.log" --access-logformat '%(s)s %(M)s %(U)s ?%(q)s' \
    "$@" >"$BENCH_DIR/gunicorn-$port.log" 2>&1 &
  GUNICORN_PID=$!
  GUNICORN_ACCESS_LOG="$BENCH_DIR/access-$port.log"
  BENCH_PIDS+=("$GUNICORN_PID")
  .venv/bin/python bench/wait_ready.py "http://127.0.0.1:$port/lieux/" --label "our app"
}

# start_datasette PORT SQLITE METADATA: Datasette on 127.0.0.1:PORT, with its time limits
# raised so that it computes every facet (or it drops slow ones and looks faster).
start_datasette() {
  local port=$1 db=$2 metadata=$3
  .venv/bin/datasette serve "$db" --host 127.0.0.1 --port "$port" --metadata "$metadata" \
    --setting facet_time_limit_ms 20000 --setting sql_time_limit_ms 20000 \
    --setting num_sql_threads 2 --setting default_page_size 20 \
    --setting suggest_facets off --setting default_cache_ttl 0 \
    >"$BENCH_DIR/datasette-$port.log" 2>&1 &
  DATASETTE_PID=$!
  BENCH_PIDS+=("$DATASETTE_PID")
  .venv/bin/python bench/wait_ready.py "http://127.0.0.1:$port/catalogue/places" \
    --label Datasette
}

# bench_cleanup: stops the servers this script started (by their process ids) and the
# throwaway cluster, and removes the scratch directory.
bench_cleanup() {
  for pid in "${BENCH_PIDS[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${BENCH_PIDS[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  stop_postgres
  rm -rf "$BENCH_DIR"
}
