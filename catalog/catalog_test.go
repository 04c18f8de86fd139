package catalog

import (
	"compress/gzip"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func embedded(t testing.TB) *Catalog {
	t.Helper()
	c, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestEmbeddedCatalogIsValid(t *testing.T) {
	c := embedded(t)
	for _, p := range c.Validate() {
		t.Error(p)
	}
	if len(c.Updates) < 1000 {
		t.Errorf("only %d updates", len(c.Updates))
	}
}

// TestFacts pins facts the plan depends on, each from the source named in
// its row.
func TestFacts(t *testing.T) {
	c := embedded(t)
	tests := []struct {
		kb       string
		kind     Kind
		released string
		channel  Channel
		build    int
		revision string
		raises   int
		reboot   string // "yes", "no", "" unknown
		sha2     string
	}{
		{"KB4458010", Rollup, "2018-09-11", Public, 6002, "6.0.6002.24463", 0, "", "no"},
		{"KB4457984", SecurityOnly, "2018-09-11", Public, 6002, "6.0.6002.24463", 0, "", "no"},
		{"KB4489880", Rollup, "2019-03-12", Public, 6002, "6.0.6002.24565", 0, "", "no"},
		{"KB4489887", PreviewRollup, "2019-03-19", Public, 6003, "", 6003, "", "no"},
		{"KB4493471", Rollup, "2019-04-09", Public, 6003, "6.0.6003.20489", 0, "", "no"},
		{"KB4493730", SSU, "2019-04-09", Public, 0, "", 0, "", "no"},
		{"KB4474419", SHA2, "2019-09-23", Public, 0, "", 0, "yes", "no"},
		{"KB4534303", Rollup, "2020-01-14", Public, 6003, "", 0, "", "yes"},
		{"KB4537810", Rollup, "2020-02-11", ESU, 6003, "6.0.6003.20731", 0, "", "yes"},
		{"KB4538484", ESUPrep, "2020-02", Public, 0, "", 0, "", ""},
		{"KB5014010", Rollup, "2022-05-10", ESU, 6003, "6.0.6003.21481", 0, "", "yes"},
		{"KB5022340", Rollup, "2023-01-10", ESU, 6003, "", 0, "", "yes"},
		{"KB5034173", Rollup, "2024-01-09", AzureESU, 6003, "", 0, "", "yes"},
		{"KB5073697", Rollup, "2026-01-13", Custom, 6003, "", 0, "", "yes"},
		{"KB948465", ServicePack, "2009-05-26", Public, 6002, "", 6002, "yes", "no"},
		{"KB4012598", Standalone, "2017-03-14", Public, 0, "", 0, "", ""},
	}
	tri := func(b *bool) string {
		if b == nil {
			return ""
		}
		return map[bool]string{true: "yes", false: "no"}[*b]
	}
	for _, tc := range tests {
		u, ok := c.Get(tc.kb)
		if !ok {
			t.Errorf("%s missing", tc.kb)
			continue
		}
		if u.Kind != tc.kind || u.Released.String() != tc.released || u.Channel != tc.channel || u.Build != tc.build ||
			u.Revision != tc.revision || u.RaisesBuild != tc.raises || tri(u.Reboot) != tc.reboot || tri(u.SHA2Only) != tc.sha2 {
			t.Errorf("%s = kind %s released %s channel %s build %d revision %q raises %d reboot %q sha2 %q",
				tc.kb, u.Kind, u.Released, u.Channel, u.Build, u.Revision, u.RaisesBuild, tri(u.Reboot), tri(u.SHA2Only))
		}
		if u.Source == "" {
			t.Errorf("%s has no source", tc.kb)
		}
	}
	for _, m := range [][3]string{
		{"server2008", "mainstream-end", "2015-01-13"}, {"server2008", "extended-end", "2020-01-14"},
		{"server2008", "esu-end", "2023-01-10"}, {"server2008", "azure-esu-end", "2024-01-09"},
		{"vista", "extended-end", "2017-04-11"},
	} {
		got, ok := c.Milestone(m[0], m[1])
		if !ok || got.Date.String() != m[2] {
			t.Errorf("%s %s = %v, want %s", m[0], m[1], got.Date, m[2])
		}
	}
}

func TestSupersedenceChain(t *testing.T) {
	c := embedded(t)
	installed := map[string]bool{"KB5073697": true}
	for _, kb := range []string{"KB4458010", "KB4534303", "KB5034173"} {
		if by, ok := c.Covers(installed, kb); !ok || by != "KB5073697" {
			t.Errorf("%s not covered by the January 2026 rollup (got %q)", kb, by)
		}
	}
	if _, ok := c.Covers(installed, "KB4457984"); ok {
		t.Error("a security-only update must not count as covered by a rollup through supersedence")
	}
	if by, ok := c.Covers(map[string]bool{"KB5016129": true}, "KB4493730"); !ok || by != "KB5016129" {
		t.Errorf("the July 2022 SSU must cover the April 2019 SSU, got %q", by)
	}
}

// TestMSRCCrossCheck compares every month's rollup and security-only pair
// with MSRC's product list for "Windows Server 2008 for x64-based Systems
// Service Pack 2" in the generator input internal/gen/data.
func TestMSRCCrossCheck(t *testing.T) {
	f, err := os.Open("internal/gen/data/wesng-cves-nt60.csv.gz")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	r := csv.NewReader(gz)
	// MSRC's DatePosted values include CVE revisions, so a KB is listed in
	// several months; its release month must be one of them.
	months := map[string]map[string]bool{} // KB -> months MSRC lists it for x64 SP2
	head, _ := r.Read()
	col := map[string]int{}
	for i, h := range head {
		col[h] = i
	}
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if rec[col["AffectedProduct"]] != "Windows Server 2008 for x64-based Systems Service Pack 2" || rec[col["BulletinKB"]] == "" {
			continue
		}
		kb, d := "KB"+rec[col["BulletinKB"]], rec[col["DatePosted"]]
		if months[kb] == nil {
			months[kb] = map[string]bool{}
		}
		months[kb][d[:4]+"-"+d[4:6]] = true
	}
	c := embedded(t)
	checked := 0
	for _, u := range c.Updates {
		if (u.Kind != Rollup && u.Kind != SecurityOnly) || u.Released.Day == 0 {
			continue
		}
		m, ok := months[u.KB]
		if !ok {
			t.Errorf("%s (%s %s) is not listed by MSRC for x64 SP2", u.KB, u.Kind, u.Released)
			continue
		}
		if !m[u.Released.YearMonth()] {
			t.Errorf("%s: catalog month %s, but MSRC lists it only in %v", u.KB, u.Released.YearMonth(), m)
		}
		checked++
	}
	if checked < 170 {
		t.Errorf("only %d monthly updates checked", checked)
	}
}

func TestParseErrors(t *testing.T) {
	head := strings.Join(Columns, ",") + "\n"
	good := "KB4489887,preview-rollup,t,2019-03-19,public,server2008,x86;x64,6003,,6003,,,,no,,,,src,\n"
	tests := []struct {
		name, in string
		want     []string
	}{
		{"empty", "", []string{"line 1", "no header row"}},
		{"bad header", "kb,title\n", []string{"line 1", "expected kb,kind"}},
		{"bad kind", head + strings.Replace(good, "preview-rollup", "hotfix", 1), []string{"line 2", "column kind", `"hotfix"`}},
		{"bad date", head + strings.Replace(good, "2019-03-19", "2019-13-40", 1), []string{"line 2", "column released", "YYYY-MM-DD"}},
		{"bad build", head + strings.Replace(good, ",6003,,6003,", ",7601,,6003,", 1), []string{"column build", "6000-6003"}},
		{"bad revision", head + strings.Replace(good, ",6003,,6003,", ",6003,6.0.6002.1,6003,", 1), []string{"column revision", "build 6002"}},
		{"duplicate", head + good + good, []string{"line 3", "also on line 2"}},
		{"short row", head + "KB1234567,rollup\n", []string{"line 2", "wrong number of fields"}},
		{"self supersedes", head + strings.Replace(good, ",6003,,,,no", ",6003,KB4489887,,,no", 1), []string{"column supersedes", "names itself"}},
		{"bad component", head + strings.Replace(good, ",no,,,,src", ",no,ie10,,,src", 1), []string{"column components", `"ie10"`, "ie9"}},
		{"bad family", head + strings.Replace(good, ",no,,,,src", ",no,,edge,,src", 1), []string{"column family", `"edge"`}},
		{"bad role", head + strings.Replace(good, ",no,,,,src", ",no,,,sha3,src", 1), []string{"column roles", `"sha3"`, "sha2-support"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load("test.csv", strings.NewReader(tc.in))
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is not a ParseError", err)
			}
			for _, w := range append(tc.want, "catalog test.csv") {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestValidateFindsProblems(t *testing.T) {
	head := strings.Join(Columns, ",") + "\n"
	in := head +
		"KB1000001,standalone,a,2010-01-01,public,server2008,,,,,KB1000002,,,,,,,src,\n" +
		"KB1000002,standalone,b,2011-01-01,public,server2008,,,,,KB1000001,KB1999999,,,,,sha2-support,,\n" +
		"KB1000003,standalone,c,2011-01-01,public,server2008,,,,,,,,,,,sha2-support,src,\n" +
		"KB4457984,security-only,d,2018-09-11,public,server2008,,,,,,,,,,,,src,\n" +
		"KB4463104,security-only,e,2018-10-09,public,server2008,,,,,KB4457984,,,,,,,src,\n"
	c, err := Load("test.csv", strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	rules := map[string]bool{}
	for _, p := range c.Validate() {
		rules[p.Rule] = true
	}
	for _, r := range []string{"acyclic", "prerequisite", "source", "date-order", "monthly", "role", "security-only"} {
		if !rules[r] {
			t.Errorf("Validate did not report %s (got %v)", r, rules)
		}
	}
}

func FuzzLoad(f *testing.F) {
	f.Add([]byte(updatesCSV[:4000]))
	f.Add([]byte(strings.Join(Columns, ",") + "\nKB4489887,preview-rollup,t,2019-03-19,public,server2008,x86;x64,6003,,6003,,,,no,ie7;ie9,ie-cumulative,sp2,src,\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Load("fuzz", strings.NewReader(string(data)))
		if err != nil {
			if !strings.HasPrefix(err.Error(), "catalog fuzz") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		_ = c.Validate()
		for _, u := range c.Updates {
			if _, ok := c.Get(u.KB); !ok {
				t.Fatalf("%s not indexed", u.KB)
			}
		}
	})
}

// TestCompiledAgrees: the compiled catalog (zcatalog.go) is the catalog the
// CSV files give when parsed, every row, index and closure entry.
func TestCompiledAgrees(t *testing.T) {
	if compiled == nil {
		t.Fatal("no compiled catalog: run go generate ./catalog")
	}
	files, err := ParseFiles("files.csv", strings.NewReader(filesCSV))
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := ParseWithFiles("embedded", strings.NewReader(updatesCSV), strings.NewReader(lifecycleCSV), files)
	if err != nil {
		t.Fatal(err)
	}
	if len(parsed.Updates) != len(compiled.Updates) {
		t.Fatalf("compiled %d rows, parsed %d: run go generate ./catalog", len(compiled.Updates), len(parsed.Updates))
	}
	for i, u := range parsed.Updates {
		if !reflect.DeepEqual(u, compiled.Updates[i]) {
			t.Fatalf("row %d (%s) differs: run go generate ./catalog\ncompiled %+v\nparsed   %+v", i, u.KB, compiled.Updates[i], u)
		}
	}
	if !reflect.DeepEqual(parsed, compiled) {
		t.Fatal("the compiled catalog's indexes differ from the parsed catalog's: run go generate ./catalog")
	}
	// Default is the compiled catalog, and Fresh a copy of it with rows of
	// its own.
	if c, _ := Default(); c != compiled {
		t.Error("Default is not the compiled catalog")
	}
	fresh, err := Fresh()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(fresh, compiled) {
		t.Error("Fresh differs from the compiled catalog")
	}
	u, _ := fresh.Get("KB4474419")
	fresh.AddFiles([]File{{KB: "KB4474419", Arch: "x64", Name: "mirror.msu"}})
	if orig, _ := compiled.Get("KB4474419"); len(orig.Files) == len(u.Files) || fresh.Updates[u.Index] != u {
		t.Error("AddFiles on Fresh's copy changed the compiled catalog")
	}
}

// BenchmarkLoadEmbedded is the parsing path: what loading cost before the
// catalog was compiled, and what a --catalog file of the same size costs.
func BenchmarkLoadEmbedded(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse("embedded", strings.NewReader(updatesCSV), strings.NewReader(lifecycleCSV)); err != nil {
			b.Fatal(err)
		}
	}
}

// TestLongChainsRefused: a file whose supersedence chain would make the
// closure quadratic is refused with a message, in bounded time and memory.
func TestLongChainsRefused(t *testing.T) {
	var b strings.Builder
	b.WriteString(strings.Join(Columns, ",") + "\n")
	const n = 3000 // a chain of 3,000 has 4.5 million closure links
	for i := 0; i < n; i++ {
		sup := ""
		if i > 0 {
			sup = fmt.Sprintf("KB%d", 1000000+i-1)
		}
		fmt.Fprintf(&b, "KB%d,standalone,t,2010-01-01,public,server2008,,,,,%s,,,,,,,src,\n", 1000000+i, sup)
	}
	_, err := Load("chain.csv", strings.NewReader(b.String()))
	if err == nil || !strings.Contains(err.Error(), "catalog chain.csv: its supersedence chains are too long") {
		t.Errorf("error %v", err)
	}
}

func TestSourceFamilies(t *testing.T) {
	for src, want := range map[string]string{
		"MSRC data via bitsadmin/wesng definitions.zip":               "msrc",
		"github:tester9071348/updateVista@71841b6 (...)":              "updatevista",
		"github:LizenzFass78851/wsusoffline-release-esr@ab2dd33 list": "wsusoffline",
		"https://support.microsoft.com/help/4474419":                  "microsoft",
		"Microsoft, 'Information about Service Pack 2'":               "microsoft",
		"search-index file id 123":                                    "other",
		"catalog/internal/gen/data/ws2008sp2-updates.csv":             "",
	} {
		if got := sourceFamily(strings.ToLower(src)); got != want {
			t.Errorf("sourceFamily(%q) = %q, want %q", src, got, want)
		}
	}
	c := embedded(t)
	u, _ := c.Get("KB4474419")
	if !slices.Contains(u.Sources, "microsoft") || !slices.Contains(u.Sources, "wsusoffline") {
		t.Errorf("KB4474419 sources %v", u.Sources)
	}
}
