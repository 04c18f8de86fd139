package report

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/kbplan/kbplan/assess"
	"github.com/kbplan/kbplan/catalog"
	"github.com/kbplan/kbplan/exposure"
)

// AssessmentJSON is the stable JSON form of an assessment (docs/json.md).
type AssessmentJSON struct {
	Host       HostJSON        `json:"host"`
	InScope    bool            `json:"inScope"`
	PatchLevel *string         `json:"patchLevel"`
	Servicing  ServicingJSON   `json:"servicing"`
	Lifecycle  LifecycleJSON   `json:"lifecycle"`
	Findings   []FindingJSON   `json:"findings"`
	Components []ComponentJSON `json:"components"`
	Plan       PlanJSON        `json:"plan"`
	Summary    SummaryJSON     `json:"summary"`
	Exposure   *ExposureJSON   `json:"exposure,omitempty"`
}

// ExposureJSON lists the CVEs a host stays exposed to (docs/json.md): the
// open and the unfixable ones as sets by the update that fixes them (or the
// one the host cannot get), each CVE by its id, and the details of each
// listed CVE once, in CVEs. JSON lines leave CVEs out of every line: the
// stream's first line lists the index's CVEs (CVEIndexJSON).
type ExposureJSON struct {
	Index     string             `json:"index"`
	Counts    ExposureCountsJSON `json:"counts"`
	Open      []CVESetJSON       `json:"open"`
	Unfixable []CVESetJSON       `json:"unfixable"`
	CVEs      []CVEJSON          `json:"cves,omitempty"`
}

// ExposureCountsJSON sums up the lists (and is all there is when they were
// left out: the fleet API's ?exposure=counts).
type ExposureCountsJSON struct {
	Open          int `json:"open"`
	OpenCritical  int `json:"openCritical"`
	OpenExploited int `json:"openExploited"`
	Unfixable     int `json:"unfixable"`
}

// CVESetJSON is the CVEs one update fixes on a host, worst first; kb is
// null for CVEs Microsoft lists no update for.
type CVESetJSON struct {
	KB   *string  `json:"kb"`
	Why  string   `json:"why"`
	CVEs []string `json:"cves"`
}

// CVEJSON is one CVE's details.
type CVEJSON struct {
	ID       string `json:"id"`
	Severity string `json:"severity"`
	Impact   string `json:"impact"`
	Exploits int    `json:"exploits"`
	Exploit  string `json:"exploit,omitempty"`
	Title    string `json:"title"`
}

// CVEIndexJSON is the first line of JSON lines with exposure: the CVEs the
// lines refer to by id.
type CVEIndexJSON struct {
	CVEIndex string    `json:"cveIndex"`
	CVEs     []CVEJSON `json:"cves"`
}

func cveJSON(c *exposure.CVE) CVEJSON {
	return CVEJSON{ID: c.ID, Severity: c.Severity, Impact: c.Impact, Exploits: c.Exploits, Exploit: c.Exploit, Title: c.Title}
}

func cveSets(l []assess.ExposureSet) []CVESetJSON {
	out := make([]CVESetJSON, 0, len(l))
	for _, s := range l {
		ids := make([]string, len(s.CVEs))
		for i, c := range s.CVEs {
			ids[i] = c.ID
		}
		out = append(out, CVESetJSON{KB: str(s.KB), Why: s.Why, CVEs: ids})
	}
	return out
}

// listedCVEs are the details of every CVE the sets list, worst first.
func listedCVEs(e *assess.Exposure) []CVEJSON {
	var all []*exposure.CVE
	for _, l := range [][]assess.ExposureSet{e.Open, e.Unfixable} {
		for _, s := range l {
			all = append(all, s.CVEs...)
		}
	}
	slices.SortFunc(all, func(a, b *exposure.CVE) int { return cmp.Compare(a.Pos, b.Pos) })
	out := make([]CVEJSON, len(all))
	for i, c := range all {
		out[i] = cveJSON(c)
	}
	return out
}

// ExposedJSON is one CVE on a host, for pages that list the worst.
type ExposedJSON struct {
	CVEJSON
	KB *string
}

// Worst returns the n worst open CVEs, from the sets and the details.
func (e *ExposureJSON) Worst(n int) []ExposedJSON {
	fix := map[string]*string{}
	for _, s := range e.Open {
		for _, id := range s.CVEs {
			fix[id] = s.KB
		}
	}
	var out []ExposedJSON
	for _, c := range e.CVEs {
		if kb, ok := fix[c.ID]; ok && len(out) < n {
			out = append(out, ExposedJSON{CVEJSON: c, KB: kb})
		}
	}
	return out
}

// ServicingJSON is the servicing state.
type ServicingJSON struct {
	SSU       *string `json:"ssu"`
	SSULatest *string `json:"ssuLatest"`
	SHA2      bool    `json:"sha2"`
	ESUPrep   bool    `json:"esuPrepared"`
}

// LifecycleJSON is the lifecycle as of the analysis date.
type LifecycleJSON struct {
	Product string `json:"product,omitempty"`
	AsOf    string `json:"asOf"`
	Phase   string `json:"phase,omitempty"`
	Ends    string `json:"ends,omitempty"`
	Message string `json:"message,omitempty"`
}

// FindingJSON is one finding.
type FindingJSON struct {
	ID       string `json:"id"`
	Severity string `json:"severity"`
	Message  string `json:"message"`
	Fact     string `json:"fact"`
}

// StepJSON is one plan step.
type StepJSON struct {
	// N is the step's number in the plan, from 1: every output (text, HTML,
	// the dashboard) shows this number. Unavailable updates have none.
	N        int     `json:"n,omitzero"`
	KB       string  `json:"kb"`
	Kind     string  `json:"kind"`
	Title    string  `json:"title"`
	Released *string `json:"released"`
	// RebootAfter is true where a restart is known to follow; Restart says
	// "yes", "no" or "unknown" (no source states it: plan for one).
	RebootAfter bool     `json:"rebootAfter"`
	Restart     string   `json:"restart"`
	Why         string   `json:"why"`
	Evidence    []string `json:"evidence"`
	// File is Microsoft's package for the host's architecture, or null
	// when no source names it (plan steps only).
	File *StepFileJSON `json:"file,omitempty"`
}

// StepFileJSON is the package file of a step.
type StepFileJSON struct {
	Name     string  `json:"name"`
	Revision *string `json:"revision"`
	URL      string  `json:"url"`
	SHA1     string  `json:"sha1"`
}

// PlanJSON is the plan.
type PlanJSON struct {
	Strategy        string     `json:"strategy"`
	Channel         string     `json:"channel"`
	Steps           []StepJSON `json:"steps"`
	Reboots         int        `json:"reboots"`
	PossibleReboots int        `json:"possibleReboots"`
	Unavailable     []StepJSON `json:"unavailable"`
	Conditional     []StepJSON `json:"conditional"`
	Unconfirmed     []StepJSON `json:"unconfirmed"`
}

// SummaryJSON is assess.Summary: the figures every consumer shows.
type SummaryJSON struct {
	Steps           int    `json:"steps"`
	Reboots         int    `json:"reboots"`
	PossibleReboots int    `json:"possibleReboots"`
	Conditional     int    `json:"conditional"`
	Unconfirmed     int    `json:"unconfirmed"`
	Critical        int    `json:"critical"`
	Warnings        int    `json:"warnings"`
	SSUCurrent      bool   `json:"ssuCurrent"`
	RebootPending   bool   `json:"rebootPending"`
	SHA2            bool   `json:"sha2"`
	ESUPrepared     bool   `json:"esuPrepared"`
	ESULicensed     bool   `json:"esuLicensed"`
	ESU             string `json:"esu"`
	CVEsOpen        int    `json:"cvesOpen"`
	CVEsCritical    int    `json:"cvesCritical"`
	CVEsExploited   int    `json:"cvesExploited"`
	CVEsUnfixable   int    `json:"cvesUnfixable"`
	State           string `json:"state"`
}

// ComponentJSON is something the host has besides the OS, with the evidence.
type ComponentJSON struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Why  string `json:"why"`
}

// steps converts plan steps; numbered says whether they are the plan's
// own steps, numbered from 1 in install order.
func steps(ss []assess.Step, numbered bool) []StepJSON {
	out := make([]StepJSON, 0, len(ss))
	for i, s := range ss {
		n := 0
		if numbered {
			n = StepNumber(i)
		}
		restart := "no"
		switch {
		case s.RebootAfter:
			restart = "yes"
		case s.MayReboot:
			restart = "unknown"
		}
		out = append(out, StepJSON{N: n, KB: s.KB, Kind: string(s.Kind), Title: s.Title, Released: str(s.Released.String()),
			RebootAfter: s.RebootAfter, Restart: restart, Why: s.Why, Evidence: nonNil(s.Evidence), File: stepFile(s.File)})
	}
	return out
}

// exposureJSON converts an exposure; without details, its CVEs by id only.
func exposureJSON(e *assess.Exposure, details bool) *ExposureJSON {
	c := e.Counts
	j := &ExposureJSON{Index: e.Index, Open: cveSets(e.Open), Unfixable: cveSets(e.Unfixable),
		Counts: ExposureCountsJSON{Open: c.Open, OpenCritical: c.OpenCritical, OpenExploited: c.OpenExploited, Unfixable: c.Unfixable}}
	if details {
		j.CVEs = listedCVEs(e)
	}
	return j
}

// Assessment converts an assessment to its JSON form.
func Assessment(a assess.Assessment) AssessmentJSON { return assessment(a, true) }

// assessment converts a; without details, the exposure names its CVEs by id
// only (JSON lines, whose first line lists them).
func assessment(a assess.Assessment, details bool) AssessmentJSON {
	j := AssessmentJSON{Host: Host(a.Host), InScope: a.InScope, Findings: []FindingJSON{},
		Servicing: ServicingJSON{SSU: str(a.Servicing.SSU), SSULatest: str(a.Servicing.SSULatest), SHA2: a.Servicing.SHA2, ESUPrep: a.Servicing.ESUPrep},
		Lifecycle: LifecycleJSON{Product: a.Lifecycle.Product, AsOf: a.Lifecycle.AsOf.String(), Phase: a.Lifecycle.Phase,
			Ends: a.Lifecycle.Ends.String(), Message: a.Lifecycle.Message},
		Plan: PlanJSON{Strategy: string(a.Plan.Strategy), Channel: string(a.Plan.Channel), Steps: steps(a.Plan.Steps, true),
			Reboots: a.Plan.Reboots, PossibleReboots: a.Plan.MayReboots, Unavailable: steps(a.Plan.Unavailable, false),
			Conditional: steps(a.Plan.Conditional, false), Unconfirmed: steps(a.Plan.Unconfirmed, false)},
		Components: []ComponentJSON{},
	}
	sm := a.Summary
	esu := string(sm.ESU)
	if esu == "" {
		esu = "none"
	}
	j.Summary = SummaryJSON{Steps: sm.Steps, Reboots: sm.Reboots, PossibleReboots: sm.PossibleReboots, Conditional: sm.Conditional,
		Unconfirmed: sm.Unconfirmed, Critical: sm.Critical, Warnings: sm.Warnings, SSUCurrent: sm.SSUCurrent, RebootPending: sm.RebootPending,
		SHA2: sm.SHA2, ESUPrepared: sm.ESUPrepared, ESULicensed: sm.ESULicensed, ESU: esu, CVEsOpen: sm.CVEsOpen,
		CVEsCritical: sm.CVEsCritical, CVEsExploited: sm.CVEsExploited, CVEsUnfixable: sm.CVEsUnfixable, State: string(sm.State)}
	for _, c := range a.Components {
		info, _ := catalog.ComponentInfo(c.ID)
		j.Components = append(j.Components, ComponentJSON{ID: string(c.ID), Name: info.Name, Why: c.Why})
	}
	if !a.PatchLevel.IsZero() {
		j.PatchLevel = str(a.PatchLevel.YearMonth())
	}
	if a.Exposure != nil {
		j.Exposure = exposureJSON(a.Exposure, details)
	}
	for _, f := range a.Findings {
		j.Findings = append(j.Findings, FindingJSON{ID: string(f.ID), Severity: string(f.Severity), Message: f.Message, Fact: f.Fact})
	}
	return j
}

// StepNumber is the number shown for the plan step at index i: steps are
// numbered from 1 in every output.
func StepNumber(i int) int { return i + 1 }

// WriteAssessmentJSON writes one assessment as one line of JSON.
func WriteAssessmentJSON(w io.Writer, a assess.Assessment) error {
	b, err := json.Marshal(Assessment(a))
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

// WriteAssessmentText writes an assessment for a tired admin: what the box
// is, where it stands, what to install in which order, and where to restart.
func WriteAssessmentText(w io.Writer, a assess.Assessment) error {
	var b strings.Builder
	h := Host(a.Host)
	name := "(hostname unknown)"
	if h.Hostname != nil {
		name = *h.Hostname
	}
	os := "unknown OS"
	if h.OS.Release != nil {
		os = *h.OS.Release
	}
	if h.OS.Edition != nil {
		os += " " + *h.OS.Edition
	}
	if h.OS.Architecture != nil {
		os += " " + *h.OS.Architecture
	}
	ver := "version unknown"
	if h.OS.Version != nil {
		ver = *h.OS.Version
		if h.OS.Revision != nil {
			ver += fmt.Sprintf(".%d", *h.OS.Revision)
		}
	}
	fmt.Fprintf(&b, "%s: %s, %s\n", name, os, ver)
	if a.InScope {
		level := "before the monthly rollups (no 2018-09 or later monthly update)"
		if !a.PatchLevel.IsZero() {
			level = a.PatchLevel.YearMonth()
		}
		sha2 := "no"
		if a.Servicing.SHA2 {
			sha2 = "yes"
		}
		fmt.Fprintf(&b, "  Patched as of  %s\n", level)
		fmt.Fprintf(&b, "  Servicing      SSU %s (newest available %s), SHA-2 %s, ESU prepared %v\n",
			orNone(a.Servicing.SSU), orNone(a.Servicing.SSULatest), sha2, a.Servicing.ESUPrep)
	}
	if len(a.Findings) > 0 {
		fmt.Fprintln(&b, "\nFindings")
		for _, f := range a.Findings {
			fmt.Fprintf(&b, "  %-8s %s\n", strings.ToUpper(string(f.Severity)), f.Message)
		}
	}
	if a.InScope {
		fmt.Fprintf(&b, "\nPlan (%s strategy, %s channel)\n", a.Plan.Strategy, a.Plan.Channel)
		if len(a.Plan.Steps) == 0 {
			fmt.Fprintln(&b, "  nothing to install on this channel")
		}
		steps := a.Plan.Steps
		for i := 0; i < len(steps); i++ {
			s := steps[i]
			// A long run of updates of one kind (hundreds of pre-2018
			// standalone updates on a bare SP2 box) is shown as one line.
			j := i
			for j+1 < len(steps) && steps[j+1].Kind == s.Kind && !steps[j].RebootAfter {
				j++
			}
			if j-i+1 >= minGroup {
				last := steps[j]
				from, to := monthRange(steps[i : j+1])
				fmt.Fprintf(&b, "  %2d-%d. %d %s updates, %s to %s (--json lists each), e.g. %s: %s\n", StepNumber(i), StepNumber(j), j-i+1, s.Kind,
					orDash(from), orDash(to), s.KB, s.Why)
				if last.RebootAfter {
					fmt.Fprintf(&b, "      %-10s restart\n", "")
				}
				i = j
				continue
			}
			fmt.Fprintf(&b, "  %2d. %-10s %-14s %s\n", StepNumber(i), s.KB, s.Kind, s.Why)
			if s.RebootAfter {
				fmt.Fprintf(&b, "      %-10s restart\n", "")
			}
		}
		for _, s := range a.Plan.Unavailable {
			fmt.Fprintf(&b, "  not planned: %s\n", s.Why)
		}
		writeConditional(&b, a.Plan.Conditional)
		if n := len(a.Plan.Unconfirmed); n > 0 {
			from, to := monthRange(a.Plan.Unconfirmed)
			fmt.Fprintf(&b, "  unconfirmed, not planned: %d updates of %s to %s that only MSRC lists; Windows-Update-derived lists do not (most likely replaced; --json lists each, --unconfirmed plans them)\n",
				n, orDash(from), orDash(to))
		}
		fmt.Fprintf(&b, "\n%s\n", planTotal(a.Plan))
	}
	if e := a.Exposure; e != nil {
		writeExposure(&b, e)
	}
	err := writeText(w, b.String())
	return err
}

// planTotal is the closing line of a plan: steps, known restarts, and the
// restarts no source rules out.
func planTotal(p assess.Plan) string {
	t := fmt.Sprintf("%d steps, %d restarts", len(p.Steps), p.Reboots)
	if p.MayReboots > 0 {
		t += fmt.Sprintf(" known, up to %d more possible (no source says whether %d of the steps restart: plan for it)", p.MayReboots, p.MayReboots)
	}
	return t
}

// writeConditional sums up the updates for components the host does not
// show, by component.
func writeConditional(b *strings.Builder, cond []assess.Step) {
	if len(cond) == 0 {
		return
	}
	by := map[string]int{}
	var order []string
	for _, s := range cond {
		k := s.Why
		if i := strings.Index(k, " is present"); i > 0 {
			k = strings.TrimPrefix(k[:i], "install only if ")
		}
		if by[k] == 0 {
			order = append(order, k)
		}
		by[k]++
	}
	var parts []string
	for _, k := range order {
		parts = append(parts, fmt.Sprintf("%d for %s", by[k], k))
	}
	fmt.Fprintf(b, "  conditional, not planned: %d updates for components nothing here shows: %s (--json says how to check each; --assume COMPONENT plans them)\n",
		len(cond), strings.Join(parts, ", "))
}

// shownCVEs is how many of the worst CVEs the text lists per group.
const shownCVEs = 5

func writeExposure(b *strings.Builder, e *assess.Exposure) {
	open, unfixable := assess.Expand(e.Open), assess.Expand(e.Unfixable)
	count := func(l []assess.Exposed) string {
		by := map[string]int{}
		exploited := 0
		for _, x := range l {
			by[x.Severity]++
			if x.Exploits > 0 {
				exploited++
			}
		}
		return fmt.Sprintf("%d (%d critical, %d important, %d with a public exploit)", len(l), by["Critical"], by["Important"], exploited)
	}
	fmt.Fprintf(b, "\nExposure\n  Open, fixed by an update this host can install: %s\n", count(open))
	for _, x := range open[:min(shownCVEs, len(open))] {
		fmt.Fprintf(b, "    %-15s %-9s %-24s %s\n", x.CVE, x.Severity, x.Impact, x.Why)
	}
	fmt.Fprintf(b, "  Unfixable on this host's channel: %s\n", count(unfixable))
	for _, x := range unfixable[:min(shownCVEs, len(unfixable))] {
		fmt.Fprintf(b, "    %-15s %-9s %-24s %s\n", x.CVE, x.Severity, x.Impact, x.Why)
	}
}

// minGroup is the shortest run of same-kind steps shown as one line.
const minGroup = 6

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// monthRange is the first and last known release month of a run of steps;
// steps without a known date do not count.
func monthRange(steps []assess.Step) (from, to string) {
	for _, s := range steps {
		m := s.Released.YearMonth()
		if m == "" {
			continue
		}
		if from == "" || m < from {
			from = m
		}
		if m > to {
			to = m
		}
	}
	return from, to
}

func stepFile(f *catalog.File) *StepFileJSON {
	if f == nil {
		return nil
	}
	return &StepFileJSON{Name: f.Name, Revision: str(f.Revision), URL: f.URL, SHA1: f.SHA1}
}
