// Package wmi reads WMI objects as wmic and PowerShell print them
// (Win32_QuickFixEngineering and Win32_OperatingSystem) in every layout
// those tools have: wmic's table, /format:list and /format:csv, and
// PowerShell's table, Format-List, Export-Csv and ConvertTo-Json.
//
// Both tools print the same WMI property names, so one record model serves
// both; the two Format types differ only in how they recognise their output.
package wmi

import (
	"encoding/csv"
	"encoding/json"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/kbplan/kbplan/internal/lazyre"
	"github.com/kbplan/kbplan/inventory"
)

// record is one WMI object: property name (lower case) to value.
type record struct {
	line  int
	props map[string]string
}

var (
	identRe    = lazyre.New(`^[A-Za-z_][A-Za-z0-9_]*$`)
	dashesRe   = lazyre.New(`^-+(\s+-+)*$`)
	csvStartRe = lazyre.New(`^"?[A-Za-z_][A-Za-z0-9_]*"?(,"?[A-Za-z_][A-Za-z0-9_]*"?)+$`)
)

// known lists WMI property names of the two classes kbplan reads, used to
// tell a table header from data.
var known = map[string]bool{
	"caption": true, "csname": true, "description": true, "fixcomments": true, "hotfixid": true,
	"installdate": true, "installedby": true, "installedon": true, "name": true, "servicepackineffect": true,
	"status": true, "source": true, "pscomputername": true, "node": true, "version": true,
	"buildnumber": true, "csdversion": true, "osarchitecture": true, "operatingsystemsku": true,
	"servicepackmajorversion": true, "systemdirectory": true, "organization": true,
	"registereduser": true, "serialnumber": true, "muilanguages": true, "oslanguage": true,
	"buildtype": true, "producttype": true, "locale": true, "manufacturer": true, "ostype": true,
}

// maxJSON bounds a ConvertTo-Json document; a real one is a few hundred KiB.
const maxJSON = 32 << 20

type layout int

const (
	none layout = iota
	kvList
	psList
	table
	csvTable
	jsonDoc
)

func (l layout) String() string {
	return [...]string{"", "list", "list", "table", "csv", "json"}[l]
}

// readRecords reads every WMI object of the input. It returns the layout of
// the first object found.
func readRecords(src *inventory.Lines) ([]record, layout, *inventory.Line, error) {
	var (
		recs   []record
		first  layout
		cur    *record
		cols   []column
		header []string
		mode   layout
		odd    *inventory.Line
		last   string
	)
	flush := func() {
		if cur != nil && len(cur.props) > 0 && len(recs) < inventory.MaxRecords {
			recs = append(recs, *cur)
		}
		cur = nil
	}
	add := func(r record) {
		if len(recs) < inventory.MaxRecords {
			recs = append(recs, r)
		}
	}
	start := func(l layout, line int) {
		if first == none {
			first = l
		}
		mode = l
		cur = &record{line: line, props: map[string]string{}}
	}
	for {
		l, ok := src.Next()
		if !ok {
			break
		}
		t := l.Text
		trim := strings.TrimSpace(t)
		if trim == "" {
			if mode == kvList || mode == psList || mode == table {
				flush()
				if mode == table {
					mode = none
				}
			}
			continue
		}
		if inventory.IsPrompt(t) || strings.HasPrefix(trim, "#TYPE") {
			continue
		}
		switch {
		case mode == none && (strings.HasPrefix(trim, "[") || strings.HasPrefix(trim, "{")):
			js, err := readJSON(trim, src)
			if err != nil {
				return recs, jsonDoc, nil, &inventory.ParseError{Line: l.Num, Text: t, Expected: "a JSON document from ConvertTo-Json (" + err.Error() + ")"}
			}
			if first == none {
				first = jsonDoc
			}
			for _, p := range js {
				add(record{line: l.Num, props: p})
			}
			continue
		case mode == csvTable && header != nil && strings.Contains(t, ","):
			if rec := readCSV(t); rec != nil {
				if isHeader(rec) {
					header = lower(rec)
					continue
				}
				r := record{line: l.Num, props: map[string]string{}}
				for i, v := range rec {
					if i < len(header) {
						r.props[header[i]] = strings.TrimSpace(v)
					}
				}
				add(r)
				continue
			}
		case (mode == none || mode == table) && csvStartRe.MatchString(trim):
			if rec := readCSV(trim); rec != nil && isHeader(rec) {
				flush()
				header = lower(rec)
				mode = csvTable
				if first == none {
					first = csvTable
				}
				continue
			}
		}
		if mode == table && cols != nil {
			if dashesRe.MatchString(trim) {
				cols = dashColumns(t, cols)
				continue
			}
			add(record{line: l.Num, props: sliceRow(t, cols)})
			continue
		}
		if m := matchKV('=', t, mode); m != nil {
			key := strings.ToLower(m[1])
			if cur == nil || mode != kvList || cur.props[key] != "" {
				flush()
				start(kvList, l.Num)
			}
			cur.props[key] = strings.TrimSpace(m[2])
			last = key
			continue
		}
		if m := matchKV(':', t, mode); m != nil {
			key := strings.ToLower(m[1])
			if _, dup := curProp(cur, key); cur == nil || mode != psList || dup {
				flush()
				start(psList, l.Num)
			}
			cur.props[key] = strings.TrimSpace(m[2])
			last = key
			continue
		}
		if mode == psList && cur != nil && l.Indent() > 0 && last != "" && len(cur.props[last]) > 4096 {
			continue
		}
		if mode == psList && cur != nil && l.Indent() > 0 && last != "" {
			// PowerShell wraps long list values onto indented lines.
			cur.props[last] += strings.TrimSpace(t)
			continue
		}
		if c := headerColumns(t); c != nil {
			flush()
			cols, mode = c, table
			if first == none {
				first = table
			}
			continue
		}
		if odd == nil {
			ll := l
			odd = &ll
		}
	}
	flush()
	return recs, first, odd, nil
}

// matchKV matches a "Key=value" (wmic) or "Key : value" (PowerShell) line
// outside tables, returning the line, the key and the value.
func matchKV(sep byte, t string, mode layout) []string {
	if mode == table || mode == csvTable {
		return nil
	}
	i := 0
	for i < len(t) && (t[i] == '_' || t[i]|0x20 >= 'a' && t[i]|0x20 <= 'z' || i > 0 && t[i] >= '0' && t[i] <= '9') {
		i++
	}
	if i == 0 {
		return nil
	}
	key, rest := t[:i], t[i:]
	if sep == ':' {
		rest = strings.TrimLeft(rest, " ")
	}
	if rest == "" || rest[0] != sep {
		return nil
	}
	rest = rest[1:]
	if sep == ':' {
		rest = strings.TrimPrefix(rest, " ")
	}
	return []string{t, key, rest}
}

func curProp(r *record, key string) (string, bool) {
	if r == nil {
		return "", false
	}
	v, ok := r.props[key]
	return v, ok
}

func readCSV(t string) []string {
	r := csv.NewReader(strings.NewReader(t))
	r.LazyQuotes = true
	r.FieldsPerRecord = -1
	rec, err := r.Read()
	if err != nil {
		return nil
	}
	return rec
}

func isHeader(rec []string) bool {
	hits := 0
	for _, c := range rec {
		c = strings.TrimSpace(c)
		if !identRe.MatchString(c) && c != "" {
			return false
		}
		if known[strings.ToLower(c)] {
			hits++
		}
	}
	return hits > 0
}

func lower(rec []string) []string {
	out := make([]string, len(rec))
	for i, c := range rec {
		out[i] = strings.ToLower(strings.TrimSpace(c))
	}
	return out
}

// column is a table column: its property and the rune offset it starts at.
type column struct {
	name  string
	start int
}

// headerColumns recognises a table header: identifiers only, at least one of
// them a known WMI property.
func headerColumns(t string) []column {
	var cols []column
	hits := 0
	pos := 0 // rune offset
	inWord := false
	var word strings.Builder
	emit := func() {
		if word.Len() > 0 {
			w := word.String()
			cols = append(cols, column{name: strings.ToLower(w), start: pos - utf8.RuneCountInString(w)})
			if known[strings.ToLower(w)] {
				hits++
			}
			word.Reset()
		}
	}
	for _, r := range t {
		if r == ' ' {
			if inWord {
				emit()
			}
			inWord = false
		} else {
			inWord = true
			word.WriteRune(r)
		}
		pos++
	}
	emit()
	if hits == 0 {
		return nil
	}
	for _, c := range cols {
		if !identRe.MatchString(c.name) {
			return nil
		}
	}
	// A single word is a header only when it is a property ("HotFixID").
	if len(cols) == 1 && !known[cols[0].name] {
		return nil
	}
	return cols
}

// dashColumns takes column starts from PowerShell's "------  ----" line.
func dashColumns(t string, cols []column) []column {
	var starts []int
	prev := ' '
	i := 0
	for _, r := range t {
		if r == '-' && prev == ' ' {
			starts = append(starts, i)
		}
		prev = r
		i++
	}
	if len(starts) != len(cols) {
		return cols
	}
	for k := range cols {
		cols[k].start = starts[k]
	}
	return cols
}

func sliceRow(t string, cols []column) map[string]string {
	props := make(map[string]string, len(cols))
	if isASCII(t) {
		for i, c := range cols {
			if c.start >= len(t) {
				break
			}
			end := len(t)
			if i+1 < len(cols) && cols[i+1].start < end {
				end = cols[i+1].start
			}
			props[c.name] = strings.TrimSpace(t[c.start:end])
		}
		return props
	}
	runes := []rune(t)
	for i, c := range cols {
		if c.start >= len(runes) {
			break
		}
		end := len(runes)
		if i+1 < len(cols) && cols[i+1].start < end {
			end = cols[i+1].start
		}
		props[c.name] = strings.TrimSpace(string(runes[c.start:end]))
	}
	return props
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// readJSON reads a ConvertTo-Json document: an array of objects or one
// object. Property values other than strings and numbers are ignored.
func readJSON(first string, src *inventory.Lines) ([]map[string]string, error) {
	var b strings.Builder
	b.WriteString(first)
	for b.Len() <= maxJSON {
		l, ok := src.Next()
		if !ok {
			break
		}
		b.WriteByte('\n')
		b.WriteString(l.Text)
	}
	if b.Len() > maxJSON {
		return nil, errTooBig
	}
	dec := json.NewDecoder(strings.NewReader(b.String()))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil && err != io.EOF {
		return nil, err
	}
	var objs []any
	switch x := v.(type) {
	case []any:
		objs = x
	case map[string]any:
		objs = []any{x}
	}
	var out []map[string]string
	for _, o := range objs {
		m, ok := o.(map[string]any)
		if !ok {
			continue
		}
		p := map[string]string{}
		for k, val := range m {
			switch s := val.(type) {
			case string:
				p[strings.ToLower(k)] = s
			case json.Number:
				p[strings.ToLower(k)] = s.String()
			}
		}
		out = append(out, p)
	}
	return out, nil
}

type jsonError string

func (e jsonError) Error() string { return string(e) }

const errTooBig = jsonError("the document is larger than 32 MiB")
