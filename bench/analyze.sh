#!/usr/bin/env bash
# Times `kbplan analyze` beside wesng, in the same run on the same file:
# one host as a whole process, plain and with its CVE exposure (--exposure
# --json, the run closest to what wesng does), min and median of each and
# the ratios, and each one's peak memory; then a directory of 10,000
# inventories (hosts/s, peak memory) for --csv, --jsonl and --jsonl
# --exposure. wesng is ../shared/peers/wesng (WESNG= overrides; without it
# the side-by-side part is skipped and says so).
# Usage: bench/analyze.sh [HOSTS] [RUNS]   (defaults 10000 and 20)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-10000}
runs=${2:-20}
wesng=${WESNG:-../shared/peers/wesng}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
CGO_ENABLED=0 go build -o "$dir/kbplan" ./cmd/kbplan
# A systeminfo both tools read (wesng reads UTF-8 only).
one=testdata/analyze/ws2008-6003-x64-no-sha2.txt
plain="$dir/kbplan analyze --as-of 2026-11-25 $one"
expo="$dir/kbplan analyze --as-of 2026-11-25 --exposure --json $one"
rss() { /usr/bin/time -f '%M' -o "$dir/rss" "$@" >/dev/null 2>&1 || true; echo $(( $(tail -n 1 "$dir/rss") / 1024 )); }
if [ -f "$wesng/wes.py" ]; then
  wes="python3 $wesng/wes.py $one --definitions $wesng/definitions.zip"
  hyperfine -N -i --warmup 2 --runs "$runs" --export-json "$dir/side.json" "$plain" "$expo" "$wes" >&2
  python3 - "$dir/side.json" "$(rss $plain)" "$(rss $expo)" "$(rss $wes)" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
rss = sys.argv[2:5]
def mm(x): return min(x["times"]) * 1000, x["median"] * 1000
names = ["kbplan analyze", "kbplan analyze --exposure --json", "wesng"]
(wmin, wmed) = mm(r[2])
for i, x in enumerate(r):
    lo, med = mm(x)
    ratio = "" if i == 2 else "; wesng/kbplan %.0fx (min) %.0fx (median)" % (wmin / lo, wmed / med)
    print("%-33s min %8.1f ms, median %8.1f ms, peak RSS %4s MiB%s" % (names[i], lo, med, rss[i], ratio))
PY
else
  echo "wesng not found at $wesng (set WESNG=): side-by-side skipped" >&2
  hyperfine -N -i --warmup 2 --runs "$runs" "$plain" "$expo" >&2
fi

# A fleet: the in-scope real and hand-built inventories, each copied under
# many host names.
mkdir "$dir/fleet"
python3 - "$dir/fleet" "$n" <<'PY'
import sys, glob, os, re
out, n = sys.argv[1], int(sys.argv[2])
srcs = sorted(glob.glob("testdata/analyze/*.txt")) + [
    "inventory/systeminfo/testdata/vanilla/08-systeminfo-2008sp2-x64-standard-en-utf16le.txt",
    "inventory/systeminfo/testdata/wesng/srv_2008_rtm_x64_standard_en-us_systeminfo.txt",
    "inventory/systeminfo/testdata/wesng/vista_x64_sp2_systeminfo.txt",
    "testdata/hosts/systeminfo-ws2008sp2-x86-ru-cp866.txt",
    "testdata/hosts/systeminfo-ws2008sp2-x64-csv.txt"]
data = [open(s, "rb").read() for s in srcs]
for i in range(n):
    with open(os.path.join(out, "host%05d.txt" % i), "wb") as f:
        f.write(data[i % len(data)])
PY
# Written back to disk before any run is timed: the runs read the page
# cache, not the disk, and no writeback competes with the first.
sync
# The fleet summary (--csv) and the full plans (--jsonl, about 180 KB per
# host for a bare SP2 box: hundreds of steps), each FLEET_RUNS times
# (default 5) to /dev/null: hosts/s at the fastest and the median run, and
# the largest peak memory of the runs. Every input must be read (stderr
# empty); the output's size is measured once apart, untimed (counting it
# as it streams would put a second process on the two cores).
fruns=${FLEET_RUNS:-5}
for mode in csv jsonl "jsonl --exposure"; do
  bytes=$({ "$dir/kbplan" analyze --as-of 2026-11-25 --$mode "$dir/fleet" 2>/dev/null || true; } | wc -c)
  : > "$dir/runs"
  for _ in $(seq "$fruns"); do
    start=$(date +%s.%N)
    /usr/bin/time -f '%M' -o "$dir/fleet.rss" "$dir/kbplan" analyze --as-of 2026-11-25 --$mode "$dir/fleet" >/dev/null 2>"$dir/fleet.err" || true
    end=$(date +%s.%N)
    if [ -s "$dir/fleet.err" ]; then
      echo "fleet --$mode: inputs not read:" >&2
      head -n 5 "$dir/fleet.err" >&2
      exit 1
    fi
    echo "$start $end $(tail -n 1 "$dir/fleet.rss")" >> "$dir/runs"
  done
  python3 - "$dir/runs" "$mode" "$n" "$bytes" <<'PY'
import statistics, sys
runs = [l.split() for l in open(sys.argv[1])]
mode, hosts, size = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
rates = [hosts / (float(r[1]) - float(r[0])) for r in runs]
rss = max(int(r[2]) for r in runs) // 1024
print("fleet --%s: %d hosts, %d runs: %.0f hosts/s (fastest), %.0f hosts/s (median), peak RSS %d MiB, output %d MiB"
      % (mode, hosts, len(runs), max(rates), statistics.median(rates), rss, size >> 20))
PY
done
