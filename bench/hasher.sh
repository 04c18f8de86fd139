#!/usr/bin/env bash
# kbplan-sha256.js (the kit installer's last-resort SHA-256, JScript under
# Windows Script Host) in Wine's cscript, versus sha256sum, on the same
# random file. Usage: bench/hasher.sh [MIB] (default 4). Needs wine64.
set -euo pipefail
cd "$(dirname "$0")/.."
mib=${1:-4}
wine=${KBPLAN_WINE:-/usr/lib/wine/wine64}
work=$(mktemp -d)
export WINEPREFIX=$work/prefix WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml=" DISPLAY=
trap '"$(dirname "$wine")/wineserver" -k 2>/dev/null || true; rm -rf "$work"' EXIT
"$wine" wineboot --init >/dev/null 2>&1
cp kit/kbplan-sha256.js "$WINEPREFIX/drive_c/kbplan-sha256.js"
head -c $((mib * 1048576)) /dev/urandom > "$WINEPREFIX/drive_c/f.bin"
start=$(date +%s.%N)
got=$("$wine" cscript //nologo 'C:\kbplan-sha256.js' 'C:\f.bin' | tr -d '\r')
end=$(date +%s.%N)
want=$(sha256sum "$WINEPREFIX/drive_c/f.bin" | cut -c1-64)
[ "$got" = "$want" ] || { echo "hash differs: $got vs $want" >&2; exit 1; }
secs=$(echo "$end - $start" | bc -l)
printf 'kbplan-sha256.js in Wine cscript: %d MiB in %.1f s = %.3f MiB/s\n' "$mib" "$secs" "$(echo "$mib / $secs" | bc -l)"
/usr/bin/time -f 'sha256sum: %e s' sha256sum "$WINEPREFIX/drive_c/f.bin" >/dev/null
