#!/usr/bin/env bash
# bench/download.sh [N]: kbplan download against wget -i, on the same
# loopback server (python3 -m http.server), N files of 1 MiB (default 200),
# each run into an empty folder; also the cost of hashing them (sha1sum).
set -euo pipefail
n=${1:-200}
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'kill $pid 2>/dev/null || true; rm -rf "$tmp"' EXIT
CGO_ENABLED=0 go build -o "$tmp/kbplan" ./cmd/kbplan
mkdir "$tmp/www"
port=$((20000 + $$ % 20000))
python3 - "$tmp" "$n" "$port" <<'PY'
import hashlib, json, os, sys
tmp, n, port = sys.argv[1], int(sys.argv[2]), sys.argv[3]
steps, urls = [], []
for i in range(n):
    b = os.urandom(1 << 20)
    s = hashlib.sha1(b).hexdigest()
    name = "windows6.0-kb%07d-x64_%s.msu" % (4000000 + i, s)
    open(os.path.join(tmp, "www", name), "wb").write(b)
    url = "http://127.0.0.1:%s/%s" % (port, name)
    urls.append(url)
    steps.append({"n": i + 1, "kb": "KB%d" % (4000000 + i), "file": {"name": name, "url": url, "sha1": s}})
json.dump([{"host": {"os": {"architecture": "x64"}}, "plan": {"steps": steps}}], open(os.path.join(tmp, "plan.json"), "w"))
open(os.path.join(tmp, "urls.txt"), "w").write("\n".join(urls) + "\n")
PY
(cd "$tmp/www" && exec python3 -m http.server "$port" --bind 127.0.0.1 >/dev/null 2>&1) &
pid=$!
for i in $(seq 50); do curl -fs "http://127.0.0.1:$port/" >/dev/null 2>&1 && break; sleep 0.1; done
# kbplan verifies every file's signatures after its SHA-1; these random
# files have none, so its exit code is 3: -i ignores it.
hyperfine -N -w 1 -r 5 -i \
  --prepare "rm -rf $tmp/out" "$tmp/kbplan download --plan $tmp/plan.json --out $tmp/out --jobs 4" \
  --prepare "rm -rf $tmp/wget" "wget -q -P $tmp/wget -i $tmp/urls.txt"
hyperfine -N -w 1 -r 5 "sha1sum $tmp/www/*.msu" 2>/dev/null || hyperfine -w 1 -r 5 "sha1sum $tmp/www/*.msu"
