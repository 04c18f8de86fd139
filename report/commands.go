package report

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/kbplan/kbplan/assess"
	"github.com/kbplan/kbplan/catalog"
)

// writeIndented writes v as indented JSON and a newline.
func writeIndented(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// RollbackJSON is kbplan rollback --json (docs/json.md).
type RollbackJSON struct {
	KB          string        `json:"kb"`
	Known       bool          `json:"known"`
	Installed   bool          `json:"installed"`
	Removable   bool          `json:"removable"`
	Dependents  []string      `json:"dependents"`
	BuildStays  *int          `json:"buildStays"`
	PatchBefore *string       `json:"patchLevelBefore"`
	PatchAfter  *string       `json:"patchLevelAfter"`
	Notes       []FindingJSON `json:"notes"`
}

func rollbackJSON(r assess.Rollback) RollbackJSON {
	out := RollbackJSON{KB: r.KB, Known: r.Known, Installed: r.Installed, Removable: r.Removable, Dependents: nonNil(r.Dependents),
		PatchBefore: str(r.PatchBefore.YearMonth()), PatchAfter: str(r.PatchAfter.YearMonth()), Notes: []FindingJSON{}}
	if r.BuildStays != 0 {
		out.BuildStays = &r.BuildStays
	}
	for _, n := range r.Notes {
		out.Notes = append(out.Notes, FindingJSON{ID: string(n.ID), Severity: string(n.Severity), Message: n.Message, Fact: n.Fact})
	}
	return out
}

// writeRollback writes what uninstalling an update would do, as text or JSON.
func writeRollback(w io.Writer, r assess.Rollback, asJSON bool) error {
	if asJSON {
		return writeIndented(w, rollbackJSON(r))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Uninstalling %s:\n", r.KB)
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "  %-8s %s\n", strings.ToUpper(string(n.Severity)), n.Message)
	}
	if len(r.Dependents) > 0 {
		fmt.Fprintf(&b, "  depends on it: %s\n", strings.Join(r.Dependents, " "))
	}
	return writeText(w, b.String())
}

// ValidationJSON is kbplan catalog validate --json (docs/json.md).
type ValidationJSON struct {
	Catalog  string            `json:"catalog"`
	Updates  int               `json:"updates"`
	Valid    bool              `json:"valid"`
	Problems []catalog.Problem `json:"problems"`
}

func validationJSON(c *catalog.Catalog, ps []catalog.Problem) ValidationJSON {
	out := ValidationJSON{c.Name, len(c.Updates), len(ps) == 0, ps}
	if out.Problems == nil {
		out.Problems = []catalog.Problem{}
	}
	return out
}

// writeValidation writes a catalog's problems, as text or JSON.
func writeValidation(w io.Writer, c *catalog.Catalog, ps []catalog.Problem, asJSON bool) error {
	if asJSON {
		return writeIndented(w, validationJSON(c, ps))
	}
	var b strings.Builder
	for _, p := range ps {
		fmt.Fprintln(&b, p)
	}
	if len(ps) == 0 {
		fmt.Fprintf(&b, "catalog %s: %d updates, valid\n", c.Name, len(c.Updates))
	} else {
		fmt.Fprintf(&b, "catalog %s: %d problems\n", c.Name, len(ps))
	}
	err := writeText(w, b.String())
	return err
}
