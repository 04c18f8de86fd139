#!/usr/bin/env bash
# kbplan verify versus osslsigncode verify on the same dual-signed (SHA-1 +
# nested SHA-256) cabinets, side by side in one hyperfine run: a 45 MB LZX
# cabinet and a small one. Needs: hyperfine, osslsigncode, openssl, gcab.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go build -o "$work/kbplan" ./cmd/kbplan
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
  hyperfine -N --warmup 2 --runs 15 \
    -n "kbplan verify ($c)" "./kbplan verify --roots ca.pem $c-dual.cab" \
    -n "osslsigncode verify ($c)" "osslsigncode verify -CAfile ca.pem -in $c-dual.cab"
  /usr/bin/time -f "kbplan verify ($c): max RSS %M KiB" ./kbplan verify --roots ca.pem $c-dual.cab >/dev/null
  /usr/bin/time -f "osslsigncode verify ($c): max RSS %M KiB" osslsigncode verify -CAfile ca.pem -in $c-dual.cab >/dev/null
done
