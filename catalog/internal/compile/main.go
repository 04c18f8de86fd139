// Command compile writes the embedded catalog as Go tables (catalog's
// zcatalog.go): it parses updates.csv, lifecycle.csv and files.csv the way
// catalog.Load does and writes the result with Catalog.WriteGo. Run by go
// generate in package catalog.
//
// The generator builds package catalog, zcatalog.go included: after a
// change that the old zcatalog.go no longer compiles with (a field of
// Catalog or Update removed), delete zcatalog.go and run it again; the
// package builds without it (Default then parses the CSV files).
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"

	"github.com/kbplan/kbplan/catalog"
)

func main() {
	updates := flag.String("updates", "updates.csv", "the updates file")
	lifecycle := flag.String("lifecycle", "lifecycle.csv", "the lifecycle file")
	files := flag.String("files", "files.csv", "the files list")
	out := flag.String("out", "zcatalog.go", "the Go file to write")
	flag.Parse()
	if err := run(*updates, *lifecycle, *files, *out); err != nil {
		fmt.Fprintln(os.Stderr, "compile:", err)
		os.Exit(1)
	}
}

func run(updates, lifecycle, files, out string) error {
	read := func(name string) (*bytes.Reader, error) {
		b, err := os.ReadFile(name)
		return bytes.NewReader(b), err
	}
	u, err := read(updates)
	if err != nil {
		return err
	}
	l, err := read(lifecycle)
	if err != nil {
		return err
	}
	f, err := read(files)
	if err != nil {
		return err
	}
	fs, err := catalog.ParseFiles(files, f)
	if err != nil {
		return err
	}
	c, err := catalog.ParseWithFiles("embedded", u, l, fs)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	if err := c.WriteGo(&b, "updates.csv, lifecycle.csv and files.csv"); err != nil {
		return err
	}
	return os.WriteFile(out, b.Bytes(), 0o644)
}
