package main

import (
	"encoding/csv"
	"log"
	"os"
	"sort"
	"strings"
)

// writeFiles writes the Microsoft package files of the catalog's updates:
// updateVista's download lists give each file's Windows Update name (which
// carries its SHA-1 and revision) and URL. A file whose KB the catalog
// lacks is left out.
func writeFiles(path string, rows map[string]row, uv []map[string]string) {
	type file struct{ kb, arch, rev, name, url, sha1, src string }
	seen := map[string]bool{}
	var list []file
	for _, f := range uv {
		if _, ok := rows[f["kb"]]; !ok || f["file"] == "" || seen[f["file"]] {
			continue
		}
		seen[f["file"]] = true
		list = append(list, file{f["kb"], f["arch"], f["revision"], f["file"], f["url"], f["sha1"],
			strings.Replace(uvSource, "(catalog/internal/gen/data/updatevista.csv)", f["line"], 1)})
	}
	sort.Slice(list, func(i, j int) bool {
		a, b := list[i], list[j]
		if a.kb != b.kb {
			return a.kb < b.kb
		}
		return a.name < b.name
	})
	out, err := os.Create(path)
	if err != nil {
		log.Fatal(err)
	}
	w := csv.NewWriter(out)
	w.Write([]string{"kb", "arch", "revision", "name", "url", "sha1", "size", "source"})
	for _, f := range list {
		w.Write([]string{f.kb, f.arch, f.rev, f.name, f.url, f.sha1, "", f.src})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		log.Fatal(err)
	}
	if err := out.Close(); err != nil {
		log.Fatal(err)
	}
}
