package detect

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/kbplan/kbplan/inventory/inventorytest"
)

func FuzzRead(f *testing.F) {
	inventorytest.AddSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		h, err := Read("fuzz", bytes.NewReader(data))
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz: ") {
				t.Fatalf("error does not name the input: %v", err)
			}
			return
		}
		inventorytest.Check(t, h)
	})
}

// endless yields an unbounded systeminfo-like stream: a header, then
// hotfix entries forever.
type endless struct {
	head []byte
	n    int
	buf  []byte
}

func (e *endless) Read(p []byte) (int, error) {
	if len(e.head) > 0 {
		n := copy(p, e.head)
		e.head = e.head[n:]
		return n, nil
	}
	if len(e.buf) == 0 {
		e.n++
		e.buf = []byte("                           [" + strconv.Itoa(e.n%1000) + "]: KB" + strconv.Itoa(1000000+e.n%5000000) + "\r\n")
	}
	n := copy(p, e.buf)
	e.buf = e.buf[n:]
	return n, nil
}

// BenchmarkReadHuge streams a systeminfo of the given size through Read and
// reports its peak heap (see BENCHMARKS.md): hostile inputs cost bounded
// memory.
func BenchmarkReadHuge(b *testing.B) {
	const size = 256 << 20
	head := "Host Name:                 HUGE\r\nOS Version:                6.0.6002 Service Pack 2 Build 6002\r\nHotfix(s):                 9 Hotfix(s) Installed.\r\n"
	b.SetBytes(size)
	for b.Loop() {
		r := io.LimitReader(&endless{head: []byte(head)}, size)
		h, err := Read("huge", r)
		if err != nil {
			b.Fatal(err)
		}
		if len(h.Hotfixes) == 0 {
			b.Fatal("no hotfixes")
		}
	}
}

// BenchmarkRead measures parsing throughput on every seed input (real
// samples and hand-built ones), read from memory.
func BenchmarkRead(b *testing.B) {
	var inputs [][]byte
	total := 0
	for _, p := range inventorytest.SeedFiles(b) {
		data, err := os.ReadFile(p)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := Read(p, bytes.NewReader(data)); err != nil {
			continue // licence and notes files
		}
		inputs = append(inputs, data)
		total += len(data)
	}
	b.SetBytes(int64(total))
	b.ReportAllocs()
	for b.Loop() {
		for _, data := range inputs {
			if _, err := Read("bench", bytes.NewReader(data)); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// TestPicksTheFormat: every real sample and hand-built input goes to the
// reader that owns it, whatever its encoding.
func TestPicksTheFormat(t *testing.T) {
	files := inventorytest.SeedFiles(t)
	if len(files) < 40 {
		t.Fatalf("found %d inputs, want every real sample and hand-built input", len(files))
	}
	for _, p := range files {
		base := filepath.Base(p)
		if strings.HasPrefix(base, "LICENSE") || strings.HasSuffix(base, ".md") {
			continue
		}
		var want string
		switch {
		case strings.Contains(base, "systeminfo"):
			want = "systeminfo-"
		case strings.Contains(base, "qfe"), strings.HasPrefix(base, "wmic-"):
			want = "wmic-"
		case strings.HasPrefix(base, "get-"):
			want = "get-"
		case strings.HasPrefix(base, "reg-"):
			want = "reg-"
		case strings.HasPrefix(base, "ver-"):
			want = "ver"
		case strings.HasPrefix(base, "meterpreter"):
			want = "meterpreter-"
		default:
			t.Errorf("%s: no expected format: add it here", base)
			continue
		}
		t.Run(base, func(t *testing.T) {
			f, err := os.Open(p)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			h, err := Read(base, f)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(h.Format, want) {
				t.Errorf("read as %q, want %s…", h.Format, want)
			}
		})
	}
}
