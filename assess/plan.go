package assess

import (
	"encoding/binary"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/kbplan/kbplan/catalog"
	"github.com/kbplan/kbplan/winver"
)

// esuEditions are the Server 2008 editions ESU was sold for: "Datacenter,
// Standard, Enterprise and Embedded" (MicrosoftDocs/lifecycle-data
// windows-server-2008.yml, ESU tip).
var esuEditions = []string{"Datacenter", "Standard", "Enterprise", "Embedded"}

func (s *state) build() int { return s.a.Host.OS.Version.Build }

func (s *state) arch() string { return s.a.Host.OS.Architecture }

// allowed reports whether the host can draw from a channel.
func (s *state) allowed(ch catalog.Channel) bool {
	switch ch {
	case catalog.Public:
		return true
	case catalog.ESU:
		return s.esuOK() && (s.o.ESU == ESU || s.o.ESU == AzureESU)
	case catalog.AzureESU:
		return s.esuOK() && s.o.ESU == AzureESU
	}
	return false
}

func (s *state) esuOK() bool {
	if s.a.Product != "server2008" {
		return false
	}
	e := s.a.Host.OS.Edition
	return e == "" || slices.Contains(esuEditions, e)
}

func (s *state) newestChannel() catalog.Channel {
	for _, ch := range []catalog.Channel{catalog.AzureESU, catalog.ESU} {
		if s.allowed(ch) {
			return ch
		}
	}
	return catalog.Public
}

func (s *state) lifecycle() {
	l := &s.a.Lifecycle
	l.Product, l.AsOf = s.a.Product, s.o.AsOf
	at := func(event string) catalog.Date {
		m, _ := s.c.Milestone(l.Product, event)
		return m.Date
	}
	d := s.o.AsOf
	before := func(event string) bool { return d.Compare(at(event)) <= 0 }
	if l.Product == "vista" {
		switch {
		case before("extended-end"):
			l.Phase, l.Ends = "extended", at("extended-end")
			l.Message = fmt.Sprintf("Windows Vista SP2 is in extended support until %s", l.Ends)
		default:
			l.Phase, l.Ends = "ended", at("extended-end")
			l.Message = fmt.Sprintf("Windows Vista support ended on %s: no updates after that, and no ESU exists for Vista", l.Ends)
		}
		return
	}
	switch {
	case before("mainstream-end"):
		l.Phase, l.Ends = "mainstream", at("mainstream-end")
		l.Message = fmt.Sprintf("Windows Server 2008 is in mainstream support until %s", l.Ends)
	case before("extended-end"):
		l.Phase, l.Ends = "extended", at("extended-end")
		l.Message = fmt.Sprintf("Windows Server 2008 is in extended support until %s", l.Ends)
	case before("esu-end"):
		l.Phase, l.Ends = "esu", at("esu-end")
		l.Message = fmt.Sprintf("extended support ended on %s; security updates only with ESU, until %s", at("extended-end"), l.Ends)
	case before("azure-esu-end"):
		l.Phase, l.Ends = "azure-esu", at("azure-esu-end")
		l.Message = fmt.Sprintf("extended support ended on %s and ESU on %s; only Azure and Azure Stack hosts get updates, until %s",
			at("extended-end"), at("esu-end"), l.Ends)
	default:
		l.Phase, l.Ends = "ended", at("azure-esu-end")
		l.Message = fmt.Sprintf("extended support ended on %s, ESU on %s and the Azure-only ESU year on %s; later updates reach only customers with custom agreements",
			at("extended-end"), at("esu-end"), at("azure-esu-end"))
	}
}

func (s *state) servicing() {
	sv := &s.a.Servicing
	var newest *catalog.Update
	for _, u := range s.installedUpdates() {
		switch {
		case u.Kind == catalog.SSU && (newest == nil || u.Released.Compare(newest.Released) > 0):
			newest = u
		case u.Kind.Monthly() && (u.Build == 6003 || u.RaisesBuild == 6003):
			sv.Build6003 = true
		}
	}
	if newest != nil {
		sv.SSU = newest.KB
	}
	if latest := s.latest(catalog.SSU); latest != nil {
		sv.SSULatest = latest.KB
	}
	// Prepared for ESU: the newest preparation package released by the
	// analysis date, or one that replaces it, is installed (each package
	// replaces the previous one: catalog edges).
	if prep := s.latest(catalog.ESUPrep); prep != nil {
		_, sv.ESUPrep = s.has(prep.KB)
	} else {
		sv.ESUPrep = slices.ContainsFunc(s.installedUpdates(), func(u *catalog.Update) bool { return u.Kind == catalog.ESUPrep })
	}
	sv.SHA2 = s.hasRole(catalog.RoleSHA2)
	// A bundle's registry values show SHA-2 support even where the hotfix
	// list is cut short.
	if f := s.a.Host.Facts; f != nil && f.SHA2Active != nil && *f.SHA2Active {
		sv.SHA2 = true
	}
}

// latest returns the newest update of a kind the host can get.
func (s *state) latest(kind catalog.Kind) *catalog.Update {
	b := s.base()
	if u, ok := b.latest[kind]; ok {
		return u
	}
	var best *catalog.Update
	for _, u := range s.c.Updates {
		if u.Kind == kind && s.available(u) && (best == nil || u.Released.Compare(best.Released) >= 0) {
			best = u
		}
	}
	return best
}

// available reports whether the host can get an update: it applies to the
// host, its channel is open to the host, and it was out on the analysis date.
func (s *state) available(u *catalog.Update) bool {
	return u.AppliesTo(s.a.Product, s.arch()) && s.allowed(u.Channel) && s.released(u)
}

func (s *state) released(u *catalog.Update) bool {
	return s.o.AsOf.IsZero() || u.Released.IsZero() || u.Released.Compare(s.o.AsOf) <= 0
}

// installedUpdates returns the installed updates the catalog knows, in
// catalog order.
func (s *state) installedUpdates() []*catalog.Update {
	if s.known == nil {
		s.known = []*catalog.Update{}
		for i, in := range s.inst {
			if in {
				s.known = append(s.known, s.c.Updates[i])
			}
		}
	}
	return s.known
}

// rollupMonth is the month of the newest installed rollup or preview.
func (s *state) rollupMonth() catalog.Date {
	var m catalog.Date
	for _, u := range s.installedUpdates() {
		if (u.Kind == catalog.Rollup || u.Kind == catalog.PreviewRollup) && u.Released.Compare(m) > 0 {
			m = catalog.Date{Year: u.Released.Year, Month: u.Released.Month}
		}
	}
	return m
}

// patchLevel is the newest month the host has every monthly security fix
// of: through its newest rollup (they are cumulative since 2018-09), or
// through an unbroken run of security-only updates.
func (s *state) patchLevel() {
	level := s.rollupMonth()
	months := map[string]bool{}
	for _, u := range s.installedUpdates() {
		if u.Kind == catalog.SecurityOnly {
			months[u.Released.YearMonth()] = true
		}
	}
	newest := s.c.NewestMonthly()
	for m := catalog.FirstMonthly; ; m = next(m) {
		if !months[m.YearMonth()] && m.Compare(level) > 0 {
			break
		}
		if m.Compare(level) > 0 {
			level = m
		}
		if m.Compare(newest) >= 0 {
			break
		}
	}
	s.a.PatchLevel = level
}

func next(d catalog.Date) catalog.Date {
	if d.Month == 12 {
		return catalog.Date{Year: d.Year + 1, Month: 1}
	}
	return catalog.Date{Year: d.Year, Month: d.Month + 1}
}

func (s *state) plan() {
	p := &s.a.Plan
	p.Channel = s.newestChannel()
	s.planned = make([]bool, len(s.c.Updates))
	addU := func(u *catalog.Update, why string) {
		if s.planned[u.Index] {
			return
		}
		st := stepOf(u, why)
		st.File = u.FileFor(s.arch())
		p.Steps = append(p.Steps, st)
		s.planned[u.Index] = true
	}
	addRole := func(r catalog.Role, why string) bool {
		if u := s.role(r); u != nil {
			addU(u, why)
			return true
		}
		return false
	}

	// Service packs first: everything else needs SP2.
	if s.build() <= 6000 && s.a.Product == "vista" {
		addRole(catalog.RoleVistaSP1, "Vista without a service pack (build 6000) needs SP1 before SP2")
	}
	switch {
	case s.build() <= 6000:
		addRole(catalog.RoleSP2, "then Service Pack 2: every later update needs it")
	case s.build() == 6001:
		addRole(catalog.RoleSP2, "build 6001 is SP1 level: Service Pack 2 comes first, every later update needs it")
	}

	cands := s.candidates()
	p.Steps = slices.Grow(p.Steps, 8)
	needSHA2 := false
	needESU := false
	for _, u := range cands {
		needSHA2 = needSHA2 || u.SHA2Only != nil && *u.SHA2Only
		needESU = needESU || u.Channel == catalog.ESU || u.Channel == catalog.AzureESU
	}
	// The servicing stack, then SHA-2 support and its restart, in the order
	// Microsoft requires (KB4472027; WSUS Offline ESR installs KB4493730
	// before KB4474419: client/static/StaticUpdateIds-servicing-w60.txt and
	// StaticUpdateIds-wupre-w60.txt).
	haveSHA2 := s.a.Servicing.SHA2
	if sha2 := s.c.Role(catalog.RoleSHA2); needSHA2 && !haveSHA2 && sha2 != nil && !sha2.AppliesTo(s.a.Product, s.arch()) {
		// No SHA-2 support package for this host in the sources: the
		// updates signed only with SHA-2 cannot install, so none is planned.
		n := 0
		cands = slices.DeleteFunc(cands, func(u *catalog.Update) bool {
			drop := u.SHA2Only != nil && *u.SHA2Only
			if drop {
				n++
			}
			return drop
		})
		needSHA2 = false
		s.find(Warning, FindingSHA2Unavailable, sha2.KB+" lists "+strings.Join(sha2.Architectures, ", ")+" only ("+sha2.Source+")",
			"%d updates from July 2019 need SHA-2 code signing support, and the catalog has no %s package for %s %s: they are not planned; check the Microsoft Update Catalog for one", n, sha2.KB, s.a.Product, s.arch())
		needESU = slices.ContainsFunc(cands, func(u *catalog.Update) bool { return u.Channel == catalog.ESU || u.Channel == catalog.AzureESU })
	}
	if needSHA2 && !haveSHA2 {
		if !s.hasRole(catalog.RoleSSUBeforeSHA2) {
			addRole(catalog.RoleSSUBeforeSHA2, "servicing stack of April 2019: Microsoft requires it before SHA-2 support; newer SSUs are SHA-2 signed and cannot install yet")
		}
		if addRole(catalog.RoleSHA2, "SHA-2 code signing support: updates from July 2019 are SHA-2 signed and fail with 0x80092004 without it; restart before going on") {
			// Microsoft KB4474419: restart before installing updates that
			// need it, whatever the catalog row says.
			last := &p.Steps[len(p.Steps)-1]
			last.RebootAfter, last.MayReboot = true, false
		}
	}
	// A monthly update goes on a current servicing stack: Microsoft asks for
	// the latest SSU before the rollup, and some rollups name one outright.
	if latest := s.latest(catalog.SSU); latest != nil && (s.needSSU(cands) || hasMonthly(cands)) {
		if _, ok := s.has(latest.KB); !ok {
			addU(latest, "newest servicing stack update the host can get: later updates need a current servicing stack")
		}
	}
	if needESU && !s.a.Servicing.ESUPrep {
		if prep := s.latest(catalog.ESUPrep); prep != nil {
			addU(prep, "newest ESU Licensing Preparation Package: install it, restart, then install and activate the ESU key (slmgr /ipk, then /ato with the year's activation ID) before any ESU update")
		}
	}
	// The disagreement is read as "Windows Update replaced it" only where a
	// rollup is installed or planned: the lists that omit these updates end
	// in a rollup. Security-only plans keep them.
	rollup := !s.rollupMonth().IsZero() || slices.ContainsFunc(cands, func(u *catalog.Update) bool { return u.Kind == catalog.Rollup })
	// apart: an unconfirmed candidate is listed apart, not planned.
	setAside := rollup && !s.o.Unconfirmed
	apart := func(u *catalog.Update) bool { return setAside && s.isUnconfirmed(u) }
	if setAside {
		var aside []*catalog.Update
		for _, u := range cands {
			if apart(u) {
				aside = append(aside, u)
			}
		}
		p.Unconfirmed = s.sharedSteps(unconfirmedList, aside, func(_ int, u *catalog.Update) Step { return stepOf(u, unconfirmedWhy) })
	}
	p.Steps = slices.Grow(p.Steps, len(cands)-len(p.Unconfirmed))
	for _, u := range cands {
		if !apart(u) {
			addU(u, s.why(u))
		}
	}
	s.unavailable()
	s.conditional()
	s.revisions()
	if n := len(p.Unconfirmed); n > 0 {
		s.find(Warning, FindingUnconfirmedUpdates, "MSRC's supersedence data and the Windows-Update-derived lists (updateVista, WSUS Offline ESR) disagree about these updates; catalog/README.md says how kbplan reconciles them",
			"%d updates from before the monthly rollups are not planned: MSRC names nothing that replaces them, but no Windows-Update-derived list of NT 6.0 updates carries them, so the rollup most likely replaces them (e.g. %s); --unconfirmed plans them, --exposure shows the CVEs they fix",
			n, p.Unconfirmed[0].KB)
	}
	if n := len(p.Steps); n > 0 && !p.Steps[n-1].RebootAfter {
		p.Steps[n-1].RebootAfter, p.Steps[n-1].MayReboot = true, false
		p.Steps[n-1].Why += "; restart to finish"
	}
	for _, st := range p.Steps {
		switch {
		case st.RebootAfter:
			p.Reboots++
		case st.MayReboot:
			p.MayReboots++
		}
	}
}

const unconfirmedWhy = "MSRC lists it with no superseder, but no Windows-Update-derived list of NT 6.0 updates (updateVista, WSUS Offline) does: most likely replaced by a later update; not planned (--unconfirmed plans it)"

// isUnconfirmed is unconfirmed(u), decided once per planner for the
// catalog's own updates.
func (s *state) isUnconfirmed(u *catalog.Update) bool {
	if s.own(u) {
		return s.p.unconfirmed[u.Index]
	}
	return unconfirmed(u)
}

// own reports whether u is one of the catalog's updates (at its Index),
// whose facts the planner's tables by index hold.
func (s *state) own(u *catalog.Update) bool {
	return u.Index >= 0 && u.Index < len(s.c.Updates) && s.c.Updates[u.Index] == u
}

// unconfirmed reports whether an update predates the monthly rollups and
// has MSRC as its only source. Sources disagree about such an update:
// MSRC's supersedence data names nothing that replaces it, while the lists
// built from Windows Update for a fully patched NT 6.0 host do not carry it
// (catalog/README.md, "How the sources are reconciled").
func unconfirmed(u *catalog.Update) bool {
	if u.Released.IsZero() || u.Released.Compare(catalog.FirstMonthly) >= 0 {
		return false
	}
	switch u.Kind {
	case catalog.Standalone, catalog.IE, catalog.DotNet:
	default:
		return false
	}
	ev := evidence(u)
	return len(ev) == 1 && ev[0] == "msrc"
}

// stepOf makes a plan step of an update.
func stepOf(u *catalog.Update, why string) Step {
	return Step{KB: u.KB, Kind: u.Kind, Title: u.Title, Released: u.Released,
		RebootAfter: u.Reboot != nil && *u.Reboot, MayReboot: u.Reboot == nil, Why: why, Evidence: evidence(u)}
}

// evidence names the source families of a catalog row (catalog.Update.Sources).
func evidence(u *catalog.Update) []string { return u.Sources }

// conditional lists the updates for components the host does not show.
// Their steps depend on the update alone and are made once per base list.
func (s *state) conditional() {
	b := s.base()
	b.conditionalOnce.Do(func() {
		b.conditionalSteps = make([]Step, len(b.conditional))
		for i, u := range b.conditional {
			b.conditionalSteps[i] = stepOf(u, conditionalWhy(u))
		}
	})
	// Most of a bare host's base list is not covered: made at its size
	// once, not grown by doubling.
	us := make([]*catalog.Update, 0, len(b.conditional))
	at := make([]int, 0, len(b.conditional)) // us[k] is b.conditional[at[k]]
	for i, u := range b.conditional {
		if !s.covered(s.inst, u.Index) {
			us, at = append(us, u), append(at, i)
		}
	}
	s.a.Plan.Conditional = s.sharedSteps(conditionalList, us, func(k int, _ *catalog.Update) Step { return b.conditionalSteps[at[k]] })
}

// The lists of steps that sharedSteps shares.
const (
	unconfirmedList byte = iota + 1
	conditionalList
)

// maxStepLists bounds the planner's memo of shared step lists. The
// embedded catalog's longest list (a bare host's unconfirmed updates) has
// 222 steps of 128 bytes, 28 KiB: at most 14 MiB in a long-running server.
// Past the bound, hosts get lists of their own, as before.
const maxStepLists = 512

// sharedSteps is the list of steps for the updates us, in order, step
// making the k-th: the same slice for the same updates of the same list,
// from the planner's memo. The lists the plan sets aside (unconfirmed,
// conditional) are the same for many hosts, and their steps depend on the
// update alone: sharing them spares making and copying hundreds of steps
// per host. The slice is shared, so read only (Plan says so); its capacity
// is its length, so an append copies. Empty, it is empty, not nil.
func (s *state) sharedSteps(list byte, us []*catalog.Update, step func(k int, u *catalog.Update) Step) []Step {
	if len(us) == 0 {
		return []Step{}
	}
	key := make([]byte, 1, 1+4*len(us))
	key[0] = list
	for _, u := range us {
		key = binary.LittleEndian.AppendUint32(key, uint32(u.Index))
	}
	return memo(&s.p.stepLists, &s.p.stepListsN, maxStepLists, string(key), func() []Step {
		out := make([]Step, len(us))
		for k, u := range us {
			out[k] = step(k, u)
		}
		return out
	})
}

func hasMonthly(us []*catalog.Update) bool {
	return slices.ContainsFunc(us, func(u *catalog.Update) bool { return u.Kind.Monthly() })
}

func kindOrder(k catalog.Kind) int {
	switch k {
	case catalog.Standalone:
		return 0
	case catalog.IE:
		return 1
	case catalog.DotNet:
		return 2
	case catalog.SecurityOnly:
		return 3
	}
	return 4
}

// needSSU reports whether a candidate names a servicing stack update the
// host lacks among its prerequisites.
func (s *state) needSSU(cands []*catalog.Update) bool {
	for _, u := range cands {
		for _, pre := range u.Prerequisites {
			if p, ok := s.c.Get(pre); ok && p.Kind == catalog.SSU {
				if _, have := s.has(pre); !have {
					return true
				}
			}
		}
	}
	return false
}

// candidates are the updates the host lacks and can get, in install order,
// without any that another candidate supersedes.
func (s *state) candidates() []*catalog.Update {
	rollupMonth := s.rollupMonth()
	b := s.base()
	out := make([]*catalog.Update, 0, len(b.updates))
	for _, u := range b.updates {
		if s.covered(s.inst, u.Index) {
			continue
		}
		switch u.Kind {
		case catalog.SecurityOnly:
			if !rollupMonth.IsZero() && monthNotAfter(u.Released, rollupMonth) {
				continue
			}
		}
		out = append(out, u)
	}
	return out
}

func monthNotAfter(d, m catalog.Date) bool {
	return d.Year < m.Year || d.Year == m.Year && d.Month <= m.Month
}

// baseKey is what the plannable updates depend on besides the host's
// installed updates.
type baseKey struct {
	product    string
	arch       string
	components string
	esu        bool
	azure      bool
	asOf       catalog.Date
	strategy   Strategy
}

// baseList is the plannable updates for one baseKey, in install order, and
// the conditional ones: for components the host does not show.
type baseList struct {
	updates     []*catalog.Update
	conditional []*catalog.Update
	latest      map[catalog.Kind]*catalog.Update

	conditionalOnce  sync.Once
	conditionalSteps []Step // one per conditional update

	unavailableOnce sync.Once
	unavailable     []Step
}

// base returns the updates a host of this kind could be planned, in install
// order, leaving out any that another of them supersedes: whether the
// superseder is installed or planned, the older update is not needed.
func (s *state) base() *baseList {
	k := baseKey{s.a.Product, s.arch(), s.componentKey(), s.allowed(catalog.ESU), s.allowed(catalog.AzureESU), s.p.effectiveDate(s.o.AsOf), s.o.Strategy}
	if v, ok := s.p.bases.Load(k); ok {
		return v.(*baseList)
	}
	bl := &baseList{latest: map[catalog.Kind]*catalog.Update{}}
	for _, kind := range []catalog.Kind{catalog.SSU, catalog.ESUPrep, catalog.Rollup} {
		var best *catalog.Update
		for _, u := range s.c.Updates {
			if u.Kind == kind && s.available(u) && (best == nil || u.Released.Compare(best.Released) >= 0) {
				best = u
			}
		}
		bl.latest[kind] = best
	}
	var out []*catalog.Update
	in := make([]bool, len(s.c.Updates))  // plannable and applicable
	all := make([]bool, len(s.c.Updates)) // plannable, applicable or not
	for i, u := range s.c.Updates {
		if !s.available(u) {
			continue
		}
		switch u.Kind {
		case catalog.Standalone, catalog.IE:
		case catalog.DotNet:
			// .NET follows the strategy too: its rollups are cumulative,
			// its security-only updates are not.
			if u.Family == catalog.FamilyDotNetRollup && s.o.Strategy == SecurityOnlyStrategy {
				continue
			}
		case catalog.Rollup:
			if s.o.Strategy != RollupStrategy {
				continue
			}
		case catalog.SecurityOnly:
			if s.o.Strategy != SecurityOnlyStrategy {
				continue
			}
		default:
			continue
		}
		all[i] = true
		in[i] = s.applies(u)
		out = append(out, u)
	}
	// An update is replaced only by a superseder that applies to the host:
	// an IE 9 cumulative update does not replace the IE 7 one on a host
	// with IE 7. A conditional update is replaced by any superseder.
	var keep []*catalog.Update
	for _, u := range out {
		superseded := false
		for _, j := range s.c.SupersederIndexes(u.Index) {
			if in[j] || !in[u.Index] && all[j] {
				superseded = true
				break
			}
		}
		switch {
		case superseded:
		case in[u.Index]:
			keep = append(keep, u)
		default:
			bl.conditional = append(bl.conditional, u)
		}
	}
	sort.SliceStable(keep, func(i, j int) bool {
		oi, oj := kindOrder(keep[i].Kind), kindOrder(keep[j].Kind)
		if oi != oj {
			return oi < oj
		}
		// Updates of unknown date go last within their kind.
		if zi, zj := keep[i].Released.IsZero(), keep[j].Released.IsZero(); zi != zj {
			return zj
		}
		if c := keep[i].Released.Compare(keep[j].Released); c != 0 {
			return c < 0
		}
		return keep[i].KB < keep[j].KB
	})
	bl.updates = keep
	s.p.bases.Store(k, bl)
	return bl
}

// why is the explanation of an update's step: it depends on the update
// alone, and a fleet asks for the same few hundred many times.
func (s *state) why(u *catalog.Update) string {
	if !s.own(u) {
		return explain(u)
	}
	if w := s.p.whys[u.Index].Load(); w != nil {
		return *w
	}
	w := explain(u)
	s.p.whys[u.Index].Store(&w)
	return w
}

func explain(u *catalog.Update) string {
	if u.Family == catalog.FamilyDotNetRollup {
		return fmt.Sprintf("newest .NET Framework 2.0 SP2/3.0 SP2 Security and Quality Rollup the host can get (%s): cumulative, it replaces every earlier .NET rollup and security-only update it carries", u.Released.YearMonth())
	}
	switch u.Kind {
	case catalog.Rollup:
		return fmt.Sprintf("newest monthly rollup the host can get (%s): cumulative, it carries every monthly fix since September 2018", u.Released.YearMonth())
	case catalog.SecurityOnly:
		return fmt.Sprintf("security-only update of %s: not cumulative, so every missing month is installed", u.Released.YearMonth())
	case catalog.IE:
		return "newest Internet Explorer cumulative security update for the IE version here: it replaces every earlier one"
	case catalog.DotNet:
		return ".NET Framework security update for a .NET version on this host"
	}
	if u.Family == catalog.FamilyIECumulative {
		return "newest Internet Explorer cumulative security update for the IE version here (" + u.Released.YearMonth() + "): it replaces every earlier one"
	}
	when := "unknown date"
	if !u.Released.IsZero() {
		when = u.Released.YearMonth()
	}
	return "security update (" + when + ") that no installed or planned update replaces, listed by " + strings.Join(evidence(u), " and ")
}

// unavailable lists, per channel the host lacks, the newest update it would
// need.
func (s *state) unavailable() {
	b := s.base()
	b.unavailableOnce.Do(func() { b.unavailable = s.computeUnavailable() })
	s.a.Plan.Unavailable = slices.Clip(b.unavailable) // shared, read only (Plan)
}

func (s *state) computeUnavailable() []Step {
	var out []Step
	kind := catalog.Rollup
	if s.o.Strategy == SecurityOnlyStrategy {
		kind = catalog.SecurityOnly
	}
	for _, ch := range []catalog.Channel{catalog.ESU, catalog.AzureESU, catalog.Custom} {
		if s.allowed(ch) {
			continue
		}
		var newest *catalog.Update
		n := 0
		for _, u := range s.c.Updates {
			if u.Kind == kind && u.Channel == ch && u.AppliesTo(s.a.Product, s.arch()) && s.released(u) {
				n++
				if newest == nil || u.Released.Compare(newest.Released) > 0 {
					newest = u
				}
			}
		}
		if newest == nil {
			continue
		}
		why := map[catalog.Channel]string{
			catalog.ESU:      "need Extended Security Updates (years 1-3, to 2023-01-10): run with --esu if the host has an ESU key",
			catalog.AzureESU: "need the Azure-only fourth ESU year (to 2024-01-09): run with --esu=azure for Azure or Azure Stack hosts",
			catalog.Custom:   "are not available without a custom support agreement (released after every ESU programme ended)",
		}[ch]
		out = append(out, Step{KB: newest.KB, Kind: newest.Kind, Title: newest.Title, Released: newest.Released,
			Why: fmt.Sprintf("%d %s updates up to %s (newest %s) %s", n, kind, newest.Released.YearMonth(), newest.KB, why)})
	}
	return out
}

// collectorChecks turns a bundle's facts into findings.
func (s *state) collectorChecks() {
	f := s.a.Host.Facts
	if f == nil {
		return
	}
	if len(f.PendingReboot) > 0 {
		s.find(Critical, FindingRebootPending, "CBS RebootPending/PackagesPending, WindowsUpdate RebootRequired, PendingFileRenameOperations (the markers Legacy Update and WSUS Offline read; docs/bundle.md)",
			"a restart is pending (%s): restart before installing anything, or the next updates may fail or report \"not applicable\"", strings.Join(f.PendingReboot, ", "))
	}
	if listed := s.hasRole(catalog.RoleSHA2); listed && f.SHA2Active != nil && !*f.SHA2Active {
		s.find(Critical, FindingSHA2NotActive, "SHA-2 support counts only when SHA2-Codesigning-Support and SHA2-Core-Codesigning-Support are set, after the restart that follows KB4474419 (WSUS Offline)",
			"KB4474419 is installed but SHA-2 code signing support is not active: restart first, or every update from July 2019 fails with 0x80092004")
	}
	if f.ServicingStack != "" {
		s.find(Info, FindingServicingStack, "the highest folder under %SystemRoot%\\servicing\\Version is the servicing stack version (WSUS Offline)",
			"servicing stack version %s", f.ServicingStack)
	}
	if !f.ESUKnown {
		return
	}
	switch {
	case len(f.ESULicensed) == 0 && s.allowed(catalog.ESU):
		s.find(Warning, FindingESUNotActivated, "ESU updates install only with an activated ESU key (Microsoft ESU deployment docs); activation IDs: inventory/bundle/esu-ids.tsv",
			"no ESU activation ID is licensed: install and activate the ESU key (slmgr /ipk, then /ato with the year's activation ID), or ESU updates report \"not applicable\"")
	case len(f.ESULicensed) > 0 && s.allowed(catalog.ESU):
		s.find(Info, FindingESUActivated, "SoftwareLicensingProduct LicenseStatus 1 for the ESU activation IDs (inventory/bundle/esu-ids.tsv)",
			"ESU is activated for %s", f.ESUYears())
	case len(f.ESULicensed) > 0:
		s.find(Warning, FindingESUActivated, "SoftwareLicensingProduct LicenseStatus 1 for the ESU activation IDs (inventory/bundle/esu-ids.tsv)",
			"ESU is activated for %s but this plan uses public updates only: run with --esu (or --esu=azure) to plan the ESU updates", f.ESUYears())
	}
}

func (s *state) checks() {
	a, sv := s.a, &s.a.Servicing
	h := a.Host
	s.collectorChecks()
	for _, d := range h.Disagreements {
		s.find(Warning, FindingInputsDisagree, "the inputs of one host (systeminfo, wmic, reg, ver, ntoskrnl.exe) contradict each other; inventory.Merge and the bundle reader say which value kbplan used and why",
			"%s", d)
	}
	// 6002 with an installed update that raises the build to 6003.
	if s.build() == 6002 && sv.Build6003 {
		kb := ""
		for _, u := range s.installedUpdates() {
			if u.Kind.Monthly() && (u.Build == 6003 || u.RaisesBuild == 6003) {
				kb = u.KB
				break
			}
		}
		s.find(Critical, FindingBuild6002With6003Update,
			"KB4489887 (2019-03-19) and every later monthly update raise the build to 6003 (catalog: build column)",
			"the build reads 6002 although %s, which raises it to 6003, is installed: a restart is pending or the install failed; restart and check again before installing more", kb)
	}
	s.revisionBehind()
	if s.build() == 6003 && !sv.Build6003 && h.HotfixesKnown {
		s.find(Warning, FindingBuild6003Unexplained, "only updates from 2019-03-19 on raise the build to 6003",
			"the build is 6003 but no installed update that raises it is listed: the hotfix list is incomplete (systeminfo cuts long lists), so the plan may repeat installed updates; add wmic qfe output")
	}
	planSHA2 := false
	if u := s.role(catalog.RoleSHA2); u != nil {
		planSHA2 = s.planned[u.Index]
	}
	switch {
	case planSHA2:
		s.find(Warning, FindingSHA2Missing, "Microsoft KB4472027: updates from July 2019 need SHA-2 code signing support",
			"SHA-2 code signing support (KB4474419) is missing: updates from July 2019 on fail with 0x80092004 until it is installed and the host restarted")
	case !sv.SHA2 && s.build() >= 6002:
		s.find(Info, FindingSHA2Missing, "Microsoft KB4472027",
			"SHA-2 code signing support (KB4474419) is not installed; nothing in this plan needs it yet")
	}
	switch {
	case sv.SSU == "" && sv.SSULatest != "":
		s.find(Warning, FindingSSUMissing, "servicing stack updates must precede the updates that need them (Microsoft ADV990001; WSUS Offline ESR installs the SSU first)",
			"no servicing stack update is installed; the newest this host can get is %s", sv.SSULatest)
	case sv.SSU != "" && sv.SSULatest != "" && sv.SSU != sv.SSULatest:
		if _, ok := s.has(sv.SSULatest); !ok {
			s.find(Warning, FindingSSUOld, "each SSU supersedes the previous one; rollups expect a current servicing stack",
				"the servicing stack (%s) is older than the newest this host can get (%s)", sv.SSU, sv.SSULatest)
		}
	}
	if s.o.ESU != NoESU && !s.esuOK() {
		e := h.OS.Edition
		if a.Product == "vista" {
			e = "Vista"
		}
		s.find(Critical, FindingESUNotEligible, "ESU was sold for Datacenter, Standard, Enterprise and Embedded (MicrosoftDocs lifecycle data)",
			"%s cannot get Extended Security Updates: the plan uses public updates only", e)
	}
	if s.allowed(catalog.ESU) && !sv.ESUPrep {
		s.find(Warning, FindingESUNotPrepared, "ESU updates need the Licensing Preparation Package and an activated ESU key (Microsoft ESU deployment docs)",
			"ESU is not prepared: the plan installs the Licensing Preparation Package first; activate the ESU key before the ESU-era updates, or they report \"not applicable\"")
	}
	for _, u := range a.Plan.Unavailable {
		id := map[catalog.Channel]FindingID{catalog.ESU: FindingNoESU, catalog.AzureESU: FindingNoAzureESU, catalog.Custom: FindingCustomAgreementOnly}
		if cu, ok := s.c.Get(u.KB); ok {
			sev := Info
			if cu.Channel == catalog.ESU {
				sev = Warning
			}
			s.find(sev, id[cu.Channel], "channels: lifecycle.csv (public to 2020-01-14, ESU to 2023-01-10, Azure ESU to 2024-01-09)",
				"%s", u.Why)
		}
	}
	l := a.Lifecycle
	switch {
	case l.Phase == "ended" || l.Phase == "esu" && !s.allowed(catalog.ESU) || l.Phase == "azure-esu" && !s.allowed(catalog.AzureESU):
		s.find(Critical, FindingEndOfSupport, "MicrosoftDocs/lifecycle-data (catalog/lifecycle.csv)",
			"as of %s: %s; this host gets no further security updates on its channel", l.AsOf, l.Message)
	default:
		s.find(Info, FindingLifecycle, "MicrosoftDocs/lifecycle-data (catalog/lifecycle.csv)", "as of %s: %s", l.AsOf, l.Message)
	}
	if v := h.OS.Version; v != nil && v.HasRevision() {
		if newest := s.c.NewestRevision(); v.Compare(newest) > 0 {
			s.find(Warning, FindingCatalogStale, "the catalog's revisions come from Tenable and MSRC data",
				"the host's revision %s is newer than any the catalog knows (%s): the catalog may be stale; load a newer one with --catalog", v, newest)
		}
	}
	if s.arch() == "ia64" && s.latest(catalog.Rollup) == nil {
		s.find(Warning, FindingIA64MonthlyUnknown, "MSRC's product lists name x86 and x64 for the 2008 SP2 monthly updates",
			"the catalog's sources list no monthly rollup for Itanium, so the plan has none; check the Microsoft Update Catalog for Itanium packages")
	}
	if a.PatchLevel.IsZero() && h.HotfixesKnown && s.build() != 6003 {
		s.find(Warning, FindingNoMonthlyUpdate, "the 2008 SP2 monthly rollups began in September 2018 (KB4458010)",
			"no monthly rollup or security-only update is installed: the host predates September 2018's servicing model")
	}
}

// revisionBehind reports a host whose revision (from ntoskrnl.exe or the
// registry) is older than the revision an installed monthly update
// produces: the update waits for a restart, or its install failed.
func (s *state) revisionBehind() {
	v := s.a.Host.OS.Version
	if v == nil || !v.HasRevision() {
		return
	}
	var newest *catalog.Update
	var want winver.Version
	for _, u := range s.installedUpdates() {
		if !u.Kind.Monthly() || u.Revision == "" {
			continue
		}
		r, err := winver.Parse(u.Revision)
		if err != nil || r.Build != v.Build {
			continue
		}
		if newest == nil || r.Compare(want) > 0 {
			newest, want = u, r
		}
	}
	if newest == nil || v.Compare(want) >= 0 {
		return
	}
	s.find(Warning, FindingRevisionBehindInstalled, "the revision each monthly update produces: catalog revision column (Tenable, vuls)",
		"the OS revision is %s but the installed %s (%s) brings %s: it waits for a restart or its install failed; restart, then check the revision again before installing more",
		v, newest.KB, newest.Released.YearMonth(), want)
}

// revisions notes installed updates that Microsoft re-released (the
// catalog's newest file for the host carries a revision, "-v4"), where the
// collector shows the installed CBS package version: which version each
// revision installs has no source here, so kbplan says how to check rather
// than guess.
func (s *state) revisions() {
	f := s.a.Host.Facts
	if f == nil || len(f.CBSVersions) == 0 {
		return
	}
	for _, u := range s.installedUpdates() {
		file := u.FileFor(s.arch())
		have := f.CBSVersions[u.KB]
		if file == nil || file.Revision == "" || have == "" {
			continue
		}
		s.find(Info, FindingRevisionUnknown, "re-released updates carry -vN in their Windows Update file name ("+file.Source+"); the collector's servicing-packages.txt gives the installed package version",
			"%s is installed as package version %s; Microsoft's current file is revision %s (%s), whose package version no source here gives: kbplan verify --host with that file says whether it is newer (and kbplan kit then installs it)",
			u.KB, have, file.Revision, file.Name)
	}
}
