// Command bombgen writes the decompression bombs bench/bombs.sh uploads:
// zip.zip, about 1 MiB of deflate that inflates to 1 GiB of zeros, and
// cab.cab, the 3.6 MB cabinet of 65,535 MSZIP blocks (2 GiB) with one
// file at its last byte named as a bundle file.
//
//	bombgen DIR
package main

import (
	"archive/zip"
	"fmt"
	"os"
	"path/filepath"

	"github.com/kbplan/kbplan/internal/pkgtest"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: bombgen DIR")
		os.Exit(2)
	}
	dir := os.Args[1]
	f, err := os.Create(filepath.Join(dir, "zip.zip"))
	if err != nil {
		fail(err)
	}
	zw := zip.NewWriter(f)
	w, err := zw.Create("kbplan-bundle.txt")
	if err != nil {
		fail(err)
	}
	zero := make([]byte, 1<<20)
	for range 1024 {
		w.Write(zero)
	}
	if err := zw.Close(); err != nil {
		fail(err)
	}
	f.Close()
	cab := pkgtest.CabBomb(65535, []pkgtest.BombFile{{Name: "kbplan-bundle.txt", Offset: 65535*32768 - 1, Size: 1}}, nil)
	if err := os.WriteFile(filepath.Join(dir, "cab.cab"), cab, 0o644); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "bombgen:", err)
	os.Exit(1)
}
