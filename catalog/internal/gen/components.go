package main

import (
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
