package catalog

import (
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/kbplan/kbplan/winver"
)

// Columns is the header of an updates file, in order.
var Columns = []string{"kb", "kind", "title", "released", "channel", "products", "architectures", "build", "revision",
	"raises_build", "supersedes", "prerequisites", "reboot", "sha2_only", "components", "family", "roles", "source", "notes"}

// MaxRows bounds an updates file; the embedded one has about 1,200 rows.
const MaxRows = 100000

// ParseError names the file, line and column of a bad catalog row.
type ParseError struct {
	Name   string
	Line   int
	Column string
	Err    error
}

func (e *ParseError) Error() string {
	if e.Column != "" {
		return fmt.Sprintf("catalog %s line %d, column %s: %v", e.Name, e.Line, e.Column, e.Err)
	}
	if e.Line == 0 {
		return fmt.Sprintf("catalog %s: %v", e.Name, e.Err)
	}
	return fmt.Sprintf("catalog %s line %d: %v", e.Name, e.Line, e.Err)
}

func (e *ParseError) Unwrap() error { return e.Err }

// Column positions in Columns.
const (
	colKB = iota
	colKind
	colTitle
	colReleased
	colChannel
	colProducts
	colArchitectures
	colBuild
	colRevision
	colRaisesBuild
	colSupersedes
	colPrerequisites
	colReboot
	colSHA2Only
	colComponents
	colFamily
	colRoles
	colSource
	colNotes
)

// isKB reports whether s is a KB id: "KB" and 4 to 8 digits, no leading zero.
func isKB(s string) bool {
	if len(s) < 6 || len(s) > 10 || s[0] != 'K' || s[1] != 'B' || s[2] == '0' {
		return false
	}
	for i := 2; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Load reads an updates file (same columns as the embedded updates.csv)
// and pairs it with the embedded lifecycle dates.
func Load(name string, r io.Reader) (*Catalog, error) {
	return Parse(name, r, strings.NewReader(lifecycleCSV))
}

// Parse reads an updates file and a lifecycle file; the rows get the
// embedded files list's files.
func Parse(name string, updates, lifecycle io.Reader) (*Catalog, error) {
	files, err := embeddedFiles()
	if err != nil {
		return nil, err
	}
	return ParseWithFiles(name, updates, lifecycle, files)
}

// ParseWithFiles reads an updates file and a lifecycle file and gives each
// row the files of its KB from files (ParseFiles): the catalog compiler's
// way, which must not depend on the files compiled before.
func ParseWithFiles(name string, updates, lifecycle io.Reader, files []File) (*Catalog, error) {
	c := &Catalog{Name: name}
	digest := sha256.New()
	updates = io.TeeReader(updates, digest)
	lifecycle = io.TeeReader(lifecycle, digest)
	defer func() { c.Version = hex.EncodeToString(digest.Sum(nil))[:16] }()
	cr := csv.NewReader(updates)
	cr.ReuseRecord = true
	head, err := cr.Read()
	if err != nil {
		return nil, &ParseError{Name: name, Line: 1, Err: fmt.Errorf("no header row (%v); expected %s", err, strings.Join(Columns, ","))}
	}
	if !slices.Equal(head, Columns) {
		return nil, &ParseError{Name: name, Line: 1, Err: fmt.Errorf("header is %q; expected %s", strings.Join(head, ","), strings.Join(Columns, ","))}
	}
	cr.FieldsPerRecord = len(Columns)
	seen := map[string]int{}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, csvError(name, err, len(Columns))
		}
		line, _ := cr.FieldPos(0)
		if len(c.Updates) >= MaxRows {
			return nil, &ParseError{Name: name, Line: line, Err: fmt.Errorf("more than %d rows; this is not an update catalog", MaxRows)}
		}
		u, col, err := parseRow(rec)
		if err != nil {
			return nil, &ParseError{Name: name, Line: line, Column: col, Err: err}
		}
		if prev, dup := seen[u.KB]; dup {
			return nil, &ParseError{Name: name, Line: line, Column: "kb", Err: fmt.Errorf("%s is also on line %d; each KB has one row", u.KB, prev)}
		}
		seen[u.KB] = line
		u.Line = line
		c.Updates = append(c.Updates, u)
	}
	ms, err := parseLifecycle(lifecycle)
	if err != nil {
		return nil, err
	}
	c.Lifecycle = ms
	c.index()
	c.attachFiles(files)
	if err := c.buildClosure(); err != nil {
		return nil, &ParseError{Name: name, Line: 0, Err: err}
	}
	return c, nil
}

func parseRow(rec []string) (*Update, string, error) {
	f := func(col int) string { return strings.TrimSpace(rec[col]) }
	u := &Update{KB: strings.ToUpper(f(colKB)), Kind: Kind(f(colKind)), Title: f(colTitle), Channel: Channel(f(colChannel)),
		Revision: f(colRevision), Family: f(colFamily), Source: f(colSource), Notes: f(colNotes)}
	if !isKB(u.KB) {
		return nil, "kb", fmt.Errorf("%q is not a KB id such as KB4489887", u.KB)
	}
	if !slices.Contains(kinds, u.Kind) {
		return nil, "kind", fmt.Errorf("%q is not one of %v", u.Kind, kinds)
	}
	if !slices.Contains(channels, u.Channel) {
		return nil, "channel", fmt.Errorf("%q is not one of %v", u.Channel, channels)
	}
	var err error
	if u.Released, err = ParseDate(f(colReleased)); err != nil {
		return nil, "released", err
	}
	u.Products = list(f(colProducts))
	for _, p := range u.Products {
		if p != "server2008" && p != "vista" {
			return nil, "products", fmt.Errorf("%q is not server2008 or vista", p)
		}
	}
	if len(u.Products) == 0 {
		return nil, "products", errors.New("empty; name server2008, vista or both")
	}
	for _, c := range list(f(colComponents)) {
		if _, ok := ComponentInfo(Component(c)); !ok {
			return nil, "components", fmt.Errorf("%q is not one of %v", c, componentIDs())
		}
		u.Components = append(u.Components, Component(c))
	}
	if u.Family != "" && !slices.Contains(families, u.Family) {
		return nil, "family", fmt.Errorf("%q is not one of %v", u.Family, families)
	}
	for _, r := range list(f(colRoles)) {
		if !slices.Contains(Roles, Role(r)) {
			return nil, "roles", fmt.Errorf("%q is not one of %v", r, Roles)
		}
		u.Roles = append(u.Roles, Role(r))
	}
	for _, part := range strings.Split(strings.ToLower(u.Source), " | ") {
		if name := sourceFamily(part); name != "" && !slices.Contains(u.Sources, name) {
			u.Sources = append(u.Sources, name)
		}
	}
	u.Architectures = list(f(colArchitectures))
	for _, a := range u.Architectures {
		if a != "x86" && a != "x64" && a != "ia64" {
			return nil, "architectures", fmt.Errorf("%q is not x86, x64 or ia64", a)
		}
	}
	for _, c := range []struct {
		col  int
		name string
		dst  *int
	}{{colBuild, "build", &u.Build}, {colRaisesBuild, "raises_build", &u.RaisesBuild}} {
		col, dst := c.name, c.dst
		if s := f(c.col); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 6000 || n > 6003 {
				return nil, col, fmt.Errorf("%q is not an NT 6.0 build (6000-6003)", s)
			}
			*dst = n
		}
	}
	if u.Revision != "" {
		v, err := winver.Parse(u.Revision)
		if err != nil || !v.HasRevision() || !v.IsNT60() {
			return nil, "revision", fmt.Errorf("%q is not an NT 6.0 version such as 6.0.6003.20489", u.Revision)
		}
		if u.Build != 0 && v.Build != u.Build {
			return nil, "revision", fmt.Errorf("%s names build %d but the build column says %d", u.Revision, v.Build, u.Build)
		}
	}
	for _, c := range []struct {
		col  int
		name string
		dst  *[]string
	}{{colSupersedes, "supersedes", &u.Supersedes}, {colPrerequisites, "prerequisites", &u.Prerequisites}} {
		col, dst := c.name, c.dst
		*dst = list(f(c.col))
		for _, kb := range *dst {
			if !isKB(kb) {
				return nil, col, fmt.Errorf("%q is not a KB id", kb)
			}
			if kb == u.KB {
				return nil, col, fmt.Errorf("%s names itself", kb)
			}
		}
	}
	for _, c := range []struct {
		col  int
		name string
		dst  **bool
	}{{colReboot, "reboot", &u.Reboot}, {colSHA2Only, "sha2_only", &u.SHA2Only}} {
		col, dst := c.name, c.dst
		switch f(c.col) {
		case "yes":
			t := true
			*dst = &t
		case "no":
			b := false
			*dst = &b
		case "":
		default:
			return nil, col, fmt.Errorf("%q is not yes, no or empty (unknown)", f(c.col))
		}
	}
	return u, "", nil
}

func list(s string) []string {
	if s == "" {
		return nil
	}
	var out []string
	for _, p := range strings.Split(s, ";") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func parseLifecycle(r io.Reader) ([]Milestone, error) {
	cr := csv.NewReader(r)
	recs, err := cr.ReadAll()
	if err != nil {
		return nil, &ParseError{Name: "lifecycle.csv", Err: err}
	}
	var out []Milestone
	for i, rec := range recs[1:] {
		d, err := ParseDate(rec[2])
		if err != nil || d.Day == 0 || len(rec) != 4 || rec[3] == "" {
			return nil, &ParseError{Name: "lifecycle.csv", Line: i + 2, Err: fmt.Errorf("want product,event,YYYY-MM-DD,source (%v)", err)}
		}
		out = append(out, Milestone{Product: rec[0], Event: rec[1], Date: d, Source: rec[3]})
	}
	return out, nil
}

// sourceFamily sorts a lower-case source entry into the families that
// count as independent of each other.
func sourceFamily(src string) string {
	switch s := strings.TrimSpace(src); {
	case s == "":
		return ""
	case strings.Contains(s, "wesng"), strings.Contains(s, "msrc"):
		return "msrc"
	case strings.Contains(s, "updatevista"):
		return "updatevista"
	case strings.Contains(s, "wsusoffline"):
		return "wsusoffline"
	case strings.Contains(s, "microsoft.com"), strings.Contains(s, "microsoftdocs"), strings.HasPrefix(s, "microsoft"):
		return "microsoft"
	case strings.Contains(s, "ws2008sp2-updates.csv"):
		return ""
	}
	return "other"
}

// csvError is a row the csv reader refused, at its line.
func csvError(name string, err error, fields int) error {
	line := 0
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		line = pe.Line
	}
	return &ParseError{Name: name, Line: line, Err: fmt.Errorf("%v; every row needs %d comma-separated fields", err, fields)}
}
