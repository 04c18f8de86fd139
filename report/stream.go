package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/kbplan/kbplan/assess"
	"github.com/kbplan/kbplan/exposure"
)

// Format is one of analyze's streaming output formats.
type Format string

// The streaming formats; HTML is written whole by WriteHTML.
const (
	Text  Format = "text"
	JSON  Format = "json"  // one JSON array, one element per host
	JSONL Format = "jsonl" // one JSON object a line
	CSV   Format = "csv"   // one summary row per host
)

// CountsOnly reports whether the format prints a host's CVE counts and no
// CVE list: its assessments need only assess.ExposureOptions.CountsOnly.
func (f Format) CountsOnly() bool { return f == CSV }

// CSVColumns is the header of the assessment CSV (docs/json.md).
var CSVColumns = []string{"hostname", "source", "product", "edition", "architecture", "build", "revision", "inScope",
	"patchLevel", "ssu", "sha2", "esuPrepared", "steps", "reboots", "critical", "warnings", "findings", "cvesOpen", "cvesUnfixable"}

// Stream writes assessments one after another in one format, with the
// framing the format needs (the JSON array's brackets and commas, the CSV
// header, the rule between text hosts). Encode and WriteEncoded split the
// work so that callers can encode in parallel and write in order.
type Stream struct {
	w     io.Writer
	f     Format
	cves  *exposure.Index // JSON lines with exposure: the first line lists its CVEs
	count int
	err   error
}

// NewStream starts a stream of format f on w. With a CVE index, JSON lines
// start with a line listing its CVEs (CVEIndexJSON), which the
// assessments' exposure refers to by id.
func NewStream(w io.Writer, f Format, cves *exposure.Index) *Stream {
	s := &Stream{w: w, f: f, cves: cves}
	if f == CSV {
		var b bytes.Buffer
		writeCSV(&b, CSVColumns)
		s.put(b.Bytes())
	}
	return s
}

// The encoders, chosen by measurement (BENCHMARKS.md "Encoders",
// BenchmarkEncode): JSON lines by encoding/json's Encoder, which was faster
// than github.com/go-json-experiment/json on a reused buffer (236 against
// 290 µs for a bare host's line); the indented --json document by
// go-json-experiment/json, which indents as it encodes (2.7 ms against 6.1
// for encoding/json's marshal-then-indent of a host with its exposure).
// jsonOptions make it write what encoding/json writes (docs/json.md):
// nil slices and maps as null, map keys sorted, <, > and & escaped, and
// invalid UTF-8 (a file name's bytes on Unix) as U+FFFD instead of an
// error that cut the document short.
var jsonOptions = jsonv2.JoinOptions(jsonv2.FormatNilSliceAsNull(true), jsonv2.FormatNilMapAsNull(true), jsontext.EscapeForHTML(true),
	jsontext.AllowInvalidUTF8(true), jsonv2.Deterministic(true))

// encoder is one worker's buffer and JSON lines encoder, reused: a fresh
// buffer per host grew by copying and cost more than the encoding.
type encoder struct {
	buf     bytes.Buffer
	lines   *json.Encoder
	csv     *CSVWriter // writes to buf (through its own 4 KiB buffer, made once)
	scratch []byte     // a line being spliced (encodeLine)
}

var encoders = sync.Pool{New: func() any {
	e := &encoder{}
	e.lines = json.NewEncoder(&e.buf)
	e.csv = NewCSVWriter(&e.buf)
	return e
}}

// Encode renders one assessment in format f, without the stream's framing.
func Encode(f Format, a assess.Assessment) ([]byte, error) {
	return encodeWith(f, a, nil)
}

// An Encoder renders the assessments of one run in one format, on any
// number of goroutines, as Encode does. For JSON lines and the JSON
// document it keeps the JSON of what a planner shares between hosts
// (assess.Plan, assess.Exposure): the long lists a plan sets aside
// (conditional, unconfirmed; on a bare SP2 host two thirds of its line,
// 138 of 208 KB) and the exposure of a host profile. Each is encoded once
// per run, then copied in.
type Encoder struct {
	f     Format
	lists listCache
}

// NewEncoder makes an Encoder for format f.
func NewEncoder(f Format) *Encoder { return &Encoder{f: f} }

// Encode renders one assessment, as the package's Encode does, byte for
// byte.
func (x *Encoder) Encode(a assess.Assessment) ([]byte, error) {
	return encodeWith(x.f, a, &x.lists)
}

func encodeWith(f Format, a assess.Assessment, lists *listCache) ([]byte, error) {
	e := encoders.Get().(*encoder)
	defer encoders.Put(e)
	e.buf.Reset()
	var err error
	if fm, ok := forms[f]; ok && lists != nil {
		err = e.encodeSpliced(a, lists, fm)
	} else {
		err = e.encode(&e.buf, f, a)
	}
	if err != nil {
		return nil, err
	}
	return bytes.Clone(e.buf.Bytes()), nil
}

// A form is how a format writes what encodeSpliced copies in: the shared
// parts on their own, the empty lists they replace, where the exposure
// (the document's last field) goes.
type form struct {
	doc       func(e *encoder, j AssessmentJSON) error // into e.buf
	details   bool                                     // the exposure lists its CVEs' details
	list      func(v []StepJSON) ([]byte, error)
	exposure  func(v *ExposureJSON) ([]byte, error)
	cond, unc string // the lists' keys with an empty list
	end       string // the document's last bytes, its closing brace
	expoKey   string // what goes before the exposure
}

// The indented document: each line after its first starts with docPrefix
// (Stream's framing puts the first inside the array), then one indent per
// level. The document's fields are one level in, the plan's two: a list
// written alone from docPrefix and two indents, and the exposure from
// docPrefix and one, are what the document holds there.
const (
	docPrefix = "  "
	indent    = "  "
)

var docOptions = jsonv2.JoinOptions(jsonOptions, jsontext.WithIndentPrefix(docPrefix), jsontext.WithIndent(indent))

// forms: JSON lines by encoding/json's Encoder, the document by
// go-json-experiment/json (BENCHMARKS.md "Encoders").
var forms = map[Format]form{
	JSONL: {
		doc:      func(e *encoder, j AssessmentJSON) error { return e.lines.Encode(j) },
		list:     func(v []StepJSON) ([]byte, error) { return json.Marshal(v) },
		exposure: func(v *ExposureJSON) ([]byte, error) { return json.Marshal(v) },
		cond:     `"conditional":[]`, unc: `"unconfirmed":[]`, end: "}\n", expoKey: `,"exposure":`,
	},
	JSON: {
		doc:     func(e *encoder, j AssessmentJSON) error { return jsonv2.MarshalWrite(&e.buf, j, docOptions) },
		details: true,
		list: func(v []StepJSON) ([]byte, error) {
			return jsonv2.Marshal(v, jsonOptions, jsontext.WithIndentPrefix(docPrefix+indent+indent), jsontext.WithIndent(indent))
		},
		exposure: func(v *ExposureJSON) ([]byte, error) {
			return jsonv2.Marshal(v, jsonOptions, jsontext.WithIndentPrefix(docPrefix+indent), jsontext.WithIndent(indent))
		},
		cond: `"conditional": []`, unc: `"unconfirmed": []`, end: "\n" + docPrefix + "}", expoKey: ",\n" + docPrefix + indent + `"exposure": `,
	},
}

// listCache holds the JSON of set-aside step lists, by the list itself:
// the address of its first step and its length (an entry keeps its list,
// so the address is not reused while it is cached), and of exposures, by
// the exposure (kept too); an Encoder has one format, so one form each.
// Lists shorter than minCachedList are encoded in place; past
// maxCachedJSON bytes in all, nothing more is kept.
type listCache struct {
	m         sync.Map // listKey -> *cachedList
	exposures sync.Map // *assess.Exposure -> []byte
	bytes     atomic.Int64
}

type listKey struct {
	first *assess.Step
	n     int
}

type cachedList struct {
	steps []assess.Step
	json  []byte
}

const (
	minCachedList = 16
	maxCachedJSON = 32 << 20
)

// json returns the list's JSON in fm, or nil when it is not cached.
func (c *listCache) json(list []assess.Step, fm form) []byte {
	if len(list) < minCachedList {
		return nil
	}
	k := listKey{&list[0], len(list)}
	if v, ok := c.m.Load(k); ok {
		return v.(*cachedList).json
	}
	if c.bytes.Load() >= maxCachedJSON {
		return nil
	}
	b, err := fm.list(steps(list, false))
	if err != nil {
		return nil
	}
	if v, loaded := c.m.LoadOrStore(k, &cachedList{list, b}); loaded {
		return v.(*cachedList).json
	}
	c.bytes.Add(int64(len(b)))
	return b
}

// exposure returns the JSON of e in fm, or nil when it is not cached.
func (c *listCache) exposure(e *assess.Exposure, fm form) []byte {
	if v, ok := c.exposures.Load(e); ok {
		return v.([]byte)
	}
	if c.bytes.Load() >= maxCachedJSON {
		return nil
	}
	b, err := fm.exposure(exposureJSON(e, fm.details))
	if err != nil {
		return nil
	}
	if v, loaded := c.exposures.LoadOrStore(e, b); loaded {
		return v.([]byte)
	}
	c.bytes.Add(int64(len(b)))
	return b
}

// encodeSpliced writes a's document in form fm to e.buf with its cached
// shared parts copied in: the document is encoded with those lists empty
// and without the exposure; each list's key with its empty list (which
// appears once, as the document's structure: a quote inside a string is
// escaped) is replaced by the cached JSON, and the exposure goes before
// the closing brace. Where a key does not appear exactly once, or the end
// is not the brace, the document is encoded whole instead.
func (e *encoder) encodeSpliced(a assess.Assessment, c *listCache, fm form) error {
	type splice struct {
		key  string
		json []byte
		at   int
	}
	orig := a
	var cut []splice
	if b := c.json(a.Plan.Conditional, fm); b != nil {
		cut, a.Plan.Conditional = append(cut, splice{key: fm.cond, json: b}), nil
	}
	if b := c.json(a.Plan.Unconfirmed, fm); b != nil {
		cut, a.Plan.Unconfirmed = append(cut, splice{key: fm.unc, json: b}), nil
	}
	var exposure []byte
	if a.Exposure != nil {
		if exposure = c.exposure(a.Exposure, fm); exposure != nil {
			a.Exposure = nil
		}
	}
	whole := func(a assess.Assessment) error {
		e.buf.Reset()
		return fm.doc(e, assessment(a, fm.details))
	}
	if len(cut) == 0 && exposure == nil {
		return whole(a)
	}
	if err := whole(a); err != nil {
		return err
	}
	doc := e.buf.Bytes()
	if !bytes.HasSuffix(doc, []byte(fm.end)) {
		return whole(orig)
	}
	for i := range cut {
		k := []byte(cut[i].key)
		if cut[i].at = bytes.Index(doc, k); cut[i].at < 0 || bytes.Count(doc, k) != 1 {
			return whole(orig)
		}
	}
	slices.SortFunc(cut, func(x, y splice) int { return x.at - y.at })
	e.scratch = append(e.scratch[:0], doc...)
	e.buf.Reset()
	from := 0
	for _, s := range cut {
		open := s.at + len(s.key) - 2 // the "[]" after the key
		e.buf.Write(e.scratch[from:open])
		e.buf.Write(s.json)
		from = open + 2
	}
	if exposure == nil {
		e.buf.Write(e.scratch[from:])
		return nil
	}
	end := len(e.scratch) - len(fm.end)
	e.buf.Write(e.scratch[from:end])
	e.buf.WriteString(fm.expoKey)
	e.buf.Write(exposure)
	e.buf.WriteString(fm.end)
	return nil
}

// encode writes one assessment in format f to w. JSON lines go through the
// encoder's buffer (encoding/json's Encoder writes each line with one
// call); the indented document and CSV stream to w.
func (e *encoder) encode(w io.Writer, f Format, a assess.Assessment) error {
	switch f {
	case JSONL:
		j := assessment(a, false) // the stream's first line lists the CVEs
		if w == &e.buf {
			return e.lines.Encode(j)
		}
		return json.NewEncoder(w).Encode(j)
	case JSON:
		return jsonv2.MarshalWrite(w, Assessment(a), docOptions)
	case CSV:
		c := e.csv
		if w != &e.buf {
			c = NewCSVWriter(w)
		}
		c.Write(csvRecord(a))
		return c.Flush()
	case Text:
		return WriteAssessmentText(w, a)
	}
	return fmt.Errorf("unknown output format %q", f)
}

// Write encodes one assessment straight to the stream's writer: no buffer
// holds the whole record (a host's indented document with its exposure is
// about 1.5 MB), which is how a single input is written.
func (s *Stream) Write(a assess.Assessment) error {
	if s.err != nil {
		return s.err
	}
	s.frame()
	if s.err == nil {
		e := encoders.Get().(*encoder)
		defer encoders.Put(e)
		s.err = e.encode(s.w, s.f, a)
	}
	return s.err
}

// WriteEncoded writes one record made by Encode with the same format.
func (s *Stream) WriteEncoded(b []byte) error {
	s.frame()
	return s.put(b)
}

// frame writes what goes before a record: the JSON array's bracket or
// comma, the rule between text hosts, the CVE line of JSON lines.
func (s *Stream) frame() {
	switch {
	case s.f == JSON && s.count == 0:
		s.put([]byte("[\n" + docPrefix))
	case s.f == JSON:
		s.put([]byte(",\n" + docPrefix))
	case s.f == Text && s.count > 0:
		s.put([]byte(strings.Repeat("-", 72) + "\n"))
	case s.f == JSONL && s.count == 0 && s.cves != nil:
		s.writeCVEs()
	}
	s.count++
}

// writeCVEs writes the CVE index's line.
func (s *Stream) writeCVEs() {
	j := CVEIndexJSON{CVEIndex: s.cves.Name, CVEs: make([]CVEJSON, len(s.cves.CVEs))}
	for i, c := range s.cves.CVEs {
		j.CVEs[i] = cveJSON(c)
	}
	var b bytes.Buffer
	if err := json.NewEncoder(&b).Encode(j); err != nil {
		s.err = err
		return
	}
	s.put(b.Bytes())
}

// Close ends the stream (the JSON array's closing bracket).
func (s *Stream) Close() error {
	if s.f == JSON {
		if s.count == 0 {
			return s.put([]byte("[]\n"))
		}
		return s.put([]byte("\n]\n"))
	}
	return s.err
}

func (s *Stream) put(b []byte) error {
	if s.err == nil {
		_, s.err = s.w.Write(b)
	}
	return s.err
}

// csvRecord is the summary row of one assessment.
func csvRecord(a assess.Assessment) []string {
	sum := a.Summary
	open, unfixable := "", ""
	if a.Exposure != nil {
		open, unfixable = strconv.Itoa(sum.CVEsOpen), strconv.Itoa(sum.CVEsUnfixable)
		a.Exposure = nil
	}
	// The summary needs no step lists: skip converting them.
	a.Plan.Steps, a.Plan.Unavailable, a.Plan.Conditional, a.Plan.Unconfirmed, a.Components = a.Plan.Steps[:0:0], nil, nil, nil, nil
	j := Assessment(a)
	var crit, warn []string
	for _, f := range j.Findings {
		switch f.Severity {
		case "critical":
			crit = append(crit, f.ID)
		case "warning":
			warn = append(warn, f.ID)
		}
	}
	return []string{or(j.Host.Hostname, ""), j.Host.Source, or(j.Host.OS.Product, ""), or(j.Host.OS.Edition, ""),
		or(j.Host.OS.Architecture, ""), intText(j.Host.OS.Build), intText(j.Host.OS.Revision), strconv.FormatBool(j.InScope),
		or(j.PatchLevel, ""), or(j.Servicing.SSU, ""), strconv.FormatBool(j.Servicing.SHA2), strconv.FormatBool(j.Servicing.ESUPrep),
		strconv.Itoa(sum.Steps), strconv.Itoa(sum.Reboots), strconv.Itoa(sum.Critical), strconv.Itoa(sum.Warnings),
		strings.Join(append(crit, warn...), " "), open, unfixable}
}

// NewCSVWriter is the one CSV writer of kbplan's exports: encoding/csv
// quoting, and every cell guarded by CSVSafe.
func NewCSVWriter(w io.Writer) *CSVWriter { return &CSVWriter{w: csv.NewWriter(w)} }

// CSVWriter writes formula-guarded CSV rows.
type CSVWriter struct{ w *csv.Writer }

// Write writes one row, each cell through CSVSafe.
func (c *CSVWriter) Write(rec []string) error {
	safe := make([]string, len(rec))
	for i, s := range rec {
		safe[i] = CSVSafe(s)
	}
	return c.w.Write(safe)
}

// Flush flushes the rows and reports the first write error.
func (c *CSVWriter) Flush() error {
	c.w.Flush()
	return c.w.Error()
}

func writeCSV(w io.Writer, rec []string) {
	c := NewCSVWriter(w)
	c.Write(rec)
	c.Flush()
}

// CSVSafe keeps a spreadsheet from running a cell as a formula: host names,
// sources and titles are uploaded or pasted text (OWASP "CSV Injection").
// A cell starting with = + - @ TAB or CR gets a leading apostrophe.
func CSVSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

func intText(n *int) string {
	if n == nil {
		return ""
	}
	return strconv.Itoa(*n)
}
