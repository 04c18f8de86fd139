package cab

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestWriteBehind: files written behind the caller hold their bytes in
// order, whatever the sizes of the writes (across buffers, none at all),
// each file's finish runs after its close and in the files' order, and
// every buffer comes back (else the third file would wait forever).
func TestWriteBehind(t *testing.T) {
	dir := t.TempDir()
	w := newWriteBehind()
	sizes := []int{0, 1, writeBuffer - 1, writeBuffer, writeBuffer + 1, 3*writeBuffer + 12345, writeBuffers*writeBuffer + 7}
	var finished []string
	want := map[string][]byte{}
	for i, size := range sizes {
		name := filepath.Join(dir, fmt.Sprintf("f%d", i))
		data := testData("random", size, uint64(i))
		want[name] = data
		f, err := os.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		fw := w.file(f)
		for p, step := data, 1; len(p) > 0; step = step*7 + 1 { // uneven writes
			k := min(len(p), step%(2*writeBuffer)+1)
			if n, err := fw.Write(p[:k]); n != k || err != nil {
				t.Fatalf("%s: Write = %d, %v", name, n, err)
			}
			p = p[k:]
		}
		if err := fw.close(func() error {
			if _, err := f.Write([]byte{0}); err == nil {
				t.Errorf("%s: finish ran before the file was closed", name)
			}
			finished = append(finished, name)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.wait(); err != nil {
		t.Fatal(err)
	}
	if len(finished) != len(sizes) {
		t.Fatalf("%d files finished, want %d", len(finished), len(sizes))
	}
	for i, name := range finished {
		if name != filepath.Join(dir, fmt.Sprintf("f%d", i)) {
			t.Errorf("finished %d is %s: out of order", i, name)
		}
		got, _ := os.ReadFile(name)
		if !bytes.Equal(got, want[name]) {
			t.Errorf("%s: %d bytes written, want the %d given, in order", name, len(got), len(want[name]))
		}
	}
}

// TestWriteBehindFails: a write that fails (a full disk) is returned by
// the writes, closes and wait that follow, and the file is not finished
// (Extract does not count it as written).
func TestWriteBehindFails(t *testing.T) {
	full, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
	if err != nil {
		t.Skip("no /dev/full here:", err)
	}
	w := newWriteBehind()
	fw := w.file(full)
	data := make([]byte, 2*writeBuffer)
	var werr error
	for range 4 * writeBuffers { // writes block once the buffers are in flight
		if _, werr = fw.Write(data); werr != nil {
			break
		}
	}
	finished := false
	cerr := fw.close(func() error { finished = true; return nil })
	err = w.wait()
	if !errors.Is(err, syscall.ENOSPC) || werr == nil && cerr == nil {
		t.Errorf("write to a full disk: Write %v, close %v, wait %v; want ENOSPC from wait and from a Write or the close", werr, cerr, err)
	}
	if finished {
		t.Error("a file whose writes failed was finished")
	}
}
