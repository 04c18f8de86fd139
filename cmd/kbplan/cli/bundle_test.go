package cli

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kbplan/kbplan/report"
)

// bundles are the hand-made collector bundles under testdata/bundles, each
// built to exercise one fact that only a bundle carries.
const bundles = "../../../testdata/bundles/"

// TestBundleGolden runs identify (JSON and text) and analyze (text and
// JSON) on every hand-made bundle and compares with the golden files.
func TestBundleGolden(t *testing.T) {
	dirs, err := filepath.Glob(bundles + "ws2008-*")
	if err != nil || len(dirs) < 3 {
		t.Fatalf("found %d bundles (%v)", len(dirs), err)
	}
	for _, dir := range dirs {
		name := "bundle-" + filepath.Base(dir)
		t.Run(name, func(t *testing.T) {
			for _, c := range []struct {
				suffix string
				args   []string
			}{
				{".identify.json", []string{"identify", "--json"}},
				{".identify.txt", []string{"identify"}},
				{".analyze.txt", []string{"analyze", "--as-of", asOf}},
				{".analyze.json", []string{"analyze", "--json", "--as-of", asOf}},
				{".analyze-esu.txt", []string{"analyze", "--esu", "--as-of", asOf}},
			} {
				out, errOut, code := run(t, "", append(c.args, dir)...)
				if code != ExitOK && code != ExitToDo {
					t.Fatalf("%v: exit %d: %s", c.args, code, errOut)
				}
				golden(t, name+c.suffix, strings.ReplaceAll(out, bundles, ""))
			}
		})
	}
}

// TestBundleFindings checks, independently of the golden files, that each
// bundle's own fact reaches the findings, on the channels where it matters.
func TestBundleFindings(t *testing.T) {
	tests := []struct {
		bundle string
		flags  []string
		want   []string // finding ids that must be present
		absent []string // finding ids that must not be
		facts  func(*report.FactsJSON) string
	}{
		{
			bundle: "ws2008-6003-reboot-pending",
			want:   []string{"reboot-pending", "revision-behind-installed", "inputs-disagree"},
			absent: []string{"sha2-not-active", "build-6003-unexplained"},
			facts: func(f *report.FactsJSON) string {
				if !slices.Equal(f.PendingReboot, []string{"RebootPending", "PendingFileRenameOperations"}) {
					return "pendingReboot = " + strings.Join(f.PendingReboot, ",")
				}
				return ""
			},
		},
		{
			bundle: "ws2008-6003-sha2-inactive",
			want:   []string{"sha2-not-active", "ssu-old"},
			absent: []string{"reboot-pending", "sha2-missing"},
			facts: func(f *report.FactsJSON) string {
				if f.SHA2Active == nil || *f.SHA2Active {
					return "sha2Active should be false"
				}
				return ""
			},
		},
		{
			bundle: "ws2008-6003-esu-activated",
			flags:  []string{"--esu"},
			want:   []string{"esu-activated"},
			absent: []string{"esu-not-activated", "esu-not-prepared", "reboot-pending", "no-esu", "inputs-disagree"},
			facts: func(f *report.FactsJSON) string {
				if !f.ESUKnown || !slices.Equal(f.ESULicensed, []int{1, 2, 3}) {
					return "esuLicensed should be [1 2 3]"
				}
				return ""
			},
		},
		{
			// Activated, and no --esu given: the bundle's licence state
			// chooses ESU (as the fleet does), so no "no-esu" finding.
			bundle: "ws2008-6003-esu-activated",
			want:   []string{"esu-activated"},
			absent: []string{"no-esu", "esu-not-activated"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.bundle+strings.Join(tc.flags, ""), func(t *testing.T) {
			a := analyzeJSON(t, append(tc.flags, bundles+tc.bundle)...)
			ids := " " + findingIDs(a) + " "
			for _, id := range tc.want {
				if !strings.Contains(ids, " "+id+" ") {
					t.Errorf("finding %s missing: %s", id, ids)
				}
			}
			for _, id := range tc.absent {
				if strings.Contains(ids, " "+id+" ") {
					t.Errorf("finding %s present: %s", id, ids)
				}
			}
			if tc.facts == nil {
				return
			}
			out, errOut, code := run(t, "", "identify", "--json", bundles+tc.bundle)
			if code != ExitOK {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			var h report.HostJSON
			if err := json.Unmarshal([]byte(out), &h); err != nil {
				t.Fatal(err)
			}
			if h.Format != "kbplan-bundle" || h.Facts == nil {
				t.Fatalf("format %q, facts %v", h.Format, h.Facts)
			}
			if h.OS.Revision == nil || h.OS.Build == nil || *h.OS.Build != 6003 {
				t.Errorf("build/revision not read from ntoskrnl.exe: %+v", h.OS)
			}
			if msg := tc.facts(h.Facts); msg != "" {
				t.Error(msg)
			}
		})
	}
}
