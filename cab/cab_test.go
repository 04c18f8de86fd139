package cab

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/kbplan/kbplan/budget"
	"github.com/kbplan/kbplan/internal/pkgtest"
)

const corpus = "testdata/corpus/"

func open(t testing.TB, data []byte) *Reader {
	t.Helper()
	c, err := NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// tree reads every regular file under dir into path → content.
func tree(t testing.TB, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		out[filepath.ToSlash(rel)] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func sameTree(t testing.TB, got, want map[string][]byte) {
	t.Helper()
	for p, w := range want {
		g, ok := got[p]
		switch {
		case !ok:
			t.Errorf("%s: missing", p)
		case !bytes.Equal(g, w):
			t.Errorf("%s: %d bytes differ from the reference's %d", p, len(g), len(w))
		}
	}
	for p := range got {
		if _, ok := want[p]; !ok {
			t.Errorf("%s: not in the reference", p)
		}
	}
}

// cabextract extracts file with the reference tool; ok is its verdict.
func cabextract(t testing.TB, file string) (map[string][]byte, bool) {
	t.Helper()
	bin := pkgtest.Tool(t, "cabextract")
	dir := t.TempDir()
	err := exec.Command(bin, "-q", "-d", dir, file).Run()
	return tree(t, dir), err == nil
}

func extract(t testing.TB, file string) (map[string][]byte, error) {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	c, err := NewReader(f, st.Size())
	if err != nil {
		return nil, err
	}
	dir := t.TempDir()
	_, err = c.Extract(dir)
	return tree(t, dir), err
}

// TestCorpus runs libmspack's and cabextract's own test cabinets: where
// cabextract extracts, kbplan's output must be byte-identical; where it
// refuses, kbplan must refuse too. The differences are deliberate, each
// with its reason.
func TestCorpus(t *testing.T) {
	differs := map[string]string{
		"libmspack-cabd/mszip_lzx_qtm.cab":            "Quantum folder: not decompressed (no update package uses it); the MSZIP and LZX files are compared",
		"cabextract-cabs/mixed.cab":                   "Quantum folder, as above",
		"cabextract-bugs/cve-2010-2801-qtm-flush.cab": "Quantum",
		"cabextract-cabs/search.cab":                  "cabextract searches other files for embedded cabinets; kbplan reads cabinets only",
		"libmspack-cabd/search_basic.cab":             "search mode, as above",
		"libmspack-cabd/search_tricky1.cab":           "search mode, as above",
		"libmspack-cabd/hidden-files.cab":             "coffFiles points past the file entries libmspack reads: tools disagree on the contents, kbplan refuses",
		"cabextract-cabs/dirwalk-vulns.cab":           "hostile names: kbplan writes every file inside the target through os.Root, names differ from cabextract's",
		"cabextract-cabs/encoding-koi8.cab":           "non-UTF-8 names: cabextract writes the raw bytes, kbplan decodes ISO-8859-1 to UTF-8",
		"cabextract-cabs/encoding-latin1.cab":         "as above",
		"cabextract-cabs/encoding-sjis.cab":           "as above",
		"cabextract-cabs/utf8-stresstest.cab":         "U+FFFE and U+FFFF: cabextract drops them, kbplan keeps them",
	}
	files, _ := filepath.Glob(corpus + "*/*.cab")
	if len(files) < 50 {
		t.Fatalf("found %d corpus cabinets: is testdata/corpus complete?", len(files))
	}
	for _, file := range files {
		name := strings.TrimPrefix(file, corpus)
		t.Run(name, func(t *testing.T) {
			want, refOK := cabextract(t, file)
			got, err := extract(t, file)
			spanned := errors.Is(err, ErrSpanned)
			switch why, ok := differs[name]; {
			case ok:
				t.Logf("differs on purpose: %s (kbplan: %v)", why, err)
				for p, w := range want {
					if g, ok := got[p]; ok && !bytes.Equal(g, w) {
						t.Errorf("%s: content differs from cabextract's", p)
					}
				}
			case spanned:
				// Spanned sets are refused by design.
			case !refOK:
				if err == nil {
					t.Errorf("cabextract refuses this cabinet but kbplan read it")
				}
			case err != nil:
				t.Errorf("cabextract extracts it but kbplan: %v", err)
			default:
				sameTree(t, got, want)
			}
			if _, ok := differs[name]; !ok && err != nil && !strings.Contains(err.Error(), "cabinet") && !strings.Contains(err.Error(), "folder") && !strings.Contains(err.Error(), "LZX") && !strings.Contains(err.Error(), "MSZIP") && !spanned {
				t.Errorf("the error does not say what is wrong: %v", err)
			}
		})
	}
}

// testData is deterministic content of a given kind.
func testData(kind string, n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 7))
	b := make([]byte, n)
	switch kind {
	case "random":
		for i := range b {
			b[i] = byte(r.Uint32())
		}
	case "text":
		words := strings.Fields("servicing stack update rollup security only KB4474419 SHA-2 restart pending Windows Server 2008 SP2 6003 build revision catalog")
		var s []byte
		for len(s) < n {
			s = append(s, words[r.IntN(len(words))]...)
			s = append(s, " \r\n"[r.IntN(3)])
		}
		copy(b, s)
	case "x86":
		// Code-like: E8 calls with small relative targets among text.
		for i := 0; i < n; {
			if r.IntN(8) == 0 && i+5 <= n {
				b[i] = 0xe8
				rel := int32(r.IntN(1<<16)) - 1<<15
				b[i+1], b[i+2], b[i+3], b[i+4] = byte(rel), byte(rel>>8), byte(rel>>16), byte(rel>>24)
				i += 5
				continue
			}
			b[i] = "mov eax, ebx; push; pop; ret "[r.IntN(29)]
			i++
		}
	case "zeros":
	}
	return b
}

// TestLZXAgainstCabextract writes LZX cabinets with the test encoder, has
// cabextract extract them (the judge), and compares kbplan's reader.
func TestLZXAgainstCabextract(t *testing.T) {
	tests := []struct {
		name   string
		wbits  int
		intel  int32
		types  []int
		frames int
		kinds  []string
		sizes  []int
	}{
		{"verbatim-w15", 15, 0, []int{blockVerbatim}, 1, []string{"text"}, []int{100000}},
		{"aligned-w16", 16, 0, []int{blockAligned}, 1, []string{"text", "random"}, []int{70000, 5000}},
		{"stored-odd", 17, 0, []int{blockStored}, 1, []string{"random"}, []int{32769 + 40000}},
		{"mixed-blocks", 18, 0, []int{blockVerbatim, blockAligned, blockStored}, 1, []string{"text", "random", "text"}, []int{200001, 33333, 150000}},
		{"spanning-blocks", 19, 0, []int{blockAligned, blockStored, blockVerbatim}, 3, []string{"text", "zeros", "random"}, []int{300000, 100000, 90000}},
		{"e8-translation", 21, 12000000, []int{blockVerbatim, blockAligned}, 2, []string{"x86", "text"}, []int{500000, 1000}},
		{"e8-ahead", 17, 3000000, []int{blockVerbatim, blockAligned, blockStored}, 2, []string{"x86", "text", "x86"}, []int{400000, 20000, 300000}},
		{"e8-stored", 16, 2000000, []int{blockStored, blockVerbatim}, 1, []string{"x86"}, []int{90000}},
		{"tiny", 15, 0, []int{blockVerbatim}, 1, []string{"text"}, []int{3}},
		{"window-20-long", 20, 0, []int{blockVerbatim, blockAligned}, 4, []string{"text", "text"}, []int{1500000, 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var names []string
			var files [][]byte
			want := map[string][]byte{}
			for i, k := range tc.kinds {
				name := []string{"update.mum", "x86_microsoft-windows-kernel.cat", "Windows6.0-KB4474419-x64.cab"}[i%3]
				if i >= 3 {
					name = "file" + string(rune('a'+i))
				}
				d := testData(k, tc.sizes[i], uint64(i+1))
				names, files = append(names, name), append(files, d)
				want[name] = d
			}
			data := lzxCab(tc.wbits, tc.intel, tc.types, tc.frames, names, files)
			file := filepath.Join(t.TempDir(), tc.name+".cab")
			os.WriteFile(file, data, 0o644)
			ref, ok := cabextract(t, file)
			if !ok {
				t.Fatalf("cabextract refuses the test encoder's cabinet: fix the encoder")
			}
			sameTree(t, ref, want)
			got, err := extract(t, file)
			if err != nil {
				t.Fatal(err)
			}
			sameTree(t, got, want)
			// Open, not only Walk: the last file on its own.
			c := open(t, data)
			f := c.Files[len(c.Files)-1]
			r, err := f.Open()
			if err != nil {
				t.Fatal(err)
			}
			b, err := io.ReadAll(r)
			if err != nil || !bytes.Equal(b, want[f.Name]) {
				t.Errorf("Open(%s): %v, %d bytes", f.Name, err, len(b))
			}
		})
	}
}

// TestGcab: cabinets that gcab builds (stored and MSZIP) extract as
// cabextract extracts them, and as the original files.
func TestGcab(t *testing.T) {
	gcab := pkgtest.Tool(t, "gcab")
	src := t.TempDir()
	want := map[string][]byte{
		"update.mum":                      testData("text", 5000, 1),
		"amd64_microsoft-windows-srv.sys": testData("x86", 300000, 2),
		"sub/dir/random.bin":              testData("random", 100000, 3),
		"empty.txt":                       {},
		"zeros.bin":                       testData("zeros", 200000, 4),
	}
	var args []string
	for p, b := range want {
		full := filepath.Join(src, p)
		os.MkdirAll(filepath.Dir(full), 0o755)
		os.WriteFile(full, b, 0o644)
		args = append(args, p)
	}
	for _, mode := range []struct{ name, flag string }{{"stored", ""}, {"mszip", "-z"}} {
		t.Run(mode.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), mode.name+".cab")
			cmdArgs := []string{"-c"}
			if mode.flag != "" {
				cmdArgs = append(cmdArgs, mode.flag)
			}
			cmd := exec.Command(gcab, append(append(cmdArgs, file), args...)...)
			cmd.Dir = src
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("gcab: %v %s", err, out)
			}
			ref, ok := cabextract(t, file)
			if !ok {
				t.Fatal("cabextract refuses gcab's cabinet")
			}
			got, err := extract(t, file)
			if err != nil {
				t.Fatal(err)
			}
			sameTree(t, got, ref)
			sameTree(t, got, want)
			// The cabinet as an fs.FS holds the same tree.
			b, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			c := open(t, b)
			var names []string
			for p, data := range want {
				names = append(names, p)
				if got, err := fs.ReadFile(c, p); err != nil || !bytes.Equal(got, data) {
					t.Errorf("fs.ReadFile(%s): %d bytes, %v", p, len(got), err)
				}
			}
			if err := fstest.TestFS(c, names...); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestTamper: changing any data byte of a checksummed cabinet is noticed.
func TestTamper(t *testing.T) {
	data := lzxCab(16, 0, []int{blockVerbatim}, 1, []string{"a.txt"}, [][]byte{testData("text", 50000, 9)})
	c := open(t, data)
	start := int(c.Folders[0].dataOffset)
	for _, at := range []int{start + 8, start + 100, len(data) - 1} {
		bad := bytes.Clone(data)
		bad[at] ^= 0x40
		c := open(t, bad)
		err := c.Walk(func(*File, io.Reader) error { return nil })
		if err == nil || !strings.Contains(err.Error(), "checksum") {
			t.Errorf("byte %d altered: %v", at, err)
		}
	}
}

// TestHostile: headers that claim more than the file can hold fail at once,
// before any allocation they would justify.
func TestHostile(t *testing.T) {
	good := lzxCab(15, 0, []int{blockVerbatim}, 1, []string{"a"}, [][]byte{testData("text", 1000, 1)})
	le := func(b []byte, at int, v uint32, n int) []byte {
		b = bytes.Clone(b)
		for i := 0; i < n; i++ {
			b[at+i] = byte(v >> (8 * i))
		}
		return b
	}
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"claims 4 GiB", le(good, 8, 0xffffffff, 4), "truncated"},
		{"65535 files", le(good, 28, 0xffff, 2), "cannot fit"},
		{"65535 folders", le(good, 26, 0xffff, 2), "cannot fit"},
		{"65535 data blocks", le(good, 36+4, 0xffff, 2), "cannot fit"},
		{"file beyond folder", le(good, 44, 0x7fffffff, 4), "ends past"},
		{"window 2^25", le(good, 36+6, 3|25<<8, 2), "window"},
		{"spanned", le(good, 30, flagNext, 2), "spanned"},
		{"not a cabinet", []byte("MZ\x90\x00 this is a PE file, not a cabinet........"), "not a cabinet"},
		{"empty", nil, "too few"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewReader(bytes.NewReader(tc.data), int64(len(tc.data)))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error with %q", err, tc.want)
			}
		})
	}
}

func FuzzReader(f *testing.F) {
	files, _ := filepath.Glob(corpus + "*/*.cab")
	for _, file := range files {
		if b, err := os.ReadFile(file); err == nil && len(b) < 64<<10 {
			f.Add(b)
		}
	}
	f.Add(lzxCab(15, 1000, []int{blockVerbatim, blockAligned, blockStored}, 1, []string{"a", "b"},
		[][]byte{testData("x86", 40000, 1), testData("text", 30000, 2)}))
	// A folder long enough, in a window large enough, to be decoded ahead
	// on a goroutine of its own.
	f.Add(lzxCab(17, 1000, []int{blockVerbatim, blockAligned}, 2, []string{"a", "b"},
		[][]byte{testData("x86", 100000, 3), testData("zeros", 100000, 4)}))
	// And an MSZIP folder long enough to be inflated ahead.
	f.Add(mszipCab("m", testData("text", mszipAheadBlocks*maxFrame+5000, 5)))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := NewReader(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return
		}
		for _, fi := range c.Files {
			if fi.Path() == "" || strings.HasPrefix(fi.Path(), "/") || strings.Contains("/"+fi.Path()+"/", "/../") {
				t.Fatalf("unsafe path %q from %q", fi.Path(), fi.Name)
			}
		}
		c.Walk(func(f *File, r io.Reader) error {
			n, _ := io.Copy(io.Discard, r)
			if n > f.Size {
				t.Fatalf("%s: read %d bytes of %d", f.Name, n, f.Size)
			}
			return nil
		})
	})
}

var fixtures = flag.String("fixtures", "", "write benchmark cabinets (LZX, 64 MiB) into this folder and stop (bench/extract.sh)")

// TestWriteFixtures writes the LZX cabinet bench/extract.sh compares with
// cabextract; it does nothing without -fixtures.
func TestWriteFixtures(t *testing.T) {
	if *fixtures == "" {
		t.Skip("-fixtures not set")
	}
	var names []string
	var files [][]byte
	for i, k := range []string{"x86", "text", "random", "x86", "text", "zeros"} {
		names = append(names, fmt.Sprintf("file%d.%s", i, k))
		files = append(files, testData(k, 12<<20, uint64(i)))
	}
	data := lzxCab(21, 64<<20, []int{blockVerbatim, blockAligned, blockVerbatim, blockStored}, 4, names, files)
	if err := os.WriteFile(filepath.Join(*fixtures, "lzx.cab"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(*fixtures, "src")
	os.MkdirAll(src, 0o755)
	for i, n := range names {
		if err := os.WriteFile(filepath.Join(src, n), files[i], 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func benchCab(b *testing.B, data []byte) {
	c, err := NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		b.Fatal(err)
	}
	var total int64
	for _, f := range c.Files {
		total += f.Size
	}
	b.SetBytes(total)
	b.ResetTimer()
	for b.Loop() {
		if err := c.Walk(func(_ *File, r io.Reader) error { _, err := io.Copy(io.Discard, r); return err }); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLZX(b *testing.B) {
	var names []string
	var files [][]byte
	for i, k := range []string{"x86", "text", "random"} {
		names = append(names, fmt.Sprintf("f%d", i))
		files = append(files, testData(k, 4<<20, uint64(i)))
	}
	benchCab(b, lzxCab(21, 32<<20, []int{blockVerbatim, blockAligned, blockVerbatim, blockStored}, 4, names, files))
}

func BenchmarkMSZIP(b *testing.B) {
	gcab := pkgtest.Tool(b, "gcab")
	dir := b.TempDir()
	var args []string
	for i, k := range []string{"x86", "text", "random"} {
		n := fmt.Sprintf("f%d", i)
		os.WriteFile(filepath.Join(dir, n), testData(k, 4<<20, uint64(i)), 0o644)
		args = append(args, n)
	}
	cmd := exec.Command(gcab, append([]string{"-c", "-z", "b.cab"}, args...)...)
	cmd.Dir = dir
	if err := cmd.Run(); err != nil {
		b.Fatal(err)
	}
	data, _ := os.ReadFile(filepath.Join(dir, "b.cab"))
	benchCab(b, data)
}

// BenchmarkHostileDirectory: a 1.1 MB cabinet claiming 65,535 files (the
// most a cabinet can) costs memory in proportion to its size only.
func BenchmarkHostileDirectory(b *testing.B) {
	names := make([]string, 65535)
	sizes := make([]int, 65535)
	for i := range names {
		names[i] = "f"
	}
	data := writeCab(None, [][]byte{{}}, []int{0}, names, sizes)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := NewReader(bytes.NewReader(data), int64(len(data))); err != nil {
			b.Fatal(err)
		}
	}
}

// TestBombs: the work a cabinet causes is bounded by its budget, skipped
// bytes included, and overlapping files do not make a folder decode again.
func TestBombs(t *testing.T) {
	const last = 65535*32768 - 1
	tests := []struct {
		name  string
		data  []byte
		limit int64
		want  string
	}{
		{"one byte at the end of 2 GiB of zeros", pkgtest.CabBomb(65535, []pkgtest.BombFile{{Name: "a", Offset: last, Size: 1}}, nil), 64 << 20, "inflates to more than 64 MiB"},
		{"64 files at the same last byte", pkgtest.CabBomb(4096, func() []pkgtest.BombFile {
			var fs []pkgtest.BombFile
			for i := range 64 {
				fs = append(fs, pkgtest.BombFile{Name: fmt.Sprint("f", i), Offset: 4096*32768 - 1, Size: 1})
			}
			return fs
		}(), nil), 1 << 30, "overlaps"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := open(t, tc.data)
			c.Budget = budget.New(nil, "bomb.cab", tc.limit)
			err := c.Walk(func(*File, io.Reader) error { return nil })
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error with %q", err, tc.want)
			}
			if spent := tc.limit - c.Budget.Left(); spent > tc.limit+32768 {
				t.Errorf("spent %d of %d", spent, tc.limit)
			}
		})
	}
	// The same through the file system view, and through File.Open.
	c := open(t, tests[0].data)
	c.Budget = budget.New(nil, "bomb.cab", 64<<20)
	if _, err := fs.ReadFile(c, "a"); err == nil {
		t.Error("fs.ReadFile read the bomb")
	}
	c.Budget = budget.New(nil, "bomb.cab", 64<<20)
	if rc, err := c.Files[0].Open(); err == nil {
		t.Error("File.Open skipped 2 GiB")
		rc.Close()
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	c.Budget = budget.New(ctx, "bomb.cab", 1<<40)
	if err := c.Walk(func(*File, io.Reader) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("a cancelled context did not stop the decoder: %v", err)
	}
}

// TestFSNameClash: a file named like a folder of another path is left
// out, so that the folder lists and opens as one; a repeated name is the
// first file's.
func TestFSNameClash(t *testing.T) {
	data := lzxCab(15, 0, []int{blockVerbatim}, 1, []string{"a", `a\b`, `a\b`, "c"},
		[][]byte{[]byte("file a"), []byte("first b"), []byte("second b"), []byte("c")})
	c := open(t, data)
	if err := fstest.TestFS(c, "a/b", "c"); err != nil {
		t.Error(err)
	}
	if b, err := fs.ReadFile(c, "a/b"); err != nil || string(b) != "first b" {
		t.Errorf("a/b: %q %v", b, err)
	}
	if st, err := fs.Stat(c, "a"); err != nil || !st.IsDir() {
		t.Errorf("a: %v %v", st, err)
	}
}

// TestLZXDecodesAhead: a long folder in a large window is decoded on a
// goroutine of its own, its bytes the same as decoding on the reader's
// goroutine, and every way of leaving the folder stops that goroutine: a
// Walk to its end, a Walk its callback stops after a few bytes, a
// File.Open reader closed early, and the reader's own close.
func TestLZXDecodesAhead(t *testing.T) {
	want := [][]byte{testData("x86", 600000, 1), testData("text", 400000, 2)}
	// With E8 translation every frame is copied out of the window at once;
	// without, the window's bytes are handed out until the next read. A
	// window of 2^17 holds 4 frames (3 in flight, handed over one by one),
	// 2^19 16 (batches of 7), 2^21 64 (batches of 8, the last one short).
	for _, tc := range []struct {
		wbits int
		intel int32
	}{{17, 3000000}, {17, 0}, {19, 0}, {21, 3000000}} {
		t.Run(fmt.Sprintf("window-%d-intel-%d", tc.wbits, tc.intel), func(t *testing.T) {
			data := lzxCab(tc.wbits, tc.intel, []int{blockVerbatim, blockAligned}, 2, []string{"a", "b"}, want)
			// A frame's credit never given back stops the decoder for good:
			// the guard turns that hang into a failure.
			c := open(t, data)
			done := make(chan struct{})
			go func() {
				defer close(done)
				testDecodesAhead(t, c, want)
			}()
			select {
			case <-done:
			case <-time.After(30 * time.Second):
				t.Fatal("reading the folder hangs: the decoder waits for a frame's credit")
			}
		})
	}
}

// testDecodesAhead runs on a goroutine of the test's: it reports with
// Error and returns.
func testDecodesAhead(t *testing.T, c *Reader, want [][]byte) {
	stopped := func(how string, z *lzxReader) {
		t.Helper()
		if z.ahead == nil {
			t.Errorf("%s: the folder was not decoded ahead", how)
			return
		}
		select {
		case <-z.ahead.done:
		default:
			t.Errorf("%s: the decoding goroutine still runs", how)
		}
		if b := z.in.b.ahead; b != nil {
			select {
			case <-b.done:
			default:
				t.Errorf("%s: the goroutine reading blocks ahead still runs", how)
			}
		}
	}
	var z *lzxReader
	i := 0
	err := c.Walk(func(f *File, r io.Reader) error {
		z = r.(*fileReader).src.(*lzxReader)
		b, err := io.ReadAll(r)
		if err != nil || !bytes.Equal(b, want[i]) {
			t.Errorf("Walk: %s: %v, %d bytes, want %d", f.Name, err, len(b), len(want[i]))
		}
		i++
		return nil
	})
	if err != nil || i != 2 {
		t.Errorf("Walk: %v after %d files", err, i)
		return
	}
	stopped("a whole Walk", z)

	errStop := errors.New("stop")
	err = c.Walk(func(f *File, r io.Reader) error {
		z = r.(*fileReader).src.(*lzxReader)
		r.Read(make([]byte, 10))
		return errStop
	})
	if !errors.Is(err, errStop) {
		t.Errorf("Walk stopped: %v", err)
		return
	}
	stopped("a stopped Walk", z)

	rc, err := c.Files[1].Open()
	if err != nil {
		t.Error(err)
		return
	}
	z = rc.(*openReader).src.(*lzxReader)
	if _, err := io.ReadFull(rc, make([]byte, 1000)); err != nil {
		t.Error(err)
		return
	}
	rc.Close()
	stopped("File.Open closed early", z)
	if _, err := rc.Read(make([]byte, 1)); !errors.Is(err, errClosed) {
		t.Errorf("a read after Close: %v, want %v", err, errClosed)
	}

	// Whatever pace the reader takes (one byte, odd sizes, more than a
	// frame), the bytes are the folder's.
	for _, size := range []int{1, 777, 70000} {
		rc, err := c.Files[0].Open()
		if err != nil {
			t.Error(err)
			return
		}
		var got []byte
		buf := make([]byte, size)
		for {
			n, err := rc.Read(buf)
			got = append(got, buf[:n]...)
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Error(err)
				return
			}
		}
		rc.Close()
		if !bytes.Equal(got, want[0]) {
			t.Errorf("read %d at a time: %d bytes differ from the file's %d", size, len(got), len(want[0]))
		}
	}
}

// walkAll walks the cabinet data, reading every file whole until an
// error, and returns the bytes read, the folder stream they came from and
// Walk's error.
func walkAll(t *testing.T, data []byte) ([]byte, chunker, error) {
	var d chunker
	var got []byte
	err := open(t, data).Walk(func(f *File, r io.Reader) error {
		d = r.(*fileReader).src
		b, err := io.ReadAll(r)
		got = append(got, b...)
		return err
	})
	return got, d, err
}

// TestLZXAheadDamaged: a damaged block in a folder decoded ahead is
// reported as decoding on the reader's goroutine reports it, after the
// same bytes (a prefix of the folder's), whether it falls inside a batch
// of frames or not, and the decoding goroutine stops.
func TestLZXAheadDamaged(t *testing.T) {
	want := [][]byte{testData("x86", 600000, 1), testData("text", 400000, 2)}
	all := append(bytes.Clone(want[0]), want[1]...)
	good := lzxCab(21, 3000000, []int{blockVerbatim, blockAligned}, 2, []string{"a", "b"}, want)
	walk := func(data []byte) ([]byte, *lzxReader, error) {
		got, d, err := walkAll(t, data)
		return got, d.(*lzxReader), err
	}
	for _, at := range []int{len(good) / 3, len(good) * 2 / 3, len(good) - 10} {
		t.Run(fmt.Sprint(at), func(t *testing.T) {
			data := bytes.Clone(good)
			data[at] ^= 0x55
			got, z, err := walk(data)
			if err == nil || !strings.Contains(err.Error(), "checksum") {
				t.Fatalf("Walk: %v, want the damaged block's checksum", err)
			}
			if len(got) == 0 || len(got) >= len(all) || !bytes.Equal(got, all[:len(got)]) {
				t.Errorf("%d bytes handed out before the damage, not a prefix of the folder's %d", len(got), len(all))
			}
			if z.ahead == nil || z.in.b.ahead == nil {
				t.Fatal("the folder was not decoded and read ahead")
			}
			for _, done := range []chan struct{}{z.ahead.done, z.in.b.ahead.done} {
				select {
				case <-done:
				default:
					t.Error("a goroutine reading ahead still runs")
				}
			}
			defer func(n, m int) { lzxAheadFrames, blocksAhead = n, m }(lzxAheadFrames, blocksAhead)
			lzxAheadFrames, blocksAhead = 1<<30, 1<<30
			syncGot, z, syncErr := walk(data)
			if z.ahead != nil || z.in.b.ahead != nil {
				t.Fatal("decoded or read ahead with lzxAheadFrames and blocksAhead past the folder")
			}
			if len(got) != len(syncGot) || syncErr == nil || err.Error() != syncErr.Error() {
				t.Errorf("ahead: %d bytes, then %v\non the reader's goroutine: %d bytes, then %v", len(got), err, len(syncGot), syncErr)
			}
		})
	}
}

// TestMSZIPAhead: a long MSZIP folder (gcab's) is inflated ahead of its
// reader into the same bytes as inflating on the reader's goroutine, and a
// damaged block is reported the same way after the same bytes.
func TestMSZIPAhead(t *testing.T) {
	src := t.TempDir()
	want := []byte{}
	for i, k := range []string{"x86", "text", "zeros", "random"} {
		d := testData(k, 300000, uint64(i+1))
		os.WriteFile(filepath.Join(src, fmt.Sprintf("f%d", i)), d, 0o644)
		want = append(want, d...)
	}
	good := pkgtest.CabDir(t, src)
	walk := func(data []byte) ([]byte, *mszipReader, error) {
		got, d, err := walkAll(t, data)
		return got, d.(*mszipReader), err
	}
	for _, at := range []int{0, len(good) / 3, len(good) - 10} {
		t.Run(fmt.Sprint(at), func(t *testing.T) {
			data := bytes.Clone(good)
			if at > 0 {
				data[at] ^= 0x55
			}
			got, m, err := walk(data)
			if m.ahead == nil {
				t.Fatal("the folder was not inflated ahead")
			}
			if at == 0 && (err != nil || !bytes.Equal(got, want)) {
				t.Fatalf("Walk: %v, %d bytes of %d", err, len(got), len(want))
			}
			if at > 0 && (err == nil || len(got) >= len(want) || !bytes.Equal(got, want[:len(got)])) {
				t.Errorf("damaged at %d: %v after %d bytes, want an error after a prefix", at, err, len(got))
			}
			defer func(n, m int) { mszipAheadBlocks, blocksAhead = n, m }(mszipAheadBlocks, blocksAhead)
			mszipAheadBlocks, blocksAhead = 1<<30, 1<<30
			syncGot, m, syncErr := walk(data)
			if m.ahead != nil || m.b.ahead != nil {
				t.Fatal("inflated or read ahead with mszipAheadBlocks and blocksAhead past the folder")
			}
			if !bytes.Equal(got, syncGot) || fmt.Sprint(err) != fmt.Sprint(syncErr) {
				t.Errorf("ahead: %d bytes, then %v\non the reader's goroutine: %d bytes, then %v", len(got), err, len(syncGot), syncErr)
			}
		})
	}
}
