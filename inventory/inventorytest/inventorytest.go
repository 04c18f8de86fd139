// Package inventorytest holds what the inventory readers' tests and fuzz
// targets share: the seed corpus and the invariants every Host must keep.
package inventorytest

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/kbplan/kbplan/internal/golden"
	"github.com/kbplan/kbplan/inventory"
	"github.com/kbplan/kbplan/winver"
)

// Root is the repository root.
func Root() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// SeedFiles lists the checked-in hand-built inputs and the real samples
// (inventory/*/testdata, each folder with its sources and licences).
func SeedFiles(tb testing.TB) []string {
	tb.Helper()
	root := Root()
	var files []string
	for _, pat := range []string{
		filepath.Join(root, "testdata", "hosts", "*"),
		filepath.Join(root, "inventory", "*", "testdata", "*", "*.txt"),
		filepath.Join(root, "inventory", "*", "testdata", "*.txt"),
	} {
		m, err := filepath.Glob(pat)
		if err != nil {
			tb.Fatal(err)
		}
		files = append(files, m...)
	}
	return files
}

// AddSeeds adds every seed file's bytes to a fuzz target's corpus.
func AddSeeds(f *testing.F) {
	for _, p := range SeedFiles(f) {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

var kbRe = regexp.MustCompile(`^KB[1-9][0-9]{0,7}$`)

// Check fails the test when h breaks an invariant of inventory.Host.
func Check(t *testing.T, h inventory.Host) {
	t.Helper()
	for _, kb := range h.Hotfixes {
		if !kbRe.MatchString(kb) {
			t.Fatalf("hotfix %q is not a KB id", kb)
		}
	}
	if !slices.IsSortedFunc(h.Hotfixes, func(a, b string) int { return inventory.KBNumber(a) - inventory.KBNumber(b) }) {
		t.Fatalf("hotfixes not sorted: %v", h.Hotfixes)
	}
	if len(slices.Compact(slices.Clone(h.Hotfixes))) != len(h.Hotfixes) {
		t.Fatalf("duplicate hotfixes: %v", h.Hotfixes)
	}
	if len(h.Hotfixes) > inventory.MaxHotfixes {
		t.Fatalf("%d hotfixes exceed the bound", len(h.Hotfixes))
	}
	if h.Hotfixes != nil && !h.HotfixesKnown {
		t.Fatalf("hotfixes listed but marked unknown")
	}
	switch h.OS.Architecture {
	case "", "x86", "x64", "ia64", "arm64":
	default:
		t.Fatalf("architecture %q", h.OS.Architecture)
	}
	if sp := h.OS.ServicePack; sp != nil && (*sp < 0 || *sp > 99) {
		t.Fatalf("service pack %d", *sp)
	}
	if h.Format == "" {
		t.Fatalf("no format set")
	}
	for _, w := range h.Warnings {
		if strings.TrimSpace(w) == "" {
			t.Fatalf("empty warning")
		}
	}
}

// Parse runs one format on raw text the way package detect does, without
// the sniffing, and checks the result.
func Parse(t *testing.T, f inventory.Format, data []byte) {
	enc, bom := inventory.DetectEncoding(data[:min(len(data), inventory.HeadSize)])
	lines := inventory.NewLines(inventory.Decoder(strings.NewReader(string(data[bom:])), enc))
	_ = f.Sniff(lines.Head(200))
	h := inventory.Host{Source: "fuzz"}
	if err := f.Parse(lines, &h); err != nil {
		if err.Error() == "" {
			t.Fatal("empty error")
		}
		return
	}
	Check(t, h)
}

// Hosts is the repository's folder of hand-built inputs (testdata/hosts),
// which the reader of each format tests beside its own real samples.
func Hosts(name string) string { return filepath.Join(Root(), "testdata", "hosts", name) }

// ReadFile reads one input file with f alone, the way package detect reads
// it once f has won the sniffing, and checks that f would win it (it rates
// the file above 0). A parse error fails the test.
func ReadFile(t *testing.T, f inventory.Format, path string) inventory.Host {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	h, err := ParseBytes(f, filepath.Base(path), data)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	Check(t, h)
	return h
}

// ParseBytes decodes data as detect does and parses it with f.
func ParseBytes(f inventory.Format, name string, data []byte) (inventory.Host, error) {
	enc, bom := inventory.DetectEncoding(data[:min(len(data), inventory.HeadSize)])
	lines := inventory.NewLines(inventory.Decoder(strings.NewReader(string(data[bom:])), enc))
	if f.Sniff(lines.Head(200)) == 0 {
		return inventory.Host{}, fmt.Errorf("%s does not recognise the input", f.Name())
	}
	h := inventory.Host{Source: name, Encoding: string(enc)}
	if err := f.Parse(lines, &h); err != nil {
		return inventory.Host{}, err
	}
	return h, nil
}

// Golden compares h, as indented JSON of every field a reader fills, with
// testdata/golden/NAME.json of the calling package.
func Golden(t *testing.T, name string, h inventory.Host) {
	t.Helper()
	b, err := json.MarshalIndent(h, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden.Check(t, filepath.Join("testdata", "golden", name+".json"), append(b, '\n'))
}

// Want is what a reader test asserts of one input, independently of its
// golden file: the fields that matter to a plan.
type Want struct {
	Format                       string
	Host, Product, Edition, Arch string
	SP                           int // -1: unknown
	Build                        int // 0: unknown
	Revision                     int // -1: unknown
	Hotfixes                     int // -1: not listed (HotfixesKnown false)
	InScope                      bool
}

// Expect checks h against w.
func Expect(t *testing.T, h inventory.Host, w Want) {
	t.Helper()
	str := func(what, got, want string) {
		if got != want {
			t.Errorf("%s = %q, want %q", what, got, want)
		}
	}
	num := func(what string, got, want int) {
		if got != want {
			t.Errorf("%s = %d, want %d", what, got, want)
		}
	}
	str("format", h.Format, w.Format)
	str("hostname", h.Hostname, w.Host)
	str("product", h.OS.Product, w.Product)
	str("edition", h.OS.Edition, w.Edition)
	str("architecture", h.OS.Architecture, w.Arch)
	sp, build, rev := -1, 0, -1
	if h.OS.ServicePack != nil {
		sp = *h.OS.ServicePack
	}
	if v := h.OS.Version; v != nil {
		build = v.Build
		if v.Revision != winver.NoRevision {
			rev = v.Revision
		}
	}
	num("service pack", sp, w.SP)
	num("build", build, w.Build)
	num("revision", rev, w.Revision)
	hf := len(h.Hotfixes)
	if !h.HotfixesKnown {
		hf = -1
	}
	num("hotfixes", hf, w.Hotfixes)
	if h.InScope() != w.InScope {
		t.Errorf("in scope = %v, want %v", h.InScope(), w.InScope)
	}
}

// Sample is one sample file of a reader and the fields it must give.
type Sample struct {
	File string // path from the reader's package, testdata/NAME.txt
	Want Want
}

// Samples reads each sample with f alone, as detect would hand it over,
// checks the fields that matter and every field against the golden file
// named after the sample (-update rewrites it).
func Samples(t *testing.T, f inventory.Format, samples []Sample) {
	t.Helper()
	for _, s := range samples {
		t.Run(s.File, func(t *testing.T) {
			h := ReadFile(t, f, s.File)
			Expect(t, h, s.Want)
			Golden(t, strings.TrimSuffix(filepath.Base(s.File), filepath.Ext(s.File)), h)
		})
	}
}

// Fuzz runs f's Parse on every seed input and whatever the fuzzer makes of
// them: a reader never panics and keeps its bounds (Parse).
func Fuzz(fz *testing.F, f inventory.Format) {
	AddSeeds(fz)
	fz.Fuzz(func(t *testing.T, data []byte) {
		Parse(t, f, data)
	})
}
