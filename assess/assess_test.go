package assess

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"os"
	"reflect"
	"slices"
	"testing"

	"github.com/kbplan/kbplan/catalog"
	"github.com/kbplan/kbplan/exposure"
	"github.com/kbplan/kbplan/internal/golden"
	"github.com/kbplan/kbplan/inventory"
	"github.com/kbplan/kbplan/inventory/detect"
	"github.com/kbplan/kbplan/winver"
)

func host(t testing.TB, path string) inventory.Host {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h, err := detect.Read(path, f)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

var asOf = catalog.Date{Year: 2026, Month: 11, Day: 25}

// TestPure checks that Assess is deterministic: same input, same output.
func TestPure(t *testing.T) {
	c, err := catalog.Default()
	if err != nil {
		t.Fatal(err)
	}
	h := host(t, "../inventory/systeminfo/testdata/vanilla/08-systeminfo-2008sp2-x64-standard-en-utf16le.txt")
	a := Assess(h, c, Options{AsOf: asOf})
	for i := 0; i < 5; i++ {
		b := Assess(h, c, Options{AsOf: asOf})
		if len(a.Plan.Steps) != len(b.Plan.Steps) || len(a.Findings) != len(b.Findings) {
			t.Fatal("two runs differ")
		}
		for k := range a.Plan.Steps {
			if !reflect.DeepEqual(a.Plan.Steps[k], b.Plan.Steps[k]) {
				t.Fatalf("step %d differs: %+v vs %+v", k, a.Plan.Steps[k], b.Plan.Steps[k])
			}
		}
	}
}

func TestPatchLevelAndAsOf(t *testing.T) {
	c, err := catalog.Default()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		hotfixes []string
		asOf     catalog.Date
		level    string
		lastStep string
	}{
		{"rollup 2019-04", []string{"KB4493471"}, asOf, "2019-04", "KB4534303"},
		{"preview 2019-03 counts for its month", []string{"KB4489887"}, asOf, "2019-03", "KB4534303"},
		{"security-only run with a gap stops at the gap", []string{"KB4457984", "KB4463104", "KB4471319"}, asOf, "2018-10", "KB4534303"},
		{"as of 2019-06-01 the newest rollup is May 2019", nil, catalog.Date{Year: 2019, Month: 6, Day: 1}, "", "KB4499149"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := inventory.Host{Format: "test", HotfixesKnown: true, Hotfixes: tc.hotfixes}
			v.OS.Product, v.OS.Architecture, v.OS.Edition = "Windows Server 2008", "x64", "Standard"
			v.SetVersion(mustVersion(6003))
			a := Assess(v, c, Options{AsOf: tc.asOf})
			if got := a.PatchLevel.YearMonth(); got != tc.level {
				t.Errorf("patch level %q, want %q", got, tc.level)
			}
			if n := len(a.Plan.Steps); n == 0 || a.Plan.Steps[n-1].KB != tc.lastStep {
				t.Errorf("last step %v, want %s", a.Plan.Steps[max(n-1, 0):], tc.lastStep)
			}
			for _, s := range a.Plan.Steps {
				if s.Released.Compare(tc.asOf) > 0 {
					t.Errorf("%s released %s, after the analysis date", s.KB, s.Released)
				}
			}
		})
	}
}

func BenchmarkAssess(b *testing.B) {
	c, err := catalog.Default()
	if err != nil {
		b.Fatal(err)
	}
	h := host(b, "../inventory/systeminfo/testdata/vanilla/08-systeminfo-2008sp2-x64-standard-en-utf16le.txt")
	// A fresh planner is one host's run; a reused one is every further
	// host of a batch or a fleet (its memo tables filled).
	b.Run("fresh", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			Assess(h, c, Options{AsOf: asOf})
		}
	})
	b.Run("reused", func(b *testing.B) {
		p := NewPlanner(c)
		b.ReportAllocs()
		for b.Loop() {
			p.Assess(h, Options{AsOf: asOf})
		}
	})
}

func mustVersion(build int) winver.Version {
	return winver.Version{Major: 6, Minor: 0, Build: build, Revision: -1}
}

func hostWith(build int, kbs ...string) inventory.Host {
	h := inventory.Host{Format: "test", HotfixesKnown: true, Hotfixes: kbs}
	h.OS.Product, h.OS.Architecture, h.OS.Edition = "Windows Server 2008", "x64", "Standard"
	h.SetVersion(mustVersion(build))
	h.Finish()
	return h
}

// TestExposure covers the supersedence cases that fool wesng and the
// MS17-010 question (docs/exposure.md).
func TestExposure(t *testing.T) {
	c, idx := embeddedData(t)
	type want struct{ open, unfixable, absent []string }
	tests := []struct {
		name string
		host inventory.Host
		o    Options
		want want
	}{
		{"bare SP2 lacks MS17-010", hostWith(6002), Options{AsOf: asOf},
			want{open: []string{"CVE-2017-0144", "CVE-2019-0708"}}},
		{"the January 2020 rollup covers BlueKeep (May 2019) through the rollup chain, not MS17-010", hostWith(6003, "KB4534303"), Options{AsOf: asOf},
			want{open: []string{"CVE-2017-0144"}, absent: []string{"CVE-2019-0708", "CVE-2019-0630"}}},
		{"KB4018466 supersedes the MS17-010 update KB4012598", hostWith(6002, "KB4018466"), Options{AsOf: asOf},
			want{absent: []string{"CVE-2017-0144"}}},
		{"the MS17-010 update itself", hostWith(6002, "KB4012598"), Options{AsOf: asOf},
			want{absent: []string{"CVE-2017-0144"}}},
		{"without ESU, PrintNightmare cannot be fixed", hostWith(6003, "KB4534303"), Options{AsOf: asOf},
			want{unfixable: []string{"CVE-2021-34527"}}},
		{"with ESU it is open, and fixed by the January 2023 rollup", hostWith(6003, "KB4534303"), Options{AsOf: asOf, ESU: ESU},
			want{open: []string{"CVE-2021-34527"}}},
		{"the last ESU rollup fixes it", hostWith(6003, "KB5022340"), Options{AsOf: asOf, ESU: ESU},
			want{absent: []string{"CVE-2021-34527"}}},
		{"CVEs published after the analysis date do not count", hostWith(6002), Options{AsOf: catalog.Date{Year: 2019, Month: 1, Day: 1}},
			want{open: []string{"CVE-2017-0144"}, absent: []string{"CVE-2019-0708"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.o.Exposure.Index = idx
			a := Assess(tc.host, c, tc.o)
			in := func(l []Exposed, id string) bool {
				for _, e := range l {
					if e.CVE == id {
						return true
					}
				}
				return false
			}
			for _, id := range tc.want.open {
				if !in(Expand(a.Exposure.Open), id) {
					t.Errorf("%s not open", id)
				}
			}
			for _, id := range tc.want.unfixable {
				if !in(Expand(a.Exposure.Unfixable), id) {
					t.Errorf("%s not unfixable", id)
				}
			}
			for _, id := range tc.want.absent {
				if in(Expand(a.Exposure.Open), id) || in(Expand(a.Exposure.Unfixable), id) {
					t.Errorf("%s listed", id)
				}
			}
		})
	}
}

// BenchmarkAssessExposure: a bare host with its exposure, each time with
// a new planner (full) and with one planner (counts: what a fleet upload
// computes, the plan and the CVE counts), for a profile the planner has
// seen (its counts remembered) and for a new one each time (a hotfix kbplan
// does not know added: decided afresh).
func BenchmarkAssessExposure(b *testing.B) {
	c, idx := embeddedData(b)
	h := host(b, "../inventory/systeminfo/testdata/vanilla/08-systeminfo-2008sp2-x64-standard-en-utf16le.txt")
	b.Run("full", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			Assess(h, c, Options{AsOf: asOf, Exposure: ExposureOptions{Index: idx}})
		}
	})
	b.Run("counts/seen", func(b *testing.B) {
		p := NewPlanner(c)
		b.ReportAllocs()
		for b.Loop() {
			p.Assess(h, Options{AsOf: asOf, Exposure: ExposureOptions{Index: idx, CountsOnly: true}})
		}
	})
	b.Run("counts/new", func(b *testing.B) {
		p := NewPlanner(c)
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			hi := h
			hi.Hotfixes = append(slices.Clip(h.Hotfixes), fmt.Sprintf("KB9%06d", i))
			i++
			p.Assess(hi, Options{AsOf: asOf, Exposure: ExposureOptions{Index: idx, CountsOnly: true}})
		}
	})
}

// TestExposureSets: the sets the exposure is computed in list each CVE
// once, worst first, and their counts are those of the CVEs they list; the
// golden file holds, per host and options, the counts and a digest of every
// CVE with its update and reason (the per-CVE form of kbplan before the
// sets, checked equal when they came: BENCHMARKS.md "compact exposure").
// A change there means the exposure changed: look at it with kbplan
// analyze --exposure before -update.
func TestExposureSets(t *testing.T) {
	c, idx := embeddedData(t)
	hosts := []struct {
		name string
		h    inventory.Host
	}{
		{"bare-6002", hostWith(6002)},
		{"jan-2020", hostWith(6003, "KB4474419", "KB4534303")},
		{"esu-2023", hostWith(6003, "KB4474419", "KB5016891", "KB5022340")},
		{"ms17-010-only", hostWith(6002, "KB4012598")},
	}
	opts := []struct {
		name string
		o    Options
	}{
		{"public", Options{AsOf: asOf}},
		{"esu", Options{AsOf: asOf, ESU: ESU}},
		{"critical-exploited", Options{AsOf: asOf, Exposure: ExposureOptions{MinSeverity: "Critical", Exploited: true}}},
		{"2019-06", Options{AsOf: catalog.Date{Year: 2019, Month: 6, Day: 1}}},
	}
	var out bytes.Buffer
	p := NewPlanner(c)
	for _, h := range hosts {
		for _, o := range opts {
			o.o.Exposure.Index = idx
			e := p.Assess(h.h, o.o).Exposure
			open, unfixable := Expand(e.Open), Expand(e.Unfixable)
			seen := map[string]bool{}
			sum := sha256.New()
			for _, l := range []struct {
				name string
				list []Exposed
			}{{"open", open}, {"unfixable", unfixable}} {
				for i, x := range l.list {
					if seen[x.CVE] {
						t.Errorf("%s/%s: %s listed twice", h.name, o.name, x.CVE)
					}
					seen[x.CVE] = true
					if i > 0 && l.list[i-1].pos >= x.pos {
						t.Errorf("%s/%s: %s not worst first", h.name, o.name, l.name)
					}
					fmt.Fprintf(sum, "%s %s %s %s\n", l.name, x.CVE, x.KB, x.Why)
				}
			}
			crit, expl := 0, 0
			for _, x := range open {
				if x.Severity == "Critical" {
					crit++
				}
				if x.Exploits > 0 {
					expl++
				}
			}
			if got := (ExposureCounts{len(open), crit, expl, len(unfixable)}); got != e.Counts {
				t.Errorf("%s/%s: counts %+v, the lists give %+v", h.name, o.name, e.Counts, got)
			}
			counts := p.Assess(h.h, Options{AsOf: o.o.AsOf, ESU: o.o.ESU, Exposure: ExposureOptions{Index: idx, MinSeverity: o.o.Exposure.MinSeverity,
				Exploited: o.o.Exposure.Exploited, CountsOnly: true}}).Exposure
			if counts.Counts != e.Counts || counts.Open != nil {
				t.Errorf("%s/%s: counts only %+v, full %+v", h.name, o.name, counts.Counts, e.Counts)
			}
			fmt.Fprintf(&out, "%s %s: %d sets open, %d unfixable; %+v; %x\n", h.name, o.name, len(e.Open), len(e.Unfixable), e.Counts, sum.Sum(nil)[:8])
		}
	}
	golden.Check(t, "testdata/exposure-sets.txt", out.Bytes())
}

// embeddedData is the embedded catalog and CVE index.
func embeddedData(tb testing.TB) (*catalog.Catalog, *exposure.Index) {
	tb.Helper()
	c, err := catalog.Default()
	if err != nil {
		tb.Fatal(err)
	}
	idx, err := exposure.Default()
	if err != nil {
		tb.Fatal(err)
	}
	return c, idx
}

// TestExposureCountsMemo: the exposure a planner remembers per host
// profile (its counts, and its lists per plan) is the one decided afresh,
// for hosts that differ in one thing each (hotfixes, architecture,
// edition, ESU, date, filters, strategy), assessed twice in turn on one
// planner.
func TestExposureCountsMemo(t *testing.T) {
	c, idx := embeddedData(t)
	x86 := hostWith(6002, "KB4012598")
	x86.OS.Architecture = "x86"
	web := hostWith(6003, "KB4474419", "KB4534303")
	web.OS.Edition = "Web"
	hosts := []struct {
		name string
		h    inventory.Host
	}{
		{"bare", hostWith(6002)},
		{"ms17-010", hostWith(6002, "KB4012598")},
		{"ms17-010 x86", x86},
		{"jan-2020", hostWith(6003, "KB4474419", "KB4534303")},
		{"jan-2020 web", web},
		{"esu-2023", hostWith(6003, "KB4474419", "KB5016891", "KB5022340")},
	}
	opts := []struct {
		name string
		o    Options
	}{
		{"public", Options{AsOf: asOf}},
		{"esu", Options{AsOf: asOf, ESU: ESU}},
		{"azure", Options{AsOf: asOf, ESU: AzureESU}},
		{"2019-06", Options{AsOf: catalog.Date{Year: 2019, Month: 6, Day: 1}}},
		{"2021-01", Options{AsOf: catalog.Date{Year: 2021, Month: 1, Day: 15}}},
		{"critical", Options{AsOf: asOf, Exposure: ExposureOptions{MinSeverity: "Critical"}}},
		{"exploited", Options{AsOf: asOf, Exposure: ExposureOptions{Exploited: true}}},
		{"security-only", Options{AsOf: asOf, Strategy: SecurityOnlyStrategy}},
	}
	// digest is a whole exposure: every CVE with its update and reason.
	digest := func(e *Exposure) string {
		h := sha256.New()
		for _, l := range [][]ExposureSet{e.Open, e.Unfixable} {
			for _, x := range Expand(l) {
				fmt.Fprintf(h, "%s %s %s\n", x.CVE, x.KB, x.Why)
			}
			fmt.Fprintln(h, "--")
		}
		return fmt.Sprintf("%x %+v", h.Sum(nil), e.Counts)
	}
	shared := NewPlanner(c)
	for round := range 2 {
		for _, h := range hosts {
			for _, o := range opts {
				o.o.Exposure.Index = idx
				fresh := NewPlanner(c).Assess(h.h, o.o).Exposure
				if got, want := digest(shared.Assess(h.h, o.o).Exposure), digest(fresh); got != want {
					t.Errorf("round %d, %s/%s: exposure %s, decided afresh %s", round, h.name, o.name, got, want)
				}
				o.o.Exposure.CountsOnly = true
				if got := shared.Assess(h.h, o.o).Exposure.Counts; got != fresh.Counts {
					t.Errorf("round %d, %s/%s: counts %+v, decided afresh %+v", round, h.name, o.name, got, fresh.Counts)
				}
			}
		}
	}
	profiles := int64(len(hosts) * len(opts))
	if n, m := shared.countsN.Load(), shared.exposuresN.Load(); n == 0 || n > profiles || m == 0 || m > profiles {
		t.Errorf("%d counts and %d exposures remembered for %d profiles", n, m, profiles)
	}
}

// TestSharedStepLists: the unconfirmed, conditional and unavailable lists
// a planner shares between hosts are what a fresh planner makes for each
// host alone, whatever came before; hosts with the same list share one
// (clipped, so an append copies), hosts with other lists get their own.
func TestSharedStepLists(t *testing.T) {
	c, _ := embeddedData(t)
	hosts := []inventory.Host{hostWith(6002), hostWith(6002, "KB4012598"), hostWith(6003, "KB4474419", "KB4534303"),
		hostWith(6002, "KB958644", "KB2347290", "KB2360937"), hostWith(6003, "KB4474419", "KB5016891", "KB5022340")}
	opts := []Options{{AsOf: asOf}, {AsOf: asOf, ESU: ESU}, {AsOf: asOf, Assume: []catalog.Component{catalog.IE9}}, {AsOf: asOf, Strategy: SecurityOnlyStrategy}, {AsOf: asOf, Unconfirmed: true}}
	shared := NewPlanner(c)
	lists := func(a Assessment) [][]Step {
		return [][]Step{a.Plan.Unconfirmed, a.Plan.Conditional, a.Plan.Unavailable}
	}
	for round := range 2 {
		for i, h := range hosts {
			for j, o := range opts {
				got, want := shared.Assess(h, o), NewPlanner(c).Assess(h, o)
				if !reflect.DeepEqual(got.Plan, want.Plan) {
					t.Errorf("round %d, host %d, options %d: the shared planner's plan differs from a fresh one's", round, i, j)
				}
				for k, l := range lists(got) {
					if cap(l) != len(l) {
						t.Errorf("host %d, options %d, list %d: capacity %d past its length %d: an append would write into the shared array", i, j, k, cap(l), len(l))
					}
				}
			}
		}
	}
	a, b := shared.Assess(hosts[0], opts[0]), shared.Assess(hosts[0], opts[0])
	if len(a.Plan.Unconfirmed) == 0 || &a.Plan.Unconfirmed[0] != &b.Plan.Unconfirmed[0] {
		t.Errorf("two bare hosts: %d unconfirmed steps, not shared", len(a.Plan.Unconfirmed))
	}
}
