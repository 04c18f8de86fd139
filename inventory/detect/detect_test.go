package detect

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/kbplan/kbplan/inventory"
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

// BenchmarkReadFleet reads the inventories bench/analyze.sh copies into
// its fleet (the real and hand-built systeminfo outputs in scope), from
// memory: the per-host reading cost of a batch run.
func BenchmarkReadFleet(b *testing.B) {
	files, err := filepath.Glob("../../testdata/analyze/*.txt")
	if err != nil || len(files) == 0 {
		b.Fatal("no testdata/analyze inventories", err)
	}
	files = append(files,
		"../systeminfo/testdata/vanilla/08-systeminfo-2008sp2-x64-standard-en-utf16le.txt",
		"../systeminfo/testdata/wesng/srv_2008_rtm_x64_standard_en-us_systeminfo.txt",
		"../systeminfo/testdata/wesng/vista_x64_sp2_systeminfo.txt",
		"../../testdata/hosts/systeminfo-ws2008sp2-x86-ru-cp866.txt",
		"../../testdata/hosts/systeminfo-ws2008sp2-x64-csv.txt")
	var inputs [][]byte
	for _, p := range files {
		data, err := os.ReadFile(p)
		if err != nil {
			b.Fatal(err)
		}
		inputs = append(inputs, data)
	}
	b.ReportAllocs()
	for b.Loop() {
		for _, data := range inputs {
			if _, err := Read("bench", bytes.NewReader(data)); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(inputs))/1000, "µs/host")
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
		case strings.HasPrefix(base, "dxdiag-"):
			want = "dxdiag"
		case strings.HasPrefix(base, "msinfo32-"):
			want = "msinfo32"
		case strings.HasPrefix(base, "printkey-"):
			want = "volatility-printkey"
		case strings.HasPrefix(base, "winver-"):
			want = "regripper-winver"
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

// TestNotText: files that are not text are named, not decoded as a code
// page and reported as a line that did not fit.
func TestNotText(t *testing.T) {
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"jpeg", []byte("\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"), "a file of type image/jpeg"},
		{"png", []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), "a file of type image/png"},
		{"pdf", []byte("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj"), "a file of type application/pdf"},
		{"evtx", append([]byte("ElfFile\x00"), make([]byte, 120)...), "a Windows event log (EVTX)"},
		{"pe", append([]byte("MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff"), make([]byte, 60)...), "a Windows program (PE)"},
		{"gzip", []byte("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03"), "a file of type application/x-gzip"},
		{"hive", append([]byte("regf"), make([]byte, 60)...), "a registry hive"},
		{"binary", []byte("\x01\x02\x03\x04\x05\x06garbage\x00\x00\x07"), "binary data"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Read(tc.name, bytes.NewReader(tc.data))
			if err == nil || !strings.Contains(err.Error(), "this is "+tc.want) {
				t.Errorf("got %v, want %q", err, tc.want)
			}
		})
	}
	// UTF-16 text is text, whatever its bytes look like.
	utf16 := []byte("H\x00o\x00s\x00t\x00 \x00N\x00a\x00m\x00e\x00:\x00 \x00X\x00\r\x00\n\x00")
	if _, err := Read("u16", bytes.NewReader(utf16)); err != nil && strings.Contains(err.Error(), "not text") {
		t.Errorf("UTF-16 taken for binary: %v", err)
	}
}

// TestNothingRead: an input a format claims but that yields no field is an
// error naming the format, never a host with every field unknown. The
// DxDiag block is hand-made in the shape dxdiag /t writes (no real NT 6.0
// one was found to cite).
func TestNothingRead(t *testing.T) {
	dxdiag := "------------------\r\nSystem Information\r\n------------------\r\nTime of this report: 5/14/2012, 10:21:33\r\n       Machine name: WIN-SRV01\r\n" +
		"   Operating System: Windows Server 2008 Standard 64-bit (6.0, Build 6002) Service Pack 2 (6002.lh_sp2rtm.090410-1830)\r\n" +
		"           Language: English (Regional Setting: English)\r\n          Processor: Intel(R) Xeon(R) CPU E5620 @ 2.40GHz (2 CPUs), ~2.4GHz\r\n" +
		"             Memory: 4096MB RAM\r\n    DirectX Version: DirectX 10\r\n     DxDiag Version: 6.00.6001.18000 32bit Unicode\r\n"
	h, err := Read("dxdiag.txt", strings.NewReader(dxdiag))
	if err == nil && h.Hostname == "" && h.OS.Version == nil {
		t.Fatalf("read as %s with nothing in it, and no error", h.Format)
	}
	if err != nil && !strings.Contains(err.Error(), "dxdiag.txt") {
		t.Errorf("the error does not name the input: %v", err)
	}
	// A systeminfo list whose values were all lost in the paste.
	empty := "Host Name:                 \r\nOS Name:                   \r\nOS Version:                \r\nOS Manufacturer:           \r\nSystem Type:               \r\nHotfix(s):                 N/A\r\n"
	if h, err := Read("empty.txt", strings.NewReader(empty)); err == nil {
		t.Errorf("read as %s with every field unknown, and no error", h.Format)
	} else if !strings.Contains(err.Error(), "empty.txt: it looks like systeminfo output, but no host name") {
		t.Errorf("error %v", err)
	}
}

// TestMultiPart: a paste of several outputs is read by each format that
// finds its own, and merged. Hand-made in the shapes of the pastes.
func TestMultiPart(t *testing.T) {
	sysinfo := "Host Name:                 WEB-07\r\nOS Name:                   Microsoft Windows Server 2008 Standard \r\nOS Version:                6.0.6002 Service Pack 2 Build 6002\r\n" +
		"OS Manufacturer:           Microsoft Corporation\r\nSystem Type:               x64-based PC\r\nHotfix(s):                 2 Hotfix(s) Installed.\r\n                           [01]: KB955430\r\n                           [02]: KB4474419\r\n"
	meterp := "meterpreter > sysinfo\r\nComputer        : WEB-07\r\nOS              : Windows 2008 (Build 6002, Service Pack 2).\r\nArchitecture    : x64\r\nMeterpreter     : x64/windows\r\n"
	tests := []struct {
		name, in, format string
		build            int
		hotfixes         int
	}{
		{"systeminfo then a Meterpreter block", sysinfo + "\r\n" + meterp, "systeminfo-list+meterpreter-sysinfo", 6002, 2},
		{"an old Meterpreter block then a ver banner", meterp + "meterpreter > shell\r\nMicrosoft Windows [Version 6.0.6002]\r\n", "meterpreter-sysinfo+ver", 6002, -1},
		{"notes, then a ver banner", "host web-07, from the ticket\r\nsee below\r\nMicrosoft Windows [Version 6.0.6003]\r\n", "ver", 6003, -1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, err := Read("paste.txt", strings.NewReader(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			n := -1
			if h.HotfixesKnown {
				n = len(h.Hotfixes)
			}
			if h.Format != tc.format || h.OS.Version == nil || h.OS.Version.Build != tc.build || n != tc.hotfixes {
				t.Errorf("format %q version %v hotfixes %d, want %q %d %d; warnings %q", h.Format, h.OS.Version, n, tc.format, tc.build, tc.hotfixes, h.Warnings)
			}
			if strings.Contains(tc.format, "+") && !strings.Contains(strings.Join(h.Warnings, "\n"), "outputs") {
				t.Errorf("no warning that the paste was split: %q", h.Warnings)
			}
		})
	}
}

// TestSniffCeiling: no format after the first scores above sureScore on
// any sample, so Read may stop sniffing once one has it.
func TestSniffCeiling(t *testing.T) {
	for _, p := range inventorytest.SeedFiles(t) {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		lines := inventory.NewLines(bytes.NewReader(b))
		head := lines.Head(headLines)
		for _, f := range Formats[1:] {
			if s := f.Sniff(head); s > sureScore {
				t.Errorf("%s: %s scores %d, above %d", filepath.Base(p), f.Name(), s, sureScore)
			}
		}
	}
}

// TestReadsAPastedSession: a paste of a console session holding several
// outputs, each after its prompt line, is read part by part and merged,
// with or without a paste prefix on every line, however long.
func TestReadsAPastedSession(t *testing.T) {
	si := "Host Name:                 SRV-PASTE\r\n" +
		"OS Name:                   Microsoft Windows Server 2008 Standard\r\n" +
		"OS Version:                6.0.6003 Service Pack 2 Build 6003\r\n" +
		"System Type:               x64-based PC\r\n" +
		"Hotfix(s):                 2 Hotfix(s) Installed.\r\n" +
		"                           [01]: KB955430\r\n" +
		"                           [02]: KB4474419\r\n"
	qfe := "HotFixID\r\nKB4493730\r\nKB4534303\r\n"
	session := func(prefix string, filler int) string {
		var b strings.Builder
		line := func(s string) { b.WriteString(prefix + s) }
		line("C:\\Users\\admin>systeminfo\r\n")
		for _, l := range strings.SplitAfter(si, "\r\n") {
			if l != "" {
				line(l)
			}
		}
		for i := range filler {
			line("                           [" + strconv.Itoa(i+3) + "]: KB" + strconv.Itoa(3000000+i) + "\r\n")
		}
		line("\r\n")
		line("C:\\Users\\admin>wmic qfe get HotFixID\r\n")
		for _, l := range strings.SplitAfter(qfe, "\r\n") {
			if l != "" {
				line(l)
			}
		}
		return b.String()
	}
	for _, tt := range []struct {
		name   string
		prefix string
		filler int // hotfix lines, to push the second output past the head
	}{
		{"plain", "", 0},
		{"quoted with > ", "> ", 0},
		{"plain, long", "", 400},
		{"quoted with > , long", "> ", 400},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h, err := Read("paste", strings.NewReader(session(tt.prefix, tt.filler)))
			if err != nil {
				t.Fatal(err)
			}
			for _, kb := range []string{"KB955430", "KB4474419", "KB4493730", "KB4534303"} {
				if !slices.Contains(h.Hotfixes, kb) {
					t.Errorf("%s missing from %d hotfixes: the wmic part was not read (warnings %q)", kb, len(h.Hotfixes), h.Warnings)
				}
			}
			if h.Hostname != "SRV-PASTE" {
				t.Errorf("host name %q", h.Hostname)
			}
			if !slices.ContainsFunc(h.Warnings, func(w string) bool { return strings.Contains(w, "holds 2 outputs") }) {
				t.Errorf("no warning that the paste was split: %q", h.Warnings)
			}
		})
	}
}
