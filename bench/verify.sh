#!/usr/bin/env bash
# kbplan verify versus osslsigncode verify on the same dual-signed (SHA-1 +
# nested SHA-256) cabinets, side by side in one hyperfine run: a 45 MB LZX
# cabinet and a small one; min and median of each and the ratios. OLD=path
# adds an older kbplan binary to the same run. Needs: hyperfine,
# osslsigncode, openssl, gcab.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
CGO_ENABLED=0 go build -o "$work/kbplan" ./cmd/kbplan
old=${OLD:-}
go test ./cab -run TestWriteFixtures -count=1 -fixtures "$work" >/dev/null
cd "$work"
printf '[req]\ndistinguished_name=dn\n[dn]\n[v3_ca]\nbasicConstraints=critical,CA:true\nkeyUsage=critical,keyCertSign\n[leaf]\nbasicConstraints=CA:false\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=codeSigning\n' > ca.cnf
openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 30 -subj /CN=BenchCA -config ca.cnf -extensions v3_ca 2>/dev/null
openssl req -newkey rsa:2048 -nodes -keyout leaf.key -out leaf.csr -subj /CN=BenchSigner 2>/dev/null
openssl x509 -req -in leaf.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out leaf.pem -days 30 -extfile ca.cnf -extensions leaf 2>/dev/null
head -c 20000 src/file1.text > small.txt && gcab -c -z small.cab small.txt
for c in lzx small; do
  osslsigncode sign -certs leaf.pem -key leaf.key -h sha1 -in $c.cab -out $c-1.cab >/dev/null
  osslsigncode sign -certs leaf.pem -key leaf.key -h sha256 -nest -in $c-1.cab -out $c-dual.cab >/dev/null
done
ls -l lzx-dual.cab small-dual.cab
for c in lzx small; do
  extra=()
  [ -n "$old" ] && extra=(-n "old kbplan verify ($c)" "$old verify --roots ca.pem $c-dual.cab")
  hyperfine -N --warmup 2 --runs 20 --export-json "side-$c.json" \
    -n "kbplan verify ($c)" "./kbplan verify --roots ca.pem $c-dual.cab" \
    -n "osslsigncode verify ($c)" "osslsigncode verify -CAfile ca.pem -in $c-dual.cab" "${extra[@]}" >&2
  python3 - "side-$c.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
o = r[1]
for x in r:
    lo, med = min(x["times"]) * 1000, x["median"] * 1000
    ratio = "" if x is o else "; osslsigncode/this %.2fx (min) %.2fx (median)" % (min(o["times"]) * 1000 / lo, o["median"] * 1000 / med)
    print("%-34s min %7.1f ms, median %7.1f ms%s" % (x["command"], lo, med, ratio))
PY
  /usr/bin/time -f "kbplan verify ($c): max RSS %M KiB" ./kbplan verify --roots ca.pem $c-dual.cab >/dev/null
  /usr/bin/time -f "osslsigncode verify ($c): max RSS %M KiB" osslsigncode verify -CAfile ca.pem -in $c-dual.cab >/dev/null
done
