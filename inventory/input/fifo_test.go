//go:build unix

package input

import (
	"path/filepath"
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
