package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/kbplan/kbplan/assess"
	"github.com/kbplan/kbplan/catalog"
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
	buf   bytes.Buffer
	lines *json.Encoder
	csv   *CSVWriter    // writes to buf (through its own 4 KiB buffer, made once)
	steps []*cachedStep // a plan's cached steps (encodeSpliced)
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
// document it keeps the JSON of what hosts share: the long lists a
// planner sets aside and shares (conditional, unconfirmed; on a bare SP2
// host two thirds of its line, 138 of 208 KB), the exposure of a host
// profile, and each plan step, by its content, without its number (the
// steps of one update are the same on every host that lacks it; 64 KB of
// the same line). Each is encoded once per run, then copied in.
type Encoder struct {
	f     Format
	lists listCache
	// free holds records given back (Release) for later records to reuse:
	// a bare host's JSON line is 208 KB, which a fresh allocation zeroes
	// first. A few records are in flight at a time; more than free holds
	// are left to the collector.
	free chan []byte
}

// NewEncoder makes an Encoder for format f.
func NewEncoder(f Format) *Encoder { return &Encoder{f: f, free: make(chan []byte, 16)} }

// Encode renders one assessment, as the package's Encode does, byte for
// byte.
func (x *Encoder) Encode(a assess.Assessment) ([]byte, error) {
	return encodeWith(x.f, a, x)
}

// Release gives back a record Encode returned, once it is written and no
// longer used: its memory may hold a later record.
func (x *Encoder) Release(b []byte) {
	if cap(b) == 0 {
		return
	}
	select {
	case x.free <- b[:0]:
	default:
	}
}

// record is room for a record of size bytes: a released one when it is
// large enough, or a new one with a quarter more, so that the released
// records grow to what the run's largest need.
func (x *Encoder) record(size int) []byte {
	select {
	case b := <-x.free:
		if cap(b) >= size {
			return b
		}
	default:
	}
	return make([]byte, 0, size+size/4)
}

func encodeWith(f Format, a assess.Assessment, x *Encoder) ([]byte, error) {
	e := encoders.Get().(*encoder)
	defer encoders.Put(e)
	e.buf.Reset()
	if fm, ok := forms[f]; ok && x != nil {
		return e.encodeSpliced(a, x, fm)
	}
	if err := e.encode(&e.buf, f, a); err != nil {
		return nil, err
	}
	if x != nil {
		return append(x.record(e.buf.Len()), e.buf.Bytes()...), nil
	}
	return bytes.Clone(e.buf.Bytes()), nil
}

// A form is how a format writes what encodeSpliced copies in: the shared
// parts on their own, the empty lists they replace, where the exposure
// (the document's last field) goes.
type form struct {
	doc      func(e *encoder, j AssessmentJSON) error // into e.buf
	details  bool                                     // the exposure lists its CVEs' details
	list     func(v []StepJSON) ([]byte, error)
	step     func(v StepJSON) ([]byte, error) // one step of the plan's list, as the list holds it
	exposure func(v *ExposureJSON) ([]byte, error)
	// The keys with an empty list that the cached lists replace.
	steps, cond, unc string
	// The plan's list of steps: its opening, what goes between two steps,
	// its end; and how a step's JSON numbered 1 starts (its number goes
	// where that 1 is).
	open, sep, close, number string
	end                      string // the document's last bytes, its closing brace
	expoKey                  string // what goes before the exposure
}

// The indented document: each line after its first starts with docPrefix
// (Stream's framing puts the first inside the array), then one indent per
// level. The document's fields are one level in, the plan's two, a step's
// three: a list written alone from docPrefix and two indents, a step from
// docPrefix and three, and the exposure from docPrefix and one, are what
// the document holds there.
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
		step:     func(v StepJSON) ([]byte, error) { return json.Marshal(v) },
		exposure: func(v *ExposureJSON) ([]byte, error) { return json.Marshal(v) },
		steps:    `"steps":[]`, cond: `"conditional":[]`, unc: `"unconfirmed":[]`,
		open: "[", sep: ",", close: "]", number: `{"n":1`,
		end: "}\n", expoKey: `,"exposure":`,
	},
	JSON: {
		doc:     func(e *encoder, j AssessmentJSON) error { return jsonv2.MarshalWrite(&e.buf, j, docOptions) },
		details: true,
		list: func(v []StepJSON) ([]byte, error) {
			return jsonv2.Marshal(v, jsonOptions, jsontext.WithIndentPrefix(docPrefix+indent+indent), jsontext.WithIndent(indent))
		},
		step: func(v StepJSON) ([]byte, error) {
			return jsonv2.Marshal(v, jsonOptions, jsontext.WithIndentPrefix(docPrefix+indent+indent+indent), jsontext.WithIndent(indent))
		},
		exposure: func(v *ExposureJSON) ([]byte, error) {
			return jsonv2.Marshal(v, jsonOptions, jsontext.WithIndentPrefix(docPrefix+indent), jsontext.WithIndent(indent))
		},
		steps: `"steps": []`, cond: `"conditional": []`, unc: `"unconfirmed": []`,
		open:   "[\n" + docPrefix + indent + indent + indent,
		sep:    ",\n" + docPrefix + indent + indent + indent,
		close:  "\n" + docPrefix + indent + indent + "]",
		number: "{\n" + docPrefix + indent + indent + indent + indent + `"n": 1`,
		end:    "\n" + docPrefix + "}", expoKey: ",\n" + docPrefix + indent + `"exposure": `,
	},
}

// listCache holds the JSON of set-aside step lists, by the list itself:
// the address of its first step and its length (an entry keeps its list,
// so the address is not reused while it is cached); of exposures, by the
// exposure (kept too); and of single steps, by what their JSON is made
// of. An Encoder has one format, so one form each. Lists shorter than
// minCachedList are encoded in place; past maxCachedJSON bytes in all,
// nothing more is kept.
type listCache struct {
	m         sync.Map // listKey -> *cachedJSON
	exposures sync.Map // *assess.Exposure -> *cachedJSON
	stepMu    sync.RWMutex
	steps     map[stepKey]*cachedStep
	bytes     atomic.Int64
}

type listKey struct {
	first *assess.Step
	n     int
}

// A cachedJSON is a list's or an exposure's JSON, and what its key's
// address belongs to (kept, so that the address is not reused).
type cachedJSON struct {
	keep any
	json []byte
}

// A stepKey is everything a step's JSON is made of but its number: its
// strings by value (hashed and compared whole; equal ones from the
// catalog compare by address first), its evidence and file by address
// and length. Those are the catalog's (catalog.Update.Sources, its
// files), which do not change, and the key keeps them.
type stepKey struct {
	kb, title, why         string
	kind                   catalog.Kind
	released               catalog.Date
	rebootAfter, mayReboot bool
	evidence               *string
	nEvidence              int
	file                   *catalog.File
}

func keyOf(s *assess.Step) stepKey {
	return stepKey{kb: s.KB, title: s.Title, why: s.Why, kind: s.Kind, released: s.Released, rebootAfter: s.RebootAfter,
		mayReboot: s.MayReboot, evidence: unsafe.SliceData(s.Evidence), nEvidence: len(s.Evidence), file: s.File}
}

// A cachedStep is a step's JSON as its list holds it: before its number
// and after it.
type cachedStep struct{ head, tail []byte }

const (
	minCachedList = 16
	maxCachedJSON = 32 << 20
)

// json returns the list's JSON in fm, or nil when it is not cached.
func (c *listCache) json(list []assess.Step, fm form) []byte {
	if len(list) < minCachedList {
		return nil
	}
	return c.cached(&c.m, listKey{&list[0], len(list)}, list, func() ([]byte, error) { return fm.list(steps(list, false)) })
}

// exposure returns the JSON of e in fm, or nil when it is not cached.
func (c *listCache) exposure(e *assess.Exposure, fm form) []byte {
	return c.cached(&c.exposures, e, e, func() ([]byte, error) { return fm.exposure(exposureJSON(e, fm.details)) })
}

// cached returns m's JSON for key k, encoding and keeping it (with keep,
// what k's address belongs to) on a miss while the cache is under its
// bound; nil when it is not cached.
func (c *listCache) cached(m *sync.Map, k, keep any, encode func() ([]byte, error)) []byte {
	if v, ok := m.Load(k); ok {
		return v.(*cachedJSON).json
	}
	if c.bytes.Load() >= maxCachedJSON {
		return nil
	}
	b, err := encode()
	if err != nil {
		return nil
	}
	if v, loaded := m.LoadOrStore(k, &cachedJSON{keep, b}); loaded {
		return v.(*cachedJSON).json
	}
	c.bytes.Add(int64(len(b)))
	return b
}

// stepList appends to into the cached JSON of each of the plan's steps
// ss, or returns nil when a step is not cached and cannot be: then the
// list is encoded in place.
func (c *listCache) stepList(ss []assess.Step, fm form, into []*cachedStep) []*cachedStep {
	if len(ss) == 0 {
		return nil
	}
	c.stepMu.RLock()
	for i := range ss {
		s := c.steps[keyOf(&ss[i])]
		if s == nil {
			break
		}
		into = append(into, s)
	}
	c.stepMu.RUnlock()
	for i := len(into); i < len(ss); i++ {
		s := c.step(&ss[i], fm)
		if s == nil {
			return nil
		}
		into = append(into, s)
	}
	return into
}

// step encodes one step stepList did not find and keeps it (unless
// another goroutine did meanwhile), or returns nil when it is past the
// cache's bound or its JSON does not start with fm.number.
func (c *listCache) step(s *assess.Step, fm form) *cachedStep {
	k := keyOf(s)
	if c.bytes.Load() >= maxCachedJSON {
		return nil
	}
	b, err := fm.step(steps([]assess.Step{*s}, true)[0]) // numbered 1
	if err != nil || !bytes.HasPrefix(b, []byte(fm.number)) {
		return nil
	}
	at := len(fm.number) - 1
	v := &cachedStep{head: b[:at], tail: b[at+1:]}
	c.stepMu.Lock()
	defer c.stepMu.Unlock()
	if w := c.steps[k]; w != nil {
		return w
	}
	if c.steps == nil {
		c.steps = map[stepKey]*cachedStep{}
	}
	c.steps[k] = v
	c.bytes.Add(int64(len(b)))
	return v
}

// encodeSpliced renders a's document in form fm with its cached parts
// copied in: the document is encoded without the plan's steps, its
// cached lists and its exposure; each list's key with its empty list is
// replaced by the list's JSON, and the exposure goes before the closing
// brace. Such a key appears once, as the document's structure: a quote
// inside a string is escaped, and no field of the document's types but
// the plan's is a list of these names, nor is any a map
// (TestSplicedKeysAreStructure); so each is the first found after the one
// before it. The pieces are copied once, into the record returned. Where
// a key is not found, or the end is not the brace, the document is
// encoded whole instead.
func (e *encoder) encodeSpliced(a assess.Assessment, x *Encoder, fm form) ([]byte, error) {
	c := &x.lists
	type splice struct {
		key   string
		json  []byte        // a cached list, or
		steps []*cachedStep // the plan's steps, numbered from 1
		at    int
	}
	orig := a
	var cut []splice
	if items := c.stepList(a.Plan.Steps, fm, e.steps[:0]); items != nil {
		e.steps = items
		defer clear(items) // a pooled encoder keeps no step of this run
		cut, a.Plan.Steps = append(cut, splice{key: fm.steps, steps: items}), nil
	}
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
	render := func(a assess.Assessment) ([]byte, error) { // into e.buf
		e.buf.Reset()
		err := fm.doc(e, assessment(a, fm.details))
		return e.buf.Bytes(), err
	}
	whole := func(a assess.Assessment) ([]byte, error) {
		doc, err := render(a)
		if err != nil {
			return nil, err
		}
		return append(x.record(len(doc)), doc...), nil
	}
	if len(cut) == 0 && exposure == nil {
		return whole(a)
	}
	doc, err := render(a)
	if err != nil {
		return nil, err
	}
	if !bytes.HasSuffix(doc, []byte(fm.end)) {
		return whole(orig)
	}
	size, from := len(doc), 0
	for i := range cut { // in the document's order
		at := bytes.Index(doc[from:], []byte(cut[i].key))
		if at < 0 {
			return whole(orig)
		}
		cut[i].at = from + at
		from = cut[i].at + len(cut[i].key)
		size += len(cut[i].json) - len("[]")
		if s := cut[i].steps; s != nil {
			size += len(fm.open) + len(fm.close) + (len(s)-1)*len(fm.sep) + digits(StepNumber(len(s)-1))*len(s)
			for _, x := range s {
				size += len(x.head) + len(x.tail)
			}
		}
	}
	if exposure != nil {
		size += len(fm.expoKey) + len(exposure)
	}
	out := x.record(size)
	from = 0
	for _, s := range cut {
		open := s.at + len(s.key) - 2 // the "[]" after the key
		out = append(out, doc[from:open]...)
		if s.steps == nil {
			out = append(out, s.json...)
		} else {
			out = append(out, fm.open...)
			for i, x := range s.steps {
				if i > 0 {
					out = append(out, fm.sep...)
				}
				out = append(out, x.head...)
				out = strconv.AppendInt(out, int64(StepNumber(i)), 10)
				out = append(out, x.tail...)
			}
			out = append(out, fm.close...)
		}
		from = open + 2
	}
	if exposure == nil {
		return append(out, doc[from:]...), nil
	}
	end := len(doc) - len(fm.end)
	out = append(out, doc[from:end]...)
	out = append(out, fm.expoKey...)
	out = append(out, exposure...)
	return append(out, fm.end...), nil
}

// digits is how many digits n has (n ≥ 0): no record's step numbers take
// more room than the last one's.
func digits(n int) int {
	d := 1
	for ; n >= 10; n /= 10 {
		d++
	}
	return d
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
