package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/kbplan/kbplan/assess"
	"github.com/kbplan/kbplan/catalog"
	"github.com/kbplan/kbplan/exposure"
	"github.com/kbplan/kbplan/fleet"
	"github.com/kbplan/kbplan/inventory/input"
	"github.com/kbplan/kbplan/report"
)

const asOf = "2026-11-25"

type scenario struct {
	name  string
	flags []string
	files []string
	code  int
}

// frozenCatalog is assess's small test catalog: the scenarios run on it so
// that a new month in the embedded catalog rewrites no golden file; the
// realScenarios below run end to end on the embedded catalog.
const frozenCatalog = "../../../assess/testdata/catalog.csv"

// realScenarios run on the embedded catalog, the only goldens a new catalog
// month may change.
var realScenarios = map[string]bool{
	"6002-x64-bare": true, "6003-x64-no-sha2": true, // bare, and mid-2019 (the May 2019 rollup)
	"6003-x86-public-current": true, // the January 2020 rollup
	"6003-x64-esu":            true, "6003-x64-azure-esu": true, "vista-sp2": true,
}

var scenarios = []scenario{
	{"6001-x64-rtm", nil, []string{samples + "/wesng/srv_2008_rtm_x64_standard_en-us_systeminfo.txt"}, ExitToDo},
	{"6001-x86-rtm", nil, []string{samples + "/wesng/srv_2008_rtm_x86_standard_en-us_systeminfo.txt"}, ExitToDo},
	{"6002-x64-bare", nil, []string{samples + "/vanilla/08-systeminfo-2008sp2-x64-standard-en-utf16le.txt"}, ExitToDo},
	{"6002-x64-missed-restart", nil, []string{"../../../testdata/analyze/ws2008-6002-x64-missed-restart.txt"}, ExitToDo},
	{"6003-x64-no-sha2", nil, []string{"../../../testdata/analyze/ws2008-6003-x64-no-sha2.txt"}, ExitToDo},
	{"6003-x86-public-current", nil, []string{"../../../testdata/analyze/ws2008-6003-x86-public-current.txt"}, ExitToDo},
	{"6003-x64-esu", []string{"--esu"}, []string{"../../../testdata/analyze/ws2008-6003-x64-esu-prepared.txt"}, ExitToDo},
	{"6003-x64-azure-esu", []string{"--esu=azure"}, []string{"../../../testdata/analyze/ws2008-6003-x64-esu-prepared.txt"}, ExitToDo},
	{"6003-x64-esu-unprepared", []string{"--esu"}, []string{"../../../testdata/analyze/ws2008-6003-x64-no-sha2.txt"}, ExitToDo},
	{"6003-x64-security-only", []string{"--strategy", "security-only"}, []string{"../../../testdata/analyze/ws2008-6003-x64-security-only.txt"}, ExitToDo},
	{"6003-x64-security-only-as-of-2019", []string{"--strategy", "security-only", "--as-of", "2019-08-01"}, []string{"../../../testdata/analyze/ws2008-6003-x64-security-only.txt"}, ExitToDo},
	{"6003-x64-build-without-updates", nil, []string{"../../../testdata/analyze/ws2008-6003-x64-build-without-updates.txt"}, ExitToDo},
	{"6002-ia64", nil, []string{"../../../testdata/analyze/ws2008-6002-ia64-bare.txt"}, ExitToDo},
	{"6003-web-esu", []string{"--esu"}, []string{"../../../testdata/analyze/ws2008-6003-x64-web-edition.txt"}, ExitToDo},
	{"6003-x86-ru-merged", nil, []string{"../../../testdata/hosts/systeminfo-ws2008sp2-x86-ru-cp866.txt", "../../../testdata/hosts/wmic-qfe-list-full-utf16le-bom.txt"}, ExitToDo},
	{"vista-sp2", nil, []string{samples + "/wesng/vista_x64_sp2_systeminfo.txt"}, ExitToDo},
	{"vista-rtm", nil, []string{samples + "/wesng/vista_x64_sp0_systeminfo.txt"}, ExitToDo},
	{"2008r2-out-of-scope", nil, []string{samples + "/wesng/srv_2008r2_sp1_x64_standard_en-us_systeminfo.txt"}, ExitOK},
	{"ver-only", nil, []string{"../../../testdata/hosts/ver-ru-cp866.txt"}, ExitToDo},
}

// TestAnalyzeGolden runs analyze on every scenario, as JSON and as text.
func TestAnalyzeGolden(t *testing.T) {
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			flags, name := sc.flags, "analyze-"+sc.name
			if !realScenarios[sc.name] {
				flags, name = append([]string{"--catalog", frozenCatalog}, flags...), "analyze-frozen-"+sc.name
			}
			args := append(append([]string{"analyze", "--as-of", asOf}, flags...), sc.files...)
			txt, errOut, code := run(t, "", args...)
			if code != sc.code {
				t.Fatalf("exit %d, want %d: %s", code, sc.code, errOut)
			}
			golden(t, name+".txt", relPaths(txt))
			js, _, _ := run(t, "", append([]string{"analyze", "--json", "--as-of", asOf}, append(flags, sc.files...)...)...)
			golden(t, name+".json", relPaths(js))
		})
	}
}

func relPaths(s string) string {
	for _, p := range []string{samples + "/wesng/", samples + "/vanilla/", "../../../testdata/analyze/", "../../../testdata/hosts/"} {
		s = strings.ReplaceAll(s, p, "")
	}
	return s
}

func analyzeJSON(t *testing.T, args ...string) report.AssessmentJSON {
	t.Helper()
	out, errOut, _ := run(t, "", append([]string{"analyze", "--json", "--as-of", asOf}, args...)...)
	var as []report.AssessmentJSON
	if err := json.Unmarshal([]byte(out), &as); err != nil || len(as) != 1 {
		t.Fatalf("%v (%d hosts): %s %s", err, len(as), out, errOut)
	}
	return as[0]
}

func stepKBs(a report.AssessmentJSON) []string {
	var out []string
	for _, s := range a.Plan.Steps {
		out = append(out, s.KB)
	}
	return out
}

func findingIDs(a report.AssessmentJSON) string {
	var out []string
	for _, f := range a.Findings {
		out = append(out, f.ID)
	}
	return strings.Join(out, " ")
}

func index(l []string, s string) int {
	for i, x := range l {
		if x == s {
			return i
		}
	}
	return -1
}

// TestAnalyzeRules checks the plan's rules directly, beside the goldens.
func TestAnalyzeRules(t *testing.T) {
	dir := "../../../testdata/analyze/"
	t.Run("SP1 host gets SP2 first, then SSU, SHA-2 with a restart, newest SSU, rollup last", func(t *testing.T) {
		a := analyzeJSON(t, samples+"/wesng/srv_2008_rtm_x64_standard_en-us_systeminfo.txt")
		kbs := stepKBs(a)
		order := []string{"KB948465", "KB4493730", "KB4474419", "KB4536953", "KB4534303"}
		last := -1
		for _, kb := range order {
			i := index(kbs, kb)
			if i <= last {
				t.Fatalf("%s at %d, after %d: order %v", kb, i, last, kbs[:5])
			}
			last = i
		}
		if kbs[len(kbs)-1] != "KB4534303" {
			t.Errorf("the rollup is not last: %v", kbs[len(kbs)-3:])
		}
		if !a.Plan.Steps[index(kbs, "KB4474419")].RebootAfter || !a.Plan.Steps[0].RebootAfter {
			t.Error("SP2 and SHA-2 must be followed by a restart")
		}
	})
	t.Run("without ESU the plan stops at 2020-01 and says why", func(t *testing.T) {
		a := analyzeJSON(t, dir+"ws2008-6003-x64-no-sha2.txt")
		for _, s := range a.Plan.Steps {
			if s.Released != nil && *s.Released > "2020-01-14" && s.Kind != "standalone" {
				t.Errorf("%s (%s) is after the last public update", s.KB, *s.Released)
			}
		}
		if !strings.Contains(findingIDs(a), "no-esu") {
			t.Errorf("no no-esu finding: %s", findingIDs(a))
		}
	})
	t.Run("ESU host gets prep, newest SSU and the January 2023 rollup", func(t *testing.T) {
		a := analyzeJSON(t, "--esu", dir+"ws2008-6003-x64-esu-prepared.txt")
		kbs := stepKBs(a)
		if kbs[len(kbs)-1] != "KB5022340" || index(kbs, "KB5016129") < 0 || index(kbs, "KB4538484") >= 0 {
			t.Errorf("plan %v", kbs)
		}
	})
	t.Run("security-only plans every missing month and no rollup", func(t *testing.T) {
		a := analyzeJSON(t, "--strategy", "security-only", dir+"ws2008-6003-x64-security-only.txt")
		months := 0
		for _, s := range a.Plan.Steps {
			switch s.Kind {
			case "rollup":
				t.Errorf("rollup %s in a security-only plan", s.KB)
			case "security-only":
				months++
			}
		}
		// 2019-07 to 2020-01: seven months.
		if months != 7 || *a.PatchLevel != "2019-06" {
			t.Errorf("%d security-only steps, patch level %v", months, *a.PatchLevel)
		}
	})
	t.Run("missed restart is critical", func(t *testing.T) {
		a := analyzeJSON(t, dir+"ws2008-6002-x64-missed-restart.txt")
		if a.Findings[0].ID != "build-6002-with-6003-update" || a.Findings[0].Severity != "critical" {
			t.Errorf("first finding %+v", a.Findings[0])
		}
	})
	t.Run("never a superseded update, never twice", func(t *testing.T) {
		for _, f := range []string{dir + "ws2008-6003-x64-no-sha2.txt", samples + "/wesng/vista_x64_sp2_systeminfo.txt"} {
			a := analyzeJSON(t, "--esu=azure", f)
			seen := map[string]bool{}
			for _, s := range a.Plan.Steps {
				if seen[s.KB] {
					t.Errorf("%s twice", s.KB)
				}
				seen[s.KB] = true
			}
			out, _, _ := run(t, "", "catalog", "list", "--json")
			var us []report.UpdateJSON
			if err := json.Unmarshal([]byte(out), &us); err != nil {
				t.Fatal(err)
			}
			for _, u := range us {
				if !seen[u.KB] {
					continue
				}
				for _, by := range u.SupersededBy {
					if seen[by] && u.Kind != "ssu" {
						t.Errorf("%s planned with its superseder %s", u.KB, by)
					}
				}
			}
		}
	})
	t.Run("Vista gets only Vista updates and Vista's lifecycle", func(t *testing.T) {
		a := analyzeJSON(t, samples+"/wesng/vista_x64_sp2_systeminfo.txt")
		if a.Lifecycle.Product != "vista" || a.Lifecycle.Ends != "2017-04-11" {
			t.Errorf("lifecycle %+v", a.Lifecycle)
		}
		for _, s := range a.Plan.Steps {
			if s.Kind == "rollup" || s.Kind == "security-only" {
				t.Errorf("%s (%s) is a Server 2008 monthly update", s.KB, s.Kind)
			}
		}
	})
	t.Run("out of scope gets no plan", func(t *testing.T) {
		a := analyzeJSON(t, samples+"/wesng/srv_2008r2_sp1_x64_standard_en-us_systeminfo.txt")
		if a.InScope || len(a.Plan.Steps) != 0 || a.Findings[0].ID != "out-of-scope" {
			t.Errorf("%+v", a.Findings)
		}
	})
}

func TestAnalyzeDirectoryAndFormats(t *testing.T) {
	dir := "../../../testdata/analyze"
	out, errOut, code := run(t, "", "analyze", "--csv", "--as-of", asOf, dir)
	if code != ExitToDo {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	files, _ := filepath.Glob(dir + "/*.txt")
	if len(lines) != len(files)+1 || !strings.HasPrefix(lines[0], "hostname,source,product") {
		t.Errorf("csv has %d lines for %d files:\n%s", len(lines), len(files), out)
	}
	html := filepath.Join(t.TempDir(), "r.html")
	if _, errOut, code := run(t, "", "analyze", "--jsonl", "--html", html, "--as-of", asOf, dir); code != ExitToDo {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if _, _, code := run(t, "", "analyze", "--json", "--csv", dir); code != ExitUsage {
		t.Errorf("--json --csv: exit %d", code)
	}
	if _, errOut, code := run(t, "", "analyze", "--esu=forever", dir); code != ExitUsage || !strings.Contains(errOut, "--esu") {
		t.Errorf("--esu=forever: exit %d %s", code, errOut)
	}
}

func TestRollbackGolden(t *testing.T) {
	host := "../../../testdata/analyze/ws2008-6003-x64-esu-prepared.txt"
	tests := []struct {
		golden string
		args   []string
		want   string
	}{
		{"rollback-sha2.txt", []string{"rollback", "--esu", "--as-of", asOf, "KB4474419", host}, "KB5003661"},
		{"rollback-ssu.txt", []string{"rollback", "KB4580971", host}, "cannot be uninstalled"},
		{"rollback-rollup.json", []string{"rollback", "--json", "--esu", "--as-of", asOf, "KB5003661", host}, `"buildStays": 6003`},
		{"rollback-not-installed.txt", []string{"rollback", "KB4534303", host}, "nothing to uninstall"},
	}
	for _, tc := range tests {
		t.Run(tc.golden, func(t *testing.T) {
			out, errOut, code := run(t, "", tc.args...)
			if code != ExitOK || !strings.Contains(out, tc.want) {
				t.Fatalf("exit %d, output lacks %q:\n%s%s", code, tc.want, out, errOut)
			}
			golden(t, tc.golden, out)
		})
	}
}

func TestAnalyzeExposureGolden(t *testing.T) {
	tests := []struct {
		golden string
		args   []string
	}{
		{"exposure-6003-x86-public-current.txt", []string{"--exposure", "../../../testdata/analyze/ws2008-6003-x86-public-current.txt"}},
		{"exposure-6003-x64-esu-critical-exploited.txt", []string{"--exposure", "--esu", "--severity", "Critical", "--exploited", "../../../testdata/analyze/ws2008-6003-x64-esu-prepared.txt"}},
	}
	for _, tc := range tests {
		t.Run(tc.golden, func(t *testing.T) {
			out, errOut, code := run(t, "", append([]string{"analyze", "--as-of", asOf}, tc.args...)...)
			if code != ExitToDo {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			golden(t, tc.golden, relPaths(out))
		})
	}
	// JSON: the exposure object is there, with MS17-010 open on a bare box.
	a := analyzeJSON(t, "--exposure", samples+"/vanilla/08-systeminfo-2008sp2-x64-standard-en-utf16le.txt")
	if a.Exposure == nil || len(a.Exposure.Open) == 0 {
		t.Fatal("no exposure in the JSON")
	}
	found := false
	for _, e := range a.Exposure.Worst(len(a.Exposure.CVEs)) {
		if e.ID == "CVE-2017-0144" && e.KB != nil && e.Severity == "Critical" && e.Exploits > 0 {
			found = true
		}
	}
	if !found {
		t.Error("CVE-2017-0144 is not open on a bare SP2 host")
	}
	if _, errOut, code := run(t, "", "analyze", "--exposure", "--severity", "High", samples+"/vanilla/08-systeminfo-2008sp2-x64-standard-en-utf16le.txt"); code != ExitUsage || !strings.Contains(errOut, "--severity") {
		t.Errorf("--severity High: exit %d %s", code, errOut)
	}
}

func TestExplainFlag(t *testing.T) {
	bare := samples + "/vanilla/08-systeminfo-2008sp2-x64-standard-en-utf16le.txt"
	out, errOut, code := run(t, "", "analyze", "--as-of", asOf, "--explain", "kb4012598", bare)
	if code != ExitToDo || !strings.Contains(out, "WIN-1EYJ4CMP38T: KB4012598 is replaced") || !strings.Contains(out, "KB4018466 supersedes KB4012598") {
		t.Errorf("exit %d\n%s%s", code, out, errOut)
	}
	js, _, _ := run(t, "", "analyze", "--as-of", asOf, "--json", "--explain", "KB4534303", bare)
	var e report.ExplanationJSON
	if err := json.Unmarshal([]byte(js), &e); err != nil || e.Status != "planned" || e.KB != "KB4534303" {
		t.Errorf("%v %+v: %s", err, e, js)
	}
	if _, errOut, code := run(t, "", "analyze", "--assume", "ie10", bare); code != ExitUsage || !strings.Contains(errOut, `unknown component "ie10"`) {
		t.Errorf("--assume ie10: exit %d %s", code, errOut)
	}
}

// TestExitCodes: each code means one thing (README "Exit codes").
func TestExitCodes(t *testing.T) {
	bare := samples + "/vanilla/08-systeminfo-2008sp2-x64-standard-en-utf16le.txt"
	empty := t.TempDir()
	noInventory := t.TempDir()
	os.WriteFile(filepath.Join(noInventory, "notes.txt"), []byte("hello\n"), 0o644)
	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"something to install", []string{"analyze", "--as-of", asOf, bare}, ExitFindings, ""},
		{"nothing to install (out of scope)", []string{"analyze", "--as-of", asOf, samples + "/wesng/srv_2008r2_sp1_x64_standard_en-us_systeminfo.txt"}, ExitOK, ""},
		{"an empty folder is no inventory", []string{"analyze", empty}, ExitUsage, "no inventory in it"},
		{"a folder of other files", []string{"analyze", noInventory}, ExitUsage, "not an inventory"},
		{"bad usage", []string{"analyze", "--strategy", "weekly", bare}, ExitUsage, "--strategy"},
		{"--html - with --json", []string{"analyze", "--html", "-", "--json", bare}, ExitUsage, "--html - prints"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, errOut, code := run(t, "", tc.args...)
			if code != tc.code || !strings.Contains(errOut, tc.stderr) {
				t.Errorf("exit %d, want %d; stderr %q, want %q", code, tc.code, errOut, tc.stderr)
			}
		})
	}
}

// failWriter fails every write, as a full disk does.
type failWriter struct{ n int }

func (w *failWriter) Write(p []byte) (int, error) {
	w.n++
	return 0, errors.New("no space left on device")
}

// TestOutputFailure: a failed write is kbplan failing (exit 1), said once.
func TestOutputFailure(t *testing.T) {
	var errOut bytes.Buffer
	w := &failWriter{}
	root := Root(strings.NewReader(""), w, &errOut)
	root.SetArgs([]string{"analyze", "--json", "--as-of", asOf, samples + "/vanilla/08-systeminfo-2008sp2-x64-standard-en-utf16le.txt", "../../../testdata/analyze/"})
	err := root.Execute()
	var ee *ExitError
	if !errors.As(err, &ee) || ee.Code != ExitFailure {
		t.Fatalf("error %v, want exit %d", err, ExitFailure)
	}
	if n := strings.Count(errOut.String(), "no space left on device"); n != 1 {
		t.Errorf("the write error is said %d times:\n%s", n, errOut.String())
	}
	if w.n != 1 {
		t.Errorf("%d writes after the first failure, want none", w.n-1)
	}
}

// TestHTMLToStdout: --html - prints the page, and nothing else, on stdout.
func TestHTMLToStdout(t *testing.T) {
	out, errOut, code := run(t, "", "analyze", "--html", "-", "--as-of", asOf, samples+"/vanilla/08-systeminfo-2008sp2-x64-standard-en-utf16le.txt")
	if code != ExitFindings || !strings.HasPrefix(out, "<!doctype html>") || strings.Contains(out, "Patched as of  ") {
		t.Errorf("exit %d %s: %.200s", code, errOut, out)
	}
	if _, err := os.Stat("-"); err == nil {
		t.Error("a file named - was written")
	}
}

// TestAnalyzeAndDashboardAgree: for every host in testdata, the fleet's
// summary row says what analyze says (one summary, computed in assess).
func TestAnalyzeAndDashboardAgree(t *testing.T) {
	c, err := catalog.Default()
	if err != nil {
		t.Fatal(err)
	}
	x, err := exposure.Default()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	f := &fleet.Fleet{Catalog: c, Index: x, Now: func() time.Time { return now }}
	var inputs []string
	for _, pat := range []string{"../../../testdata/analyze/*.txt", "../../../testdata/hosts/systeminfo-*", "../../../testdata/bundles/*"} {
		m, _ := filepath.Glob(pat)
		inputs = append(inputs, m...)
	}
	if len(inputs) < 15 {
		t.Fatalf("%d inputs", len(inputs))
	}
	for _, in := range inputs {
		t.Run(filepath.Base(in), func(t *testing.T) {
			a := analyzeJSON(t, in)
			h, err := readInput(strings.NewReader(""), in)
			if err != nil {
				t.Fatal(err)
			}
			r := f.Row(f.Assess(h, true), now)
			s := a.Summary
			if r.Steps != s.Steps || r.Reboots != s.Reboots || r.Critical != s.Critical || r.SSUCurrent != s.SSUCurrent ||
				r.RebootPending != s.RebootPending || r.SHA2 != s.SHA2 || r.ESUPrepared != s.ESUPrepared || r.InScope != a.InScope {
				t.Errorf("dashboard row %+v\nanalyze summary %+v", r, s)
			}
			if s.Steps != len(a.Plan.Steps) || s.Reboots != a.Plan.Reboots {
				t.Errorf("summary %d steps %d restarts, plan %d %d", s.Steps, s.Reboots, len(a.Plan.Steps), a.Plan.Reboots)
			}
		})
	}
}

// TestJSONLinesExposure: with --exposure, JSON lines start with the CVE
// index's line, every later line is an assessment whose exposure names its
// CVEs by ids that line lists, and no assessment line repeats the details;
// --json keeps them in each document, the sets' CVEs and no others.
func TestJSONLinesExposure(t *testing.T) {
	files := []string{"../../../testdata/analyze/ws2008-6003-x86-public-current.txt", samples + "/vanilla/08-systeminfo-2008sp2-x64-standard-en-utf16le.txt"}
	for _, exposureFlag := range []bool{true, false} {
		args := []string{"analyze", "--as-of", asOf, "--jsonl"}
		if exposureFlag {
			args = append(args, "--exposure")
		}
		out, errOut, code := run(t, "", append(args, files...)...)
		if code != ExitToDo {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		if !exposureFlag {
			if len(lines) != len(files) || strings.Contains(lines[0], `"cveIndex"`) {
				t.Errorf("without --exposure: %d lines, first %.80s", len(lines), lines[0])
			}
			continue
		}
		if len(lines) != len(files)+1 {
			t.Fatalf("%d lines for %d hosts, want the CVE line and one per host", len(lines), len(files))
		}
		var index report.CVEIndexJSON
		if err := json.Unmarshal([]byte(lines[0]), &index); err != nil || index.CVEIndex != "embedded" || len(index.CVEs) < 4000 {
			t.Fatalf("first line: %v, index %q, %d CVEs", err, index.CVEIndex, len(index.CVEs))
		}
		known := map[string]bool{}
		for _, c := range index.CVEs {
			known[c.ID] = true
		}
		for _, l := range lines[1:] {
			var a report.AssessmentJSON
			if err := json.Unmarshal([]byte(l), &a); err != nil || a.Exposure == nil {
				t.Fatalf("assessment line: %v", err)
			}
			if a.Exposure.CVEs != nil {
				t.Errorf("%s: an assessment line repeats %d CVE details", *a.Host.Hostname, len(a.Exposure.CVEs))
			}
			n := 0
			for _, set := range append(a.Exposure.Open, a.Exposure.Unfixable...) {
				for _, id := range set.CVEs {
					n++
					if !known[id] {
						t.Errorf("%s refers to %s, which the first line does not list", *a.Host.Hostname, id)
					}
				}
			}
			if n != a.Exposure.Counts.Open+a.Exposure.Counts.Unfixable {
				t.Errorf("%s: the sets name %d CVEs, the counts say %+v", *a.Host.Hostname, n, a.Exposure.Counts)
			}
		}
	}
	// --json: one document per host with the details of its CVEs, once.
	a := analyzeJSON(t, "--exposure", files[1])
	listed := map[string]bool{}
	for _, set := range append(a.Exposure.Open, a.Exposure.Unfixable...) {
		for _, id := range set.CVEs {
			listed[id] = true
		}
	}
	seen := map[string]bool{}
	for _, c := range a.Exposure.CVEs {
		if seen[c.ID] || !listed[c.ID] {
			t.Errorf("%s: listed twice or in no set", c.ID)
		}
		seen[c.ID] = true
	}
	if len(seen) != len(listed) {
		t.Errorf("%d CVEs in the sets, %d with details", len(listed), len(seen))
	}
}

// TestCSVExposureCounts: --csv --exposure (which computes counts only) gives
// each host the counts the full exposure of --jsonl --exposure has, with
// and without the filters, and with --html beside it (lists needed).
func TestCSVExposureCounts(t *testing.T) {
	dir := "../../../testdata/analyze"
	for _, extra := range [][]string{nil, {"--severity", "Critical"}, {"--exploited"}, {"--html", filepath.Join(t.TempDir(), "r.html")}} {
		args := append([]string{"analyze", "--as-of", asOf, "--exposure"}, extra...)
		csvOut, errOut, code := run(t, "", append(append(args, "--csv"), dir)...)
		if code != ExitToDo {
			t.Fatalf("%v --csv: exit %d: %s", extra, code, errOut)
		}
		jsonl, errOut, code := run(t, "", append(append(args, "--jsonl"), dir)...)
		if code != ExitToDo {
			t.Fatalf("%v --jsonl: exit %d: %s", extra, code, errOut)
		}
		want := map[string]string{}
		for _, l := range strings.Split(strings.TrimSpace(jsonl), "\n")[1:] {
			var a report.AssessmentJSON
			if err := json.Unmarshal([]byte(l), &a); err != nil {
				t.Fatal(err)
			}
			if a.Exposure == nil {
				continue // out of scope: no exposure
			}
			want[a.Host.Source] = fmt.Sprintf("%d,%d", a.Exposure.Counts.Open, a.Exposure.Counts.Unfixable)
		}
		rows := strings.Split(strings.TrimSpace(csvOut), "\n")[1:]
		if len(rows) != len(want) || len(want) == 0 {
			t.Fatalf("%v: %d CSV rows, %d hosts with an exposure", extra, len(rows), len(want))
		}
		for _, r := range rows {
			f := strings.Split(r, ",")
			if got := strings.Join(f[len(f)-2:], ","); got != want[f[1]] || got == "0,0" && extra == nil {
				t.Errorf("%v: %s: CSV counts %s, JSON lines %s", extra, f[1], got, want[f[1]])
			}
		}
	}
}

// TestAnalyzeAllStreams: a result is handed over as soon as it and those
// before it are ready, not when the batch ends, and analyzeAll says when it
// is about to wait (the caller flushes stdout then). The second job reads
// a pipe the test fills only once the first job's result came: were
// results held back, the test would time out instead.
func TestAnalyzeAllStreams(t *testing.T) {
	c, err := catalog.Default()
	if err != nil {
		t.Fatal(err)
	}
	inv := "../../../testdata/analyze/ws2008-6003-x64-no-sha2.txt"
	body, err := os.ReadFile(inv)
	if err != nil {
		t.Fatal(err)
	}
	pr, pw := io.Pipe()
	jobs := []input.Job{{Paths: []string{inv}, Listed: true}, {Paths: []string{"-"}}}
	first := make(chan struct{})
	var emitted []string
	waits := 0
	done := make(chan struct{})
	go func() {
		defer close(done)
		analyzeAll(pr, jobs, c, assess.Options{AsOf: catalog.Date{Year: 2026, Month: 11, Day: 25}}, nil,
			func(a assess.Assessment, _ []byte, errs []error) {
				if len(errs) > 0 {
					t.Errorf("errors: %v", errs)
				}
				emitted = append(emitted, fmt.Sprintf("%s@%d", a.Host.Source, waits))
				if len(emitted) == 1 {
					close(first)
				}
			}, func() { waits++ })
	}()
	select {
	case <-first:
	case <-time.After(30 * time.Second):
		t.Fatal("the first job's result was not handed over while the second job waited for its input")
	}
	pw.Write(body)
	pw.Close()
	<-done
	if len(emitted) != 2 || !strings.HasPrefix(emitted[0], inv+"@") || !strings.HasPrefix(emitted[1], "-@") || emitted[1] == "-@0" {
		t.Errorf("emitted %q: want the file, then stdin after at least one wait", emitted)
	}
}

// TestBatchGC: a batch sets the collector's target and memory limit unless
// GOGC or GOMEMLIMIT is set, and restores what was there.
func TestBatchGC(t *testing.T) {
	jobs := []input.Job{{Paths: []string{"a.txt"}}, {Paths: []string{"dir/b.txt", "dir/c.txt"}}}
	names := int64(len("a.txt") + 64 + len("dir/b.txt") + 64 + len("dir/c.txt") + 64)
	percent, limit := debug.SetGCPercent(100), debug.SetMemoryLimit(math.MaxInt64)
	defer debug.SetGCPercent(percent)
	defer debug.SetMemoryLimit(limit)
	for _, tt := range []struct {
		name, gogc, gomemlimit string
		percent                int
		limit                  int64
	}{
		{"neither set", "", "", 800, 128<<20 + 2*names},
		{"GOGC set", "50", "", 100, 128<<20 + 2*names},
		{"GOMEMLIMIT set", "", "1GiB", 800, math.MaxInt64},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("GOGC", tt.gogc)
			t.Setenv("GOMEMLIMIT", tt.gomemlimit)
			restore := batchGC(jobs)
			gotPercent, gotLimit := debug.SetGCPercent(-1), debug.SetMemoryLimit(-1)
			debug.SetGCPercent(gotPercent)
			restore()
			if gotPercent != tt.percent || gotLimit != tt.limit {
				t.Errorf("percent %d, limit %d; want %d, %d", gotPercent, gotLimit, tt.percent, tt.limit)
			}
			if p, l := debug.SetGCPercent(100), debug.SetMemoryLimit(-1); p != 100 || l != math.MaxInt64 {
				t.Errorf("restored to %d, %d; want 100, unlimited", p, l)
			}
		})
	}
}
