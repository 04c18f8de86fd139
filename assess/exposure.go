package assess

import (
	"fmt"
	"sort"

	"github.com/kbplan/kbplan/catalog"
	"github.com/kbplan/kbplan/exposure"
)

// Exposure is what a host stays exposed to: CVEs whose fix it lacks but can
// install, and CVEs it cannot fix on its channel.
type Exposure struct {
	Open      []Exposed
	Unfixable []Exposed
	Index     string // the CVE index used
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
}

func (s *state) exposure(x ExposureOptions) *Exposure {
	e := &Exposure{Index: x.Index.Name}
	bit := exposure.ProductBit(s.a.Product, s.arch())
	asOf := s.o.AsOf.String()
	min := exposure.Rank(x.MinSeverity)
	for _, c := range x.Index.CVEs {
		if exposure.Rank(c.Severity) < min || x.Exploited && c.Exploits == 0 {
			continue
		}
		var fixes []exposure.Fix
		noUpdate := false
		for _, f := range c.Fixes {
			if f.Products&bit == 0 || asOf != "" && f.Posted > asOf {
				continue
			}
			if f.KB == "" {
				noUpdate = true
				continue
			}
			fixes = append(fixes, f)
		}
		if len(fixes) == 0 && !noUpdate {
			continue // not listed for this product, or not yet published
		}
		item := Exposed{CVE: c.ID, Severity: c.Severity, Impact: c.Impact, Exploits: c.Exploits, Exploit: c.Exploit, Title: c.Title}
		if len(fixes) == 0 {
			item.Why = "Microsoft lists no update for this CVE on this product"
			e.Unfixable = append(e.Unfixable, item)
			continue
		}
		if s.fixed(fixes) {
			continue
		}
		if kb := s.installable(fixes); kb != "" {
			item.KB = kb
			item.Why = "fixed by " + kb
			if s.planned != nil {
				if u, ok := s.c.Get(kb); ok && s.planned[u.Index] {
					item.Why += ", which the plan installs"
				}
			}
			e.Open = append(e.Open, item)
			continue
		}
		item.KB = fixes[len(fixes)-1].KB
		item.Why = s.unavailableWhy(fixes)
		e.Unfixable = append(e.Unfixable, item)
	}
	worst := func(l []Exposed) {
		sort.SliceStable(l, func(i, j int) bool {
			if a, b := exposure.Rank(l[i].Severity), exposure.Rank(l[j].Severity); a != b {
				return a > b
			}
			if l[i].Exploits != l[j].Exploits {
				return l[i].Exploits > l[j].Exploits
			}
			return l[i].CVE > l[j].CVE
		})
	}
	worst(e.Open)
	worst(e.Unfixable)
	return e
}

// fixed reports whether any fix, or an update superseding it, is installed.
func (s *state) fixed(fixes []exposure.Fix) bool {
	for _, f := range fixes {
		if u, ok := s.c.Get(f.KB); ok {
			if s.covered(s.inst, u.Index) {
				return true
			}
		} else if s.installed[f.KB] {
			return true
		}
	}
	return false
}

// installable returns a fix the host can install: one the plan installs,
// else the newest available one.
func (s *state) installable(fixes []exposure.Fix) string {
	best := ""
	for _, f := range fixes {
		u, ok := s.c.Get(f.KB)
		if !ok || !s.available(u) {
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
		return fmt.Sprintf("fixed only by %s, an ESU update: the host has no ESU", kb)
	case catalog.AzureESU:
		return fmt.Sprintf("fixed only by %s, in the Azure-only fourth ESU year", kb)
	case catalog.Custom:
		return fmt.Sprintf("fixed only by %s, released after ESU ended: available only with a custom support agreement", kb)
	case catalog.Public:
		return fmt.Sprintf("fixed by %s, which does not apply to this host's product or architecture", kb)
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
