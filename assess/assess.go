// Package assess turns a host and the catalog into an Assessment: the
// host's patch level, servicing state, lifecycle as of a date, findings, and
// the ordered install plan. It is a pure function of its inputs: no I/O, no
// clock; the caller passes the date.
package assess

import (
	"fmt"
	"slices"
	"sort"

	"github.com/kbplan/kbplan/catalog"
	"github.com/kbplan/kbplan/inventory"
)

// Strategy chooses how monthly updates are planned.
type Strategy string

// The strategies: the newest cumulative rollup only, or every missing
// month's security-only update (they are not cumulative).
const (
	RollupStrategy       Strategy = "rollup"
	SecurityOnlyStrategy Strategy = "security-only"
)

// ESUMode says which Extended Security Updates the host can get.
type ESUMode string

// No ESU (the default), ESU years 1–3, or the Azure-only fourth year too.
const (
	NoESU    ESUMode = ""
	ESU      ESUMode = "esu"
	AzureESU ESUMode = "azure"
)

// Options are the caller's choices.
type Options struct {
	AsOf     catalog.Date
	ESU      ESUMode
	Strategy Strategy
	// Exposure, when its Index is set, adds the host's open and unfixable
	// CVEs to the assessment.
	Exposure ExposureOptions
	// Assume lists components to plan for although nothing read from the
	// host shows them (--assume ie9,dotnet35).
	Assume []catalog.Component
	// Unconfirmed plans the pre-rollup updates only MSRC lists (see
	// Plan.Unconfirmed) instead of listing them apart.
	Unconfirmed bool
	// ESUFromFacts lets a collector bundle's licence state choose the ESU
	// mode: licensed years give ESU (Azure stays Azure when asked), none
	// licensed gives no ESU. Inputs without the licence state keep ESU.
	ESUFromFacts bool
}

// Summary is what every consumer of an assessment needs at a glance, worked
// out once here: the fleet's rows and dashboard, the CSV exports and the
// text read it.
type Summary struct {
	Steps, Reboots, PossibleReboots int
	Conditional, Unconfirmed        int
	Critical, Warnings              int
	// SSUCurrent: the newest servicing stack update the host's channel
	// offers, or one that replaces it, is installed (true when none is
	// offered).
	SSUCurrent    bool
	RebootPending bool // a collector bundle found a pending-restart marker
	SHA2          bool
	ESUPrepared   bool
	ESULicensed   bool    // a bundle says some ESU year is licensed
	ESU           ESUMode // the ESU mode the plan was made with
	CVEsOpen      int
	CVEsCritical  int
	CVEsExploited int
	CVEsUnfixable int
	State         HostState
}

// HostState is where a host stands, for a fleet's overview: the one
// rule (Summary.State) a campaign is planned by.
type HostState string

// Host states, in the order the rule tries them.
const (
	StateOutOfScope   HostState = "out-of-scope"  // not Windows NT 6.0
	StateRestart      HostState = "restart"       // Windows waits for a restart
	StateBehind       HostState = "behind"        // the plan has steps
	StateCannotUpdate HostState = "cannot-update" // nothing to install, yet newer updates exist that the host cannot get (an ESU year it lacks, no SHA-2 support)
	StateCurrent      HostState = "current"       // current on its channel: nothing newer exists for it
)

// HostStates lists the states in the rule's order.
func HostStates() []HostState {
	return []HostState{StateOutOfScope, StateRestart, StateBehind, StateCannotUpdate, StateCurrent}
}

func (s *state) hostState(sum Summary) HostState {
	a := s.a
	switch {
	case !a.InScope:
		return StateOutOfScope
	case sum.RebootPending:
		return StateRestart
	case sum.Steps > 0:
		return StateBehind
	case len(a.Plan.Unavailable) > 0 || slices.ContainsFunc(a.Findings, func(f Finding) bool { return f.ID == FindingSHA2Unavailable }):
		return StateCannotUpdate
	}
	return StateCurrent
}

// Severity ranks findings.
type Severity string

// Severities, from most to least urgent.
const (
	Critical Severity = "critical"
	Warning  Severity = "warning"
	Info     Severity = "info"
)

// FindingID names a kind of finding; docs/json.md lists every one (a test
// keeps the two in step).
type FindingID string

// The finding ids (rollback's notes use the same type).
const (
	FindingArchitectureUnknown     FindingID = "architecture-unknown"
	FindingBuild6002With6003Update FindingID = "build-6002-with-6003-update"
	FindingBuild6003Unexplained    FindingID = "build-6003-unexplained"
	FindingBuildStays6003          FindingID = "build-stays-6003"
	FindingCatalogRoleMissing      FindingID = "catalog-role-missing"
	FindingCatalogStale            FindingID = "catalog-stale"
	FindingCustomAgreementOnly     FindingID = "custom-agreement-only"
	FindingDependents              FindingID = "dependents"
	FindingEndOfSupport            FindingID = "end-of-support"
	FindingESUActivated            FindingID = "esu-activated"
	FindingESUNotActivated         FindingID = "esu-not-activated"
	FindingESUNotEligible          FindingID = "esu-not-eligible"
	FindingESUNotPrepared          FindingID = "esu-not-prepared"
	FindingHotfixesUnknown         FindingID = "hotfixes-unknown"
	FindingIA64MonthlyUnknown      FindingID = "ia64-monthly-unknown"
	FindingInputsDisagree          FindingID = "inputs-disagree"
	FindingLifecycle               FindingID = "lifecycle"
	FindingNoAzureESU              FindingID = "no-azure-esu"
	FindingNoESU                   FindingID = "no-esu"
	FindingNoMonthlyUpdate         FindingID = "no-monthly-update"
	FindingNotInstalled            FindingID = "not-installed"
	FindingOutOfScope              FindingID = "out-of-scope"
	FindingPatchLevel              FindingID = "patch-level"
	FindingProductUnknown          FindingID = "product-unknown"
	FindingRebootPending           FindingID = "reboot-pending"
	FindingRevisionBehindInstalled FindingID = "revision-behind-installed"
	FindingRevisionUnknown         FindingID = "revision-unknown"
	FindingServicePack             FindingID = "service-pack"
	FindingServicingStack          FindingID = "servicing-stack"
	FindingSHA2                    FindingID = "sha2"
	FindingSHA2Missing             FindingID = "sha2-missing"
	FindingSHA2NotActive           FindingID = "sha2-not-active"
	FindingSHA2Unavailable         FindingID = "sha2-unavailable"
	FindingSSUMissing              FindingID = "ssu-missing"
	FindingSSUOld                  FindingID = "ssu-old"
	FindingSSUPermanent            FindingID = "ssu-permanent"
	FindingUnconfirmedUpdates      FindingID = "unconfirmed-updates"
	FindingUnknownKB               FindingID = "unknown-kb"
	FindingVersionUnknown          FindingID = "version-unknown"
	FindingWayBack                 FindingID = "way-back"
)

// FindingIDs lists every finding id, sorted.
var FindingIDs = []FindingID{
	FindingArchitectureUnknown,
	FindingBuild6002With6003Update,
	FindingBuild6003Unexplained,
	FindingBuildStays6003,
	FindingCatalogRoleMissing,
	FindingCatalogStale,
	FindingCustomAgreementOnly,
	FindingDependents,
	FindingEndOfSupport,
	FindingESUActivated,
	FindingESUNotActivated,
	FindingESUNotEligible,
	FindingESUNotPrepared,
	FindingHotfixesUnknown,
	FindingIA64MonthlyUnknown,
	FindingInputsDisagree,
	FindingLifecycle,
	FindingNoAzureESU,
	FindingNoESU,
	FindingNoMonthlyUpdate,
	FindingNotInstalled,
	FindingOutOfScope,
	FindingPatchLevel,
	FindingProductUnknown,
	FindingRebootPending,
	FindingRevisionBehindInstalled,
	FindingRevisionUnknown,
	FindingServicePack,
	FindingServicingStack,
	FindingSHA2,
	FindingSHA2Missing,
	FindingSHA2NotActive,
	FindingSHA2Unavailable,
	FindingSSUMissing,
	FindingSSUOld,
	FindingSSUPermanent,
	FindingUnconfirmedUpdates,
	FindingUnknownKB,
	FindingVersionUnknown,
	FindingWayBack,
}

// Finding is one thing the admin should know, with the fact behind it.
type Finding struct {
	ID       FindingID
	Severity Severity
	Message  string
	Fact     string // the rule or source the finding rests on
}

// Step is one install step.
type Step struct {
	KB       string
	Kind     catalog.Kind
	Title    string
	Released catalog.Date
	// RebootAfter: a restart is known to follow (a source says so, or the
	// plan requires one here). MayReboot: no source says whether the update
	// restarts; plan for one.
	RebootAfter bool
	MayReboot   bool
	Why         string
	// Evidence names the sources that list the update for this host: MSRC,
	// the Windows-Update-derived lists, Microsoft's pages (catalog source
	// column), shortest name first.
	Evidence []string
	// File is Microsoft's package for the host's architecture, newest
	// revision; nil when no source names it.
	File *catalog.File
}

// Plan is the ordered install list. Unavailable, Conditional and
// Unconfirmed are shared by the assessments of one Planner that have the
// same lists (their steps depend on the update alone): read them, do not
// change their steps.
type Plan struct {
	Strategy    Strategy
	Channel     catalog.Channel // the newest channel the host can draw from
	Steps       []Step
	Unavailable []Step // updates that exist but need a channel the host lacks
	// Conditional are updates for components the host does not show (IE 9,
	// .NET 3.5, ...): needed only if the component is there after all.
	Conditional []Step
	// Unconfirmed are updates from before the monthly rollups (2018-09)
	// that MSRC lists with no superseder, but that no Windows-Update-derived
	// source lists for NT 6.0 (updateVista's full list, WSUS Offline's
	// static lists): the sources disagree, most likely because Windows
	// Update replaced them with later updates. They are not plan steps
	// unless Options.Unconfirmed is set.
	Unconfirmed []Step
	Reboots     int // restarts known to be needed
	MayReboots  int // steps whose restart behaviour no source states
}

// Servicing is the host's servicing stack, SHA-2 and ESU preparation state.
type Servicing struct {
	SSU       string // newest installed servicing stack update, "" if none
	SSULatest string // newest SSU the host's channel offers
	SHA2      bool   // KB4474419 (or a successor) is installed
	ESUPrep   bool   // the ESU Licensing Preparation Package is installed
	Build6003 bool   // an installed update raised, or raises, the build to 6003
}

// Lifecycle is where the product stands on the analysis date.
type Lifecycle struct {
	Product string // "server2008" or "vista"
	AsOf    catalog.Date
	Phase   string // mainstream, extended, esu, azure-esu, ended
	Ends    catalog.Date
	Message string
}

// Assessment is everything kbplan concludes about one host.
type Assessment struct {
	Host       inventory.Host
	InScope    bool
	Product    string       // "server2008", "vista", "" out of scope
	PatchLevel catalog.Date // month the host is as patched as; zero when none
	Servicing  Servicing
	Lifecycle  Lifecycle
	Findings   []Finding
	// Components are what the host has besides the OS, with the evidence;
	// updates for other components go to Plan.Conditional.
	Components []HostComponent
	Plan       Plan
	Exposure   *Exposure // nil unless asked for
	Summary    Summary
}

// ToDo reports whether the plan has steps.
func (a *Assessment) ToDo() bool { return len(a.Plan.Steps) > 0 }

// Assess computes the assessment of one host.
func (p *Planner) Assess(h inventory.Host, o Options) Assessment {
	c := p.c
	if o.Strategy == "" {
		o.Strategy = RollupStrategy
	}
	o.ESU = esuMode(h, o)
	a := Assessment{Host: h, Plan: Plan{Strategy: o.Strategy}}
	s := &state{p: p, a: &a, c: c, o: o, installed: map[string]bool{}, inst: make([]bool, len(c.Updates))}
	for _, kb := range h.Hotfixes {
		s.installed[kb] = true
		if u, ok := c.Get(kb); ok {
			s.inst[u.Index] = true
		}
	}
	if !s.scope() {
		a.Summary.State = StateOutOfScope
		return a
	}
	a.Components = s.components()
	s.lifecycle()
	s.servicing()
	s.patchLevel()
	s.plan()
	s.checks()
	if o.Exposure.Index != nil {
		a.Exposure = s.exposure(o.Exposure)
	}
	sort.SliceStable(a.Findings, func(i, j int) bool { return rank(a.Findings[i].Severity) < rank(a.Findings[j].Severity) })
	a.Summary = s.summary()
	return a
}

// esuMode is the ESU mode a host is planned with: the caller's, or, with
// ESUFromFacts, what a bundle's licence state says.
func esuMode(h inventory.Host, o Options) ESUMode {
	f := h.Facts
	if !o.ESUFromFacts || f == nil || !f.ESUKnown {
		return o.ESU
	}
	if len(f.ESULicensed) == 0 {
		return NoESU
	}
	if o.ESU == AzureESU {
		return AzureESU
	}
	return ESU
}

// summary sums the assessment up, once, for every consumer.
func (s *state) summary() Summary {
	a := s.a
	sum := Summary{Steps: len(a.Plan.Steps), Reboots: a.Plan.Reboots, PossibleReboots: a.Plan.MayReboots,
		Conditional: len(a.Plan.Conditional), Unconfirmed: len(a.Plan.Unconfirmed),
		SHA2: a.Servicing.SHA2, ESUPrepared: a.Servicing.ESUPrep, ESU: s.o.ESU, SSUCurrent: a.InScope}
	for _, f := range a.Findings {
		switch f.Severity {
		case Critical:
			sum.Critical++
		case Warning:
			sum.Warnings++
		}
	}
	if f := a.Host.Facts; f != nil {
		sum.RebootPending = len(f.PendingReboot) > 0
		sum.ESULicensed = len(f.ESULicensed) > 0
	}
	if latest := a.Servicing.SSULatest; latest != "" && a.InScope {
		_, sum.SSUCurrent = s.has(latest)
	}
	if e := a.Exposure; e != nil {
		sum.CVEsOpen, sum.CVEsCritical, sum.CVEsExploited, sum.CVEsUnfixable = e.Counts.Open, e.Counts.OpenCritical, e.Counts.OpenExploited, e.Counts.Unfixable
	}
	sum.State = s.hostState(sum)
	return sum
}

func rank(s Severity) int { return slices.Index([]Severity{Critical, Warning, Info}, s) }

type state struct {
	p         *Planner
	a         *Assessment
	c         *catalog.Catalog
	o         Options
	installed map[string]bool
	inst      []bool            // installed, by catalog position
	planned   []bool            // planned, by catalog position
	known     []*catalog.Update // installed updates the catalog knows
	fixedWhy  map[string]string // exposure reasons by KB
	// covered(inst, i) and available(row i), memoised by exposure:
	// 0 unknown, 1 no, 2 yes.
	coveredMemo, availableMemo []int8
	missingRoles               map[catalog.Role]bool
}

// role returns the update that plays r in this catalog. A catalog without
// one gets a finding (once) and the plan goes on without that step.
func (s *state) role(r catalog.Role) *catalog.Update {
	u := s.c.Role(r)
	if u == nil && !s.missingRoles[r] {
		if s.missingRoles == nil {
			s.missingRoles = map[catalog.Role]bool{}
		}
		s.missingRoles[r] = true
		s.find(Critical, FindingCatalogRoleMissing, "the planner asks the catalog which update plays each role (catalog.Roles); kbplan catalog validate reports a missing one",
			"the catalog %s has no update with the role %s: the plan lacks that step and may be wrong; use the embedded catalog or fix the file", s.c.Name, r)
	}
	return u
}

// hasRole reports whether the update playing r, or one superseding it, is
// installed; false when the catalog lacks the role.
func (s *state) hasRole(r catalog.Role) bool {
	u := s.role(r)
	if u == nil {
		return false
	}
	_, ok := s.has(u.KB)
	return ok
}

func (s *state) find(sev Severity, id FindingID, fact, format string, args ...any) {
	s.a.Findings = append(s.a.Findings, Finding{ID: id, Severity: sev, Message: fmt.Sprintf(format, args...), Fact: fact})
}

// has reports whether kb, or an update superseding it, is installed.
func (s *state) has(kb string) (string, bool) { return s.c.Covers(s.installed, kb) }

// covered reports whether the update at position i, or one superseding it,
// is marked in set.
func (s *state) covered(set []bool, i int) bool {
	if set[i] {
		return true
	}
	for _, j := range s.c.SupersederIndexes(i) {
		if set[j] {
			return true
		}
	}
	return false
}

func (s *state) scope() bool {
	h, a := s.a.Host, s.a
	v := h.OS.Version
	switch {
	case v == nil:
		s.find(Critical, FindingVersionUnknown, "the inventory carries no OS version",
			"kbplan cannot tell what OS this is: the input has no version; give it systeminfo, ver or reg query output")
		return false
	case !h.InScope():
		s.find(Critical, FindingOutOfScope, "kbplan covers Windows NT 6.0 (Vista, Server 2008) builds 6000-6003",
			"%s (%s) is not Windows Server 2008 or Vista: kbplan makes no plan for it", orUnknown(h.OS.Product), v.Short())
		return false
	}
	a.InScope = true
	switch h.OS.Product {
	case "Windows Vista":
		a.Product = "vista"
	case "Windows Server 2008":
		a.Product = "server2008"
	default:
		a.Product = "server2008"
		s.find(Warning, FindingProductUnknown, "ver and wmic os Version alone do not tell Vista from Server 2008",
			"the input does not say whether this is Windows Server 2008 or Vista; kbplan plans for Windows Server 2008 (add systeminfo to be sure)")
	}
	if h.OS.Architecture == "" {
		s.find(Warning, FindingArchitectureUnknown, "updates differ for x86, x64 and ia64",
			"the input does not give the architecture; the plan lists updates for every architecture (add systeminfo to be sure)")
	}
	if !h.HotfixesKnown {
		s.find(Warning, FindingHotfixesUnknown, "the plan is computed from the installed updates",
			"the input does not list installed updates, so the plan assumes none are installed; add wmic qfe or systeminfo output")
	}
	return true
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown OS"
	}
	return s
}
