package assess

import (
	"bytes"
	"encoding/csv"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kbplan/kbplan/catalog"
	"github.com/kbplan/kbplan/inventory"
)

// frozen loads the small test catalog (testdata/README.md).
func frozen(t testing.TB) *catalog.Catalog {
	t.Helper()
	f, err := os.Open("testdata/catalog.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c, err := catalog.Load("testdata/catalog.csv", f)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func day(s string) catalog.Date {
	d, err := catalog.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

// testHost is a Server 2008 host of a build, architecture and edition with
// some hotfixes.
func testHost(product, edition, arch string, build int, kbs ...string) inventory.Host {
	h := inventory.Host{Format: "test", HotfixesKnown: true, Hotfixes: kbs}
	h.OS.Product, h.OS.Architecture, h.OS.Edition = product, arch, edition
	h.SetVersion(mustVersion(build))
	h.Finish()
	return h
}

const server = "Windows Server 2008"

func kbs(steps []Step) []string {
	out := make([]string, len(steps))
	for i, s := range steps {
		out[i] = s.KB
	}
	return out
}

func restarts(steps []Step) []string {
	var out []string
	for _, s := range steps {
		if s.RebootAfter {
			out = append(out, s.KB)
		}
	}
	return out
}

func findingIDs(fs []Finding) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = string(f.ID)
	}
	return out
}

// TestPlanRules checks each plan rule on the frozen catalog: the whole step
// list, where the restarts fall, and the findings that must appear.
func TestPlanRules(t *testing.T) {
	c := frozen(t)
	end2026 := day("2026-11-25")
	tests := []struct {
		name     string
		host     inventory.Host
		o        Options
		steps    []string
		restarts []string
		findings []string // must be among the findings
	}{
		{"bare 6002: SSU of April 2019, SHA-2 and its restart, newest SSU, standalone updates not superseded, newest public rollup",
			testHost(server, "Standard", "x64", 6002), Options{AsOf: end2026},
			[]string{"KB4493730", "KB4474419", "KB4536953", "KB2506014", "KB2604094", "KB3205638", "KB4507423", "KB4534303"},
			[]string{"KB4474419", "KB4534303"},
			[]string{"sha2-missing", "ssu-missing", "no-esu", "end-of-support", "unconfirmed-updates"}},
		{"build 6001: Service Pack 2 first",
			testHost(server, "Standard", "x86", 6001), Options{AsOf: end2026},
			[]string{"KB948465", "KB4493730", "KB4474419", "KB4536953", "KB2604094", "KB3205638", "KB4507423", "KB4534303"}, // KB2506014 is x64 only
			[]string{"KB948465", "KB4474419", "KB4534303"}, nil},
		{"Vista RTM: SP1, then SP2, then updates up to Vista's end of support",
			testHost("Windows Vista", "Enterprise", "x64", 6000), Options{AsOf: end2026},
			// KB4018466 (May 2017) is for Server 2008 only: Vista support ended in
			// April. No rollup for Vista, so the MSRC-only updates are planned.
			[]string{"KB936330", "KB948465", "KB2506014", "KB2604094", "KB3124275", "KB3205638", "KB4012598"},
			[]string{"KB936330", "KB948465", "KB4012598"}, []string{"end-of-support"}},
		{"an installed superseder covers the older update (KB4018466 over KB4012598)",
			testHost(server, "Standard", "x64", 6002, "KB4018466"), Options{AsOf: end2026},
			[]string{"KB4493730", "KB4474419", "KB4536953", "KB2506014", "KB2604094", "KB3205638", "KB4507423", "KB4534303"}, []string{"KB4474419", "KB4534303"}, nil},
		{"the analysis date leaves later updates out: no SHA-2 before July 2019",
			testHost(server, "Standard", "x64", 6002), Options{AsOf: day("2019-06-30")},
			[]string{"KB4493730", "KB2506014", "KB2604094", "KB3205638", "KB4457043", "KB4503273"},
			[]string{"KB4503273"}, nil},
		{"current on the public channel: nothing to install",
			testHost(server, "Standard", "x64", 6003, "KB4474419", "KB4536953", "KB2506014", "KB2604094", "KB3205638", "KB4018466", "KB4534303", "KB4507423"), Options{AsOf: end2026},
			[]string{}, nil, nil},
		{"ESU: the newest preparation package before the first ESU update, newest ESU-year SSU and rollup",
			testHost(server, "Standard", "x64", 6003, "KB4474419", "KB4536953", "KB2506014", "KB2604094", "KB3205638", "KB4018466", "KB4534303", "KB4507423"), Options{AsOf: end2026, ESU: ESU},
			[]string{"KB5016129", "KB5016891", "KB5022340"},
			[]string{"KB5022340"}, []string{"esu-not-prepared", "no-azure-esu"}},
		{"Azure ESU: the fourth year's rollup",
			testHost(server, "Datacenter", "x64", 6003, "KB4474419", "KB4536953", "KB2506014", "KB2604094", "KB3205638", "KB4018466", "KB4534303", "KB4507423", "KB5016891"), Options{AsOf: end2026, ESU: AzureESU},
			[]string{"KB5016129", "KB5034173"},
			[]string{"KB5034173"}, []string{"custom-agreement-only"}},
		{"ESU is not sold for the Web edition: public updates only",
			testHost(server, "Web", "x64", 6003, "KB4474419", "KB4536953", "KB2506014", "KB2604094", "KB3205638", "KB4018466", "KB4534303", "KB4507423"), Options{AsOf: end2026, ESU: ESU},
			[]string{}, nil, []string{"esu-not-eligible"}},
		{"security-only: every missing month, oldest first, February 2019 too (MSRC's edge from March is not followed); no rollup, so MSRC-only updates are planned",
			testHost(server, "Standard", "x64", 6002), Options{AsOf: end2026, Strategy: SecurityOnlyStrategy},
			[]string{"KB4493730", "KB4474419", "KB4536953", "KB2506014", "KB2604094", "KB3124275", "KB3205638", "KB4018466", "KB4457054", "KB4507414", "KB4457984", "KB4463104", "KB4487019", "KB4489876", "KB4503287", "KB4507461", "KB4534312"},
			[]string{"KB4474419", "KB4534312"}, nil},
		{"security-only after a rollup: only the months after it",
			testHost(server, "Standard", "x64", 6003, "KB4493730", "KB4474419", "KB4536953", "KB2506014", "KB2604094", "KB3205638", "KB4018466", "KB4503273"), Options{AsOf: end2026, Strategy: SecurityOnlyStrategy},
			[]string{"KB4457054", "KB4507414", "KB4507461", "KB4534312"},
			[]string{"KB4534312"}, nil},
		{"a 6003-raising update on a 6002 build is a missed restart",
			testHost(server, "Standard", "x64", 6002, "KB4493730", "KB4474419", "KB4536953", "KB2506014", "KB2604094", "KB3205638", "KB4018466", "KB4534303", "KB4507423"), Options{AsOf: end2026},
			[]string{}, nil, []string{"build-6002-with-6003-update"}},
		{"Itanium: no monthly rollup in the sources, said in a finding",
			testHost(server, "Enterprise", "ia64", 6002), Options{AsOf: end2026},
			[]string{"KB4012598"}, []string{"KB4012598"}, []string{"ia64-monthly-unknown", "sha2-unavailable"}}, // MSRC lists KB3205638 and KB4018466 for x86 and x64 only
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := Assess(tc.host, c, tc.o)
			if got := kbs(a.Plan.Steps); !slices.Equal(got, tc.steps) {
				t.Errorf("steps\n got %v\nwant %v", got, tc.steps)
			}
			if got := restarts(a.Plan.Steps); !slices.Equal(got, tc.restarts) {
				t.Errorf("restarts after %v, want %v", got, tc.restarts)
			}
			if a.Plan.Reboots != len(tc.restarts) {
				t.Errorf("%d restarts counted, want %d", a.Plan.Reboots, len(tc.restarts))
			}
			ids := findingIDs(a.Findings)
			for _, id := range tc.findings {
				if !slices.Contains(ids, id) {
					t.Errorf("no %s finding among %v", id, ids)
				}
			}
		})
	}
}

// TestPlanNeverSupersededOrTwice checks, for many hosts and options, that
// no step is superseded by another step or an installed update, and that
// no KB is planned twice. The one exception is the stepping stone: the
// April 2019 SSU before SHA-2 support, because the SSUs that supersede it
// are SHA-2 signed and cannot install until SHA-2 support has.
func TestPlanNeverSupersededOrTwice(t *testing.T) {
	c := frozen(t)
	hosts := []inventory.Host{
		testHost(server, "Standard", "x64", 6002),
		testHost(server, "Standard", "x86", 6001),
		testHost(server, "Enterprise", "x64", 6003, "KB4489880"),
		testHost(server, "Standard", "x64", 6003, "KB4463104", "KB4012598"),
		testHost("Windows Vista", "Business", "x86", 6002),
	}
	for _, h := range hosts {
		for _, o := range []Options{{}, {ESU: ESU}, {ESU: AzureESU}, {Strategy: SecurityOnlyStrategy}, {ESU: ESU, Strategy: SecurityOnlyStrategy}} {
			o.AsOf = day("2026-11-25")
			a := Assess(h, c, o)
			seen := map[string]bool{}
			steps := map[string]bool{}
			for _, s := range a.Plan.Steps {
				steps[s.KB] = true
			}
			for _, s := range a.Plan.Steps {
				if seen[s.KB] {
					t.Errorf("%v %+v: %s planned twice", h.Hotfixes, o, s.KB)
				}
				seen[s.KB] = true
				stone := s.KB == c.Role(catalog.RoleSSUBeforeSHA2).KB && slices.Index(kbs(a.Plan.Steps), c.Role(catalog.RoleSHA2).KB) > slices.Index(kbs(a.Plan.Steps), s.KB)
				for _, by := range c.Superseders(s.KB) {
					if stone && !slices.Contains(h.Hotfixes, by) {
						continue
					}
					if steps[by] || slices.Contains(h.Hotfixes, by) {
						t.Errorf("%v %+v: %s is superseded by %s", h.Hotfixes, o, s.KB, by)
					}
				}
			}
		}
	}
}

// TestOutOfScope: no plan for another OS or an unknown version.
func TestOutOfScope(t *testing.T) {
	c := frozen(t)
	r2 := inventory.Host{Format: "test", HotfixesKnown: true}
	r2.OS.Product = "Windows Server 2008 R2"
	v := mustVersion(7601)
	v.Minor = 1
	r2.SetVersion(v)
	for name, h := range map[string]inventory.Host{"2008 R2": r2, "no version": {Format: "test"}} {
		a := Assess(h, c, Options{AsOf: day("2026-11-25")})
		if a.InScope || len(a.Plan.Steps) > 0 {
			t.Errorf("%s: in scope %v with %d steps", name, a.InScope, len(a.Plan.Steps))
		}
		if len(a.Findings) == 0 || a.Findings[0].Severity != Critical {
			t.Errorf("%s: findings %v, want a critical one first", name, a.Findings)
		}
	}
}

// TestStepsExplainThemselves: every step says why.
func TestStepsExplainThemselves(t *testing.T) {
	c := frozen(t)
	a := Assess(testHost(server, "Standard", "x64", 6001), c, Options{AsOf: day("2026-11-25"), ESU: ESU})
	for _, s := range a.Plan.Steps {
		if strings.TrimSpace(s.Why) == "" {
			t.Errorf("%s has no why", s.KB)
		}
	}
}

// frozenWith loads the frozen catalog with one column of one row changed.
func frozenWith(t *testing.T, kb, column, value string) *catalog.Catalog {
	t.Helper()
	b, err := os.ReadFile("testdata/catalog.csv")
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := slices.Index(rows[0], column)
	found := false
	for _, r := range rows[1:] {
		if r[0] == kb {
			r[col], found = value, true
		}
	}
	if col < 0 || !found {
		t.Fatalf("no %s column or %s row", column, kb)
	}
	var out bytes.Buffer
	w := csv.NewWriter(&out)
	w.WriteAll(rows)
	c, err := catalog.Load("frozen+edit", &out)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestSHA2RestartWhateverTheCatalogSays: the restart after SHA-2 support is
// Microsoft's requirement (KB4474419: restart before installing updates that
// need it), not a catalog value, so a catalog silent about it changes nothing.
func TestSHA2RestartWhateverTheCatalogSays(t *testing.T) {
	c := frozenWith(t, "KB4474419", "reboot", "")
	a := Assess(testHost(server, "Standard", "x64", 6002), c, Options{AsOf: day("2026-11-25")})
	if got := restarts(a.Plan.Steps); !slices.Contains(got, "KB4474419") {
		t.Errorf("restarts after %v: none after SHA-2 support", got)
	}
}

// TestComponents: updates for components the host does not show are
// conditional, --assume plans them, evidence adds components, and IE 8/9
// replace the in-box IE 7 (whose cumulative chain then no longer applies).
func TestComponents(t *testing.T) {
	c := frozen(t)
	end2026 := day("2026-11-25")
	withFacts := func(h inventory.Host, ie string, dotnet ...string) inventory.Host {
		h.Facts = &inventory.Facts{IEVersion: ie, DotNet: dotnet}
		return h
	}
	tests := []struct {
		name                   string
		host                   inventory.Host
		o                      Options
		steps, cond, unconfirm []string
		components             []string
	}{
		{"bare host: the in-box components only; IE 9 and .NET 4 updates are conditional; MSRC-only pre-rollup updates unconfirmed",
			testHost(server, "Standard", "x64", 6002), Options{AsOf: end2026},
			[]string{"KB4493730", "KB4474419", "KB4536953", "KB2506014", "KB2604094", "KB3205638", "KB4507423", "KB4534303"},
			[]string{"KB3134814", "KB4040957"}, []string{"KB3124275", "KB4018466"}, []string{"dotnet20", "ie7", "os"}},
		{"--assume ie9,dotnet4: IE 9 replaces IE 7 (its chain no longer applies); the .NET 4 update, MSRC-only, is unconfirmed",
			testHost(server, "Standard", "x64", 6002), Options{AsOf: end2026, Assume: []catalog.Component{catalog.IE9, catalog.DotNet4}},
			[]string{"KB4493730", "KB4474419", "KB4536953", "KB2506014", "KB2604094", "KB3205638", "KB4507423", "KB4534303"},
			nil, []string{"KB3134814", "KB4018466", "KB4040957"}, []string{"dotnet20", "dotnet4", "ie9", "os"}},
		{"the collector's IE version and .NET keys are evidence",
			withFacts(testHost(server, "Standard", "x64", 6002), "9.0.8112.16421", "2.0.50727.4927", "4.6.01590"), Options{AsOf: end2026},
			[]string{"KB4493730", "KB4474419", "KB4536953", "KB2506014", "KB2604094", "KB3205638", "KB4507423", "KB4534303"},
			nil, []string{"KB3134814", "KB4018466", "KB4040957"}, []string{"dotnet20", "dotnet4", "ie9", "os"}},
		{"Programs and Features is evidence (collector reg-uninstall.txt)",
			func() inventory.Host {
				h := testHost(server, "Standard", "x64", 6002)
				h.Facts = &inventory.Facts{Programs: []string{"Microsoft .NET Framework 4.6.2", "HP Smart Update Manager"}}
				return h
			}(), Options{AsOf: end2026},
			[]string{"KB4493730", "KB4474419", "KB4536953", "KB2506014", "KB2604094", "KB3205638", "KB4507423", "KB4534303"},
			[]string{"KB3134814"}, []string{"KB3124275", "KB4018466", "KB4040957"}, []string{"dotnet20", "dotnet4", "ie7", "os"}},
		{"Server Manager roles are evidence (collector roles.txt); in-box roles map to nothing",
			func() inventory.Host {
				h := testHost(server, "Standard", "x64", 6002)
				h.Facts = &inventory.Facts{RolesKnown: true, Roles: []string{"Active Directory Federation Services [ADFS]", "Web Server (IIS) [Web-Server]", "Hyper-V [Hyper-V]"}}
				return h
			}(), Options{AsOf: end2026},
			[]string{"KB4493730", "KB4474419", "KB4536953", "KB2506014", "KB2604094", "KB3205638", "KB4507423", "KB4534303"},
			[]string{"KB3134814", "KB4040957"}, []string{"KB3124275", "KB4018466"}, []string{"adfs", "dotnet20", "ie7", "os"}},
		{"an installed IE 9 update is evidence of IE 9",
			testHost(server, "Standard", "x64", 6002, "KB3134814"), Options{AsOf: end2026},
			[]string{"KB4493730", "KB4474419", "KB4536953", "KB2506014", "KB2604094", "KB3205638", "KB4507423", "KB4534303"},
			[]string{"KB4040957"}, []string{"KB4018466"}, []string{"dotnet20", "ie9", "os"}},
		{"--unconfirmed plans the MSRC-only updates",
			testHost(server, "Standard", "x64", 6002), Options{AsOf: end2026, Unconfirmed: true},
			[]string{"KB4493730", "KB4474419", "KB4536953", "KB2506014", "KB2604094", "KB3124275", "KB3205638", "KB4018466", "KB4507423", "KB4534303"},
			[]string{"KB3134814", "KB4040957"}, nil, []string{"dotnet20", "ie7", "os"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := Assess(tc.host, c, tc.o)
			if got := kbs(a.Plan.Steps); !slices.Equal(got, tc.steps) {
				t.Errorf("steps\n got %v\nwant %v", got, tc.steps)
			}
			if got := kbs(a.Plan.Conditional); !slices.Equal(got, nonNilStrings(tc.cond)) {
				t.Errorf("conditional %v, want %v", got, tc.cond)
			}
			if got := kbs(a.Plan.Unconfirmed); !slices.Equal(got, nonNilStrings(tc.unconfirm)) {
				t.Errorf("unconfirmed %v, want %v", got, tc.unconfirm)
			}
			var comps []string
			for _, h := range a.Components {
				comps = append(comps, string(h.ID))
			}
			if !slices.Equal(comps, tc.components) {
				t.Errorf("components %v, want %v", comps, tc.components)
			}
			for _, s := range a.Plan.Conditional {
				if !strings.Contains(s.Why, "check:") {
					t.Errorf("%s: conditional without a way to check: %s", s.KB, s.Why)
				}
			}
		})
	}
}

func nonNilStrings(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}

// TestESUPreparation: a host with the newest preparation package (or one
// replacing it) is prepared; an older one is not, and gets the newest.
func TestESUPreparation(t *testing.T) {
	c := frozen(t)
	base := []string{"KB4474419", "KB4536953", "KB2506014", "KB2604094", "KB3205638", "KB4534303"}
	for _, tc := range []struct {
		prep     string
		prepared bool
	}{{"", false}, {"KB4538484", false}, {"KB4575904", false}, {"KB5016891", true}} {
		h := testHost(server, "Standard", "x64", 6003, append(slices.Clone(base), tc.prep)...)
		a := Assess(h, c, Options{AsOf: day("2026-11-25"), ESU: ESU})
		if a.Servicing.ESUPrep != tc.prepared {
			t.Errorf("with %q: prepared %v, want %v", tc.prep, a.Servicing.ESUPrep, tc.prepared)
		}
		planned := slices.Contains(kbs(a.Plan.Steps), "KB5016891")
		if planned == tc.prepared {
			t.Errorf("with %q: KB5016891 planned %v", tc.prep, planned)
		}
		if i, j := slices.Index(kbs(a.Plan.Steps), "KB5016891"), slices.Index(kbs(a.Plan.Steps), "KB5022340"); planned && i > j {
			t.Errorf("with %q: the preparation package comes after the ESU rollup: %v", tc.prep, kbs(a.Plan.Steps))
		}
	}
	// As of 2021 the newest package is KB4575904 (July 2020).
	a := Assess(testHost(server, "Standard", "x64", 6003, base...), c, Options{AsOf: day("2021-06-30"), ESU: ESU})
	if !slices.Contains(kbs(a.Plan.Steps), "KB4575904") || slices.Contains(kbs(a.Plan.Steps), "KB5016891") {
		t.Errorf("as of 2021-06: steps %v, want KB4575904 and not KB5016891", kbs(a.Plan.Steps))
	}
}

// TestMissingRoles: a catalog that lacks a role gets a finding, never a
// crash, and the plan goes on without that step.
func TestMissingRoles(t *testing.T) {
	server6001, vista6000 := testHost(server, "Standard", "x64", 6001), testHost("Windows Vista", "Business", "x86", 6000)
	for _, tc := range []struct {
		kb, role string
		host     inventory.Host // a host whose plan needs the role
	}{
		{"KB4474419", "sha2-support", server6001}, {"KB4493730", "ssu-before-sha2", server6001},
		{"KB948465", "sp2", server6001}, {"KB936330", "vista-sp1", vista6000},
	} {
		c := frozenWith(t, tc.kb, "roles", "")
		a := Assess(tc.host, c, Options{AsOf: day("2026-11-25"), ESU: ESU})
		if !slices.Contains(findingIDs(a.Findings), "catalog-role-missing") {
			t.Errorf("without %s: no catalog-role-missing finding among %v", tc.role, findingIDs(a.Findings))
		}
		if slices.Contains(kbs(a.Plan.Steps[:min(2, len(a.Plan.Steps))]), tc.kb) {
			t.Errorf("without the %s role, %s is still planned first by role: %v", tc.role, tc.kb, kbs(a.Plan.Steps))
		}
	}
}

// TestUnknownRestarts: an update whose restart no source states is counted
// as a possible restart, not as none.
func TestUnknownRestarts(t *testing.T) {
	c := frozen(t)
	a := Assess(testHost(server, "Standard", "x64", 6002), c, Options{AsOf: day("2026-11-25")})
	unknown := 0
	for _, s := range a.Plan.Steps {
		u, _ := c.Get(s.KB)
		if u.Reboot == nil && !s.RebootAfter {
			unknown++
			if !s.MayReboot {
				t.Errorf("%s: restart unknown but not marked", s.KB)
			}
		}
	}
	if unknown == 0 || a.Plan.MayReboots != unknown {
		t.Errorf("%d possible restarts counted, want %d (>0)", a.Plan.MayReboots, unknown)
	}
}

// TestEvidence: every step names at least one source.
func TestEvidence(t *testing.T) {
	c := frozen(t)
	a := Assess(testHost(server, "Standard", "x64", 6001), c, Options{AsOf: day("2026-11-25"), ESU: ESU})
	for _, s := range a.Plan.Steps {
		if len(s.Evidence) == 0 {
			t.Errorf("%s names no source", s.KB)
		}
	}
}

// FuzzCatalogAssess loads any catalog text and assesses hosts with it: a
// catalog that loads must never crash the planner.
func FuzzCatalogAssess(f *testing.F) {
	b, err := os.ReadFile("testdata/catalog.csv")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	lines := strings.SplitAfter(string(b), "\n")
	f.Add([]byte(lines[0] + strings.Join(lines[5:20], "")))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := catalog.Load("fuzz", bytes.NewReader(data))
		if err != nil {
			return
		}
		for _, h := range []inventory.Host{testHost(server, "Standard", "x64", 6001), testHost(server, "Web", "x86", 6003, "KB4474419"), testHost("Windows Vista", "", "", 6000)} {
			for _, o := range []Options{{AsOf: day("2026-11-25")}, {AsOf: day("2020-01-31"), ESU: AzureESU, Strategy: SecurityOnlyStrategy}} {
				_ = Assess(h, c, o)
			}
		}
	})
}

// TestExplain: --explain says where an update stands and why.
func TestExplain(t *testing.T) {
	c := frozen(t)
	a := Assess(testHost(server, "Standard", "x64", 6002, "KB4018466"), c, Options{AsOf: day("2026-11-25")})
	for _, tc := range []struct{ kb, status, line string }{
		{"KB4534303", "planned", "planned as step 8"},
		{"KB4018466", "installed", "installed"},
		{"KB4012598", "replaced", "the installed KB4018466 replaces it (KB4018466 supersedes KB4012598)"},
		{"KB4458010", "replaced", "the planned KB4534303 replaces it (KB4534303 supersedes KB4507452 supersedes KB4503273 supersedes KB4489880 supersedes KB4463097 supersedes KB4458010)"},
		{"KB3124275", "unconfirmed", "MSRC lists it with no superseder"},
		{"KB3104002", "replaced", "the unconfirmed KB3124275 replaces it"},
		{"KB4040957", "conditional", "install only if .NET Framework 4.x is present"},
		{"KB5022340", "unavailable", "Extended Security Updates"},
		{"KB936330", "not-applicable", "vista"},
		{"KB1234567", "unknown", "not in the catalog"},
	} {
		e := Explain(a, c, tc.kb)
		if e.Status != tc.status || !strings.Contains(strings.Join(e.Lines, "\n"), tc.line) {
			t.Errorf("%s: %s %q, want %s and a line with %q", tc.kb, e.Status, e.Lines, tc.status, tc.line)
		}
	}
}

// TestPlannerMemoBounded: a year of daily assessments "as of today" keeps
// a handful of memo entries, and every answer equals a fresh planner's.
func TestPlannerMemoBounded(t *testing.T) {
	c := frozen(t)
	p := NewPlanner(c)
	h := testHost(server, "Standard", "x64", 6002)
	d := day("2019-01-01")
	for i := 0; i < 365; i++ {
		o := Options{AsOf: d}
		got, want := p.Assess(h, o), NewPlanner(c).Assess(h, o)
		if !reflect.DeepEqual(kbs(got.Plan.Steps), kbs(want.Plan.Steps)) || !reflect.DeepEqual(got.Findings, want.Findings) {
			t.Fatalf("as of %s the shared planner answers %v, a fresh one %v", d, kbs(got.Plan.Steps), kbs(want.Plan.Steps))
		}
		d = nextDay(d)
	}
	n := 0
	p.bases.Range(func(_, _ any) bool { n++; return true })
	// 2019 has 14 release dates in the frozen catalog: one entry for each
	// at the most, not one a day.
	if n > 16 {
		t.Errorf("%d memo entries after 365 days", n)
	}
}

func nextDay(d catalog.Date) catalog.Date {
	t := time.Date(d.Year, time.Month(d.Month), d.Day+1, 0, 0, 0, 0, time.UTC)
	return catalog.DateOf(t)
}

// TestHostState checks the one rule of where a host stands, in the order
// it tries them, on the frozen catalog.
func TestHostState(t *testing.T) {
	c := frozen(t)
	end2026 := day("2026-11-25")
	current := []string{"KB4474419", "KB4536953", "KB2506014", "KB2604094", "KB3205638", "KB4018466", "KB4534303", "KB4507423"}
	pending := testHost(server, "Standard", "x64", 6002)
	pending.Facts = &inventory.Facts{PendingReboot: []string{"CBS RebootPending"}}
	out := testHost("Windows Server 2008 R2", "Standard", "x64", 7601)
	tests := []struct {
		name string
		host inventory.Host
		o    Options
		want HostState
	}{
		{"not NT 6.0", out, Options{AsOf: end2026}, StateOutOfScope},
		{"a restart pending wins over the plan", pending, Options{AsOf: end2026}, StateRestart},
		{"a plan with steps", testHost(server, "Standard", "x64", 6002), Options{AsOf: end2026}, StateBehind},
		{"nothing to install, and ESU updates it cannot get", testHost(server, "Standard", "x64", 6003, current...), Options{AsOf: end2026}, StateCannotUpdate},
		{"nothing to install, nothing newer on the analysis date", testHost(server, "Standard", "x64", 6003, current...), Options{AsOf: day("2020-01-31")}, StateCurrent},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := Assess(tc.host, c, tc.o)
			if a.Summary.State != tc.want {
				t.Errorf("state %q, want %q (steps %d, unavailable %d)", a.Summary.State, tc.want, len(a.Plan.Steps), len(a.Plan.Unavailable))
			}
		})
	}
}
