package catalog

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestGeneratedCatalogIsFresh regenerates updates.csv from the curated
// inputs in internal/gen/data and manual.csv and compares it with the embedded file, so that nobody edits
// the generated file by hand or forgets to regenerate it.
func TestGeneratedCatalogIsFresh(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the generator")
	}
	out := filepath.Join(t.TempDir(), "updates.csv")
	cmd := exec.Command("go", "run", "./internal/gen", "-data", "internal/gen/data", "-out", out)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("generator: %v\n%s", err, msg)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, []byte(updatesCSV)) {
		t.Error("catalog/updates.csv differs from the generator's output: run go generate ./catalog and commit")
	}
}
