package assess

import (
	"github.com/kbplan/kbplan/catalog"
	"github.com/kbplan/kbplan/exposure"
)

// Exposure is what a host stays exposed to: CVEs whose fix it lacks but can
// install, and CVEs it cannot fix on its channel.
type Exposure struct {
	Open      []Exposed // nil with ExposureOptions.CountsOnly
	Unfixable []Exposed // nil with ExposureOptions.CountsOnly
	Counts    ExposureCounts
	Index     string // the CVE index used
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
}

// ExposureOptions filter the exposure.
type ExposureOptions struct {
	Index       *exposure.Index
	MinSeverity string // "", Low, Moderate, Important, Critical
	Exploited   bool   // only CVEs with a public exploit
	// CountsOnly fills Exposure.Counts and leaves the lists out: what a
	// fleet's summary row needs, at a fraction of the cost.
	CountsOnly bool
}

// prepared is a CVE reduced to what one kind of host needs: the fixes for
// its product, published by the analysis date, resolved to catalog rows.
type prepared struct {
	cve      *exposure.CVE
	noUpdate bool
	fixes    []exposure.Fix
	rows     []*catalog.Update // nil entries for KBs the catalog lacks
	why      string            // why it cannot be fixed, if it cannot
}

type exposureKey struct {
	idx       *exposure.Index
	bit       uint8
	asOf      string
	min       int
	exploited bool
}

func (s *state) prepare(x ExposureOptions) []prepared {
	asOf := ""
	if !s.o.AsOf.IsZero() {
		asOf = s.p.effectivePosted(x.Index, s.o.AsOf.String())
	}
	k := exposureKey{x.Index, exposure.ProductBit(s.a.Product, s.arch()), asOf, exposure.Rank(x.MinSeverity), x.Exploited}
	if v, ok := s.p.prepared.Load(k); ok {
		return v.([]prepared)
	}
	var out []prepared
	for _, c := range x.Index.CVEs {
		if exposure.Rank(c.Severity) < k.min || x.Exploited && c.Exploits == 0 {
			continue
		}
		p := prepared{cve: c}
		for _, f := range c.Fixes {
			if f.Products&k.bit == 0 || k.asOf != "" && f.Posted > k.asOf {
				continue
			}
			if f.KB == "" {
				p.noUpdate = true
				continue
			}
			u, _ := s.c.Get(f.KB)
			p.fixes = append(p.fixes, f)
			p.rows = append(p.rows, u)
		}
		switch {
		case len(p.fixes) > 0:
			p.why = s.unavailableWhy(p.fixes)
			out = append(out, p)
		case p.noUpdate:
			p.why = "Microsoft lists no update for this CVE on this product"
			out = append(out, p)
		}
	}
	// The index is worst first already: the order the lists are shown in.
	s.p.prepared.Store(k, out)
	return out
}

// memo answers f for catalog row i once per assessment: thousands of
// CVEs share a few hundred fixes.
func (s *state) memo(m []int8, i int, f func() bool) bool {
	if m[i] == 0 {
		m[i] = 1
		if f() {
			m[i] = 2
		}
	}
	return m[i] == 2
}

func (s *state) exposure(x ExposureOptions) *Exposure {
	s.coveredMemo = make([]int8, len(s.c.Updates))
	s.availableMemo = make([]int8, len(s.c.Updates))
	e := &Exposure{Index: x.Index.Name}
	all := s.prepare(x)
	if !x.CountsOnly {
		e.Open = make([]Exposed, 0, len(all))
	}
	for _, p := range all {
		c := p.cve
		open, kb := false, ""
		if len(p.fixes) > 0 && s.fixed(p) {
			continue
		}
		if len(p.fixes) > 0 {
			kb = s.installable(p)
			open = kb != ""
		}
		if open {
			e.Counts.Open++
			if c.Severity == "Critical" {
				e.Counts.OpenCritical++
			}
			if c.Exploits > 0 {
				e.Counts.OpenExploited++
			}
		} else {
			e.Counts.Unfixable++
		}
		if x.CountsOnly {
			continue
		}
		item := Exposed{CVE: c.ID, Severity: c.Severity, Impact: c.Impact, Exploits: c.Exploits, Exploit: c.Exploit, Title: c.Title}
		switch {
		case open:
			item.KB, item.Why = kb, s.fixedBy(kb)
			e.Open = append(e.Open, item)
		case len(p.fixes) > 0:
			item.KB, item.Why = p.fixes[len(p.fixes)-1].KB, p.why
			e.Unfixable = append(e.Unfixable, item)
		default:
			item.Why = p.why
			e.Unfixable = append(e.Unfixable, item)
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
func (s *state) fixed(p prepared) bool {
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
func (s *state) installable(p prepared) string {
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
