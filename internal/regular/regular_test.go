//go:build unix

package regular

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestOpen: what each way in opens and refuses, and that neither waits on
// a FIFO (without O_NONBLOCK the open would block until a writer came:
// the test fails on its guard instead of hanging).
func TestOpen(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "systeminfo.txt")
	if err := os.WriteFile(file, []byte("Host Name: A\r\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.txt")
	if err := os.Symlink(file, link); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo.txt")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skip("no FIFOs here:", err)
	}
	sub := filepath.Join(dir, "sub")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	inRoot := func(p string) (*os.File, os.FileInfo, error) { return OpenIn(root, filepath.Base(p)) }
	opens := map[string]func(string) (*os.File, os.FileInfo, error){"Open": Open, "OpenListed": OpenListed, "OpenIn": inRoot}
	tests := []struct {
		name, path string
		open       string
		want       string // "" opens; else a part of the error
		dir        bool   // IsDir(err)
	}{
		{"a file", file, "Open", "", false},
		{"a file, listed", file, "OpenListed", "", false},
		{"a link the user named is followed", link, "Open", "", false},
		{"a link in a folder is not", link, "OpenListed", "is a symbolic link (not followed inside a folder), not a regular file", false},
		{"a folder", dir, "Open", "is a folder, not a regular file", true},
		{"a folder, listed", dir, "OpenListed", "is a folder, not a regular file", true},
		{"a FIFO", fifo, "Open", "is a named pipe (FIFO), not a regular file", false},
		{"a FIFO, listed (opened, then refused)", fifo, "OpenListed", "is a named pipe (FIFO), not a regular file", false},
		{"missing", filepath.Join(dir, "none"), "OpenListed", "no such file", false},
		{"a file in a folder read by name", file, "OpenIn", "", false},
		{"a link there is not followed", link, "OpenIn", "is a symbolic link (not followed inside a folder), not a regular file", false},
		{"a FIFO there", fifo, "OpenIn", "is a named pipe (FIFO), not a regular file", false},
		{"a folder there", sub, "OpenIn", "is a folder, not a regular file", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			type result struct {
				f   *os.File
				st  os.FileInfo
				err error
			}
			done := make(chan result, 1)
			go func() {
				f, st, err := opens[tt.open](tt.path)
				done <- result{f, st, err}
			}()
			var r result
			select {
			case r = <-done:
			case <-time.After(30 * time.Second):
				t.Fatalf("%s(%s) still waiting after 30 s", tt.open, tt.path)
			}
			if r.f != nil {
				defer r.f.Close()
			}
			switch {
			case tt.want == "" && r.err != nil:
				t.Fatalf("error %v", r.err)
			case tt.want == "" && r.st.Size() != 14:
				t.Errorf("size %d, want 14", r.st.Size())
			case tt.want != "" && (r.err == nil || !strings.Contains(r.err.Error(), tt.want)):
				t.Errorf("error %v, want one with %q", r.err, tt.want)
			case tt.want != "" && r.f != nil:
				t.Error("a file was returned with the error")
			}
			if IsDir(r.err) != tt.dir {
				t.Errorf("IsDir = %v, want %v", IsDir(r.err), tt.dir)
			}
		})
	}
}
