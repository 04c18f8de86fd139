package inventory

import (
	"slices"
	"strings"

	"github.com/kbplan/kbplan/winver"
)

// Merge combines the hosts read from several inputs of one machine (say a
// systeminfo, a wmic qfe and a reg query) into one Host. Hotfix lists are
// united; for single-valued fields the first input that carries the field
// wins, except the version, where the one with the most detail (a revision)
// or else the highest build wins. Every disagreement becomes a warning that
// says which inputs disagree and why it matters.
func Merge(hosts ...Host) Host {
	if len(hosts) == 1 {
		return hosts[0]
	}
	var m Host
	var sources, formats, encodings []string
	for _, h := range hosts {
		sources = append(sources, h.Source)
		formats = append(formats, h.Format)
		encodings = append(encodings, h.Encoding)
		for _, w := range h.Warnings {
			m.Warnings = append(m.Warnings, h.Source+": "+w)
		}
		for _, w := range h.Disagreements {
			m.Disagreements = append(m.Disagreements, h.Source+": "+w)
		}
	}
	m.Source = strings.Join(sources, "+")
	m.Format = strings.Join(formats, "+")
	m.Encoding = strings.Join(encodings, "+")

	pickString(&m, hosts, "hostname", func(h *Host) *string { return &h.Hostname }, true,
		"the inputs may come from different machines")
	pickString(&m, hosts, "product", func(h *Host) *string { return &h.OS.Product }, false,
		"the product decides which updates apply")
	pickString(&m, hosts, "edition", func(h *Host) *string { return &h.OS.Edition }, false,
		"the edition is informational; check which input is current")
	pickString(&m, hosts, "architecture", func(h *Host) *string { return &h.OS.Architecture }, false,
		"x86, x64 and ia64 take different packages")
	pickString(&m, hosts, "OS name", func(h *Host) *string { return &h.OS.Name }, false, "")
	pickString(&m, hosts, "language", func(h *Host) *string { return &h.OS.Language }, false, "")
	pickString(&m, hosts, "build lab", func(h *Host) *string { return &h.OS.BuildLab }, false, "")

	for _, h := range hosts {
		if h.OS.ServerCore != nil && m.OS.ServerCore == nil {
			m.OS.ServerCore = h.OS.ServerCore
		}
		if h.Facts != nil && m.Facts == nil {
			m.Facts = h.Facts
		}
		if h.HotfixesKnown {
			m.HotfixesKnown = true
			m.Hotfixes = append(m.Hotfixes, h.Hotfixes...)
		}
	}
	mergeVersion(&m, hosts)
	if m.OS.Product != "" && m.OS.Architecture != "" && m.HotfixesKnown {
		// Another input filled what a ver banner lacks.
		m.Warnings = slices.DeleteFunc(m.Warnings, func(w string) bool { return strings.HasSuffix(w, ": "+VerLimits) })
	}
	m.Finish()
	return m
}

// VerLimits is the warning on a host read from a ver banner alone; Merge
// drops it once another input supplies the product, architecture and
// installed updates.
const VerLimits = "ver does not tell Windows Server 2008 from Windows Vista, nor the architecture or installed updates; add a systeminfo for those"

func pickString(m *Host, hosts []Host, field string, get func(*Host) *string, fold bool, why string) {
	var from string
	for i := range hosts {
		v := *get(&hosts[i])
		if v == "" {
			continue
		}
		cur := get(m)
		switch {
		case *cur == "":
			*cur, from = v, hosts[i].Source
		case *cur != v && !(fold && strings.EqualFold(*cur, v)) && why != "":
			m.Disagreef("%s disagrees: %s says %q, %s says %q; kbplan uses %q (%s)", field, from, *cur, hosts[i].Source, v, *cur, why)
		}
	}
}

func mergeVersion(m *Host, hosts []Host) {
	var best *Host
	for i := range hosts {
		h := &hosts[i]
		if h.OS.Version == nil {
			continue
		}
		if best == nil {
			best = h
			continue
		}
		b, v := *best.OS.Version, *h.OS.Version
		if b.Short() != v.Short() {
			m.Disagreef("build disagrees: %s says %s, %s says %s; %s", best.Source, b.Short(), h.Source, v.Short(), buildWhy(b, v))
		} else if b.HasRevision() && v.HasRevision() && b.Revision != v.Revision {
			m.Disagreef("revision disagrees: %s says %s, %s says %s; the inputs were taken at different times or a restart is pending",
				best.Source, b, h.Source, v)
		}
		// Between builds of one OS version the highest wins (an update that
		// raised 6002 to 6003 shows in the registry before the restart), and
		// an unknown revision sorts first, so the input with a revision wins.
		// Different OS versions cannot both be right: the first input stands.
		if v.Major == b.Major && v.Minor == b.Minor && v.Compare(b) > 0 {
			best = h
		}
	}
	if best == nil {
		return
	}
	v := *best.OS.Version
	if !v.HasRevision() {
		// A revision from an input of the same build still applies.
		for _, h := range hosts {
			if h.OS.Version != nil && h.OS.Version.HasRevision() && h.OS.Version.Short() == v.Short() {
				v.Revision = h.OS.Version.Revision
				break
			}
		}
	}
	m.SetVersion(v)
	for _, h := range hosts {
		if h.OS.ServicePack != nil && m.OS.ServicePack == nil {
			m.OS.ServicePack = h.OS.ServicePack
		}
	}
}

func buildWhy(a, b winver.Version) string {
	if a.IsNT60() && b.IsNT60() && min(a.Build, b.Build) == 6002 && max(a.Build, b.Build) == 6003 {
		return "an update that raises the build to 6003 is installed but the host has not restarted since, or the inputs were taken at different times; kbplan uses the higher build"
	}
	if a.Major != b.Major || a.Minor != b.Minor {
		return "different Windows versions cannot both be right: the inputs come from different machines (or, under Wine, its registry keeps Windows 7 values); kbplan uses the first input's"
	}
	return "the inputs were taken at different times; kbplan uses the higher build"
}

// GroupByHost puts inputs naming the same host together (host names compare
// without case, as Windows compares them), in input order; inputs without a
// host name join the single named host if there is one, else form a group
// of their own. Each group is one host for Merge.
func GroupByHost(hosts []Host) [][]Host {
	var order []string
	groups := map[string][]Host{}
	var anon []Host
	for _, h := range hosts {
		k := strings.ToUpper(h.Hostname)
		if k == "" {
			anon = append(anon, h)
			continue
		}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], h)
	}
	var out [][]Host
	for _, k := range order {
		out = append(out, groups[k])
	}
	switch {
	case len(out) == 1:
		out[0] = append(out[0], anon...)
	case len(anon) > 0:
		out = append(out, anon)
	}
	return out
}
