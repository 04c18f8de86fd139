#!/usr/bin/env bash
# Times `kbplan identify` as a whole process on real samples, and reports
# peak memory. wesng, the peer, cannot run here (it needs its definitions.zip
# from GitHub, which this network does not reach); its numbers on the same
# kind of file on this machine kind are recorded in the product brief
# (2.7 s, 566 MiB) and the ratios below are against those.
# Usage: bench/identify.sh   (needs hyperfine and GNU time: apt-get install -y hyperfine time)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(mktemp -d)/kbplan
CGO_ENABLED=0 go build -o "$bin" ./cmd/kbplan
samples=inventory/systeminfo/testdata
sysinfo=$samples/vanilla/08-systeminfo-2008sp2-x64-standard-en-utf16le.txt
big=inventory/wmi/testdata/wesng/vista_x64_sp2_qfe.txt

hyperfine -N --warmup 20 --runs 300 --export-json /tmp/kbplan-identify.json \
  "$bin identify $sysinfo" \
  "$bin identify --json $big" \
  "$bin identify --merge $samples/wesng/vista_x64_sp2_systeminfo.txt $big"

rss() { /usr/bin/time -f '%M' "$@" 2>&1 >/dev/null | tail -n 1; }
mean_ms=$(python3 -c 'import json;print("%.2f"%(json.load(open("/tmp/kbplan-identify.json"))["results"][0]["mean"]*1000))')
kib=$(rss "$bin" identify "$sysinfo")
echo
echo "identify one systeminfo (whole process): ${mean_ms} ms, peak RSS $((kib / 1024)) MiB"
python3 -c "print('ratio vs wesng (2.7 s, 566 MiB): %.0fx faster, %.0fx less memory' % (2700/$mean_ms, 566*1024/$kib))"
