package assess

import (
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/kbplan/kbplan/catalog"
	"github.com/kbplan/kbplan/exposure"
)

// Exposure is what a host stays exposed to: CVEs whose fix it lacks but can
// install, and CVEs it cannot fix on its channel. Both lists hold sets of
// CVEs by the update that fixes them (or the one the host cannot get): the
// CVE lists are shared by every host of a kind and computed once per
// catalog and index, not per host; Expand lists one CVE at a time. An
// Exposure may be shared by the hosts of one profile (Planner): read only.
type Exposure struct {
	Open      []ExposureSet // nil with ExposureOptions.CountsOnly
	Unfixable []ExposureSet // nil with ExposureOptions.CountsOnly
	Counts    ExposureCounts
	Index     string // the CVE index used
}

// ExposureSet is the CVEs one update fixes on a host (KB "" for CVEs
// Microsoft lists no update for), worst first, with the reason.
type ExposureSet struct {
	KB   string
	Why  string
	CVEs []*exposure.CVE // shared between hosts: read only
}

// ExposureCounts sums up Open and Unfixable.
type ExposureCounts struct {
	Open          int
	OpenCritical  int // Open with severity Critical
	OpenExploited int // Open with a public exploit
	Unfixable     int
}

// Exposed is one CVE on one host.
type Exposed struct {
	CVE      string
	KB       string // the update that fixes it here ("" when none can)
	Severity string
	Impact   string
	Exploits int
	Exploit  string
	Title    string
	Why      string
	pos      int // in the index
}

// Expand lists the CVEs of sets one by one, worst first (the index's
// order).
func Expand(sets []ExposureSet) []Exposed {
	n := 0
	for _, s := range sets {
		n += len(s.CVEs)
	}
	out := make([]Exposed, 0, n)
	for _, s := range sets {
		for _, c := range s.CVEs {
			out = append(out, Exposed{CVE: c.ID, KB: s.KB, Severity: c.Severity, Impact: c.Impact, Exploits: c.Exploits,
				Exploit: c.Exploit, Title: c.Title, Why: s.Why, pos: c.Pos})
		}
	}
	slices.SortStableFunc(out, func(a, b Exposed) int { return cmp.Compare(a.pos, b.pos) })
	return out
}

// ExposureOptions filter the exposure.
type ExposureOptions struct {
	Index       *exposure.Index
	MinSeverity string // "", Low, Moderate, Important, Critical
	Exploited   bool   // only CVEs with a public exploit
	// CountsOnly fills Exposure.Counts and leaves the lists out: what a
	// fleet's summary row needs.
	CountsOnly bool
}

// cveSet is the CVEs of one kind of host that the same updates fix: the
// fixes for its product, published by the analysis date, resolved to
// catalog rows. A host's exposure is decided once per set.
type cveSet struct {
	fixes     []exposure.Fix
	rows      []*catalog.Update // nil entries for KBs the catalog lacks
	why       string            // why it cannot be fixed, if it cannot
	cves      []*exposure.CVE   // worst first
	critical  int
	exploited int
}

type exposureKey struct {
	idx       *exposure.Index
	bit       uint8
	asOf      string
	min       int
	exploited bool
}

// setsKey is what a host's CVE sets depend on: the index, the host's kind,
// the newest fix date by the analysis date, the filters.
func (s *state) setsKey(x ExposureOptions) exposureKey {
	asOf := ""
	if !s.o.AsOf.IsZero() {
		asOf = s.p.effectivePosted(x.Index, s.o.AsOf.String())
	}
	return exposureKey{x.Index, exposure.ProductBit(s.a.Product, s.arch()), asOf, exposure.Rank(x.MinSeverity), x.Exploited}
}

// countsKey is everything a host's exposure counts depend on: its CVE
// sets (setsKey), what it has installed (fixed: a digest of its hotfixes,
// which are s.installed and s.inst) and what it can install (installable,
// through available: product, architecture, the ESU channels allowed, the
// newest release by the analysis date). The plan is not in it: it names
// which fix the host gets, not whether there is one. Hosts of one image
// and one approval list share the key: a fleet decides their counts once.
type countsKey struct {
	sets          exposureKey
	product, arch string
	esu, azure    bool
	date          catalog.Date
	state         [sha256.Size]byte
}

func (s *state) countsKey(x ExposureOptions) countsKey {
	var b []byte
	for _, kb := range s.a.Host.Hotfixes {
		b = append(append(b, kb...), 0)
	}
	return countsKey{s.setsKey(x), s.a.Product, s.arch(), s.allowed(catalog.ESU), s.allowed(catalog.AzureESU),
		s.p.effectiveDate(s.o.AsOf), sha256.Sum256(b)}
}

// The planner's memo of exposures is bounded: past maxCounts counts (about
// 100 bytes each) or maxExposures whole exposures (their own lists, tens of
// KB each; the CVE lists are shared anyway), a host's is decided for it
// alone.
const (
	maxCounts    = 1 << 14
	maxExposures = 256
)

// listsKey is a whole exposure's key (its lists): the counts' key and what
// the plan installs (an open CVE's reason says whether the plan installs
// its fix).
type listsKey struct {
	countsKey
	plan [sha256.Size]byte
}

func (s *state) listsKey(x ExposureOptions) listsKey {
	var b []byte
	for i, planned := range s.planned {
		if planned {
			b = binary.LittleEndian.AppendUint32(b, uint32(i))
		}
	}
	return listsKey{s.countsKey(x), sha256.Sum256(b)}
}

// memo returns m's value for key, deciding it once while m holds fewer
// than max values (n counts them).
func memo[K comparable, V any](m *sync.Map, n *atomic.Int64, max int64, key K, decide func() V) V {
	if v, ok := m.Load(key); ok {
		return v.(V)
	}
	v := decide()
	if n.Load() < max {
		if _, loaded := m.LoadOrStore(key, v); !loaded {
			n.Add(1)
		}
	}
	return v
}

// prepare groups the index's CVEs into sets for the host's kind, once per
// planner: thousands of CVEs share a few hundred sets of fixes.
func (s *state) prepare(x ExposureOptions) []*cveSet {
	k := s.setsKey(x)
	if v, ok := s.p.prepared.Load(k); ok {
		return v.([]*cveSet)
	}
	var out []*cveSet
	bySig := map[string]*cveSet{}
	var sig strings.Builder
	var fixes []exposure.Fix
	for _, c := range x.Index.CVEs {
		if exposure.Rank(c.Severity) < k.min || x.Exploited && c.Exploits == 0 {
			continue
		}
		noUpdate := false
		fixes = fixes[:0]
		for _, f := range c.Fixes {
			if f.Products&k.bit == 0 || k.asOf != "" && f.Posted > k.asOf {
				continue
			}
			if f.KB == "" {
				noUpdate = true
				continue
			}
			fixes = append(fixes, f)
		}
		if len(fixes) == 0 && !noUpdate {
			continue
		}
		// The set's signature: its fixes' KBs, in the index's order.
		sig.Reset()
		for _, f := range fixes {
			sig.WriteString(f.KB)
			sig.WriteByte(' ')
		}
		set := bySig[sig.String()]
		if set == nil {
			set = &cveSet{fixes: slices.Clone(fixes)}
			for _, f := range fixes {
				u, _ := s.c.Get(f.KB)
				set.rows = append(set.rows, u)
			}
			if len(fixes) > 0 {
				set.why = s.unavailableWhy(fixes)
			} else {
				set.why = "Microsoft lists no update for this CVE on this product"
			}
			bySig[sig.String()] = set
			out = append(out, set)
		}
		set.cves = append(set.cves, c)
		if c.Severity == "Critical" {
			set.critical++
		}
		if c.Exploits > 0 {
			set.exploited++
		}
	}
	// The index is worst first already: each set's CVEs, and the sets by
	// their worst CVE, are in the order the lists are shown in.
	s.p.prepared.Store(k, out)
	return out
}

// memo answers f for catalog row i once per assessment: the sets share a
// few hundred fixes.
func (s *state) memo(m []int8, i int, f func() bool) bool {
	if m[i] == 0 {
		m[i] = 1
		if f() {
			m[i] = 2
		}
	}
	return m[i] == 2
}

// exposure is the host's exposure, decided once per host profile (and
// plan, for the lists): hosts of one image share it, read only.
func (s *state) exposure(x ExposureOptions) *Exposure {
	p := s.p
	if x.CountsOnly {
		counts := memo(&p.counts, &p.countsN, maxCounts, s.countsKey(x), func() ExposureCounts { return s.decideExposure(x).Counts })
		return &Exposure{Index: x.Index.Name, Counts: counts}
	}
	return memo(&p.exposures, &p.exposuresN, maxExposures, s.listsKey(x), func() *Exposure { return s.decideExposure(x) })
}

// decideExposure decides, set by set, whether the host is exposed.
func (s *state) decideExposure(x ExposureOptions) *Exposure {
	s.coveredMemo = make([]int8, len(s.c.Updates))
	s.availableMemo = make([]int8, len(s.c.Updates))
	e := &Exposure{Index: x.Index.Name}
	// Sets that end up with the same update and reason on this host are
	// listed as one; merged lists are sorted again.
	type listed struct {
		open    bool
		kb, why string
	}
	var at map[listed]int
	if !x.CountsOnly {
		at = map[listed]int{}
	}
	type entry struct {
		open bool
		i    int
	}
	merged := map[entry]bool{}
	for _, set := range s.prepare(x) {
		if len(set.fixes) > 0 && s.fixed(set) {
			continue
		}
		kb := ""
		if len(set.fixes) > 0 {
			kb = s.installable(set)
		}
		open := kb != ""
		if open {
			e.Counts.Open += len(set.cves)
			e.Counts.OpenCritical += set.critical
			e.Counts.OpenExploited += set.exploited
		} else {
			e.Counts.Unfixable += len(set.cves)
		}
		if x.CountsOnly {
			continue
		}
		why := set.why
		switch {
		case open:
			why = s.fixedBy(kb)
		case len(set.fixes) > 0:
			kb = set.fixes[len(set.fixes)-1].KB
		}
		list := &e.Unfixable
		if open {
			list = &e.Open
		}
		key := listed{open, kb, why}
		if i, ok := at[key]; ok {
			// A list of this host's own: the sets' lists are shared.
			l := &(*list)[i]
			l.CVEs = append(slices.Clip(l.CVEs), set.cves...)
			merged[entry{open, i}] = true
			continue
		}
		at[key] = len(*list)
		*list = append(*list, ExposureSet{KB: kb, Why: why, CVEs: set.cves})
	}
	if len(merged) > 0 {
		for m := range merged {
			l := e.Unfixable
			if m.open {
				l = e.Open
			}
			slices.SortFunc(l[m.i].CVEs, func(a, b *exposure.CVE) int { return cmp.Compare(a.Pos, b.Pos) })
		}
		for _, l := range [][]ExposureSet{e.Open, e.Unfixable} {
			slices.SortStableFunc(l, func(a, b ExposureSet) int { return cmp.Compare(a.CVEs[0].Pos, b.CVEs[0].Pos) })
		}
	}
	return e
}

// fixedBy is the reason of an open CVE; one string per KB, not per CVE.
func (s *state) fixedBy(kb string) string {
	if why, ok := s.fixedWhy[kb]; ok {
		return why
	}
	why := "fixed by " + kb
	if u, ok := s.c.Get(kb); ok && s.planned != nil && s.planned[u.Index] {
		why += ", which the plan installs"
	}
	if s.fixedWhy == nil {
		s.fixedWhy = map[string]string{}
	}
	s.fixedWhy[kb] = why
	return why
}

// fixed reports whether any fix, or an update superseding it, is installed.
func (s *state) fixed(p *cveSet) bool {
	for i, u := range p.rows {
		if u != nil {
			if s.memo(s.coveredMemo, u.Index, func() bool { return s.covered(s.inst, u.Index) }) {
				return true
			}
		} else if s.installed[p.fixes[i].KB] {
			return true
		}
	}
	return false
}

// installable returns a fix the host can install: one the plan installs,
// else the newest available one.
func (s *state) installable(p *cveSet) string {
	best := ""
	for _, u := range p.rows {
		if u == nil || !s.memo(s.availableMemo, u.Index, func() bool { return s.available(u) }) {
			continue
		}
		if s.planned != nil && s.planned[u.Index] {
			return u.KB
		}
		// A planned update that supersedes the fix installs it too.
		for _, j := range s.c.SupersederIndexes(u.Index) {
			if s.planned != nil && s.planned[j] {
				return s.c.Updates[j].KB
			}
		}
		best = u.KB
	}
	return best
}

func (s *state) unavailableWhy(fixes []exposure.Fix) string {
	var ch catalog.Channel
	kb := ""
	for _, f := range fixes {
		if u, ok := s.c.Get(f.KB); ok {
			if ch == "" || channelRank(u.Channel) < channelRank(ch) {
				ch, kb = u.Channel, u.KB
			}
		}
	}
	switch ch {
	case catalog.ESU:
		return "fixed only by " + kb + ", an ESU update: the host has no ESU"
	case catalog.AzureESU:
		return "fixed only by " + kb + ", in the Azure-only fourth ESU year"
	case catalog.Custom:
		return "fixed only by " + kb + ", released after ESU ended: available only with a custom support agreement"
	case catalog.Public:
		return "fixed by " + kb + ", which does not apply to this host's product or architecture"
	}
	return "the updates MSRC names are not in the catalog for this product"
}

func channelRank(c catalog.Channel) int {
	switch c {
	case catalog.Public:
		return 0
	case catalog.ESU:
		return 1
	case catalog.AzureESU:
		return 2
	}
	return 3
}
