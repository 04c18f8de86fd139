package report

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/kbplan/kbplan/assess"
	"github.com/kbplan/kbplan/catalog"
)

// TestHandlers: every format handles every kind of result, or refuses it
// with an UnsupportedError; each output is a golden file.
func TestHandlers(t *testing.T) {
	as := fixed()
	pkg := PackageJSON{File: "windows6.0-kb4474419-v4-x64.msu", Size: 4096, SHA256: strings.Repeat("ab", 32), Format: "msu",
		KB: str("KB4474419"), Architecture: str("x64"), Applicability: []string{"Windows Server 2008 SP2"}, Updates: []PackageUpdateJSON{}}
	c := &catalog.Catalog{Name: "test"}
	rb := assess.Rollback{KB: "KB4474419", Known: true, Installed: true, Dependents: []string{"KB4534303"},
		Notes: []assess.Finding{{ID: assess.FindingDependents, Severity: assess.Warning, Message: "KB4534303 needs it", Fact: "prerequisites"}}}
	kinds := []struct {
		name string
		run  func(Handler) error
	}{
		{"assessments", func(h Handler) error {
			for _, a := range as {
				if err := h.Assessment(a); err != nil {
					return err
				}
			}
			return nil
		}},
		{"explanation", func(h Handler) error {
			return h.Explanation(as[0], assess.Explanation{KB: "KB4474419", Status: "planned", Lines: []string{"planned as step 2"}})
		}},
		{"packages", func(h Handler) error {
			if err := h.Package(pkg); err != nil {
				return err
			}
			return h.Package(pkg)
		}},
		{"rollback", func(h Handler) error { return h.Rollback(rb) }},
		{"validation", func(h Handler) error {
			return h.Validation(c, []catalog.Problem{{KB: "KB1", Line: 2, Rule: "source", Message: "no source"}})
		}},
	}
	supported := map[Format][]string{
		Text: {"assessments", "explanation", "packages", "rollback", "validation"}, JSON: {"assessments", "explanation", "packages", "rollback", "validation"},
		JSONL: {"assessments", "explanation", "packages", "rollback", "validation"}, CSV: {"assessments"}, HTML: {"assessments"},
	}
	for _, f := range []Format{Text, JSON, JSONL, CSV, HTML} {
		for _, k := range kinds {
			t.Run(fmt.Sprintf("%s/%s", f, k.name), func(t *testing.T) {
				var b bytes.Buffer
				h, err := NewHandler(&b, f, Options{AsOf: "2026-11-25"})
				if err != nil {
					t.Fatal(err)
				}
				err = k.run(h)
				want := false
				for _, s := range supported[f] {
					want = want || s == k.name
				}
				var ue *UnsupportedError
				switch {
				case !want && !errors.As(err, &ue):
					t.Fatalf("%s for %s: %v, want an UnsupportedError", f, k.name, err)
				case !want:
					return
				case err != nil:
					t.Fatal(err)
				}
				if err := h.Close(); err != nil {
					t.Fatal(err)
				}
				golden(t, fmt.Sprintf("handler-%s.%s", k.name, f), b.Bytes())
			})
		}
	}
	if _, err := NewHandler(nil, "yaml", Options{}); err == nil {
		t.Error("an unknown format was accepted")
	}
}
