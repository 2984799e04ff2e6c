#!/usr/bin/env bash
# Starts a throwaway Redis for the cross-node tests on a private port and prints its URL (the tests read
# TEST_REDIS_URL). `scripts/test-redis.sh stop DIR` stops it and removes DIR.
# No persistence (--save '' --appendonly no): a test Redis is thrown away.
# Env: REDIS_SERVER (default: redis-server on PATH), REDIS_PORT (default 56379).
set -euo pipefail
REDIS_SERVER=${REDIS_SERVER:-$(command -v redis-server || true)}
REDIS_PORT=${REDIS_PORT:-56379}
[ -n "$REDIS_SERVER" ] && [ -x "$REDIS_SERVER" ] || { echo "no redis-server found (apt-get install redis-server, or set REDIS_SERVER)" >&2; exit 1; }

if [ "${1:-}" = stop ]; then
  dir=${2:?usage: test-redis.sh stop DIR}
  if [ -f "$dir/redis.pid" ]; then
    pid=$(cat "$dir/redis.pid")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -rf "$dir"
  exit 0
fi

dir=$(mktemp -d /tmp/callwright-redis.XXXXXX)
"$REDIS_SERVER" --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no --dir "$dir" \
  --daemonize yes --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" >/dev/null
# Daemonized: wait until it answers, so a test run right after this never races the start.
for _ in $(seq 100); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$REDIS_PORT") 2>/dev/null; then break; fi
  sleep 0.05
done
(exec 3<>"/dev/tcp/127.0.0.1/$REDIS_PORT") 2>/dev/null || { echo "redis-server did not start on port $REDIS_PORT; its log: $dir/redis.log" >&2; cat "$dir/redis.log" >&2; exit 1; }
echo "TEST_REDIS_URL=redis://127.0.0.1:$REDIS_PORT"
echo "REDIS_DIR=$dir"
