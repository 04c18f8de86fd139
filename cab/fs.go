package cab

import (
	"bytes"
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"
	"sync"
	"time"
)

// The cabinet as a read-only file system, as archive/zip.Reader is one:
// files at their Path, folders implied by the paths. Opening a file decodes
// its cabinet folder once and keeps the contents of all of that folder's
// files in memory (within Budget), so reading every file costs one pass;
// this suits small archives such as collector bundles. Large packages are
// better read with Walk or File.Open, which stream.
var (
	_ fs.FS        = (*Reader)(nil)
	_ fs.ReadDirFS = (*Reader)(nil)
)

type fsState struct {
	once    sync.Once
	files   map[string]*File
	dirs    map[string][]fs.DirEntry
	mu      sync.Mutex
	data    map[*File][]byte
	decoded map[*Folder]error
}

func (c *Reader) tree() *fsState {
	c.fs.once.Do(func() {
		st := &c.fs
		st.files = map[string]*File{}
		st.dirs = map[string][]fs.DirEntry{".": nil}
		st.data = map[*File][]byte{}
		st.decoded = map[*Folder]error{}
		// The folders first, from every path: a name that is a folder of
		// some path is a folder, even where a file has that name too.
		isDir := map[string]bool{".": true}
		for _, f := range c.Files {
			if p := f.Path(); fs.ValidPath(p) && p != "." {
				for d := path.Dir(p); !isDir[d]; d = path.Dir(d) {
					isDir[d] = true
				}
			}
		}
		add := func(dir string, e entry) { st.dirs[dir] = append(st.dirs[dir], e) }
		for d := range isDir {
			if d != "." {
				add(path.Dir(d), entry{fileInfo{name: path.Base(d), dir: true}})
				if st.dirs[d] == nil {
					st.dirs[d] = []fs.DirEntry{}
				}
			}
		}
		for _, f := range c.Files {
			p := f.Path()
			if !fs.ValidPath(p) || isDir[p] {
				continue
			}
			if _, dup := st.files[p]; dup {
				continue // the first file of a name wins (cabextract would keep the last it writes)
			}
			st.files[p] = f
			add(path.Dir(p), entry{fileInfo{name: path.Base(p), f: f}})
		}
		for _, es := range st.dirs {
			slices.SortFunc(es, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
		}
	})
	return &c.fs
}

// Open opens the named file or folder (fs.FS).
func (c *Reader) Open(name string) (fs.File, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	st := c.tree()
	if f, ok := st.files[name]; ok {
		b, err := c.contents(f)
		if err != nil {
			return nil, &fs.PathError{Op: "open", Path: name, Err: err}
		}
		return &openFile{Reader: bytes.NewReader(b), info: fileInfo{name: path.Base(name), f: f}}, nil
	}
	if es, ok := st.dirs[name]; ok {
		return &openDir{info: fileInfo{name: path.Base(name), dir: true}, entries: es}, nil
	}
	return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
}

// ReadDir lists a folder (fs.ReadDirFS).
func (c *Reader) ReadDir(name string) ([]fs.DirEntry, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: fs.ErrInvalid}
	}
	es, ok := c.tree().dirs[name]
	if !ok {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: fs.ErrNotExist}
	}
	return slices.Clone(es), nil
}

// contents decodes f's folder once and returns f's bytes.
func (c *Reader) contents(f *File) ([]byte, error) {
	st := c.tree()
	st.mu.Lock()
	defer st.mu.Unlock()
	err, done := st.decoded[f.Folder]
	if !done {
		err = c.walkFolder(f.Folder, func(g *File, r io.Reader) error {
			b, err := io.ReadAll(r)
			if err != nil {
				return err
			}
			st.data[g] = b
			return nil
		})
		if se, ok := err.(stopError); ok {
			err = se.err
		}
		st.decoded[f.Folder] = err
	}
	if err != nil {
		// A folder that did not decode to its end is not trusted for any
		// of its files.
		return nil, err
	}
	return st.data[f], nil
}

type fileInfo struct {
	name string
	f    *File
	dir  bool
}

func (i fileInfo) Name() string { return i.name }
func (i fileInfo) Size() int64 {
	if i.f == nil {
		return 0
	}
	return i.f.Size
}
func (i fileInfo) Mode() fs.FileMode {
	if i.dir {
		return fs.ModeDir | 0o555
	}
	return 0o444
}
func (i fileInfo) ModTime() time.Time {
	if i.f == nil {
		return time.Time{}
	}
	return i.f.Modified
}
func (i fileInfo) IsDir() bool { return i.dir }
func (i fileInfo) Sys() any    { return i.f }

type entry struct{ info fileInfo }

func (e entry) Name() string               { return e.info.name }
func (e entry) IsDir() bool                { return e.info.dir }
func (e entry) Type() fs.FileMode          { return e.info.Mode().Type() }
func (e entry) Info() (fs.FileInfo, error) { return e.info, nil }

type openFile struct {
	*bytes.Reader
	info fileInfo
}

func (f *openFile) Stat() (fs.FileInfo, error) { return f.info, nil }
func (f *openFile) Close() error               { return nil }

type openDir struct {
	info    fileInfo
	entries []fs.DirEntry
	off     int
}

func (d *openDir) Stat() (fs.FileInfo, error) { return d.info, nil }
func (d *openDir) Close() error               { return nil }
func (d *openDir) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: d.info.name, Err: fs.ErrInvalid}
}

func (d *openDir) ReadDir(n int) ([]fs.DirEntry, error) {
	rest := d.entries[d.off:]
	if n <= 0 {
		d.off = len(d.entries)
		return slices.Clone(rest), nil
	}
	if len(rest) == 0 {
		return nil, io.EOF
	}
	n = min(n, len(rest))
	d.off += n
	return slices.Clone(rest[:n]), nil
}
