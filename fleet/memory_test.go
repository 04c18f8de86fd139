package fleet

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/kbplan/kbplan/catalog"
	"github.com/kbplan/kbplan/exposure"
	"github.com/kbplan/kbplan/inventory"
	"github.com/kbplan/kbplan/inventory/detect"
)

func heap() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestMemoryFlat: a server assessing hosts as of today, every day for a
// year, and swapping its catalog twenty times, keeps a flat heap: the
// planner's memo tables are keyed by host profile and the release date
// that matters, and go with their catalog (issue 15 measured +787 MiB over
// 365 days and 55 MiB kept after 20 catalogs with process-wide tables).
func TestMemoryFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	c, err := catalog.Default()
	if err != nil {
		t.Fatal(err)
	}
	x, err := exposure.Default()
	if err != nil {
		t.Fatal(err)
	}
	var hosts []inventory.Host
	for _, p := range []string{samples + "08-systeminfo-2008sp2-x64-standard-en-utf16le.txt", "../testdata/analyze/ws2008-6003-x64-esu-prepared.txt"} {
		fh, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		h, err := detect.Read(p, fh)
		fh.Close()
		if err != nil {
			t.Fatal(err)
		}
		hosts = append(hosts, h)
	}
	day := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	f := &Fleet{Catalog: c, Index: x, Now: func() time.Time { return day }}
	assessAll := func() {
		for _, h := range hosts {
			f.Assess(h, true)
		}
	}
	assessAll()
	base := heap()
	for i := 0; i < 365; i++ {
		day = day.AddDate(0, 0, 1)
		assessAll()
	}
	year := heap()
	t.Logf("heap %d KiB after the first day, %d KiB after 365 more", base>>10, year>>10)
	if year > base+8<<20 {
		t.Errorf("a year of daily assessments grew the heap by %d KiB", (year-base)>>10)
	}
	for i := 0; i < 20; i++ {
		nc, err := catalog.Load("swap", strings.NewReader(catalogCSV(t)))
		if err != nil {
			t.Fatal(err)
		}
		f.Catalog = nc
		assessAll()
	}
	swaps := heap()
	t.Logf("heap %d KiB after 20 catalog swaps", swaps>>10)
	if swaps > year+16<<20 {
		t.Errorf("20 catalog swaps grew the heap by %d KiB", (swaps-year)>>10)
	}
}

// catalogCSV is the embedded catalog's text (as a --catalog file would be).
func catalogCSV(t *testing.T) string {
	b, err := os.ReadFile("../catalog/updates.csv")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestHostStaysWhole: a host's row is the merge of its newest upload of
// each format, so a hotfix list never erases the build systeminfo gave, and
// a repeated upload never leaves the host worse than its inputs.
func TestHostStaysWhole(t *testing.T) {
	for _, dialect := range dialects {
		t.Run(dialect, func(t *testing.T) {
			f := newTestFleet(t, dialect)
			ctx := context.Background()
			read := func(name string) []byte {
				b, err := os.ReadFile("../testdata/hosts/" + name)
				if err != nil {
					t.Fatal(err)
				}
				return b
			}
			sysinfo, qfe := read("systeminfo-ws2008sp2-x86-ru-cp866.txt"), read("wmic-qfe-list-full-utf16le-bom.txt")
			var steps []int
			for i, up := range []struct {
				name string
				body []byte
			}{{"systeminfo", sysinfo}, {"qfe", qfe}, {"systeminfo again", sysinfo}} {
				if _, err := f.Ingest(ctx, up.name, up.body); err != nil {
					t.Fatalf("upload %d (%s): %v", i, up.name, err)
				}
				row, a, err := f.Current(ctx, "srv-med-01", true)
				if err != nil {
					t.Fatal(err)
				}
				if row.Build != 6003 || !a.InScope || a.Host.OS.Product != "Windows Server 2008" {
					t.Fatalf("after %s: build %d, in scope %v, product %q", up.name, row.Build, a.InScope, a.Host.OS.Product)
				}
				if row.Steps != a.Summary.Steps {
					t.Errorf("after %s: the row says %d steps, the host page %d", up.name, row.Steps, a.Summary.Steps)
				}
				steps = append(steps, row.Steps)
			}
			// The qfe list adds updates systeminfo did not list: fewer steps,
			// never more.
			if steps[1] > steps[0] || steps[2] != steps[1] {
				t.Errorf("steps %v: each upload must leave the host no worse", steps)
			}
		})
	}
}

// TestReadersVersionReassesses: rows assessed by older readers are read
// again from their snapshots.
func TestReadersVersionReassesses(t *testing.T) {
	f := newTestFleet(t, "sqlite")
	st := f.Store
	ctx := context.Background()
	b, err := os.ReadFile("../testdata/hosts/systeminfo-ws2008sp2-x86-ru-cp866.txt")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Ingest(ctx, "s", b); err != nil {
		t.Fatal(err)
	}
	row, err := st.Host(ctx, "srv-med-01")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(row.Catalog, fmt.Sprintf("readers %d,", inventory.ReadersVersion)) {
		t.Fatalf("row assessed with %q: the readers' version is not part of it", row.Catalog)
	}
	row.Catalog = strings.Replace(row.Catalog, fmt.Sprintf("readers %d,", inventory.ReadersVersion), "readers 1,", 1)
	if err := st.SetHost(ctx, row); err != nil {
		t.Fatal(err)
	}
	if n, err := f.Reassess(ctx); err != nil || n != 1 {
		t.Errorf("reassessed %d rows (%v), want the one older readers made", n, err)
	}
}
