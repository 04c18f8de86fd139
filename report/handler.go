package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	"github.com/kbplan/kbplan/assess"
	"github.com/kbplan/kbplan/catalog"
	"github.com/kbplan/kbplan/exposure"
)

// Handler receives a command's results as the command produces them and
// writes them in one output format: each format is one implementation
// (govulncheck's Handler is the model). The command does not know the
// format; it calls the method of each result and Close at the end.
type Handler interface {
	Assessment(assess.Assessment) error                      // analyze
	Explanation(assess.Assessment, assess.Explanation) error // analyze --explain
	Package(PackageJSON) error                               // inspect, verify
	Rollback(assess.Rollback) error                          // rollback
	Validation(*catalog.Catalog, []catalog.Problem) error    // catalog validate
	// Close ends the output: the JSON array's bracket, the HTML page.
	Close() error
}

// HTML is the self-contained HTML report (analyze --html).
const HTML Format = "html"

// Options tune a handler.
type Options struct {
	// One: the command writes exactly one result (inspect's package): JSON
	// gets the object, not an array of one.
	One bool
	// ListFiles: packages' text lists their files (inspect --files).
	ListFiles bool
	// AsOf is the analysis date the HTML report states.
	AsOf string
	// CVEs is the index assessments' exposure comes from: JSON lines list
	// its CVEs once, on the first line.
	CVEs *exposure.Index
}

// UnsupportedError is a format asked of a command that does not write it.
type UnsupportedError struct {
	Format Format
	Kind   string
}

func (e *UnsupportedError) Error() string {
	return fmt.Sprintf("%s output is not written for %s; use text or --json", e.Format, e.Kind)
}

// NewHandler returns the handler of format f writing to w.
func NewHandler(w io.Writer, f Format, o Options) (Handler, error) {
	switch f {
	case Text, JSON, JSONL, CSV:
		return &streamHandler{w: w, f: f, o: o}, nil
	case HTML:
		return &htmlHandler{w: w, asOf: o.AsOf}, nil
	}
	return nil, fmt.Errorf("unknown output format %q", f)
}

// streamHandler writes text, JSON, JSON lines or CSV as results come.
// JSON frames a command's results as one array (one object with One);
// assessments keep Stream's framing, which parallel encoders share.
type streamHandler struct {
	w      io.Writer
	f      Format
	o      Options
	stream *Stream
	n      int  // JSON values written in the array
	lines  bool // JSON written as lines (explanations): no array to close
}

func (h *streamHandler) Assessment(a assess.Assessment) error {
	if h.stream == nil {
		h.stream = NewStream(h.w, h.f, h.o.CVEs)
	}
	return h.stream.Write(a)
}

// Preencoder is a handler that takes assessments already rendered by
// Encode (on other goroutines), in order: the text, JSON, JSON lines and CSV
// handlers are. Encoded keeps nothing of b once it returns: the caller may
// give b back to its Encoder (Encoder.Release).
type Preencoder interface {
	Encoded([]byte) error
}

// Encoded writes an assessment Encode rendered in the handler's format.
func (h *streamHandler) Encoded(b []byte) error {
	if h.stream == nil {
		h.stream = NewStream(h.w, h.f, h.o.CVEs)
	}
	return h.stream.WriteEncoded(b)
}

func (h *streamHandler) Explanation(a assess.Assessment, e assess.Explanation) error {
	switch h.f {
	case CSV:
		return &UnsupportedError{h.f, "an explanation"}
	case JSON, JSONL:
		// One object per host and line, with --json too (docs/json.md).
		h.lines = true
		return WriteExplanation(h.w, a, e, true)
	}
	return WriteExplanation(h.w, a, e, false)
}

func (h *streamHandler) Package(j PackageJSON) error {
	switch h.f {
	case CSV:
		return &UnsupportedError{h.f, "packages"}
	case JSONL:
		return h.line(j)
	case JSON:
		return h.value(j)
	}
	return WritePackageText(h.w, j, h.o.ListFiles)
}

func (h *streamHandler) Rollback(r assess.Rollback) error {
	switch h.f {
	case CSV:
		return &UnsupportedError{h.f, "rollback"}
	case JSONL:
		return h.line(rollbackJSON(r))
	case JSON:
		return writeIndented(h.w, rollbackJSON(r))
	}
	return writeRollback(h.w, r, false)
}

func (h *streamHandler) Validation(c *catalog.Catalog, ps []catalog.Problem) error {
	switch h.f {
	case CSV:
		return &UnsupportedError{h.f, "catalog validate"}
	case JSONL:
		return h.line(validationJSON(c, ps))
	case JSON:
		return writeIndented(h.w, validationJSON(c, ps))
	}
	return writeValidation(h.w, c, ps, false)
}

// value writes one element of the JSON array (or the one object).
func (h *streamHandler) value(v any) error {
	if h.o.One {
		return writeIndented(h.w, v)
	}
	var b bytes.Buffer
	if h.n == 0 {
		b.WriteString("[\n  ")
	} else {
		b.WriteString(",\n  ")
	}
	raw, err := json.MarshalIndent(v, "  ", "  ")
	if err != nil {
		return err
	}
	b.Write(raw)
	h.n++
	_, err = h.w.Write(b.Bytes())
	return err
}

func (h *streamHandler) line(v any) error {
	return json.NewEncoder(h.w).Encode(v)
}

func (h *streamHandler) Close() error {
	if h.stream != nil {
		return h.stream.Close()
	}
	if h.f == JSON && !h.o.One && !h.lines {
		if h.n == 0 {
			_, err := io.WriteString(h.w, "[]\n")
			return err
		}
		_, err := io.WriteString(h.w, "\n]\n")
		return err
	}
	return nil
}

// htmlHandler keeps the assessments and writes the report page at Close.
type htmlHandler struct {
	w    io.Writer
	asOf string
	as   []assess.Assessment
}

func (h *htmlHandler) Assessment(a assess.Assessment) error { h.as = append(h.as, a); return nil }
func (h *htmlHandler) Explanation(assess.Assessment, assess.Explanation) error {
	return &UnsupportedError{HTML, "an explanation"}
}
func (h *htmlHandler) Package(PackageJSON) error      { return &UnsupportedError{HTML, "packages"} }
func (h *htmlHandler) Rollback(assess.Rollback) error { return &UnsupportedError{HTML, "rollback"} }
func (h *htmlHandler) Validation(*catalog.Catalog, []catalog.Problem) error {
	return &UnsupportedError{HTML, "catalog validate"}
}
func (h *htmlHandler) Close() error { return WriteHTML(h.w, h.as, h.asOf) }

// Multi hands every result to each handler (analyze's stdout and its
// --html file), stopping at the first error.
func Multi(hs ...Handler) Handler { return multi(hs) }

type multi []Handler

func (m multi) each(f func(Handler) error) error {
	for _, h := range m {
		if err := f(h); err != nil {
			return err
		}
	}
	return nil
}

func (m multi) Assessment(a assess.Assessment) error {
	return m.each(func(h Handler) error { return h.Assessment(a) })
}
func (m multi) Explanation(a assess.Assessment, e assess.Explanation) error {
	return m.each(func(h Handler) error { return h.Explanation(a, e) })
}
func (m multi) Package(j PackageJSON) error {
	return m.each(func(h Handler) error { return h.Package(j) })
}
func (m multi) Rollback(r assess.Rollback) error {
	return m.each(func(h Handler) error { return h.Rollback(r) })
}
func (m multi) Validation(c *catalog.Catalog, ps []catalog.Problem) error {
	return m.each(func(h Handler) error { return h.Validation(c, ps) })
}
func (m multi) Close() error {
	var first error
	for _, h := range m {
		if err := h.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}
