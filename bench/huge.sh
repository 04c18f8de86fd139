#!/usr/bin/env bash
# Feeds kbplan a 2 GiB systeminfo-shaped file (a header, then hotfix entries
# without end) and reports time and peak memory: hostile input must cost
# bounded memory. Usage: bench/huge.sh [SIZE_MIB]   (default 2048)
set -euo pipefail
cd "$(dirname "$0")/.."
size=${1:-2048}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
CGO_ENABLED=0 go build -o "$dir/kbplan" ./cmd/kbplan
python3 - "$dir/huge.txt" "$size" <<'PY'
import sys
path, mib = sys.argv[1], int(sys.argv[2])
head = b"Host Name:                 HUGE\r\nOS Name:                   Microsoftr Windows Serverr 2008 Standard \r\nOS Version:                6.0.6002 Service Pack 2 Build 6002\r\nSystem Type:               x64-based PC\r\nHotfix(s):                 9 Hotfix(s) Installed.\r\n"
block = b"".join(b"                           [%02d]: KB%d\r\n" % (i % 100, 1000000 + i * 7919 % 8999999) for i in range(100000))
with open(path, "wb") as f:
    f.write(head)
    left = mib << 20
    while left > 0:
        f.write(block[:left])
        left -= len(block)
PY
ls -l "$dir/huge.txt"
/usr/bin/time -f 'elapsed %e s, peak RSS %M KiB' "$dir/kbplan" identify "$dir/huge.txt" | head -n 12
