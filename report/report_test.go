package report

import (
	"bytes"
	"path/filepath"
	"testing"

	"github.com/kbplan/kbplan/assess"
	"github.com/kbplan/kbplan/catalog"
	"github.com/kbplan/kbplan/exposure"
	goldenfile "github.com/kbplan/kbplan/internal/golden"
	"github.com/kbplan/kbplan/inventory"
	"github.com/kbplan/kbplan/winver"
)

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	goldenfile.Check(t, filepath.Join("testdata", "golden", name), got)
}

func date(s string) catalog.Date {
	d, err := catalog.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

// fixed are assessments built by hand, not by assess: the renderers are
// tested on values that no catalog change can move.
func fixed() []assess.Assessment {
	v6002 := winver.Version{Major: 6, Minor: 0, Build: 6002, Revision: winver.NoRevision}
	v6003 := winver.Version{Major: 6, Minor: 0, Build: 6003, Revision: 20489}
	v7601 := winver.Version{Major: 6, Minor: 1, Build: 7601, Revision: winver.NoRevision}
	sp2, sp1 := 2, 1
	standalone := func(kb, month, why string) assess.Step {
		return assess.Step{KB: kb, Kind: catalog.Standalone, Title: "Security update " + kb, Released: date(month), Why: why,
			MayReboot: true, Evidence: []string{"msrc", "updatevista"}}
	}
	bare := assess.Assessment{
		Host: inventory.Host{Source: "bare.txt", Format: "systeminfo-list", Encoding: "utf-16le", Hostname: "WIN-BARE",
			OS: inventory.OS{Name: "Microsoft Windows Server 2008 Standard", Product: "Windows Server 2008", Edition: "Standard",
				ServicePack: &sp2, Version: &v6002, Architecture: "x64", Language: "en-US"},
			Hotfixes: []string{"KB955430"}, HotfixesKnown: true},
		InScope: true, Product: "server2008",
		Servicing: assess.Servicing{SSULatest: "KB4523206"},
		Lifecycle: assess.Lifecycle{Product: "server2008", AsOf: date("2026-01-31"), Phase: "ended", Message: "Extended support ended on 2020-01-14."},
		Findings: []assess.Finding{
			{ID: "sha2-missing", Severity: assess.Critical, Message: "SHA-2 code signing support is missing", Fact: "KB4474419"},
			{ID: "ssu-missing", Severity: assess.Warning, Message: "no servicing stack update", Fact: "SSUs first"},
			{ID: "end-of-support", Severity: assess.Info, Message: "support ended", Fact: "lifecycle"},
		},
		Plan: assess.Plan{Strategy: assess.RollupStrategy, Channel: catalog.Public, Reboots: 2,
			Steps: []assess.Step{
				{KB: "KB4493730", Kind: catalog.SSU, Title: "Servicing stack update", Released: date("2019-04-09"), Why: "the SSU that installs before SHA-2"},
				{KB: "KB4474419", Kind: catalog.SHA2, Title: "SHA-2 code signing support", Released: date("2019-09-10"), RebootAfter: true, Why: "SHA-2 first"},
				standalone("KB2506014", "2011-04-12", "x64 OS loader"),
				standalone("KB3205638", "2016-12-13", "a"),
				standalone("KB4012583", "2017-03-14", "b"),
				standalone("KB4015195", "2017-04-11", "c"),
				standalone("KB4015380", "2017-04-11", "d"),
				standalone("KB4022887", "2017-06-13", "e"),
				{KB: "KB4534303", Kind: catalog.Rollup, Title: "2020-01 Security Monthly Quality Rollup", Released: date("2020-01-14"), RebootAfter: true, Why: "the newest rollup"},
			},
			Unavailable: []assess.Step{{KB: "KB5073697", Kind: catalog.Rollup, Released: date("2026-01-13"), Why: "needs a custom support agreement"}},
			Conditional: []assess.Step{
				{KB: "KB3134814", Kind: catalog.Standalone, Released: date("2016-02-09"), MayReboot: true, Evidence: []string{"msrc"}, Why: "install only if Internet Explorer 9 is present (check: svcVersion); nothing read from this host shows it"},
				{KB: "KB4040957", Kind: catalog.DotNet, Released: date("2017-09-12"), MayReboot: true, Evidence: []string{"msrc"}, Why: "install only if .NET Framework 4.x is present (check: NDP v4); nothing read from this host shows it"},
			},
			Unconfirmed: []assess.Step{{KB: "KB4018466", Kind: catalog.Standalone, Released: date("2017-05-11"), MayReboot: true, Evidence: []string{"msrc"}, Why: "only MSRC lists it"}},
			MayReboots:  6,
		},
		Components: []assess.HostComponent{{ID: catalog.DotNet20, Why: "in-box"}, {ID: catalog.IE7, Why: "in-box"}, {ID: catalog.OS, Why: "in-box"}},
		Summary: assess.Summary{Steps: 9, Reboots: 2, PossibleReboots: 6, Conditional: 2, Unconfirmed: 1, Critical: 1, Warnings: 1,
			CVEsOpen: 2, CVEsCritical: 2, CVEsExploited: 1, CVEsUnfixable: 1},
		Exposure: &assess.Exposure{Index: "test index",
			Open:      []assess.ExposureSet{{KB: "KB4534303", Why: "fixed by KB4534303", CVEs: []*exposure.CVE{testCVEs.CVEs[0], testCVEs.CVEs[2]}}},
			Unfixable: []assess.ExposureSet{{Why: "only ESU updates fix it", CVEs: []*exposure.CVE{testCVEs.CVEs[1]}}},
			Counts:    assess.ExposureCounts{Open: 2, OpenCritical: 2, OpenExploited: 1, Unfixable: 1}},
	}
	current := assess.Assessment{
		Host: inventory.Host{Source: "current.reg", Format: "reg-query", Hostname: "=HYPERLINK(\"http://x\")\x1b[31m",
			OS:       inventory.OS{Product: "Windows Server 2008", Edition: "Enterprise", ServicePack: &sp2, Version: &v6003, Architecture: "x86"},
			Hotfixes: []string{"KB4474419", "KB4534303"}, HotfixesKnown: true},
		InScope: true, Product: "server2008", PatchLevel: date("2020-01-14"),
		Servicing: assess.Servicing{SSU: "KB4523206", SSULatest: "KB4523206", SHA2: true, Build6003: true},
		Lifecycle: assess.Lifecycle{Product: "server2008", AsOf: date("2026-01-31"), Phase: "ended"},
		Findings:  []assess.Finding{},
		Plan:      assess.Plan{Strategy: assess.SecurityOnlyStrategy, Channel: catalog.Public},
		Summary:   assess.Summary{SSUCurrent: true, SHA2: true},
	}
	outOfScope := assess.Assessment{
		Host: inventory.Host{Source: "r2.txt", Format: "systeminfo-list", Hostname: "R2-HOST",
			OS: inventory.OS{Product: "Windows Server 2008 R2", Edition: "Standard", ServicePack: &sp1, Version: &v7601, Architecture: "x64"}},
		Findings: []assess.Finding{{ID: "out-of-scope", Severity: assess.Info, Message: "Windows Server 2008 R2 is not NT 6.0", Fact: "build 7601"}},
	}
	return []assess.Assessment{bare, current, outOfScope}
}

// testCVEs is the CVE index of the fixed assessments.
var testCVEs = &exposure.Index{Name: "test index", CVEs: []*exposure.CVE{
	{ID: "CVE-2019-0708", Severity: "Critical", Impact: "Remote Code Execution", Exploits: 3, Title: "Remote Desktop Services", Pos: 0},
	{ID: "CVE-2021-34527", Severity: "Critical", Impact: "Remote Code Execution", Exploits: 1, Exploit: "https://example.org/printnightmare", Title: "Print Spooler", Pos: 1},
	{ID: "CVE-2019-1182", Severity: "Critical", Impact: "Remote Code Execution", Title: "Remote Desktop Services", Pos: 2},
}}

// TestStreams renders the fixed assessments in every streaming format.
func TestStreams(t *testing.T) {
	for _, f := range []Format{Text, JSON, JSONL, CSV} {
		t.Run(string(f), func(t *testing.T) {
			var b bytes.Buffer
			s := NewStream(&b, f, testCVEs)
			for _, a := range fixed() {
				if err := s.Write(a); err != nil {
					t.Fatal(err)
				}
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			golden(t, "analyze."+string(f), b.Bytes())
		})
	}
}

// TestEmptyStreams: no host still makes valid output (an empty JSON array,
// a CSV header).
func TestEmptyStreams(t *testing.T) {
	for f, want := range map[Format]string{JSON: "[]\n", JSONL: "", Text: "", CSV: "hostname,source,product,edition,architecture,build,revision,inScope,patchLevel,ssu,sha2,esuPrepared,steps,reboots,critical,warnings,findings,cvesOpen,cvesUnfixable\n"} {
		var b bytes.Buffer
		s := NewStream(&b, f, testCVEs)
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		if b.String() != want {
			t.Errorf("%s: %q, want %q", f, b.String(), want)
		}
	}
}

func TestHTML(t *testing.T) {
	var b bytes.Buffer
	if err := WriteHTML(&b, fixed(), "2026-01-31"); err != nil {
		t.Fatal(err)
	}
	golden(t, "analyze.html", b.Bytes())
	var one bytes.Buffer
	if err := WriteHTML(&one, fixed()[:1], "2026-01-31"); err != nil {
		t.Fatal(err)
	}
	golden(t, "analyze-one.html", one.Bytes())
}

// TestStepNumbers: every output numbers the plan's steps the same way,
// from 1 (the text, the JSON's n, the HTML's first column).
func TestStepNumbers(t *testing.T) {
	a := fixed()[0]
	j := Assessment(a)
	for i, s := range j.Plan.Steps {
		if s.N != i+1 {
			t.Errorf("step %d has n %d, want %d", i, s.N, i+1)
		}
	}
	for _, s := range j.Plan.Unavailable {
		if s.N != 0 {
			t.Errorf("unavailable %s numbered %d", s.KB, s.N)
		}
	}
	var txt, html bytes.Buffer
	WriteAssessmentText(&txt, a)
	WriteHTML(&html, []assess.Assessment{a}, "")
	if !bytes.Contains(txt.Bytes(), []byte(" 1. KB4493730")) {
		t.Errorf("text does not number the first step 1:\n%s", txt.Bytes())
	}
	if !bytes.Contains(html.Bytes(), []byte("<tr><td>1</td><td>KB4493730</td>")) {
		t.Errorf("HTML does not number the first step 1")
	}
}

// TestCSVSafe: cells that a spreadsheet would run as formulas are guarded.
func TestCSVSafe(t *testing.T) {
	for in, want := range map[string]string{
		"=HYPERLINK(1)": "'=HYPERLINK(1)", "+1": "'+1", "-1": "'-1", "@SUM(A1)": "'@SUM(A1)", "\tx": "'\tx", "\rx": "'\rx",
		"HOST-1": "HOST-1", "": "", "a=b": "a=b",
	} {
		if got := CSVSafe(in); got != want {
			t.Errorf("CSVSafe(%q) = %q, want %q", in, got, want)
		}
	}
}
