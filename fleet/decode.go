package fleet

import (
	"archive/zip"
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"
	"testing/fstest"

	"github.com/kbplan/kbplan/cab"
	"github.com/kbplan/kbplan/inventory"
	"github.com/kbplan/kbplan/inventory/bundle"
	"github.com/kbplan/kbplan/inventory/detect"
)

// Upload bounds: a collector bundle is some hundred KiB unpacked (docs/bundle.md);
// these leave room without letting one upload take the server's memory.
const (
	MaxUnpacked = 64 << 20 // all files of an uploaded bundle, unpacked
	maxFiles    = 64       // files in an uploaded bundle
)

// UploadError is an upload kbplan cannot read: a 4xx, never a 5xx.
type UploadError struct{ Err error }

func (e *UploadError) Error() string { return e.Err.Error() }
func (e *UploadError) Unwrap() error { return e.Err }

func uploadErr(format string, args ...any) error { return &UploadError{fmt.Errorf(format, args...)} }

// Decode reads an upload: a collector bundle packed as a cabinet (makecab,
// what kbplan-collect.cmd --upload sends) or a zip (the PowerShell
// collector), or any single inventory kbplan reads (systeminfo, wmic, reg,
// ver, Get-HotFix ...). name labels messages.
func Decode(name string, body []byte) (inventory.Host, error) {
	var fsys fstest.MapFS
	var err error
	switch {
	case bytes.HasPrefix(body, []byte("MSCF")):
		fsys, err = unpackCab(name, body)
	case bytes.HasPrefix(body, []byte("PK\x03\x04")):
		fsys, err = unpackZip(name, body)
	default:
		h, err := detect.Read(name, bytes.NewReader(body))
		if err != nil {
			return h, &UploadError{err}
		}
		return h, nil
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
		return inventory.Host{}, uploadErr("%s: an archive without %s: pack the folder kbplan-collect writes", name, bundle.Manifest)
	}
	slices.SortFunc(manifests, func(a, b string) int {
		return cmp.Or(cmp.Compare(strings.Count(a, "/"), strings.Count(b, "/")), cmp.Compare(a, b))
	})
	root := path.Dir(manifests[0])
	sub, err := fs.Sub(fsys, root)
	if err != nil {
		return inventory.Host{}, &UploadError{err}
	}
	h, err := bundle.ReadFS(sub, name)
	if err != nil {
		return h, &UploadError{err}
	}
	return h, nil
}

// budget hands out the unpacked bytes an upload may take.
type budget struct {
	name string
	left int64
}

func (b *budget) read(member string, r io.Reader) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, b.left+1))
	if err != nil {
		return nil, uploadErr("%s: %s: %v", b.name, member, err)
	}
	if int64(len(data)) > b.left {
		return nil, uploadErr("%s: unpacks to more than %d MiB: not a collector bundle", b.name, MaxUnpacked>>20)
	}
	b.left -= int64(len(data))
	return data, nil
}

func cleanMember(name, member string) (string, error) {
	p := path.Clean(strings.ReplaceAll(member, `\`, "/"))
	if p == "." || strings.HasPrefix(p, "../") || p == ".." || path.IsAbs(p) {
		return "", uploadErr("%s: member %q leaves the archive", name, member)
	}
	return p, nil
}

func unpackCab(name string, body []byte) (fstest.MapFS, error) {
	r, err := cab.NewReader(bytes.NewReader(body), int64(len(body)))
	if err != nil {
		return nil, &UploadError{fmt.Errorf("%s: %w", name, err)}
	}
	if len(r.Files) > maxFiles {
		return nil, uploadErr("%s: %d files, more than a bundle's %d", name, len(r.Files), maxFiles)
	}
	fsys := fstest.MapFS{}
	b := &budget{name: name, left: MaxUnpacked}
	err = r.Walk(func(f *cab.File, rd io.Reader) error {
		p, err := cleanMember(name, f.Path())
		if err != nil {
			return err
		}
		data, err := b.read(p, rd)
		if err != nil {
			return err
		}
		fsys[p] = &fstest.MapFile{Data: data}
		return nil
	})
	if err != nil {
		var ue *UploadError
		if errors.As(err, &ue) {
			return nil, err
		}
		return nil, &UploadError{fmt.Errorf("%s: %w", name, err)}
	}
	return fsys, nil
}

func unpackZip(name string, body []byte) (fstest.MapFS, error) {
	r, err := zip.NewReader(bytes.NewReader(body), int64(len(body)))
	if err != nil {
		return nil, uploadErr("%s: %v", name, err)
	}
	if len(r.File) > maxFiles {
		return nil, uploadErr("%s: %d files, more than a bundle's %d", name, len(r.File), maxFiles)
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
			return nil, uploadErr("%s: %s: %v", name, f.Name, err)
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
