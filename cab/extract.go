package cab

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"sync"
	"time"
)

// Extract writes every file of the cabinet under dir, at the paths Path
// gives (the ones cabextract uses), with the stored modification times.
// Writes go through an os.Root, so no name can reach outside dir. It
// returns the paths written.
//
// The files are written behind the decoder, on a goroutine of their own
// (writeBehind): decoding a folder takes one core, writing its files
// takes the file system's time, and the two overlap.
func (c *Reader) Extract(dir string) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	w := newWriteBehind()
	var written []string // by the writing goroutine, in the files' order
	var errs []error
	err = c.Walk(func(f *File, r io.Reader) error {
		p := f.Path()
		// A name that cannot be created (a file where a folder should be)
		// is reported and skipped, as cabextract does; a damaged stream
		// stops the walk.
		if d := path.Dir(p); d != "." {
			if err := root.MkdirAll(d, 0o755); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", p, err))
				return nil
			}
		}
		out, err := root.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", p, err))
			return nil
		}
		fw := w.file(out)
		if _, err := io.Copy(fw, r); err != nil {
			fw.close(nil) // what was read stays written, as before the damage
			return err
		}
		return fw.close(func() error {
			if !f.Modified.IsZero() {
				// The cabinet stores local time without a zone; like
				// cabextract, kbplan takes it as this machine's local time.
				t := time.Date(f.Modified.Year(), f.Modified.Month(), f.Modified.Day(), f.Modified.Hour(),
					f.Modified.Minute(), f.Modified.Second(), 0, time.Local)
				root.Chtimes(p, t, t)
			}
			written = append(written, p)
			return nil
		})
	})
	if werr := w.wait(); werr != nil && err == nil {
		err = werr
	}
	return written, errors.Join(append(errs, err)...)
}

// writeBehind writes files on a goroutine of its own, in order: a file's
// bytes are copied into buffers of writeBuffer bytes, at most
// writeBuffers of them in flight (then the decoder waits), and its close
// follows its last write. The first write or close error is kept and
// returned by every later call, which stops the walk.
type writeBehind struct {
	ops  chan writeOp
	free chan []byte
	done chan struct{}
	mu   sync.Mutex
	err  error
}

const (
	writeBuffer  = 1 << 20
	writeBuffers = 4
)

// A writeOp is a buffer to write to f, or, with last, f's close and what
// follows it (finish, when the file was written whole).
type writeOp struct {
	f      *os.File
	b      []byte
	last   bool
	finish func() error
}

func newWriteBehind() *writeBehind {
	w := &writeBehind{ops: make(chan writeOp, writeBuffers), free: make(chan []byte, writeBuffers), done: make(chan struct{})}
	for range writeBuffers {
		w.free <- nil // made when first used: a small cabinet needs one
	}
	go w.run()
	return w
}

func (w *writeBehind) run() {
	defer close(w.done)
	for op := range w.ops {
		if len(op.b) > 0 && w.failed() == nil {
			if _, err := op.f.Write(op.b); err != nil {
				w.fail(err)
			}
		}
		if op.b != nil {
			w.free <- op.b[:0]
		}
		if op.last {
			err := op.f.Close()
			if err == nil && op.finish != nil && w.failed() == nil {
				err = op.finish()
			}
			if err != nil {
				w.fail(err)
			}
		}
	}
}

func (w *writeBehind) fail(err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err == nil {
		w.err = err
	}
}

func (w *writeBehind) failed() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// wait writes what is left and returns the first error.
func (w *writeBehind) wait() error {
	close(w.ops)
	<-w.done
	return w.failed()
}

// file starts writing f.
func (w *writeBehind) file(f *os.File) *fileWriter { return &fileWriter{w: w, f: f} }

// A fileWriter is one file's side of a writeBehind (an io.Writer).
type fileWriter struct {
	w   *writeBehind
	f   *os.File
	buf []byte
}

func (fw *fileWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		if err := fw.w.failed(); err != nil {
			return n - len(p), err
		}
		if fw.buf == nil {
			if fw.buf = <-fw.w.free; fw.buf == nil {
				fw.buf = make([]byte, 0, writeBuffer)
			}
		}
		k := copy(fw.buf[len(fw.buf):cap(fw.buf)], p)
		fw.buf, p = fw.buf[:len(fw.buf)+k], p[k:]
		if len(fw.buf) == cap(fw.buf) {
			fw.w.ops <- writeOp{f: fw.f, b: fw.buf}
			fw.buf = nil
		}
	}
	return n, nil
}

// close hands over the file's last bytes and its close, then finish;
// it returns the first error so far.
func (fw *fileWriter) close(finish func() error) error {
	fw.w.ops <- writeOp{f: fw.f, b: fw.buf, last: true, finish: finish}
	fw.buf = nil
	return fw.w.failed()
}
