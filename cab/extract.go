package cab

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"time"
)

// Extract writes every file of the cabinet under dir, at the paths Path
// gives (the ones cabextract uses), with the stored modification times.
// Writes go through an os.Root, so no name can reach outside dir. It
// returns the paths written.
func (c *Reader) Extract(dir string) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	var written []string
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
		if _, err := io.Copy(out, r); err != nil {
			out.Close()
			return err
		}
		if err := out.Close(); err != nil {
			return err
		}
		if !f.Modified.IsZero() {
			// The cabinet stores local time without a zone; like cabextract,
			// kbplan takes it as this machine's local time.
			t := time.Date(f.Modified.Year(), f.Modified.Month(), f.Modified.Day(), f.Modified.Hour(),
				f.Modified.Minute(), f.Modified.Second(), 0, time.Local)
			root.Chtimes(p, t, t)
		}
		written = append(written, p)
		return nil
	})
	return written, errors.Join(append(errs, err)...)
}
