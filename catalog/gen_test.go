package catalog

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestGeneratedCatalogIsFresh regenerates updates.csv and files.csv from
// the curated inputs in internal/gen/data and manual.csv, and zcatalog.go
// from the CSV files, and compares them with the committed files, so that
// nobody edits a generated file by hand or forgets to regenerate it.
func TestGeneratedCatalogIsFresh(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the generator")
	}
	// Three runs: the generator must give the same files every time (map
	// order once made one IE edge change between runs).
	for run := range 3 {
		dir := t.TempDir()
		out, files := filepath.Join(dir, "updates.csv"), filepath.Join(dir, "files.csv")
		cmd := exec.Command("go", "run", "./internal/gen", "-data", "internal/gen/data", "-out", out, "-files", files)
		if msg, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("generator: %v\n%s", err, msg)
		}
		goOut := filepath.Join(dir, "zcatalog.go")
		cmd = exec.Command("go", "run", "./internal/compile", "-updates", "updates.csv", "-lifecycle", "lifecycle.csv", "-files", "files.csv", "-out", goOut)
		if msg, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("compiler: %v\n%s", err, msg)
		}
		compiledGo, err := os.ReadFile("zcatalog.go")
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range []struct{ path, embedded string }{{out, updatesCSV}, {files, filesCSV}, {goOut, string(compiledGo)}} {
			got, err := os.ReadFile(f.path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, []byte(f.embedded)) {
				t.Errorf("run %d: catalog/%s differs from the generator's output: run go generate ./catalog and commit (or a generator is not deterministic)", run+1, filepath.Base(f.path))
			}
		}
	}
}
