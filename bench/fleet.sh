#!/usr/bin/env bash
# kbplan serve under load on loopback, SQLite then PostgreSQL: upload
# throughput (16 workers back to back) and latency at a fixed 500 uploads/s
# (open loop), each for a bounded time. Every upload is a distinct host
# (the test systeminfo under a fresh name), so none is a duplicate. Then
# kit results uploads (16 workers back to back) for the hosts the first
# run made: the results document install.cmd sent from Wine.
# Usage: bench/fleet.sh [SECONDS] (default 10). PostgreSQL: KBPLAN_BENCH_PG,
# default the machine's (database test, user postgres), in a fresh schema.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
pg=${KBPLAN_BENCH_PG:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}
work=$(mktemp -d)
schema=kbplan_bench_$$
cleanup() {
  [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null || true
  psql "${pg%%\?*}" -qc "DROP SCHEMA IF EXISTS $schema CASCADE" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
CGO_ENABLED=0 go build -o "$work/kbplan" ./cmd/kbplan
CGO_ENABLED=0 go build -o "$work/loadgen" ./bench/loadgen
tmpl=testdata/analyze/ws2008-6003-x64-no-sha2.txt
export KBPLAN_ADMIN_TOKEN=bench-admin-token-0123456789
serve() {
  "$work/kbplan" serve --listen 127.0.0.1:18099 --data "$work/data-$1" "${@:2}" 2>"$work/serve-$1.log" &
  pid=$!
  for _ in $(seq 100); do curl -sf http://127.0.0.1:18099/healthz >/dev/null && return; sleep 0.1; done
  echo "server did not start" >&2; cat "$work/serve-$1.log" >&2; exit 1
}
run() {
  echo "== $1"
  "$work/loadgen" -url http://127.0.0.1:18099 -token "$KBPLAN_ADMIN_TOKEN" -template $tmpl -mode max -c 16 -d "${secs}s" -prefix "MAX-$1"
  "$work/loadgen" -url http://127.0.0.1:18099 -token "$KBPLAN_ADMIN_TOKEN" -template $tmpl -mode rate -rate 500 -d "${secs}s" -prefix "RATE-$1"
  "$work/loadgen" -url http://127.0.0.1:18099 -token "$KBPLAN_ADMIN_TOKEN" -kind results -template kit/testdata/results/wine-failed.txt -name VM \
    -hosts 1000 -mode max -c 16 -d "${secs}s" -prefix "MAX-$1"
  echo "$1 server peak RSS: $(grep VmHWM /proc/$pid/status | awk '{print $2, $3}')"
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=
}
serve sqlite
run sqlite
psql "${pg%%\?*}" -qc "CREATE SCHEMA $schema" >/dev/null
serve postgres --db "$pg&search_path=$schema"
run postgres
