package inventory

import "strconv"

// Format is one kind of input kbplan reads (systeminfo, wmic, reg, ...).
// Package inventory/detect asks every Format to Sniff the head of an input and
// hands the input to the most confident one.
type Format interface {
	// Name is the format family, e.g. "systeminfo".
	Name() string
	// Sniff rates from 0 (not this format) to 100 (certainly this format)
	// how well the first lines of an input fit.
	Sniff(head []Line) int
	// Parse reads the whole input into h. It sets h.Format to the exact
	// variant ("systeminfo-csv"). It returns an error only when nothing
	// useful could be read; partial reads add warnings to h instead.
	Parse(src *Lines, h *Host) error
}

// ParseError tells which line of an input did not fit, and what was expected.
type ParseError struct {
	Line     int    // 1-based; 0 when the error is not about one line
	Text     string // the offending line, or ""
	Expected string
}

func (e *ParseError) Error() string {
	if e.Line > 0 {
		return "line " + strconv.Itoa(e.Line) + ": " + Describe(e.Text) + ": expected " + e.Expected
	}
	return "expected " + e.Expected
}
