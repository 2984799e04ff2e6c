#!/usr/bin/env bash
# Starts a throwaway PostgreSQL cluster for the store's tests on a private port and prints its URL
# (the tests read TEST_DATABASE_URL). `scripts/test-postgres.sh stop DIR` stops it and removes DIR.
# Runs initdb/pg_ctl as the current user, or as `postgres` when run as root (initdb refuses root).
# Env: PG_BIN (default: the newest /usr/lib/postgresql/*/bin), PG_PORT (default 55432).
set -euo pipefail
PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}
PG_PORT=${PG_PORT:-55432}
[ -x "$PG_BIN/initdb" ] || { echo "no PostgreSQL found (set PG_BIN)" >&2; exit 1; }
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

if [ "${1:-}" = stop ]; then
  dir=${2:?usage: test-postgres.sh stop DIR}
  as_pg "$PG_BIN/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$dir"
  exit 0
fi

dir=$(mktemp -d /tmp/callwright-pg.XXXXXX)
chmod 755 "$dir"
[ "$(id -u)" = 0 ] && chown postgres "$dir"
as_pg "$PG_BIN/initdb" -D "$dir/data" -U callwright --auth=trust -E UTF8 >"$dir/initdb.log" 2>&1
# fsync off: a test cluster is thrown away, and durability is not what the tests measure.
as_pg "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -o "-p $PG_PORT -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" start >/dev/null
as_pg "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U callwright callwright_test
echo "TEST_DATABASE_URL=postgres://callwright@127.0.0.1:$PG_PORT/callwright_test"
echo "PG_DIR=$dir"
