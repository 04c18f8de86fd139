package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// TestProgressOnlyOnATerminal: progress is drawn on a terminal (a
// pseudo-terminal here) and nowhere else: not on /dev/null, a character
// device that is no terminal (drawn there, it cost a write per input and
// a flush of stdout per result), a file or a pipe.
func TestProgressOnlyOnATerminal(t *testing.T) {
	devnull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer devnull.Close()
	file, err := os.Create(filepath.Join(t.TempDir(), "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	cases := []struct {
		name string
		f    *os.File
		tty  bool
	}{{"/dev/null", devnull, false}, {"a file", file, false}, {"a pipe", w, false}}
	if ptmx, pts, err := openPTY(); err == nil {
		defer ptmx.Close()
		defer pts.Close()
		cases = append(cases, struct {
			name string
			f    *os.File
			tty  bool
		}{"a terminal", pts, true})
	} else {
		t.Logf("no pseudo-terminal here (%v): the terminal case is skipped", err)
	}
	for _, c := range cases {
		if got := newProgress(c.f, 10).tty; got != c.tty {
			t.Errorf("progress on %s: drawn %v, want %v", c.name, got, c.tty)
		}
	}
}

// openPTY opens a new pseudo-terminal: its controlling side (kept open
// while the terminal side is used) and its terminal side.
func openPTY() (ptmx, pts *os.File, err error) {
	if ptmx, err = os.OpenFile("/dev/ptmx", os.O_RDWR, 0); err != nil {
		return nil, nil, err
	}
	fd := int(ptmx.Fd())
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err == nil {
		err = unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0)
	}
	if err == nil {
		pts, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	}
	if err != nil {
		ptmx.Close()
		return nil, nil, err
	}
	return ptmx, pts, nil
}
