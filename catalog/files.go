package catalog

import (
	_ "embed"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/kbplan/kbplan/internal/lazyre"
)

// files.csv lists Microsoft's package files of the catalog's updates, one
// row per file, generated with updates.csv (internal/gen).
//
//go:embed files.csv
var filesCSV string

// File is one package Microsoft publishes for an update: its Windows Update
// name carries the update's revision ("-v4") and the file's SHA-1, so a
// downloaded file can be recognised by its digest whatever it is called.
type File struct {
	KB       string
	Arch     string // "x86", "x64", "ia64"
	Revision string // "v2", "v4"...; "" for the first release
	Name     string // windows6.0-kb4474419-v4-x64_09cb…207.msu
	URL      string
	SHA1     string // lower-case hex, as in Name
	Size     int64  // 0 when no source gives it
	Source   string
	Line     int // line in files.csv
}

// FileColumns are the columns of a files list, in order.
var FileColumns = []string{"kb", "arch", "revision", "name", "url", "sha1", "size", "source"}

// MaxFiles bounds a files list; the embedded one has about 300 rows.
const MaxFiles = 20000

// downloadHosts are the hosts Microsoft serves update files from.
var downloadHosts = []string{"catalog.s.download.windowsupdate.com", "download.windowsupdate.com", "www.download.windowsupdate.com", "download.microsoft.com"}

// fileName is a Windows Update package name for NT 6.0:
// windows6.0-kbNNNNNNN[-vN]-ARCH_SHA1.msu (or .cab, .exe).
var fileName = lazyre.New(`^(?i:windows6\.0|ie9-windows6\.0|ndp[0-9.]*)-kb([0-9]+)(?:-(v[0-9]+))?-(x86|x64|ia64)(?:-[a-z-]+)?_([0-9a-f]{40})\.(msu|cab|exe)$`)

// ParseFiles reads a files list. Every row is checked: the name is a
// Windows Update package name whose KB, revision and architecture are the
// row's and whose SHA-1 is the row's, the URL is Microsoft's and ends in
// the name.
func ParseFiles(name string, r io.Reader) ([]File, error) { return parseFiles(name, r, true) }

// ParseMirrorFiles reads a files list of one's own (kbplan download and
// kit --files): the same checks, but the URLs may point at any http(s)
// host, an internal mirror say.
func ParseMirrorFiles(name string, r io.Reader) ([]File, error) { return parseFiles(name, r, false) }

// AddFiles gives the catalog's updates more files (a mirror's list); a
// file whose KB the catalog lacks is left out, and their count returned.
func (c *Catalog) AddFiles(fs []File) (added int) {
	for i := range fs {
		if u := c.row(fs[i].KB); u != nil {
			u.Files = append(u.Files, fs[i])
			added++
		}
	}
	return added
}

func parseFiles(name string, r io.Reader, microsoftOnly bool) ([]File, error) {
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	head, err := cr.Read()
	if err != nil || !slices.Equal(head, FileColumns) {
		return nil, &ParseError{Name: name, Line: 1, Err: fmt.Errorf("header is %q; expected %s", strings.Join(head, ","), strings.Join(FileColumns, ","))}
	}
	cr.FieldsPerRecord = len(FileColumns)
	var out []File
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, csvError(name, err, len(FileColumns))
		}
		line, _ := cr.FieldPos(0)
		if len(out) >= MaxFiles {
			return nil, &ParseError{Name: name, Line: line, Err: fmt.Errorf("more than %d rows; this is not a files list", MaxFiles)}
		}
		f, col, err := parseFile(rec, microsoftOnly)
		if err != nil {
			return nil, &ParseError{Name: name, Line: line, Column: col, Err: err}
		}
		f.Line = line
		out = append(out, f)
	}
}

func parseFile(rec []string, microsoftOnly bool) (File, string, error) {
	f := File{KB: strings.ToUpper(rec[0]), Arch: rec[1], Revision: rec[2], Name: rec[3], URL: rec[4], SHA1: rec[5], Source: rec[7]}
	m := fileName.FindStringSubmatch(f.Name)
	switch {
	case !isKB(f.KB):
		return f, "kb", fmt.Errorf("%q is not a KB id like KB4474419", rec[0])
	case m == nil:
		return f, "name", fmt.Errorf("%q is not a Windows Update package name (windows6.0-kbNNNNNNN[-vN]-ARCH_SHA1.msu)", f.Name)
	case "KB"+m[1] != f.KB:
		return f, "name", fmt.Errorf("%s names KB%s, the row %s", f.Name, m[1], f.KB)
	case m[2] != f.Revision:
		return f, "revision", fmt.Errorf("%q, but the name says %q", f.Revision, m[2])
	case m[3] != f.Arch:
		return f, "arch", fmt.Errorf("%q, but the name says %q", f.Arch, m[3])
	case m[4] != f.SHA1:
		return f, "sha1", fmt.Errorf("%q, but the name carries the SHA-1 %s", f.SHA1, m[4])
	case f.Source == "":
		return f, "source", errors.New("empty; every file needs its source")
	}
	u, err := url.Parse(f.URL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || microsoftOnly && !slices.Contains(downloadHosts, u.Host) || !strings.HasSuffix(u.Path, "/"+f.Name) {
		return f, "url", fmt.Errorf("%q is not a Microsoft download URL of %s (hosts %s)", f.URL, f.Name, strings.Join(downloadHosts, ", "))
	}
	if rec[6] != "" {
		n, err := strconv.ParseInt(rec[6], 10, 64)
		if err != nil || n <= 0 {
			return f, "size", fmt.Errorf("%q is not a size in bytes", rec[6])
		}
		f.Size = n
	}
	return f, "", nil
}

var parsedFiles = sync.OnceValues(func() ([]File, error) { return ParseFiles("files.csv", strings.NewReader(filesCSV)) })

// embeddedFiles is the embedded files list: the compiled rows' files
// (every file of files.csv belongs to a row: TestEmbeddedFiles), else
// files.csv parsed.
func embeddedFiles() ([]File, error) {
	if compiled == nil {
		return parsedFiles()
	}
	var fs []File
	for _, u := range compiled.Updates {
		fs = append(fs, u.Files...)
	}
	return fs, nil
}

// attachFiles gives each update the files of its KB: the files are facts
// about Microsoft's packages, the same whichever catalog names the update.
func (c *Catalog) attachFiles(fs []File) {
	for i := range fs {
		if u := c.row(fs[i].KB); u != nil {
			u.Files = append(u.Files, fs[i])
		}
	}
}

// FileFor returns the file of u for an architecture, the newest revision
// first; nil when no source gives one.
func (u *Update) FileFor(arch string) *File {
	var best *File
	for i := range u.Files {
		f := &u.Files[i]
		if f.Arch == arch && (best == nil || revisionNumber(f.Revision) > revisionNumber(best.Revision)) {
			best = f
		}
	}
	return best
}

// FileBySHA1 finds the update file with the given SHA-1 (hex).
func (c *Catalog) FileBySHA1(sum string) (*Update, *File) {
	sum = strings.ToLower(sum)
	for _, u := range c.Updates {
		for i := range u.Files {
			if u.Files[i].SHA1 == sum {
				return u, &u.Files[i]
			}
		}
	}
	return nil, nil
}

func revisionNumber(r string) int {
	n, _ := strconv.Atoi(strings.TrimPrefix(r, "v"))
	return n
}

// NameSHA1 is the SHA-1 a Windows Update file name carries
// ("windows6.0-kb4474419-v4-x64_09cb…207.msu"), lower case; ok is false for
// a name without one.
func NameSHA1(name string) (string, bool) {
	m := fileName.FindStringSubmatch(strings.ToLower(name))
	if m == nil {
		return "", false
	}
	return m[4], true
}
