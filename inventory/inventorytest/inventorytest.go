// Package inventorytest holds what the inventory readers' tests and fuzz
// targets share: the seed corpus and the invariants every Host must keep.
package inventorytest

import (
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/kbplan/kbplan/inventory"
)

// Root is the repository root.
func Root() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// SeedFiles lists the checked-in hand-built inputs and, when ../shared is
// beside the repository, the real samples.
func SeedFiles(tb testing.TB) []string {
	tb.Helper()
	root := Root()
	var files []string
	for _, pat := range []string{
		filepath.Join(root, "testdata", "hosts", "*"),
		filepath.Join(root, "..", "shared", "data", "samples", "*", "*.txt"),
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
