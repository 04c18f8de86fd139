package mapped

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

func TestOpen(t *testing.T) {
	dir := t.TempDir()
	big := bytes.Repeat([]byte("kbplan mapped "), (minMap/14)+1)
	cases := []struct {
		name   string
		data   []byte
		mapped bool
	}{
		{"small.bin", []byte("a few bytes"), false},
		{"big.bin", big, runtime.GOOS != "windows"},
		{"empty.bin", nil, false},
	}
	for _, tc := range cases {
		p := filepath.Join(dir, tc.name)
		if err := os.WriteFile(p, tc.data, 0o644); err != nil {
			t.Fatal(err)
		}
		f, err := Open(p)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if f.Size() != int64(len(tc.data)) {
			t.Errorf("%s: size %d, want %d", tc.name, f.Size(), len(tc.data))
		}
		if got := f.Bytes() != nil; got != tc.mapped {
			t.Errorf("%s: mapped %v, want %v", tc.name, got, tc.mapped)
		}
		if tc.mapped && !bytes.Equal(f.Bytes(), tc.data) {
			t.Errorf("%s: the mapping differs from the file", tc.name)
		}
		// Read calls work either way.
		buf := make([]byte, min(len(tc.data), 64))
		if _, err := f.ReadAt(buf, 0); err != nil || !bytes.Equal(buf, tc.data[:len(buf)]) {
			t.Errorf("%s: ReadAt %q, %v", tc.name, buf, err)
		}
		if err := f.Close(); err != nil || f.Bytes() != nil {
			t.Errorf("%s: Close %v, Bytes after it %d bytes", tc.name, err, len(f.Bytes()))
		}
	}
}

// TestGuardCutShort: a mapped file cut short under its reader is an error
// for that read, not a crash of the process.
func TestGuardCutShort(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("files are not mapped on Windows")
	}
	p := filepath.Join(t.TempDir(), "cut.bin")
	if err := os.WriteFile(p, make([]byte, 4*minMap), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := os.Truncate(p, 0); err != nil {
		t.Fatal(err)
	}
	sum := 0
	err = Guard(func() error {
		for _, c := range f.Bytes() {
			sum += int(c)
		}
		return nil
	})
	if !errors.Is(err, ErrChanged) {
		t.Fatalf("Guard = %v, want ErrChanged", err)
	}
	// Another panic is not swallowed.
	defer func() {
		if r := recover(); r != "other" {
			t.Errorf("recovered %v, want the panic to go on", r)
		}
	}()
	Guard(func() error { panic("other") })
}
