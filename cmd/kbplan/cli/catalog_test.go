package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kbplan/kbplan/report"
)

func TestCatalogGolden(t *testing.T) {
	tests := []struct {
		golden string
		args   []string
		code   int
	}{
		{"catalog-show-KB4489887.json", []string{"catalog", "show", "KB4489887", "--json"}, ExitOK},
		{"catalog-show-KB4474419.txt", []string{"catalog", "show", "kb4474419"}, ExitOK},
		{"catalog-list-ssu.txt", []string{"catalog", "list", "--kind", "ssu"}, ExitOK},
		{"catalog-list-esu-prep.json", []string{"catalog", "list", "--kind", "esu-prep", "--json"}, ExitOK},
		{"catalog-validate.txt", []string{"catalog", "validate"}, ExitOK},
	}
	for _, tc := range tests {
		t.Run(tc.golden, func(t *testing.T) {
			out, errOut, code := run(t, "", tc.args...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d: %s", code, tc.code, errOut)
			}
			golden(t, tc.golden, out)
		})
	}
}

// TestCatalogShowBuild6003 is the acceptance check: the March 2019
// preview KB4489887 is the update that raised the build to 6003.
func TestCatalogShowBuild6003(t *testing.T) {
	out, errOut, code := run(t, "", "catalog", "show", "KB4489887", "--json")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var u report.UpdateJSON
	if err := json.Unmarshal([]byte(out), &u); err != nil {
		t.Fatal(err)
	}
	if u.Released == nil || *u.Released != "2019-03-19" || u.Kind != "preview-rollup" || u.RaisesBuildTo == nil || *u.RaisesBuildTo != 6003 || u.Revision != nil {
		t.Errorf("KB4489887 = %+v", u)
	}
}

func TestCatalogFileAndErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.csv")
	if err := os.WriteFile(bad, []byte("kb,title\nKB1,x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	broken := filepath.Join(dir, "broken.csv")
	data, err := os.ReadFile("../../../catalog/updates.csv")
	if err != nil {
		t.Fatal(err)
	}
	// Drop the September 2018 security-only update: validate must notice.
	var lines []string
	for _, l := range strings.Split(string(data), "\n") {
		if !strings.HasPrefix(l, "KB4457984,") {
			lines = append(lines, l)
		}
	}
	if err := os.WriteFile(broken, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		code int
		out  string
		err  string
	}{
		{"unknown KB", []string{"catalog", "show", "KB1"}, ExitUsage, "", "KB1 is not in the embedded catalog"},
		{"bad file", []string{"catalog", "validate", "--catalog", bad}, ExitUsage, "", "bad.csv line 1"},
		{"missing file", []string{"catalog", "list", "--catalog", filepath.Join(dir, "nope.csv")}, ExitUsage, "", "check the path"},
		{"broken file", []string{"catalog", "validate", "--catalog", broken}, ExitInvalid, "no security-only for x86 in 2018-09", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := run(t, "", tc.args...)
			if code != tc.code || !strings.Contains(out, tc.out) || !strings.Contains(errOut, tc.err) {
				t.Errorf("exit %d (want %d)\nstdout %q (want %q)\nstderr %q (want %q)", code, tc.code, out, tc.out, errOut, tc.err)
			}
		})
	}
}

func TestCatalogImport(t *testing.T) {
	out := filepath.Join(t.TempDir(), "cves.tsv.gz")
	stdout, errOut, code := run(t, "", "catalog", "import", "--wesng", "../../../catalog/internal/gen/data/wesng-cves-nt60.csv.gz", "--out", out)
	if code != ExitOK || !strings.Contains(stdout, "4202 CVEs") {
		t.Fatalf("exit %d: %s %s", code, stdout, errOut)
	}
	a := analyzeJSON(t, "--exposure", "--cves", out, "../../../testdata/analyze/ws2008-6003-x86-public-current.txt")
	if a.Exposure == nil || a.Exposure.Index != out || len(a.Exposure.Open) == 0 {
		t.Errorf("exposure from the imported index: %+v", a.Exposure)
	}
	if _, errOut, code := run(t, "", "catalog", "import", "--out", out); code != ExitUsage || !strings.Contains(errOut, "--wesng") {
		t.Errorf("import without --wesng: exit %d %s", code, errOut)
	}
}
