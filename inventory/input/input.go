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

	"github.com/kbplan/kbplan/cab"
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
// wmic, reg, ver, Get-HotFix ...). name labels messages.
func ReadBytes(name string, body []byte) (inventory.Host, error) {
	var fsys fstest.MapFS
	var err error
	switch {
	case bytes.HasPrefix(body, []byte("MSCF")):
		fsys, err = unpackCab(name, body)
	case bytes.HasPrefix(body, []byte("PK\x03\x04")):
		fsys, err = unpackZip(name, body)
	default:
		return detect.Read(name, bytes.NewReader(body))
	}
	if err != nil {
		return inventory.Host{}, err
	}
	// A bundle packed with its folder keeps the files one level down; of
	// several manifests, the shallowest (then the first by name) counts.
	var manifests []string
	for p := range fsys {
		if path.Base(p) == bundle.Manifest {
			manifests = append(manifests, p)
		}
	}
	if len(manifests) == 0 {
		return inventory.Host{}, inputErr("%s: an archive without %s: pack the folder kbplan-collect writes", name, bundle.Manifest)
	}
	slices.SortFunc(manifests, func(a, b string) int {
		return cmp.Or(cmp.Compare(strings.Count(a, "/"), strings.Count(b, "/")), cmp.Compare(a, b))
	})
	root := path.Dir(manifests[0])
	sub, err := fs.Sub(fsys, root)
	if err != nil {
		return inventory.Host{}, err
	}
	return bundle.ReadFS(sub, name)
}

// budget hands out the unpacked bytes an upload may take.
type budget struct {
	name string
	left int64
}

func (b *budget) read(member string, r io.Reader) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, b.left+1))
	if err != nil {
		return nil, inputErr("%s: %s: %v", b.name, member, err)
	}
	if int64(len(data)) > b.left {
		return nil, inputErr("%s: unpacks to more than %d MiB: not a collector bundle", b.name, MaxUnpacked>>20)
	}
	b.left -= int64(len(data))
	return data, nil
}

func cleanMember(name, member string) (string, error) {
	p := path.Clean(strings.ReplaceAll(member, `\`, "/"))
	if p == "." || strings.HasPrefix(p, "../") || p == ".." || path.IsAbs(p) {
		return "", inputErr("%s: member %q leaves the archive", name, member)
	}
	return p, nil
}

func unpackCab(name string, body []byte) (fstest.MapFS, error) {
	r, err := cab.NewReader(bytes.NewReader(body), int64(len(body)))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(r.Files) > maxFiles {
		return nil, inputErr("%s: %d files, more than a bundle's %d", name, len(r.Files), maxFiles)
	}
	fsys := fstest.MapFS{}
	b := &budget{name: name, left: MaxUnpacked}
	err = r.Walk(func(f *cab.File, rd io.Reader) error {
		p, err := cleanMember(name, f.Path())
		if err != nil {
			return &memberError{err}
		}
		data, err := b.read(p, rd)
		if err != nil {
			return &memberError{err}
		}
		fsys[p] = &fstest.MapFile{Data: data}
		return nil
	})
	if err != nil {
		var ce *memberError
		if errors.As(err, &ce) {
			return nil, ce.err
		}
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return fsys, nil
}

func unpackZip(name string, body []byte) (fstest.MapFS, error) {
	r, err := zip.NewReader(bytes.NewReader(body), int64(len(body)))
	if err != nil {
		return nil, inputErr("%s: %v", name, err)
	}
	if len(r.File) > maxFiles {
		return nil, inputErr("%s: %d files, more than a bundle's %d", name, len(r.File), maxFiles)
	}
	fsys := fstest.MapFS{}
	b := &budget{name: name, left: MaxUnpacked}
	for _, f := range r.File {
		if f.FileInfo().IsDir() {
			continue
		}
		p, err := cleanMember(name, f.Name)
		if err != nil {
			return nil, err
		}
		rc, err := f.Open()
		if err != nil {
			return nil, inputErr("%s: %s: %v", name, f.Name, err)
		}
		// The declared size is not trusted: the budget counts real bytes.
		data, err := b.read(p, rc)
		rc.Close()
		if err != nil {
			return nil, err
		}
		fsys[p] = &fstest.MapFile{Data: data}
	}
	return fsys, nil
}

// memberError is an error about one member that already names the input.
type memberError struct{ err error }

func (e *memberError) Error() string { return e.err.Error() }

// ReadFile reads the input at path: "-" is stdin; a collector bundle
// folder is read as one host; a file is a packed bundle (cabinet or zip, by
// content) or an inventory, streamed. Only regular files are read: a FIFO,
// a device or a socket would block or never end.
func ReadFile(path string, stdin io.Reader) (inventory.Host, error) {
	if path == "-" {
		return detect.Read("-", stdin)
	}
	if bundle.IsBundle(path) {
		return bundle.Read(path)
	}
	st, err := os.Stat(path)
	if err != nil {
		return inventory.Host{}, fmt.Errorf("%w; check the path", err)
	}
	switch {
	case st.IsDir():
		return inventory.Host{}, fmt.Errorf("%s: a folder that is not a collector bundle (it has no %s): give its files one by one, or the folder to analyze, which reads each", path, bundle.Manifest)
	case !st.Mode().IsRegular():
		return inventory.Host{}, fmt.Errorf("%s: not a regular file (%s): kbplan reads files and bundle folders", path, st.Mode().Type())
	}
	f, err := os.Open(path)
	if err != nil {
		return inventory.Host{}, fmt.Errorf("%w; check the path", err)
	}
	defer f.Close()
	br := bufio.NewReader(f)
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
	return ReadBytes(path, body)
}

// Job is one unit of a batch: the inputs given together on the command line,
// a file of a folder, a bundle folder, or a subfolder of one host's loose
// files. Its inputs are read, grouped by host (inventory.GroupByHost) and
// merged.
type Job struct {
	Paths []string
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
			if !e.IsDir() || bundle.IsBundle(p) {
				jobs = append(jobs, Job{Paths: []string{p}})
				continue
			}
			sub, err := os.ReadDir(p)
			if err != nil {
				return nil, err
			}
			var j Job
			for _, s := range sub {
				if !s.IsDir() && !strings.HasPrefix(s.Name(), ".") {
					j.Paths = append(j.Paths, filepath.Join(p, s.Name()))
				}
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
