// Package report renders kbplan's results as text and JSON. It computes
// nothing: adding a format touches only this package.
package report

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/kbplan/kbplan/inventory"
	"github.com/kbplan/kbplan/winver"
)

// HostJSON is the stable JSON form of an identified host, documented in
// docs/json.md. Fields the input did not carry are null.
type HostJSON struct {
	Source   string   `json:"source"`
	Format   string   `json:"format"`
	Encoding string   `json:"encoding,omitempty"`
	Hostname *string  `json:"hostname"`
	OS       OSJSON   `json:"os"`
	Hotfixes []string `json:"hotfixes"`
	// HotfixesAsListed are ids the input listed in another form than the
	// KB they name ("KB925398_WMP64", "Q147222"); omitted when none.
	HotfixesAsListed []string   `json:"hotfixesAsListed,omitempty"`
	Warnings         []string   `json:"warnings"`
	Facts            *FactsJSON `json:"facts,omitempty"`
}

// FactsJSON is what a collector bundle adds (docs/json.md, docs/bundle.md).
type FactsJSON struct {
	PendingReboot  []string          `json:"pendingReboot"`
	PendingKnown   bool              `json:"pendingKnown"`
	SHA2Active     *bool             `json:"sha2Active"`
	ServicingStack *string           `json:"servicingStack"`
	CBSPackages    []string          `json:"cbsPackages"`
	CBSVersions    map[string]string `json:"cbsVersions"`
	Files          map[string]string `json:"files"`
	ESULicensed    []int             `json:"esuLicensed"`
	ESUKnown       bool              `json:"esuKnown"`
	IEVersion      *string           `json:"ieVersion"`
	DotNet         []string          `json:"dotNet"`
	Programs       []string          `json:"programs"`
	Roles          []string          `json:"roles"`
	RolesKnown     bool              `json:"rolesKnown"`
}

// OSJSON is the "os" object of HostJSON.
type OSJSON struct {
	Name         *string `json:"name"`
	Product      *string `json:"product"`
	Edition      *string `json:"edition"`
	ServerCore   *bool   `json:"serverCore"`
	ServicePack  *int    `json:"servicePack"`
	Build        *int    `json:"build"`
	Revision     *int    `json:"revision"`
	Version      *string `json:"version"`
	BuildLab     *string `json:"buildLab"`
	Architecture *string `json:"architecture"`
	Language     *string `json:"language"`
	Release      *string `json:"release"`
	InScope      bool    `json:"inScope"`
	ScopeNote    string  `json:"scopeNote,omitempty"`
}

func str(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// Host converts a Host to its JSON form.
func Host(h inventory.Host) HostJSON {
	j := HostJSON{
		Source: h.Source, Format: h.Format, Encoding: h.Encoding,
		Hostname: str(h.Hostname), Hotfixes: h.Hotfixes, HotfixesAsListed: h.HotfixesAsListed, Warnings: h.Warnings,
	}
	if j.Warnings == nil {
		j.Warnings = []string{}
	}
	if !h.HotfixesKnown {
		j.Hotfixes = nil
	}
	if f := h.Facts; f != nil {
		j.Facts = &FactsJSON{PendingReboot: nonNil(f.PendingReboot), PendingKnown: f.PendingKnown, SHA2Active: f.SHA2Active,
			ServicingStack: str(f.ServicingStack), CBSPackages: nonNil(f.CBSPackages), CBSVersions: nonNilMap(f.CBSVersions), Files: f.Files,
			ESULicensed: f.ESULicensed, ESUKnown: f.ESUKnown, IEVersion: str(f.IEVersion), DotNet: nonNil(f.DotNet),
			Programs: nonNil(f.Programs), Roles: nonNil(f.Roles), RolesKnown: f.RolesKnown}
		if j.Facts.ESULicensed == nil {
			j.Facts.ESULicensed = []int{}
		}
	}
	o := &j.OS
	o.Name, o.Product, o.Edition = str(h.OS.Name), str(h.OS.Product), str(h.OS.Edition)
	o.ServerCore, o.ServicePack = h.OS.ServerCore, h.OS.ServicePack
	o.BuildLab, o.Architecture, o.Language = str(h.OS.BuildLab), str(h.OS.Architecture), str(h.OS.Language)
	o.InScope = h.InScope()
	if v := h.OS.Version; v != nil {
		b := v.Build
		o.Build = &b
		if v.HasRevision() {
			r := v.Revision
			o.Revision = &r
		}
		o.Version = str(v.Short())
		rel := winver.ReleaseOf(*v)
		o.Release = str(releaseName(h, rel))
		o.ScopeNote = rel.Note
	} else {
		o.ScopeNote = "the input carries no OS version, so kbplan cannot tell whether it is Windows NT 6.0"
	}
	return j
}

// releaseName picks the client or server name of a release from the product.
func releaseName(h inventory.Host, rel winver.Release) string {
	p := h.OS.Product
	switch {
	case rel.Server != "" && strings.Contains(p, "Server"):
		return rel.Server
	case rel.Client != "" && p != "" && !strings.Contains(p, "Server"):
		return rel.Client
	case rel.Server == "":
		return rel.Client
	case rel.Client == "":
		return rel.Server
	}
	return rel.Client + " or " + rel.Server
}

// WriteJSON writes one host as one line of JSON.
func WriteJSON(w io.Writer, h inventory.Host) error {
	b, err := json.Marshal(Host(h))
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

// maxShownKBs keeps the text output on one screen.
const maxShownKBs = 24

// WriteText writes one host for a human, on one screen.
func WriteText(w io.Writer, h inventory.Host) error {
	j := Host(h)
	var b strings.Builder
	name := "(hostname unknown)"
	if j.Hostname != nil {
		name = *j.Hostname
	}
	fmt.Fprintf(&b, "%s\n", name)
	row := func(k, v string) { fmt.Fprintf(&b, "  %-13s %s\n", k, v) }
	row("Source", fmt.Sprintf("%s (%s, %s)", h.Source, h.Format, h.Encoding))
	o := j.OS
	switch {
	case o.Release == nil:
		row("Scope", "UNKNOWN: "+o.ScopeNote)
	case o.InScope:
		row("Scope", *o.Release+": in scope")
	default:
		row("Scope", "OUT OF SCOPE: "+o.ScopeNote)
	}
	row("Product", or(o.Product, "unknown")+edition(o.Edition))
	row("Version", version(o))
	row("Architecture", or(o.Architecture, "unknown"))
	core := "unknown (this input does not tell)"
	if o.ServerCore != nil {
		core = map[bool]string{true: "yes", false: "no"}[*o.ServerCore]
	}
	row("Server Core", core)
	row("Language", or(o.Language, "unknown"))
	switch {
	case j.Hotfixes == nil:
		row("Hotfixes", "unknown: the input does not list installed updates")
	case len(j.Hotfixes) == 0:
		row("Hotfixes", "none")
	default:
		shown := j.Hotfixes
		more := ""
		if len(shown) > maxShownKBs {
			more = fmt.Sprintf(" … and %d more (--json lists all)", len(shown)-maxShownKBs)
			shown = shown[:maxShownKBs]
		}
		row("Hotfixes", fmt.Sprintf("%d: %s%s", len(j.Hotfixes), strings.Join(shown, " "), more))
	}
	if f := h.Facts; f != nil {
		row("Collector", factsText(f))
	}
	for i, warn := range j.Warnings {
		k := ""
		if i == 0 {
			k = "Warnings"
		}
		row(k, "! "+warn)
	}
	err := writeText(w, b.String())
	return err
}

func or(s *string, def string) string {
	if s == nil {
		return def
	}
	return *s
}

func edition(e *string) string {
	if e == nil {
		return ""
	}
	return " " + *e
}

func version(o OSJSON) string {
	if o.Version == nil {
		return "unknown"
	}
	s := *o.Version
	if o.Revision != nil {
		s += fmt.Sprintf(".%d", *o.Revision)
	} else {
		s += " (revision unknown: this input does not carry it)"
	}
	if o.ServicePack != nil {
		if *o.ServicePack == 0 {
			s += ", no service pack"
		} else {
			s += fmt.Sprintf(", Service Pack %d", *o.ServicePack)
		}
	}
	if o.BuildLab != nil {
		s += ", build lab " + *o.BuildLab
	}
	return s
}

func factsText(f *inventory.Facts) string {
	var parts []string
	switch {
	case !f.PendingKnown:
		parts = append(parts, "restart state unknown")
	case len(f.PendingReboot) > 0:
		parts = append(parts, "RESTART PENDING ("+strings.Join(f.PendingReboot, ", ")+")")
	default:
		parts = append(parts, "no restart pending")
	}
	if f.SHA2Active != nil {
		parts = append(parts, "SHA-2 "+map[bool]string{true: "active", false: "not active"}[*f.SHA2Active])
	}
	if f.ServicingStack != "" {
		parts = append(parts, "servicing stack "+f.ServicingStack)
	}
	if v, ok := f.Files["ntoskrnl.exe"]; ok {
		parts = append(parts, "ntoskrnl "+v)
	}
	if f.ESUKnown {
		if len(f.ESULicensed) == 0 {
			parts = append(parts, "ESU not activated")
		} else {
			parts = append(parts, "ESU "+f.ESUYears()+" activated")
		}
	}
	if f.IEVersion != "" {
		parts = append(parts, "IE "+f.IEVersion)
	}
	return strings.Join(parts, "; ")
}

func nonNilMap(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}
