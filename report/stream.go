package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/kbplan/kbplan/assess"
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
	count int
	err   error
}

// NewStream starts a stream of format f on w.
func NewStream(w io.Writer, f Format) *Stream {
	s := &Stream{w: w, f: f}
	if f == CSV {
		var b bytes.Buffer
		writeCSV(&b, CSVColumns)
		s.put(b.Bytes())
	}
	return s
}

// Encode renders one assessment in format f, without the stream's framing.
func Encode(f Format, a assess.Assessment) ([]byte, error) {
	var b bytes.Buffer
	switch f {
	case JSONL:
		if err := json.NewEncoder(&b).Encode(Assessment(a)); err != nil {
			return nil, err
		}
	case JSON:
		raw, err := json.MarshalIndent(Assessment(a), "  ", "  ")
		if err != nil {
			return nil, err
		}
		b.Write(raw)
	case CSV:
		writeCSV(&b, csvRecord(a))
	case Text:
		if err := WriteAssessmentText(&b, a); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("unknown output format %q", f)
	}
	return b.Bytes(), nil
}

// Write encodes and writes one assessment.
func (s *Stream) Write(a assess.Assessment) error {
	b, err := Encode(s.f, a)
	if err != nil {
		return err
	}
	return s.WriteEncoded(b)
}

// WriteEncoded writes one record made by Encode with the same format.
func (s *Stream) WriteEncoded(b []byte) error {
	switch {
	case s.f == JSON && s.count == 0:
		s.put([]byte("[\n  "))
	case s.f == JSON:
		s.put([]byte(",\n  "))
	case s.f == Text && s.count > 0:
		s.put([]byte(strings.Repeat("-", 72) + "\n"))
	}
	s.count++
	return s.put(b)
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
