//go:build unix

package mapped

import (
	"path/filepath"
	"syscall"
	"testing"
)

// TestOpenRefusesNonRegular: a folder and a FIFO are refused at once (a
// FIFO would otherwise block the open until a writer came).
func TestOpenRefusesNonRegular(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	for _, p := range []string{dir, fifo} {
		if p == fifo {
			if err := syscall.Mkfifo(fifo, 0o644); err != nil {
				t.Skip("no FIFOs here:", err)
			}
		}
		if f, err := Open(p); err == nil {
			f.Close()
			t.Errorf("%s: opened, want an error (not a regular file)", p)
		}
	}
}
