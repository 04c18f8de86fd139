#!/bin/sh
# bench/bombs.sh [N]: N (default 80) parallel decompression-bomb uploads to
# one kbplan serve, zip bombs then cabinet bombs; prints, for each kind, the
# answers, the server's peak RSS (VmHWM) and its CPU seconds for the lot.
# Loopback only. Needs curl.
set -eu
n=${1:-80}
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'kill $pid 2>/dev/null || true; rm -rf "$tmp"' EXIT
CGO_ENABLED=0 go build -o "$tmp/kbplan" ./cmd/kbplan
go run ./bench/bombgen "$tmp"
port=$((20000 + $$ % 20000))
KBPLAN_ADMIN_TOKEN=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n') ; export KBPLAN_ADMIN_TOKEN
"$tmp/kbplan" serve --data "$tmp/data" --listen 127.0.0.1:$port 2>"$tmp/serve.log" &
pid=$!
for i in $(seq 50); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
cpu() { awk '{print ($14+$15)/100}' /proc/$pid/stat; }
hwm() { awk '/VmHWM/ {print $2/1024 " MiB"}' /proc/$pid/status; }
echo "server at start: peak RSS $(hwm), CPU $(cpu) s"
for kind in zip cab; do
  before=$(cpu)
  start=$(date +%s.%N)
  seq "$n" | xargs -P "$n" -I{} curl -s -o /dev/null -w '%{http_code}\n' \
    -H "Authorization: Bearer $KBPLAN_ADMIN_TOKEN" --data-binary @"$tmp/$kind.$kind" \
    "http://127.0.0.1:$port/api/v1/inventories" | sort | uniq -c | tr '\n' ' '
  end=$(date +%s.%N)
  echo "<- $n $kind bombs: peak RSS $(hwm), server CPU $(echo "$(cpu) - $before" | bc) s, wall $(echo "$end - $start" | bc) s"
done
