package main

import (
	"slices"
	"sort"
	"strings"
)

// components says what an MSRC-only update applies to, from the products
// and components MSRC lists for its KB (data/wesng-cves-nt60.md): the OS
// itself (returned as ""), or products a host may lack. Before 2016 MSRC
// names the OS as the product and the IE or .NET version as the component;
// from 2016 it names "Internet Explorer 9 on Windows Server 2008 ..." and
// ".NET Framework 4.6 on ..." as products.
func components(products, comps map[string]bool) string {
	set := map[string]bool{}
	for p := range products {
		if i := strings.Index(p, " on Windows"); i > 0 {
			set[componentOf(p[:i])] = true
		}
	}
	osRows := false
	for p := range products {
		if strings.HasPrefix(p, "Windows Server 2008") || strings.HasPrefix(p, "Windows Vista") {
			osRows = true
		}
	}
	if osRows {
		if len(comps) == 0 {
			set["os"] = true
		}
		for c := range comps {
			set[componentOf(c)] = true
		}
	}
	if set["os"] || len(set) == 0 {
		return ""
	}
	var out []string
	for c := range set {
		for _, x := range strings.Split(c, ";") {
			if !contains(out, x) {
				out = append(out, x)
			}
		}
	}
	sort.Strings(out)
	return strings.Join(out, ";")
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

// componentOf maps one MSRC product or component name to kbplan's
// component ids (catalog/roles.go); "os" for anything that ships with
// the OS.
func componentOf(name string) string {
	n := strings.ToLower(name)
	has := func(s ...string) bool {
		for _, x := range s {
			if strings.Contains(n, x) {
				return true
			}
		}
		return false
	}
	switch {
	case has("internet explorer 7"):
		return "ie7"
	case has("internet explorer 8", "vbscript 5.8", "jscript 5.8"):
		return "ie8"
	case has("internet explorer 9"):
		return "ie9"
	case n == "internet explorer" || n == "microsoft browsers":
		// MSRC's post-2016 component name: on Server 2008 SP2 only IE 9
		// was supported then (Microsoft's January 2016 IE support policy).
		return "ie9"
	case has(".net framework 1."):
		return "dotnet11"
	case has(".net framework 2.0", ".net framework 3.0"):
		return "dotnet20"
	case has(".net framework 3.5"):
		return "dotnet35"
	case has(".net framework 4"):
		return "dotnet4"
	case has(".net framework", ".net and visual studio", "asp .net", "asp.net", "silverlight"):
		return "dotnet20;dotnet35;dotnet4"
	case has("xml core services 4"):
		return "msxml4"
	case has("federation services"):
		return "adfs"
	case has("ftp service 7"):
		return "ftp7"
	case has("windows media services"):
		return "wms"
	case has("windows media encoder"):
		return "wme"
	case has("windows live mail"):
		return "wlm"
	case n == "microsoft office":
		return "office"
	}
	return "os"
}

// family names the cumulative family of an update: IE cumulative security
// updates (MSRC titles "Cumulative Security Update for Internet Explorer";
// every IE 9 update since 2016).
func familyOf(kind, title string) string {
	if kind == "ie" || strings.Contains(title, "Cumulative Security Update for Internet Explorer") {
		return "ie-cumulative"
	}
	return ""
}

// dotnetRollups finds the .NET Framework 2.0 SP2/3.0 SP2 Security and
// Quality Rollups and their security-only partners. Since October 2016
// Microsoft ships .NET fixes for Server 2008 SP2 as a monthly pair: a
// cumulative Security and Quality Rollup and a Security Only update (the
// updateVista titles "Security and Quality Rollup for NET2.0SP2"; WSUS
// Offline ESR's StaticUpdateIds-w60-seconly.txt lists the security-only
// member of each month). MSRC lists both members of a pair with the same
// CVEs and no word on which is which, but only the rollup carries
// Supersedes entries, and only a rollup is superseded by a later one. So:
// of two .NET 2.0 SP2 updates of the monthly era with the same CVE set,
// the rollup is the one that is not in WSUS Offline's security-only list,
// else the one a later .NET update supersedes, else the one that lists
// superseded updates, and the other is its security-only partner. The rollup joins the dotnet-rollup family (chainFamilies
// links the members) and supersedes its partner; a pair the rule cannot
// decide is left as two updates, with a note.
func dotnetRollups(rows map[string]row, msrc map[string]*msrcKB, seconly map[string]bool) {
	groups := map[string][]string{}
	partners := map[string]bool{}
	for kb, r := range rows {
		m := msrc[kb]
		if m == nil || r["kind"] != "dotnet" || !slices.Contains(strings.Split(r["components"], ";"), "dotnet20") || r["released"] < "2016-10" {
			continue
		}
		key := strings.Join(sortedKeys(m.cves), ";")
		groups[key] = append(groups[key], kb)
	}
	for _, kbs := range groups {
		if len(kbs) != 2 {
			continue
		}
		sort.Strings(kbs)
		a, b := kbs[0], kbs[1]
		roll, only := "", ""
		supA, supB := supersededByDotNet(rows, a), supersededByDotNet(rows, b)
		switch {
		case seconly[a] && !seconly[b]:
			roll, only = b, a
		case seconly[b] && !seconly[a]:
			roll, only = a, b
		case supA && !supB:
			roll, only = a, b
		case supB && !supA:
			roll, only = b, a
		case len(msrc[a].sup) > 0 && len(msrc[b].sup) == 0:
			roll, only = a, b
		case len(msrc[b].sup) > 0 && len(msrc[a].sup) == 0:
			roll, only = b, a
		default:
			for _, kb := range kbs {
				rows[kb]["notes"] = note(rows[kb]["notes"], "MSRC lists "+a+" and "+b+" for the same CVEs; which is the .NET rollup and which the security-only update is not known from the sources here, so both are planned")
			}
			continue
		}
		r := rows[roll]
		r["family"] = "dotnet-rollup"
		why := "the .NET Framework 2.0 SP2/3.0 SP2 Security and Quality Rollup of " + r["released"][:7] + " (same CVEs as " + only + "; MSRC lists superseded updates only for the rollup"
		if seconly[only] {
			why += "; WSUS Offline ESR StaticUpdateIds-w60-seconly.txt lists " + only + " as the month's security-only update"
		}
		why += ")"
		r["notes"] = note(r["notes"], why)
		addEdge(r, only, "dotnet-rollup: the rollup carries the fixes of its security-only partner "+only)
		rows[only]["notes"] = note(rows[only]["notes"], ".NET security-only update: its month's rollup "+roll+" carries the same fixes")
		partners[only] = true
	}
	// Security-only updates are not cumulative: an MSRC edge between two
	// of them does not make the older one unnecessary.
	for kb := range partners {
		r := rows[kb]
		var keep []string
		for _, s := range kbs(r["supersedes"]) {
			if partners[s] {
				r["notes"] = note(r["notes"], "MSRC's edge to "+s+" dropped: .NET security-only updates are not cumulative")
				continue
			}
			keep = append(keep, s)
		}
		r["supersedes"] = strings.Join(keep, ";")
	}
	for _, r := range rows {
		if strings.Contains(r["title"], "Security and Quality Rollup for NET2.0SP2") && r["family"] == "" {
			r["family"] = "dotnet-rollup"
		}
	}
}

// dotnetSecurityOnly is the set of .NET security-only updates WSUS Offline
// ESR's security-only list names.
func dotnetSecurityOnly(lists []map[string]string) map[string]bool {
	out := map[string]bool{}
	for _, l := range lists {
		if strings.Contains(l["list"], "seconly") && strings.Contains(l["title"], ".NET Framework") {
			out[l["kb"]] = true
		}
	}
	return out
}

// supersededByDotNet says whether another .NET update's row supersedes kb.
func supersededByDotNet(rows map[string]row, kb string) bool {
	for _, r := range rows {
		if r["kind"] == "dotnet" && r["kb"] != kb && slices.Contains(kbs(r["supersedes"]), kb) {
			return true
		}
	}
	return false
}
