package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	goldenfile "github.com/kbplan/kbplan/internal/golden"
	"github.com/kbplan/kbplan/internal/pkgtest"
	"github.com/kbplan/kbplan/report"
)

// samples holds the real systeminfo samples the systeminfo reader is tested
// on (SOURCES.md in each folder says where each comes from); qfeSamples the
// real wmic qfe outputs.
const (
	samples    = "../../../inventory/systeminfo/testdata"
	qfeSamples = "../../../inventory/wmi/testdata"
)

func run(t testing.TB, stdin string, args ...string) (string, string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	root := Root(strings.NewReader(stdin), &out, &errOut)
	root.SetArgs(args)
	code := 0
	if err := root.Execute(); err != nil {
		if ee, ok := err.(*ExitError); ok {
			code = ee.Code
		} else {
			errOut.WriteString(err.Error())
			code = ExitUsage
		}
	}
	return out.String(), errOut.String(), code
}

func inputs(t *testing.T) []string {
	t.Helper()
	var files []string
	for _, pat := range []string{samples + "/*/*.txt", qfeSamples + "/*/*.txt", "../../../testdata/hosts/*"} {
		m, err := filepath.Glob(pat)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	var out []string
	for _, f := range files {
		if !strings.Contains(f, "LICENSE") && !strings.HasSuffix(f, ".md") {
			out = append(out, f)
		}
	}
	if len(out) < 30 {
		t.Fatalf("found only %d inputs: are the readers' testdata folders complete?", len(out))
	}
	return out
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	goldenfile.Check(t, filepath.Join("testdata", "golden", name), []byte(got))
}

// TestIdentifyGolden runs `identify --json` and `identify` on every real
// sample and every hand-built input and compares with the golden files.
func TestIdentifyGolden(t *testing.T) {
	for _, f := range inputs(t) {
		base := filepath.Base(filepath.Dir(f)) + "__" + filepath.Base(f)
		t.Run(base, func(t *testing.T) {
			js, errOut, code := run(t, "", "identify", "--json", f)
			if code != ExitOK {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			js = strings.ReplaceAll(js, filepath.Dir(f)+"/", "")
			golden(t, base+".json", js)
			txt, _, _ := run(t, "", "identify", f)
			txt = strings.ReplaceAll(txt, filepath.Dir(f)+"/", "")
			golden(t, base+".txt", txt)
		})
	}
}

func TestIdentifyErrors(t *testing.T) {
	tests := []struct {
		name  string
		stdin string
		args  []string
		code  int
		want  []string
	}{
		{"not an inventory", "hello world\nthis is not systeminfo\n", []string{"identify", "-"}, ExitUsage,
			[]string{"-: not an inventory", `line 1 "hello world"`, "formats tried: systeminfo, wmic, powershell, reg, meterpreter, dxdiag, msinfo32, volatility, regripper, ver"}},
		{"empty", "", []string{"identify", "-"}, ExitUsage, []string{"-: the input is empty"}},
		{"missing file", "", []string{"identify", "testdata/no-such-file.txt"}, ExitUsage, []string{"no-such-file.txt", "check the path"}},
		{"no args", "", []string{"identify"}, ExitUsage, []string{"requires at least 1 arg"}},
		{"binary", "\x00\x01\x02\xff\xfe\x00garbage", []string{"identify", "-"}, ExitUsage, []string{"-: "}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, errOut, code := run(t, tc.stdin, tc.args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d (stderr %q)", code, tc.code, errOut)
			}
			for _, w := range tc.want {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr %q lacks %q", errOut, w)
				}
			}
		})
	}
}

// TestIdentifyMerge merges a 6002 systeminfo with a 6003 registry and
// expects the disagreement to be explained.
func TestIdentifyMerge(t *testing.T) {
	out, errOut, code := run(t, "", "identify", "--json", "--merge",
		"../../../testdata/hosts/systeminfo-ws2008sp2-x64-csv.txt", "../../../testdata/hosts/reg-query-currentversion.txt")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var h report.HostJSON
	if err := json.Unmarshal([]byte(out), &h); err != nil {
		t.Fatal(err)
	}
	if h.OS.Build == nil || *h.OS.Build != 6003 || h.OS.Revision == nil || *h.OS.Revision != 20489 {
		t.Errorf("build %v revision %v, want 6003.20489", h.OS.Build, h.OS.Revision)
	}
	if !strings.Contains(strings.Join(h.Warnings, "\n"), "has not restarted") {
		t.Errorf("no warning explains 6002 vs 6003: %q", h.Warnings)
	}
	if len(h.Hotfixes) != 3 {
		t.Errorf("hotfixes %v, want the 3 from systeminfo", h.Hotfixes)
	}
}

func TestVersion(t *testing.T) {
	out, _, code := run(t, "", "--version")
	if code != ExitOK || !strings.HasPrefix(out, "kbplan ") || !strings.Contains(out, "go1.") {
		t.Errorf("exit %d: %q", code, out)
	}
}

// TestUsageError: a missing argument names the command's usage and help.
func TestUsageError(t *testing.T) {
	var out, errOut bytes.Buffer
	root := Root(strings.NewReader(""), &out, &errOut)
	root.SetArgs([]string{"analyze"})
	cmd, err := root.ExecuteC()
	if err == nil {
		t.Fatal("no error for a missing argument")
	}
	msg := UsageError(cmd, err)
	for _, want := range []string{"requires at least 1 arg", "Usage: kbplan analyze", "kbplan analyze --help"} {
		if !strings.Contains(msg, want) {
			t.Errorf("%q lacks %q", msg, want)
		}
	}
}

// TestIdentifyPackedBundle: identify reads a zipped collector bundle as the
// host it is (it once read one as a ver banner in cp852), whatever its name.
func TestIdentifyPackedBundle(t *testing.T) {
	dir := t.TempDir()
	src := "../../../testdata/bundles/ws2008-6003-reboot-pending"
	p := filepath.Join(dir, "b.zip")
	os.WriteFile(p, pkgtest.ZipDir(t, src, ""), 0o644)
	folder, _, _ := run(t, "", "identify", "--json", src)
	packed, errOut, code := run(t, "", "identify", "--json", p)
	var hf, hp report.HostJSON
	json.Unmarshal([]byte(folder), &hf)
	if err := json.Unmarshal([]byte(packed), &hp); err != nil || code != ExitOK {
		t.Fatalf("exit %d %v: %s", code, err, errOut)
	}
	if *hp.Hostname != *hf.Hostname || hp.Format != "kbplan-bundle" || len(hp.Hotfixes) != len(hf.Hotfixes) {
		t.Errorf("zipped bundle reads as %v %v, the folder as %v %v", *hp.Hostname, hp.Format, *hf.Hostname, hf.Format)
	}
	if _, errOut, code := run(t, "", "analyze", "--as-of", asOf, p); code != ExitFindings {
		t.Errorf("analyze of the zip: exit %d %s", code, errOut)
	}
}
