// Package mapped opens a regular file read-only and, where the platform
// allows, maps it into memory, so that code reading a whole file (the
// hashes of verify) takes its bytes in place instead of having read calls
// copy them: 13 % of verify's CPU on a 45 MB cabinet (BENCHMARKS.md).
//
// A mapped file that shrinks while it is read faults on the pages past its
// new end; Guard turns that fault into an error for the goroutine it runs
// in.
package mapped

import (
	"errors"
	"io"
	"os"
	"runtime/debug"

	"github.com/kbplan/kbplan/internal/regular"
)

// File is an open regular file; Bytes is its content when it is mapped.
type File struct {
	*os.File
	size int64
	data []byte
}

// minMap is the smallest file worth a mapping: below it a read costs less
// than setting the mapping up.
const minMap = 1 << 20

// Open opens a regular file (not a FIFO, device or folder: package
// regular says why) and maps it when it is at least 1 MiB and the platform
// can.
func Open(name string) (*File, error) {
	f, st, err := regular.Open(name)
	if err != nil {
		return nil, err
	}
	m := &File{File: f, size: st.Size()}
	if m.size >= minMap {
		m.data = mmap(f, m.size) // nil: read calls, as for a small file
	}
	return m, nil
}

// Size is the file's size when it was opened.
func (f *File) Size() int64 { return f.size }

// Bytes is the file's content, mapped; nil when it is not mapped. Read
// it only under Guard.
func (f *File) Bytes() []byte { return f.data }

// Close unmaps and closes the file.
func (f *File) Close() error {
	if f.data != nil {
		munmap(f.data)
		f.data = nil
	}
	return f.File.Close()
}

// ErrChanged is Guard's error for a mapped file that shrank while it was
// read.
var ErrChanged = errors.New("the file changed (it shrank) while it was read")

// Guard runs fn, turning a fault on a mapped page (a file cut short while
// it is read) into ErrChanged. Other panics go on.
func Guard(fn func() error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(interface{ Addr() uintptr }); ok {
				err = ErrChanged
				return
			}
			panic(r)
		}
	}()
	return fn()
}

var _ io.ReaderAt = (*File)(nil)
