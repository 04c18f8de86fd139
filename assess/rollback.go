package assess

import (
	"fmt"
	"slices"

	"github.com/kbplan/kbplan/catalog"
	"github.com/kbplan/kbplan/inventory"
)

// Rollback answers "what happens if I uninstall KB X on this host".
type Rollback struct {
	KB          string
	Known       bool     // the catalog knows the KB
	Installed   bool     // the host lists it
	Removable   bool     // Windows lets it be uninstalled
	Dependents  []string // installed updates that name it (or what it supersedes) as a prerequisite
	BuildStays  int      // the build after removal when it cannot go back (6003), 0 otherwise
	PatchBefore catalog.Date
	PatchAfter  catalog.Date
	Notes       []Finding
}

// Uninstall computes the effect of removing kb from the host.
func Uninstall(h inventory.Host, c *catalog.Catalog, kb string, o Options) Rollback {
	r := Rollback{KB: kb}
	u, known := c.Get(kb)
	r.Known = known
	r.Installed = slices.Contains(h.Hotfixes, kb)
	note := func(sev Severity, id FindingID, fact, format string, args ...any) {
		r.Notes = append(r.Notes, Finding{ID: id, Severity: sev, Message: fmt.Sprintf(format, args...), Fact: fact})
	}
	if !r.Installed {
		note(Info, FindingNotInstalled, "the host's inventory", "%s is not in this host's list of installed updates: there is nothing to uninstall", kb)
	}
	if !known {
		note(Warning, FindingUnknownKB, "the catalog", "%s is not in the catalog: kbplan cannot tell what depends on it", kb)
		return r
	}
	r.Removable = u.Kind != catalog.SSU
	if u.Kind == catalog.SSU {
		note(Critical, FindingSSUPermanent, "servicing stack updates are permanent once installed (the product brief kbplan follows; no Microsoft page for the 2008 SSUs was at hand to quote)",
			"%s is a servicing stack update: it cannot be uninstalled", kb)
	}
	if u.Kind == catalog.ServicePack {
		note(Warning, FindingServicePack, "every later update needs the service pack",
			"%s is a service pack: removing it would strand every update installed after it; Windows may refuse once later updates depend on it", kb)
	}
	// Installed updates whose prerequisites this update satisfies.
	installed := map[string]bool{}
	for _, k := range h.Hotfixes {
		installed[k] = true
	}
	for _, k := range h.Hotfixes {
		d, ok := c.Get(k)
		if !ok || k == kb {
			continue
		}
		for _, p := range d.Prerequisites {
			if p == kb || slices.Contains(c.Superseders(p), kb) {
				if by, ok := c.Covers(without(installed, kb), p); !ok || by == "" {
					r.Dependents = append(r.Dependents, k)
				}
				break
			}
		}
	}
	if len(r.Dependents) > 0 {
		note(Critical, FindingDependents, "catalog prerequisites (each: this KB or any KB that supersedes it)",
			"%d installed updates need %s and no other installed update stands in for it (%s…): they may stop working or block later updates",
			len(r.Dependents), kb, r.Dependents[0])
	}
	if u.Kind == catalog.SHA2 {
		note(Critical, FindingSHA2, "Microsoft KB4472027: updates from July 2019 are SHA-2 signed",
			"without SHA-2 code signing support, updates from July 2019 on can no longer be installed or verified (0x80092004)")
	}
	if u.Build == 6003 || u.RaisesBuild == 6003 {
		r.BuildStays = 6003
		note(Warning, FindingBuildStays6003, "the 6003 build comes from the servicing stack and monthly updates, which stay; reverting it is not supported (the product brief kbplan follows; no Microsoft page was at hand to quote)",
			"the build stays 6003 after uninstalling %s: the 6002 to 6003 change is not undone", kb)
	}
	before := Assess(h, c, o)
	h2 := h
	h2.Hotfixes = slices.DeleteFunc(slices.Clone(h.Hotfixes), func(k string) bool { return k == kb })
	after := Assess(h2, c, o)
	r.PatchBefore, r.PatchAfter = before.PatchLevel, after.PatchLevel
	if r.PatchBefore != r.PatchAfter {
		note(Warning, FindingPatchLevel, "monthly rollups are cumulative since 2018-09; security-only updates are not",
			"the host's patch level drops from %s to %s", orNever(r.PatchBefore), orNever(r.PatchAfter))
	}
	note(Info, FindingWayBack, "Windows has no supported way to undo a servicing change other than a restore",
		"the supported way back is a restore from a backup taken before the update (system state or full image), not an uninstall")
	return r
}

func without(m map[string]bool, k string) map[string]bool {
	out := make(map[string]bool, len(m))
	for x, v := range m {
		if x != k {
			out[x] = v
		}
	}
	return out
}

func orNever(d catalog.Date) string {
	if d.IsZero() {
		return "no monthly update"
	}
	return d.YearMonth()
}
