// Command gen builds exposure/cves.tsv.gz, kbplan's compact CVE index for
// the Windows NT 6.0 products, from MSRC data as distilled by wesng
// (catalog/internal/gen/data/wesng-cves-nt60.csv.gz, or a wesng definitions.zip
// through `kbplan catalog import --wesng`).
//
//	go generate ./exposure
package main

import (
	"bytes"
	"flag"
	"log"
	"os"

	"github.com/kbplan/kbplan/exposure"
)

func main() {
	in := flag.String("in", "../catalog/internal/gen/data/wesng-cves-nt60.csv.gz", "wesng CVE rows (CSV, gzip-compressed or plain)")
	out := flag.String("out", "cves.tsv.gz", "output index")
	goOut := flag.String("go", "", "also write the index, as read back from -out, as Go tables to this file (zindex.go)")
	flag.Parse()
	f, err := os.Open(*in)
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	idx, err := exposure.FromWesng(*in, f)
	if err != nil {
		log.Fatal(err)
	}
	w, err := os.Create(*out)
	if err != nil {
		log.Fatal(err)
	}
	if err := idx.Write(w); err != nil {
		log.Fatal(err)
	}
	if err := w.Close(); err != nil {
		log.Fatal(err)
	}
	if *goOut != "" {
		if err := writeGo(*out, *goOut); err != nil {
			log.Fatal(err)
		}
	}
	log.Printf("gen: %d CVEs, %d fixes written to %s", len(idx.CVEs), idx.Fixes(), *out)
}

// writeGo compiles the index file written into Go tables: what Read gives,
// so the compiled index and the file cannot differ.
func writeGo(index, goOut string) error {
	f, err := os.Open(index)
	if err != nil {
		return err
	}
	defer f.Close()
	idx, err := exposure.Read("embedded", f)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	if err := idx.WriteGo(&b, "cves.tsv.gz"); err != nil {
		return err
	}
	return os.WriteFile(goOut, b.Bytes(), 0o644)
}
