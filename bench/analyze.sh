#!/usr/bin/env bash
# Times `kbplan analyze`: one host end to end as a process, and a directory
# of 10,000 inventories (hosts/s, peak memory). wesng cannot run here (its
# definitions.zip comes from GitHub, which this network does not reach); the
# ratio is against its recorded 2.7 s and 566 MiB for one host
# (the product brief's anchors). Usage: bench/analyze.sh [HOSTS]   (default 10000)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-10000}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
go build -o "$dir/kbplan" ./cmd/kbplan
samples=inventory/systeminfo/testdata
one=$samples/vanilla/08-systeminfo-2008sp2-x64-standard-en-utf16le.txt

hyperfine -N -i --warmup 10 --runs 200 --export-json "$dir/one.json" "$dir/kbplan analyze --as-of 2026-11-25 --json $one" >&2 || true
one_ms=$(python3 -c 'import json,sys;print("%.2f"%(json.load(open(sys.argv[1]))["results"][0]["mean"]*1000))' "$dir/one.json")
one_kib=$( (/usr/bin/time -f '%M' "$dir/kbplan" analyze --as-of 2026-11-25 --json "$one" 2>&1 >/dev/null || true) | tail -n 1)

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
echo "one host, whole process: ${one_ms} ms, peak RSS $((one_kib / 1024)) MiB (wesng 2.7 s and 566 MiB: $(python3 -c "print('%.0fx faster, %.0fx less memory' % (2700/$one_ms, 566*1024/$one_kib))"))"
# The fleet summary (--csv) and the full plans (--jsonl, about 100 KB per
# host for a bare SP2 box: hundreds of steps).
for mode in csv jsonl; do
  start=$(date +%s.%N)
  /usr/bin/time -f '%M' -o "$dir/fleet.rss" "$dir/kbplan" analyze --as-of 2026-11-25 --$mode "$dir/fleet" > "$dir/out" || true
  end=$(date +%s.%N)
  hosts=$(python3 -c "import sys; print(sum(1 for _ in open(sys.argv[1])) - (1 if sys.argv[2] == 'csv' else 0))" "$dir/out" "$mode")
  python3 -c "import sys; s,e,h,r,b=float(sys.argv[1]),float(sys.argv[2]),int(sys.argv[3]),int(sys.argv[4]),int(sys.argv[5]); print('fleet --%s: %d hosts in %.2f s = %.0f hosts/s, peak RSS %d MiB, output %d MiB' % (sys.argv[6], h, e-s, h/(e-s), r//1024, b>>20))" "$start" "$end" "$hosts" "$(tail -n 1 "$dir/fleet.rss")" "$(stat -c %s "$dir/out")" "$mode"
done
