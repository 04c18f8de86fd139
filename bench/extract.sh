#!/usr/bin/env bash
# kbplan extract versus cabextract on the same cabinets, side by side in one
# hyperfine run: a 72 MiB LZX cabinet (window 2^21, E8 translation, all block
# types; written by the test encoder, since no Debian tool writes LZX) and
# the same files as an MSZIP cabinet made by gcab -z.
# Needs: hyperfine, cabextract, gcab.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
CGO_ENABLED=0 go build -o "$work/kbplan" ./cmd/kbplan
go test ./cab -run TestWriteFixtures -count=1 -fixtures "$work" >/dev/null
(cd "$work/src" && gcab -c -z "$work/mszip.cab" ./*)
ls -l "$work"/*.cab
for c in lzx mszip; do
  hyperfine -N --warmup 2 --runs 10 \
    --prepare "rm -rf $work/out-k $work/out-c" \
    -n "kbplan extract ($c)" "$work/kbplan extract $work/$c.cab $work/out-k" \
    -n "cabextract ($c)" "cabextract -q -d $work/out-c $work/$c.cab"
  rm -rf "$work/out-k" "$work/out-c"
  "$work/kbplan" extract "$work/$c.cab" "$work/out-k" >/dev/null
  cabextract -q -d "$work/out-c" "$work/$c.cab"
  diff -r "$work/out-k" "$work/out-c" && echo "outputs identical ($c)"
  /usr/bin/time -f "kbplan extract ($c): max RSS %M KiB" "$work/kbplan" extract "$work/$c.cab" "$work/out-k" >/dev/null
  /usr/bin/time -f "cabextract ($c): max RSS %M KiB" cabextract -q -d "$work/out-c" "$work/$c.cab"
done
