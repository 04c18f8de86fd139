// Package regular opens regular files only. A FIFO would block its reader
// until a writer came (or forever), a device can act when opened, a folder
// is not a file: every file kbplan reads by name is opened here, so that the
// rule and its message live in one place.
//
// Two ways in. Open is for a name the user gave: a symbolic link is
// followed (the user named it), and the name is looked at before it is
// opened, so that a device is never opened. OpenListed is for a name a
// folder's listing gave, already seen there as a regular file or folder: a
// link put in its place since is not followed, and what was opened is
// looked at instead (one system call less, which a batch of thousands of
// small files feels). Both open without waiting on a FIFO (O_NONBLOCK,
// which regular files ignore) and check what they opened, so a name
// swapped for a FIFO in between is refused, not waited on.
package regular

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// Error says that a name is not a regular file. Info is what was found
// there, when it was looked at (nil for a link OpenListed met).
type Error struct {
	Name string
	Mode fs.FileMode
	Info fs.FileInfo
}

func (e *Error) Error() string {
	kind := "a file of mode " + e.Mode.Type().String()
	switch m := e.Mode; {
	case m.IsDir():
		kind = "a folder"
	case m&fs.ModeSymlink != 0:
		kind = "a symbolic link (not followed inside a folder)"
	case m&fs.ModeNamedPipe != 0:
		kind = "a named pipe (FIFO)"
	case m&fs.ModeSocket != 0:
		kind = "a socket"
	case m&fs.ModeDevice != 0:
		kind = "a device"
	}
	return fmt.Sprintf("%s is %s, not a regular file: give the path of the file itself", e.Name, kind)
}

// IsDir reports whether err says the name is a folder.
func IsDir(err error) bool {
	_, ok := Dir(err)
	return ok
}

// Dir returns the folder err says the name is, as it was found.
func Dir(err error) (fs.FileInfo, bool) {
	var e *Error
	if errors.As(err, &e) && e.Mode.IsDir() && e.Info != nil {
		return e.Info, true
	}
	return nil, false
}

// Open opens a regular file the user named, following a symbolic link. It
// returns the open file and what it is (its size as opened).
func Open(name string) (*os.File, fs.FileInfo, error) {
	st, err := os.Stat(name)
	if err != nil {
		return nil, nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, nil, &Error{Name: name, Mode: st.Mode(), Info: st}
	}
	return open(name, os.O_RDONLY|noWait)
}

// OpenListed opens a regular file a folder's listing named, without
// following a symbolic link in its place.
func OpenListed(name string) (*os.File, fs.FileInfo, error) {
	return openListed(name)
}

// open opens name with flags and keeps it only if it is a regular file.
func open(name string, flags int) (*os.File, fs.FileInfo, error) {
	f, err := os.OpenFile(name, flags, 0)
	if err != nil {
		return nil, nil, err
	}
	return keepRegular(name, f)
}

// keepRegular keeps an open file only if it is a regular file, looked at
// through the open file itself; otherwise it closes it.
func keepRegular(name string, f *os.File) (*os.File, fs.FileInfo, error) {
	st, err := f.Stat()
	if err == nil && !st.Mode().IsRegular() {
		err = &Error{Name: name, Mode: st.Mode(), Info: st}
	}
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, st, nil
}

// OpenIn opens a regular file inside root, a folder kbplan reads files
// from by name (a bundle, a kit brought back): a symbolic link is not
// followed (Lstat says so first; one put there since is at most followed
// inside the folder, which os.Root never leaves), a FIFO is not waited
// on, and what was opened is checked.
func OpenIn(root *os.Root, name string) (*os.File, fs.FileInfo, error) {
	st, err := root.Lstat(name)
	if err != nil {
		return nil, nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, nil, &Error{Name: name, Mode: st.Mode(), Info: st}
	}
	f, err := root.OpenFile(name, os.O_RDONLY|noWait, 0)
	if err != nil {
		return nil, nil, err
	}
	return keepRegular(name, f)
}
