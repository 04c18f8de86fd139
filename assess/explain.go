package assess

import (
	"fmt"
	"slices"
	"strings"

	"github.com/kbplan/kbplan/catalog"
)

// Explanation says where one update stands in a host's assessment and why:
// the answer to "why is KBx (not) in my plan?".
type Explanation struct {
	KB     string
	Status string   // planned, installed, replaced, conditional, unconfirmed, unavailable, not-applicable, not-released, not-planned, unknown
	Lines  []string // the reasoning, one fact a line, each with its source
}

// Explain explains kb for the host of an assessment made with c.
func Explain(a Assessment, c *catalog.Catalog, kb string) Explanation {
	kb = strings.ToUpper(strings.TrimSpace(kb))
	e := Explanation{KB: kb}
	say := func(format string, args ...any) { e.Lines = append(e.Lines, fmt.Sprintf(format, args...)) }
	u, ok := c.Get(kb)
	if !ok {
		e.Status = "unknown"
		say("%s is not in the catalog %s: kbplan knows nothing of it (kbplan catalog list shows what it knows)", kb, c.Name)
		return e
	}
	say("%s: %s (%s, released %s, channel %s)", u.KB, u.Title, u.Kind, orUnknown(u.Released.String()), u.Channel)
	say("sources: %s", strings.Join(evidence(u), ", "))
	if len(u.Supersedes) > 0 {
		say("it replaces %s", strings.Join(u.Supersedes, ", "))
	}
	find := func(steps []Step) (int, bool) {
		i := slices.IndexFunc(steps, func(s Step) bool { return s.KB == kb })
		return i, i >= 0
	}
	installed := map[string]bool{}
	for _, h := range a.Host.Hotfixes {
		installed[h] = true
	}
	planned := map[string]bool{}
	for _, s := range a.Plan.Steps {
		planned[s.KB] = true
	}
	switch {
	case !a.InScope:
		e.Status = "not-planned"
		say("the host is out of scope: kbplan makes no plan for it")
	case installed[kb]:
		e.Status = "installed"
		say("it is installed: the host's inputs list it")
	default:
		if i, ok := find(a.Plan.Steps); ok {
			e.Status = "planned"
			say("planned as step %d: %s", i+1, a.Plan.Steps[i].Why)
			break
		}
		for _, l := range []struct {
			steps  []Step
			status string
		}{{a.Plan.Unconfirmed, "unconfirmed"}, {a.Plan.Conditional, "conditional"}, {a.Plan.Unavailable, "unavailable"}} {
			if i, ok := find(l.steps); ok && e.Status == "" {
				e.Status = l.status
				say("%s: %s", l.status, l.steps[i].Why)
			}
		}
		if e.Status != "" {
			break
		}
		hasComp := u.ForOS() || slices.ContainsFunc(u.Components, func(c catalog.Component) bool {
			return slices.ContainsFunc(a.Components, func(h HostComponent) bool { return h.ID == c })
		})
		// What replaces it: installed, planned, unconfirmed (those apply
		// to the host), or conditional for an update the host does not
		// need either.
		for _, l := range []struct {
			set  map[string]bool
			what string
		}{{installed, "installed"}, {planned, "planned"}, {kbSet(a.Plan.Unconfirmed), "unconfirmed"}, {kbSet(a.Plan.Conditional), "conditional"}} {
			if l.what == "conditional" && hasComp {
				continue
			}
			if by, ok := c.Covers(l.set, kb); ok {
				e.Status = "replaced"
				say("not needed: the %s %s replaces it (%s)", l.what, by, chain(c, by, kb))
				break
			}
		}
		if e.Status != "" {
			break
		}
		switch {
		case !u.AppliesTo(a.Product, a.Host.OS.Architecture):
			e.Status = "not-applicable"
			say("it is for %s %s, not this %s %s host", strings.Join(u.Products, "/"), strings.Join(u.Architectures, "/"), a.Product, a.Host.OS.Architecture)
		case !a.Lifecycle.AsOf.IsZero() && !u.Released.IsZero() && u.Released.Compare(a.Lifecycle.AsOf) > 0:
			e.Status = "not-released"
			say("it was released after the analysis date %s", a.Lifecycle.AsOf)
		case u.Channel != catalog.Public && a.Plan.Channel == catalog.Public:
			e.Status = "unavailable"
			say("its channel (%s) is not open to this host: --esu or --esu=azure opens the ESU years", u.Channel)
		default:
			e.Status = "not-planned"
			say("not planned: a %s update is planned only when a plan rule needs it (the servicing chain, the strategy's monthly updates)", u.Kind)
		}
	}
	return e
}

func kbSet(steps []Step) map[string]bool {
	set := make(map[string]bool, len(steps))
	for _, s := range steps {
		set[s.KB] = true
	}
	return set
}

// chain is the supersedence path from the newer update down to kb.
func chain(c *catalog.Catalog, newer, kb string) string {
	// Breadth-first from kb up through SupersededBy until newer is reached.
	prev := map[string]string{kb: ""}
	queue := []string{kb}
	for len(queue) > 0 {
		k := queue[0]
		queue = queue[1:]
		if k == newer {
			break
		}
		for _, s := range c.SupersededBy(k) {
			if _, seen := prev[s]; !seen {
				prev[s] = k
				queue = append(queue, s)
			}
		}
	}
	if _, ok := prev[newer]; !ok {
		return newer + " supersedes " + kb
	}
	var path []string
	for k := newer; k != ""; k = prev[k] {
		path = append(path, k)
	}
	return strings.Join(path, " supersedes ")
}
