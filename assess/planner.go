package assess

import (
	"slices"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/kbplan/kbplan/catalog"
	"github.com/kbplan/kbplan/exposure"
	"github.com/kbplan/kbplan/inventory"
)

// Planner assesses hosts against one catalog and owns what it memoises
// for them: the plannable updates of each kind of host, the explanations,
// the CVE lists of each kind of host, the exposure and the set-aside step
// lists of each host profile. The memo tables are keyed by host profile and
// by the analysis date rounded down to the newest release that matters (so
// a fleet assessing "as of today" every day reuses them), and they live
// and die with the planner: make one per run, or one per catalog and CVE
// index in a server, and drop it when they change.
type Planner struct {
	c           *catalog.Catalog
	dates       []catalog.Date           // the catalog's release dates, sorted, unique
	bases       sync.Map                 // baseKey -> *baseList
	whys        []atomic.Pointer[string] // by catalog index: each update's reason, once made
	unconfirmed []bool                   // by catalog index: unconfirmed(update)
	prepared    sync.Map                 // exposureKey -> []prepared
	counts      sync.Map                 // countsKey -> ExposureCounts
	countsN     atomic.Int64             // entries in counts
	exposures   sync.Map                 // listsKey -> *Exposure
	exposuresN  atomic.Int64             // entries in exposures
	stepLists   sync.Map                 // list kind and update indexes -> []Step (sharedSteps)
	stepListsN  atomic.Int64             // entries in stepLists

	postedMu sync.Mutex
	posted   map[*exposure.Index][]string // each index's fix dates, sorted, unique
}

// NewPlanner makes a planner for a catalog.
func NewPlanner(c *catalog.Catalog) *Planner {
	p := &Planner{c: c, posted: map[*exposure.Index][]string{}, whys: make([]atomic.Pointer[string], len(c.Updates)),
		unconfirmed: make([]bool, len(c.Updates))}
	for i, u := range c.Updates {
		p.unconfirmed[i] = unconfirmed(u)
		if !u.Released.IsZero() {
			p.dates = append(p.dates, u.Released)
		}
	}
	slices.SortFunc(p.dates, func(a, b catalog.Date) int { return a.Compare(b) })
	p.dates = slices.CompactFunc(p.dates, func(a, b catalog.Date) bool { return a.Compare(b) == 0 })
	return p
}

// Catalog returns the planner's catalog.
func (p *Planner) Catalog() *catalog.Catalog { return p.c }

// Assess computes the assessment of one host with a throwaway planner; a
// caller that assesses many hosts makes one Planner and calls its Assess.
func Assess(h inventory.Host, c *catalog.Catalog, o Options) Assessment {
	return NewPlanner(c).Assess(h, o)
}

// effectiveDate is the newest release date on or before asOf: every
// question the memo tables answer ("released by the analysis date?") has
// the same answer for both. The zero date (no date given) stays zero, and
// so does a date before every release.
func (p *Planner) effectiveDate(asOf catalog.Date) catalog.Date {
	if asOf.IsZero() {
		return asOf
	}
	i := sort.Search(len(p.dates), func(i int) bool { return p.dates[i].Compare(asOf) > 0 })
	if i == 0 {
		return catalog.Date{Year: 1}
	}
	return p.dates[i-1]
}

// effectivePosted is, for a CVE index, the newest fix date on or before
// asOf (the dates are YYYY-MM-DD strings).
func (p *Planner) effectivePosted(idx *exposure.Index, asOf string) string {
	if asOf == "" {
		return ""
	}
	p.postedMu.Lock()
	dates, ok := p.posted[idx]
	if !ok {
		seen := map[string]bool{}
		for _, c := range idx.CVEs {
			for _, f := range c.Fixes {
				if !seen[f.Posted] {
					seen[f.Posted] = true
					dates = append(dates, f.Posted)
				}
			}
		}
		sort.Strings(dates)
		p.posted[idx] = dates
	}
	p.postedMu.Unlock()
	i := sort.SearchStrings(dates, asOf)
	if i < len(dates) && dates[i] == asOf {
		return asOf
	}
	if i == 0 {
		return "0000-00-00"
	}
	return dates[i-1]
}
