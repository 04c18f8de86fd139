package report

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/kbplan/kbplan/assess"
)

// ExplanationJSON is analyze --explain KB --json: one object per host.
type ExplanationJSON struct {
	Hostname *string  `json:"hostname"`
	KB       string   `json:"kb"`
	Status   string   `json:"status"`
	Lines    []string `json:"lines"`
}

// WriteExplanation writes where one update stands on one host, as text or
// as one JSON line.
func WriteExplanation(w io.Writer, a assess.Assessment, e assess.Explanation, asJSON bool) error {
	h := Host(a.Host)
	if asJSON {
		b, err := json.Marshal(ExplanationJSON{Hostname: h.Hostname, KB: e.KB, Status: e.Status, Lines: nonNil(e.Lines)})
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "%s\n", b)
		return err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s is %s\n", or(h.Hostname, ""), e.KB, e.Status)
	for _, l := range e.Lines {
		fmt.Fprintf(&b, "  %s\n", l)
	}
	err := writeText(w, b.String())
	return err
}
