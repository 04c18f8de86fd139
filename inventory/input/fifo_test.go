//go:build unix

package input

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// TestFIFORefused: a FIFO named like an inventory is refused at once
// instead of blocking kbplan forever.
func TestFIFORefused(t *testing.T) {
	p := filepath.Join(t.TempDir(), "systeminfo.txt")
	if err := syscall.Mkfifo(p, 0o644); err != nil {
		t.Skip(err)
	}
	_, err := ReadFile(p, nil)
	if err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("error %v", err)
	}
}

// TestCollectRefusesLinksAndFIFOs: inside a folder, a symbolic link or a
// FIFO becomes a job that says why it is not read; regular files are read.
func TestCollectRefusesLinksAndFIFOs(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "a.txt"), []byte("Microsoft Windows [Version 6.0.6002]\r\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/etc/passwd", filepath.Join(dir, "link.txt")); err != nil {
		t.Skip(err)
	}
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo.txt"), 0o644); err != nil {
		t.Skip(err)
	}
	jobs, err := Collect([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, j := range jobs {
		msg := ""
		if j.Err != nil {
			msg = j.Err.Error()
		}
		got[filepath.Base(j.Paths[0])] = msg
	}
	if got["a.txt"] != "" || !strings.Contains(got["link.txt"], "symbolic link") || !strings.Contains(got["fifo.txt"], "not a regular file") {
		t.Errorf("jobs %q", got)
	}
}

// TestListedEntriesSwapped: an entry of a folder's listing that became a
// symbolic link or a FIFO after the listing is refused when its job is
// read (not followed, not waited on); the others, and a bundle folder in
// the listing, are read.
func TestListedEntriesSwapped(t *testing.T) {
	dir := t.TempDir()
	ver := []byte("Microsoft Windows [Version 6.0.6002]\r\n")
	for _, name := range []string{"a.txt", "link.txt", "fifo.txt"} {
		if err := os.WriteFile(filepath.Join(dir, name), ver, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.CopyFS(filepath.Join(dir, "bundle"), os.DirFS(bundleDir)); err != nil {
		t.Fatal(err)
	}
	jobs, err := Collect([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(dir, "link.txt"))
	os.Remove(filepath.Join(dir, "fifo.txt"))
	if err := os.Symlink(filepath.Join(dir, "a.txt"), filepath.Join(dir, "link.txt")); err != nil {
		t.Skip(err)
	}
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo.txt"), 0o644); err != nil {
		t.Skip(err)
	}
	got := map[string]string{}
	for _, j := range jobs {
		if !j.Listed {
			t.Errorf("%v: not marked as listed", j.Paths)
		}
		hosts, errs := j.Hosts(nil)
		msg := ""
		if len(errs) > 0 {
			msg = errs[0].Error()
		} else if len(hosts) != 1 {
			msg = "hosts: " + strconv.Itoa(len(hosts))
		}
		got[filepath.Base(j.Paths[0])] = msg
	}
	want := map[string]string{"a.txt": "", "bundle": "", "link.txt": "is a symbolic link", "fifo.txt": "is a named pipe (FIFO)"}
	for name, part := range want {
		if m, ok := got[name]; !ok || part == "" && m != "" || !strings.Contains(m, part) {
			t.Errorf("%s: %q, want %q", name, m, part)
		}
	}
}
