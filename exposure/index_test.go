package exposure

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// msrcRows is the generator input the embedded index is built from.
const msrcRows = "../catalog/internal/gen/data/wesng-cves-nt60.csv.gz"

func TestEmbeddedIsFresh(t *testing.T) {
	f, err := os.Open(msrcRows)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	idx, err := FromWesng(msrcRows, f)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := idx.Write(&buf); err != nil {
		t.Fatal(err)
	}
	if got, want := gunzip(t, buf.Bytes()), gunzip(t, embedded); got != want {
		t.Error("exposure/cves.tsv.gz differs from what the generator makes: run go generate ./exposure")
	}
	e, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	if len(e.CVEs) != len(idx.CVEs) || len(e.CVEs) < 4000 {
		t.Errorf("embedded index has %d CVEs, generator %d", len(e.CVEs), len(idx.CVEs))
	}
}

// TestCompiledAgrees: the compiled index (zindex.go) is cves.tsv.gz as Read
// gives it, and WriteGo writes the committed zindex.go.
func TestCompiledAgrees(t *testing.T) {
	if compiled == nil {
		t.Fatal("no compiled index: run go generate ./exposure")
	}
	parsed, err := Read("embedded", bytes.NewReader(embedded))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(parsed, compiled) {
		t.Fatal("the compiled index differs from cves.tsv.gz: run go generate ./exposure")
	}
	var b bytes.Buffer
	if err := parsed.WriteGo(&b, "cves.tsv.gz"); err != nil {
		t.Fatal(err)
	}
	if src, err := os.ReadFile("zindex.go"); err != nil || !bytes.Equal(src, b.Bytes()) {
		t.Errorf("zindex.go is not what WriteGo writes (%v): run go generate ./exposure", err)
	}
	if x, _ := Default(); x != compiled {
		t.Error("Default is not the compiled index")
	}
	for i, c := range compiled.CVEs {
		if c.Pos != i {
			t.Fatalf("%s at %d has Pos %d", c.ID, i, c.Pos)
		}
	}
}

func gunzip(t *testing.T, b []byte) string {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

func TestIndexFacts(t *testing.T) {
	idx, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	var eb *CVE
	for _, c := range idx.CVEs {
		if c.ID == "CVE-2017-0144" {
			eb = c
		}
	}
	if eb == nil || eb.Severity != "Critical" || eb.Impact != "Remote Code Execution" || eb.Exploits == 0 {
		t.Fatalf("CVE-2017-0144 = %+v", eb)
	}
	found := false
	for _, f := range eb.Fixes {
		if f.KB == "KB4012598" && f.Products&Server2008x64 != 0 && f.Products&VistaX86 != 0 && f.Posted == "2017-03-14" {
			found = true
		}
	}
	if !found {
		t.Errorf("MS17-010 fix KB4012598 missing for x64 SP2 and Vista: %+v", eb.Fixes)
	}
}

func TestProductBit(t *testing.T) {
	tests := []struct {
		product, arch string
		want          uint8
	}{
		{"server2008", "x64", Server2008x64},
		{"server2008", "x86", Server2008x86},
		{"server2008", "ia64", Server2008ia64},
		{"vista", "x64", VistaX64},
		{"vista", "ia64", 0},
		{"server2008", "", Server2008x86 | Server2008x64 | Server2008ia64},
	}
	for _, tc := range tests {
		if got := ProductBit(tc.product, tc.arch); got != tc.want {
			t.Errorf("ProductBit(%s, %s) = %b, want %b", tc.product, tc.arch, got, tc.want)
		}
	}
}

func TestImportErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// A zip whose CVE table claims 4 GiB: refused before reading.
	var bomb bytes.Buffer
	zw := zip.NewWriter(&bomb)
	w, err := zw.CreateRaw(&zip.FileHeader{Name: "CVEs_20991231.csv", Method: zip.Store,
		CompressedSize64: 5, UncompressedSize64: 4 << 30})
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("hello"))
	zw.Close()
	var empty bytes.Buffer
	zw = zip.NewWriter(&empty)
	zw.Create("Custom_1.csv")
	zw.Close()
	// One field of 8 MiB in a .csv.gz of a few KiB: refused by the record
	// bound, not held in memory.
	var huge bytes.Buffer
	gw := gzip.NewWriter(&huge)
	io.WriteString(gw, "DatePosted,CVE,BulletinKB,Title,AffectedProduct,AffectedComponent,Severity,Impact,Supersedes,Exploits\n20200101,CVE-2020-0001,4534303,\"")
	gw.Write(bytes.Repeat([]byte("A"), 8<<20))
	io.WriteString(gw, "\",Windows Server 2008 for x64-based Systems Service Pack 2,,Critical,RCE,,\n")
	gw.Close()
	tests := []struct {
		name string
		file string
		want string
	}{
		{"zip bomb", write("bomb.zip", bomb.Bytes()), "claims 4294967296 bytes"},
		{"a row of 8 MiB", write("huge.csv.gz", huge.Bytes()), "a row of more than 1024 KiB"},
		{"no table", write("empty.zip", empty.Bytes()), "no CVEs_*.csv inside"},
		{"wrong csv", write("x.csv", []byte("a,b\n1,2\n")), "no DatePosted column"},
		{"missing", filepath.Join(dir, "nope.zip"), "check the path"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Import(tc.file)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want %q", err, tc.want)
			}
		})
	}
}

func TestImportZip(t *testing.T) {
	raw, err := os.ReadFile(msrcRows)
	if err != nil {
		t.Fatal(err)
	}
	table := gunzip(t, raw)
	lines := strings.SplitAfter(table, "\n")
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.Create("CVEs_20260628.csv")
	io.WriteString(w, strings.Join(lines[:3000], ""))
	zw.Close()
	p := filepath.Join(t.TempDir(), "definitions.zip")
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	idx, err := Import(p)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := idx.Write(&out); err != nil {
		t.Fatal(err)
	}
	back, err := Read("x", &out)
	if err != nil || len(back.CVEs) != len(idx.CVEs) || back.Fixes() != idx.Fixes() || len(idx.CVEs) == 0 {
		t.Fatalf("round trip: %v, %d/%d CVEs", err, len(back.CVEs), len(idx.CVEs))
	}
}

func FuzzRead(f *testing.F) {
	f.Add(embedded[:min(len(embedded), 4096)])
	var small bytes.Buffer
	(&Index{CVEs: []*CVE{{ID: "CVE-2017-0144", Severity: "Critical", Fixes: []Fix{{KB: "KB4012598", Posted: "2017-03-14", Products: 3}}}}}).Write(&small)
	f.Add(small.Bytes())
	f.Fuzz(func(t *testing.T, data []byte) {
		idx, err := Read("fuzz", bytes.NewReader(data))
		if err != nil {
			if !strings.Contains(err.Error(), "fuzz") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		_ = idx.Fixes()
	})
}

func FuzzFromWesng(f *testing.F) {
	f.Add([]byte("DatePosted,CVE,BulletinKB,Title,AffectedProduct,AffectedComponent,Severity,Impact,Supersedes,Exploits\n" +
		`"20170314","CVE-2017-0144","4012598","t","Windows Server 2008 for x64-based Systems Service Pack 2","c","Critical","Remote Code Execution","3177186","http://x"` + "\n"))
	f.Add([]byte("a,b\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		idx, err := FromWesng("fuzz", bytes.NewReader(data))
		if err != nil {
			if !strings.Contains(err.Error(), "fuzz") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		var buf bytes.Buffer
		if err := idx.Write(&buf); err != nil {
			t.Fatal(err)
		}
		back, err := Read("fuzz", &buf)
		if err != nil || len(back.CVEs) != len(idx.CVEs) {
			t.Fatalf("round trip: %v", err)
		}
	})
}
