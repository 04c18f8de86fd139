package kit

import (
	"strings"
	"testing"
	"time"

	"github.com/kbplan/kbplan/assess"
	"github.com/kbplan/kbplan/catalog"
	"github.com/kbplan/kbplan/inventory"
	"github.com/kbplan/kbplan/winver"
)

func host(t *testing.T) inventory.Host {
	h := inventory.Host{Hostname: "APP01", Format: "test"}
	v, err := winver.Parse("6.0.6003")
	if err != nil {
		t.Fatal(err)
	}
	h.SetVersion(v)
	h.OS.Product, h.OS.Architecture = "Windows Server 2008", "x64"
	h.AddHotfix("KB4493730")
	return h
}

func pkg(name, kb, arch, format string, genuine, sha1 bool) Package {
	return Package{Path: "/dl/" + name, Name: name, Format: format, SHA256: strings.Repeat("ab", 32),
		Facts: assess.PackageFacts{KB: kb, Architecture: arch, Genuine: genuine, IsUpdate: true, SHA1Signed: sha1, SHA2Signed: true,
			Applicability: []string{"Windows Server 2008 SP2"}}}
}

func TestBuild(t *testing.T) {
	c, err := catalog.Default()
	if err != nil {
		t.Fatal(err)
	}
	steps := []assess.Step{
		{KB: "KB4474419", Kind: catalog.SHA2, RebootAfter: true},
		{KB: "KB4536953", Kind: catalog.SSU, RebootAfter: true},
		{KB: "KB4534303", Kind: catalog.Rollup, RebootAfter: true},
	}
	a := assess.Assessment{Host: host(t), InScope: true, Plan: assess.Plan{Strategy: assess.RollupStrategy, Channel: catalog.Public, Steps: steps}}
	tests := []struct {
		name     string
		pkgs     []Package
		steps    string // KB file reboot
		missing  string
		complete bool
	}{
		{"complete, msu preferred over cab",
			[]Package{pkg("b.cab", "KB4474419", "x64", "cab", true, true), pkg("z.msu", "KB4474419", "x64", "msu", true, true),
				pkg("ssu.msu", "KB4536953", "x64", "msu", true, false), pkg("r.msu", "KB4534303", "x64", "msu", true, false)},
			"KB4474419 packages/z.msu true|KB4536953 packages/ssu.msu true|KB4534303 packages/r.msu true", "", true},
		{"SHA-2 support missing: the SHA-2-only packages after it are refused",
			[]Package{pkg("ssu.msu", "KB4536953", "x64", "msu", true, false), pkg("r.msu", "KB4534303", "x64", "msu", true, false)},
			"", "KB4474419 KB4536953 KB4534303", false},
		{"a restart after a missing step moves to the step before it",
			[]Package{pkg("s.msu", "KB4474419", "x64", "msu", true, true), pkg("r.msu", "KB4534303", "x64", "msu", true, false)},
			"KB4474419 packages/s.msu true|KB4534303 packages/r.msu true", "KB4536953", false},
		{"no package at all", nil, "", "KB4474419 KB4536953 KB4534303", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := Build(a, c, tc.pkgs, time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC))
			var got, miss []string
			for i, s := range m.Steps {
				if s.Order != i+1 {
					t.Errorf("order %d at %d", s.Order, i)
				}
				got = append(got, s.KB+" "+s.File+" "+map[bool]string{true: "true", false: "false"}[s.RebootAfter])
			}
			for _, x := range m.Missing {
				miss = append(miss, x.KB)
				if !strings.HasSuffix(x.CatalogURL, "q="+x.KB) {
					t.Errorf("catalog URL %s", x.CatalogURL)
				}
			}
			if strings.Join(got, "|") != tc.steps || strings.Join(miss, " ") != tc.missing || m.Complete != tc.complete {
				t.Errorf("steps %q missing %q complete %v", strings.Join(got, "|"), strings.Join(miss, " "), m.Complete)
			}
			if m.Version != Version || m.Created != "2026-11-25T00:00:00Z" {
				t.Errorf("header %+v", m)
			}
		})
	}
}

// TestBuildPackageRestart: a package whose update.mum requires a restart
// gets one after its step even when the plan does not know it.
func TestBuildPackageRestart(t *testing.T) {
	c, err := catalog.Default()
	if err != nil {
		t.Fatal(err)
	}
	steps := []assess.Step{{KB: "KB4536953", Kind: catalog.SSU, MayReboot: true}, {KB: "KB2506014", Kind: catalog.Standalone, MayReboot: true}, {KB: "KB4534303", Kind: catalog.Rollup, RebootAfter: true}}
	a := assess.Assessment{Host: host(t), InScope: true, Plan: assess.Plan{Strategy: assess.RollupStrategy, Channel: catalog.Public, Steps: steps}}
	a.Host.AddHotfix("KB4474419")
	loader := pkg("l.msu", "KB2506014", "x64", "msu", true, true)
	loader.Facts.Restart = "required"
	ssu := pkg("ssu.msu", "KB4536953", "x64", "msu", true, false)
	ssu.Facts.Restart = "possible"
	m := Build(a, c, []Package{ssu, loader, pkg("r.msu", "KB4534303", "x64", "msu", true, false)}, time.Now())
	var got []bool
	for _, s := range m.Steps {
		got = append(got, s.RebootAfter)
	}
	if len(got) != 3 || got[0] || !got[1] || !got[2] || m.Reboots != 2 {
		t.Errorf("restarts after each step %v, %d in all; want [false true true], 2", got, m.Reboots)
	}
}

// TestIdentifyByHash: a package whose SHA-1 is a catalog file's is that
// file whatever it is called; one named like a Microsoft file whose digest
// is not the name's is refused.
func TestIdentifyByHash(t *testing.T) {
	c, err := catalog.Default()
	if err != nil {
		t.Fatal(err)
	}
	u, _ := c.Get("KB4474419")
	saved := u.Files
	t.Cleanup(func() { u.Files = saved })
	sha := strings.Repeat("1", 40)
	u.Files = append(append([]catalog.File(nil), saved...), catalog.File{KB: u.KB, Arch: "x64", Name: "windows6.0-kb4474419-v4-x64_" + sha + ".msu", SHA1: sha, Source: "test"})
	steps := []assess.Step{{KB: "KB4474419", Kind: catalog.SHA2, RebootAfter: true}}
	a := assess.Assessment{Host: host(t), InScope: true, Plan: assess.Plan{Strategy: assess.RollupStrategy, Channel: catalog.Public, Steps: steps}}
	renamed := pkg("sha2 support (1).msu", "KB4474419", "x64", "msu", true, true)
	renamed.SHA1 = sha
	m := Build(a, c, []Package{renamed}, time.Now())
	if len(m.Steps) != 1 || m.Steps[0].Microsoft == nil || m.Steps[0].Microsoft.Name != "windows6.0-kb4474419-v4-x64_"+sha+".msu" {
		t.Errorf("a renamed Microsoft file was not recognised: %+v", m.Steps)
	}
	forged := pkg("windows6.0-kb4474419-v4-x64_09cb148f6ef10779d7352b7269d66a7f23019207.msu", "KB4474419", "x64", "msu", true, true)
	forged.SHA1 = strings.Repeat("2", 40)
	m = Build(a, c, []Package{forged}, time.Now())
	if len(m.Steps) != 0 || len(m.Missing) != 1 || len(m.Missing[0].Rejected) != 1 || !strings.Contains(m.Missing[0].Rejected[0], "its name carries the SHA-1 09cb148f") {
		t.Errorf("a file whose digest is not its name's was taken: steps %+v missing %+v", m.Steps, m.Missing)
	}
}
