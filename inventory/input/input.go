// Package input is kbplan's one way to read an input: a file of any
// inventory format, stdin, a collector bundle folder, or a bundle packed as
// a cabinet or a zip (recognised by content, not by name). The command line
// and the fleet's uploads both read through it, so the same bytes give the
// same host everywhere.
package input

import (
	"archive/zip"
	"bufio"
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing/fstest"

	"github.com/kbplan/kbplan/budget"
	"github.com/kbplan/kbplan/cab"
	"github.com/kbplan/kbplan/internal/regular"
	"github.com/kbplan/kbplan/inventory"
	"github.com/kbplan/kbplan/inventory/bundle"
	"github.com/kbplan/kbplan/inventory/detect"
)

// Archive bounds: a collector bundle is some hundred KiB unpacked
// (docs/bundle.md); these leave room without letting one input take the
// memory.
const (
	MaxUnpacked = 64 << 20 // all files of a packed bundle, unpacked
	MaxArchive  = 64 << 20 // a packed bundle as read from a file
	maxFiles    = 64       // files in a packed bundle
)

func inputErr(format string, args ...any) error { return fmt.Errorf(format, args...) }

// IsArchive reports whether data starts like a cabinet or a zip.
func IsArchive(head []byte) bool {
	return bytes.HasPrefix(head, []byte("MSCF")) || bytes.HasPrefix(head, []byte("PK\x03\x04"))
}

// ReadBytes reads one input held in memory: a collector bundle packed as a
// cabinet (makecab, what kbplan-collect.cmd --upload sends) or a zip (the
// PowerShell collector), or any single inventory kbplan reads (systeminfo,
// wmic, reg, ver, Get-HotFix ...). name labels messages. Unpacking is
// bounded by MaxUnpacked inflated bytes, whatever the archive claims, and
// stops when ctx is done.
func ReadBytes(ctx context.Context, name string, body []byte) (inventory.Host, error) {
	b := budget.New(ctx, name, MaxUnpacked)
	var fsys fs.FS
	switch {
	case bytes.HasPrefix(body, []byte("MSCF")):
		c, err := cab.NewReader(bytes.NewReader(body), int64(len(body)))
		if err != nil {
			return inventory.Host{}, fmt.Errorf("%s: %w", name, err)
		}
		if len(c.Files) > maxFiles {
			return inventory.Host{}, inputErr("%s: %d files, more than a bundle's %d", name, len(c.Files), maxFiles)
		}
		c.Budget = b
		fsys = c
	case bytes.HasPrefix(body, []byte("PK\x03\x04")):
		z, err := unpackZip(name, body, b)
		if err != nil {
			return inventory.Host{}, err
		}
		fsys = z
	default:
		return detect.Read(name, bytes.NewReader(body))
	}
	// A bundle packed with its folder keeps the files one level down; of
	// several manifests, the shallowest (then the first by name) counts.
	var manifests []string
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && d.Name() == bundle.Manifest {
			manifests = append(manifests, p)
		}
		return nil
	})
	if err != nil {
		return inventory.Host{}, fmt.Errorf("%s: %w", name, err)
	}
	if len(manifests) == 0 {
		return inventory.Host{}, inputErr("%s: an archive without %s: pack the folder kbplan-collect writes", name, bundle.Manifest)
	}
	slices.SortFunc(manifests, func(a, b string) int {
		return cmp.Or(cmp.Compare(strings.Count(a, "/"), strings.Count(b, "/")), cmp.Compare(a, b))
	})
	sub, err := fs.Sub(fsys, path.Dir(manifests[0]))
	if err != nil {
		return inventory.Host{}, err
	}
	// A member that cannot be decoded (over the budget, damaged, files
	// overlapping) makes the whole archive unreadable: the bundle reader
	// would only warn and go on with the rest.
	watch := &watchFS{FS: sub}
	h, err := bundle.ReadFS(watch, name)
	if watch.err != nil {
		return inventory.Host{}, fmt.Errorf("%s: %w", name, watch.err)
	}
	return h, err
}

// watchFS keeps the first error other than "does not exist" that opening
// or reading a member met.
type watchFS struct {
	fs.FS
	err error
}

func (w *watchFS) note(err error) {
	if err != nil && err != io.EOF && !errors.Is(err, fs.ErrNotExist) && w.err == nil {
		w.err = err
	}
}

func (w *watchFS) Open(name string) (fs.File, error) {
	f, err := w.FS.Open(name)
	w.note(err)
	return f, err
}

func (w *watchFS) ReadFile(name string) ([]byte, error) {
	b, err := fs.ReadFile(w.FS, name)
	w.note(err)
	return b, err
}

func cleanMember(name, member string) (string, error) {
	p := path.Clean(strings.ReplaceAll(member, `\`, "/"))
	if p == "." || strings.HasPrefix(p, "../") || p == ".." || path.IsAbs(p) {
		return "", inputErr("%s: member %q leaves the archive", name, member)
	}
	return p, nil
}

// unpackZip reads a zip's members into memory, every inflated byte
// counted against b (a member's declared size is not trusted).
func unpackZip(name string, body []byte, b *budget.Budget) (fstest.MapFS, error) {
	r, err := zip.NewReader(bytes.NewReader(body), int64(len(body)))
	if err != nil {
		return nil, inputErr("%s: %v", name, err)
	}
	if len(r.File) > maxFiles {
		return nil, inputErr("%s: %d files, more than a bundle's %d", name, len(r.File), maxFiles)
	}
	fsys := fstest.MapFS{}
	for _, f := range r.File {
		if f.FileInfo().IsDir() {
			continue
		}
		p, err := cleanMember(name, f.Name)
		if err != nil {
			return nil, err
		}
		if f.UncompressedSize64 > uint64(b.Left()) {
			return nil, &budget.ExceededError{Name: name, Limit: MaxUnpacked}
		}
		rc, err := f.Open()
		if err != nil {
			return nil, inputErr("%s: %s: %v", name, f.Name, err)
		}
		data, err := io.ReadAll(b.Reader(rc))
		rc.Close()
		if err != nil {
			var ee *budget.ExceededError
			if errors.As(err, &ee) {
				return nil, err
			}
			return nil, inputErr("%s: %s: %v", name, f.Name, err)
		}
		fsys[p] = &fstest.MapFile{Data: data}
	}
	return fsys, nil
}

// ReadFile reads the input at path: "-" is stdin; a collector bundle
// folder is read as one host; a file is a packed bundle (cabinet or zip, by
// content) or an inventory. Only regular files are read (package regular):
// a FIFO, a device or a socket would block or never end.
func ReadFile(path string, stdin io.Reader) (inventory.Host, error) {
	if path == "-" {
		return detect.Read("-", stdin)
	}
	f, st, err := regular.Open(path)
	return readOpened(path, f, st, err)
}

// smallFile is the size up to which a file is read whole with one read
// call; a larger one is streamed (a hostile 2 GiB file costs bounded
// memory).
const smallFile = 1 << 20

func readOpened(path string, f *os.File, st fs.FileInfo, err error) (inventory.Host, error) {
	dir, isDir := regular.Dir(err)
	switch {
	case isDir && bundle.IsBundle(path):
		return bundle.ReadSeen(path, dir)
	case isDir:
		return inventory.Host{}, fmt.Errorf("%s: a folder that is not a collector bundle (it has no %s): give its files one by one, or the folder to analyze, which reads each", path, bundle.Manifest)
	case errors.As(err, new(*regular.Error)):
		return inventory.Host{}, err // it names the path and what to give
	case err != nil:
		return inventory.Host{}, fmt.Errorf("%w; check the path", err)
	}
	defer f.Close()
	return readSized(path, f, st.Size())
}

// readSized reads an input of the given size (as opened): a small one
// whole, with one read call, a large one streamed. A byte more than the
// size is asked for, to see whether the file grew since; if it did, the
// rest is streamed after what was read, not left out.
func readSized(path string, r io.Reader, size int64) (inventory.Host, error) {
	if size > smallFile {
		return readStream(path, r)
	}
	body := make([]byte, size+1)
	n, err := io.ReadFull(r, body)
	switch {
	case err == io.ErrUnexpectedEOF || err == io.EOF:
		return ReadBytes(context.Background(), path, body[:n])
	case err != nil:
		return inventory.Host{}, fmt.Errorf("%s: %w", path, err)
	}
	return readStream(path, io.MultiReader(bytes.NewReader(body), r))
}

// readStream reads a large input: an inventory is streamed, an archive
// read into memory up to MaxArchive.
func readStream(path string, r io.Reader) (inventory.Host, error) {
	br := bufio.NewReader(r)
	head, _ := br.Peek(4)
	if !IsArchive(head) {
		return detect.Read(path, br)
	}
	body, err := io.ReadAll(io.LimitReader(br, MaxArchive+1))
	if err != nil {
		return inventory.Host{}, fmt.Errorf("%s: %w", path, err)
	}
	if len(body) > MaxArchive {
		return inventory.Host{}, fmt.Errorf("%s: an archive larger than %d MiB: not a collector bundle", path, MaxArchive>>20)
	}
	return ReadBytes(context.Background(), path, body)
}

// Job is one unit of a batch: the inputs given together on the command line,
// a file of a folder, a bundle folder, or a subfolder of one host's loose
// files. Its inputs are read, grouped by host (inventory.GroupByHost) and
// merged.
type Job struct {
	Paths []string
	// Listed: Paths come from a folder's listing, which showed each as a
	// regular file or a folder; they are opened as such (Open: a link put
	// in their place since is not followed).
	Listed bool
	// Err is set for an entry of a folder that kbplan will not read: a
	// symbolic link, a FIFO, a device, a socket (a link inside a folder
	// could point anywhere; a FIFO would block). Paths holds it.
	Err error
}

// Open opens one of the job's paths as a regular file (package regular):
// one the user named following a link, one of a folder's listing not.
func (j Job) Open(path string) (*os.File, fs.FileInfo, error) {
	if j.Listed {
		return regular.OpenListed(path)
	}
	return regular.Open(path)
}

// Hosts reads the job's inputs, groups them by host
// (inventory.GroupByHost) and merges each group: one host per group, and
// an error for each input that could not be read (or the job's Err).
func (j Job) Hosts(stdin io.Reader) ([]inventory.Host, []error) {
	if j.Err != nil {
		return nil, []error{j.Err}
	}
	var hosts []inventory.Host
	var errs []error
	for _, p := range j.Paths {
		var h inventory.Host
		var err error
		if p == "-" {
			h, err = ReadFile(p, stdin)
		} else {
			f, st, oerr := j.Open(p)
			h, err = readOpened(p, f, st, oerr)
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		hosts = append(hosts, h)
	}
	if len(hosts) < 2 {
		return hosts, errs
	}
	groups := inventory.GroupByHost(hosts)
	out := make([]inventory.Host, 0, len(groups))
	for _, g := range groups {
		out = append(out, inventory.Merge(g...))
	}
	return out, errs
}

// notRegular says why a folder entry is not read, or nil for a regular
// file or a folder.
func notRegular(p string, t fs.FileMode) error {
	switch {
	case t&fs.ModeSymlink != 0:
		return fmt.Errorf("%s: a symbolic link inside a folder: not followed (kbplan reads regular files there); name its target instead", p)
	case t.IsDir(), t.IsRegular():
		return nil
	}
	return fmt.Errorf("%s: not a regular file (%s): not read", p, t.Type())
}

// Collect turns command-line arguments into jobs, in order: the files (and
// bundle folders, and "-") given directly form one job, listed first; each
// other folder gives one job per file, per bundle folder and per subfolder
// of loose files (one host's inputs). Names starting with "." are skipped.
func Collect(args []string) ([]Job, error) {
	var jobs []Job
	var files []string
	for _, a := range args {
		if a == "-" {
			files = append(files, a)
			continue
		}
		st, err := os.Stat(a)
		if err != nil {
			return nil, fmt.Errorf("%w; check the path", err)
		}
		if !st.IsDir() || bundle.IsBundle(a) {
			files = append(files, a)
			continue
		}
		entries, err := os.ReadDir(a)
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			p := filepath.Join(a, e.Name())
			if strings.HasPrefix(e.Name(), ".") {
				continue
			}
			if err := notRegular(p, e.Type()); err != nil {
				jobs = append(jobs, Job{Paths: []string{p}, Err: err})
				continue
			}
			if !e.IsDir() || bundle.IsBundle(p) {
				jobs = append(jobs, Job{Paths: []string{p}, Listed: true})
				continue
			}
			sub, err := os.ReadDir(p)
			if err != nil {
				return nil, err
			}
			j := Job{Listed: true}
			for _, s := range sub {
				sp := filepath.Join(p, s.Name())
				if s.IsDir() || strings.HasPrefix(s.Name(), ".") {
					continue
				}
				if err := notRegular(sp, s.Type()); err != nil {
					jobs = append(jobs, Job{Paths: []string{sp}, Err: err})
					continue
				}
				j.Paths = append(j.Paths, sp)
			}
			if len(j.Paths) > 0 {
				jobs = append(jobs, j)
			}
		}
	}
	if len(files) > 0 {
		jobs = append([]Job{{Paths: files}}, jobs...)
	}
	return jobs, nil
}
