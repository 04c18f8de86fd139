//go:build unix

package cli

import (
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestPackageCommandsRefuseFIFO: verify, inspect and extract refuse a FIFO
// at once (exit 2, naming it) instead of waiting forever for a writer.
func TestPackageCommandsRefuseFIFO(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "Windows6.0-KB4474419-v3-x64.msu")
	if err := syscall.Mkfifo(p, 0o644); err != nil {
		t.Skip(err)
	}
	for _, args := range [][]string{{"verify", p}, {"inspect", p}, {"extract", p, filepath.Join(dir, "out")}} {
		done := make(chan struct{})
		var errOut string
		var code int
		go func() {
			defer close(done)
			_, errOut, code = run(t, "", args...)
		}()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Fatalf("%s: still waiting on the FIFO after 30 s", args[0])
		}
		if code != ExitUsage || !strings.Contains(errOut, p+" is a named pipe (FIFO), not a regular file") {
			t.Errorf("%s: exit %d, %q; want %d naming the FIFO", args[0], code, errOut, ExitUsage)
		}
	}
}
