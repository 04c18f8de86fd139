package assess

import (
	"fmt"
	"strings"

	"github.com/kbplan/kbplan/authenticode"
	"github.com/kbplan/kbplan/catalog"
	"github.com/kbplan/kbplan/inventory"
	"github.com/kbplan/kbplan/msu"
	"github.com/kbplan/kbplan/winver"
)

// PackageFacts is what kbplan read from an update package file (package
// msu and authenticode): assess needs no file access to judge it.
type PackageFacts struct {
	KB            string
	Architecture  string   // "x86", "x64", "ia64"; "" when the package does not say
	Applicability []string // pkgProperties ApplicabilityInfo entries
	SHA1Signed    bool     // carries a valid SHA-1 signature
	SHA2Signed    bool     // carries a valid SHA-256 (or stronger) signature
	IsUpdate      bool     // an .msu or update cabinet (it has update.mum or pkgProperties)
	Genuine       bool     // signed, every signature valid and chained to a trusted root
	// Version is the CBS identity version of the package's update
	// (update.mum assemblyIdentity), "" when it has none: a re-released
	// update carries a higher one.
	Version string
	// Restart is update.mum's restart requirement: "required", "possible",
	// or "" when it does not say.
	Restart string
}

// FactsOf gathers what JudgePackage needs from a read package and its
// verified signatures.
func FactsOf(p *msu.Package, sigs []authenticode.Signature, sigErr error) PackageFacts {
	f := PackageFacts{KB: p.KB, Architecture: p.Architecture, Applicability: p.Applicability,
		IsUpdate: p.Format == "msu" || len(p.Updates) > 0, Genuine: authenticode.Genuine(sigs, sigErr)}
	for _, s := range sigs {
		if !s.Valid {
			continue
		}
		if s.DigestAlgorithm == "sha1" {
			f.SHA1Signed = true
		} else {
			f.SHA2Signed = true
		}
	}
	for _, u := range p.Updates {
		if u.KB == p.KB || u.KB == "" {
			f.Version, f.Restart = u.Identity.Version, u.Restart
			break
		}
	}
	return f
}

// Verdict values: whether a package will install on a host.
const (
	WillInstall           = "will-install"
	FailsSHA2             = "fails-0x80092004"
	NotApplicable         = "not-applicable"
	InstalledOrSuperseded = "installed-or-superseded"
	NotGenuine            = "not-genuine"
	VerdictUnknown        = "unknown"
)

// PackageVerdict is the verdict for one package on one host.
type PackageVerdict struct {
	Verdict string `json:"verdict"`
	Message string `json:"message"`
	Fact    string `json:"fact"`
}

// JudgePackage says whether a package will install on h: the checks
// wusa.exe makes, in its order (applicability, already installed), and
// the SHA-2 signature check that fails with 0x80092004 on a host without
// working SHA-2 code signing support.
func JudgePackage(h inventory.Host, c *catalog.Catalog, p PackageFacts) PackageVerdict {
	v := func(verdict, fact, format string, args ...any) PackageVerdict {
		return PackageVerdict{Verdict: verdict, Fact: fact, Message: fmt.Sprintf(format, args...)}
	}
	if !p.IsUpdate {
		return v(VerdictUnknown, "an update package holds update.mum or a -pkgProperties.txt", "cannot tell: the file is a cabinet but not an update package")
	}
	if !p.Genuine {
		return v(NotGenuine, "Windows installs only packages whose signature verifies to a trusted root",
			"will not install: the package is not genuine (unsigned, altered, or signed by an untrusted key)")
	}
	if h.OS.Version == nil {
		return v(VerdictUnknown, "the inventory carries no OS version", "cannot tell: the inventory does not say which Windows this is")
	}
	if !h.InScope() {
		return v(NotApplicable, "kbplan judges packages for Windows NT 6.0 only",
			"not applicable: the host runs %s %s, not Windows Server 2008 SP2 or Vista", h.OS.Product, h.OS.Version.Short())
	}
	if p.Architecture != "" && h.OS.Architecture != "" && p.Architecture != h.OS.Architecture {
		return v(NotApplicable, "wusa.exe matches the package's processor architecture to the host's (pkgProperties Processor Architecture)",
			"not applicable: %s package on an %s host", p.Architecture, h.OS.Architecture)
	}
	if len(p.Applicability) > 0 && !appliesTo(p.Applicability, h) {
		return v(NotApplicable, "pkgProperties ApplicabilityInfo lists the systems a package applies to",
			"not applicable: the package is for %s", strings.Join(p.Applicability, ", "))
	}
	installed := map[string]bool{}
	for _, kb := range h.Hotfixes {
		installed[kb] = true
	}
	if p.KB != "" {
		if by, ok := c.Covers(installed, p.KB); ok {
			if newer, have := newerRevision(h, p); by == p.KB && newer {
				return v(WillInstall, "the CBS package name on the host (servicing\\Packages Package_for_KB…~VERSION.mum, collector) against the package's update.mum assemblyIdentity version",
					"will install: %s is on the host as package version %s, and this file is the newer %s (Microsoft re-released the update)", p.KB, have, p.Version)
			}
			if by == p.KB {
				return v(InstalledOrSuperseded, "wusa.exe exits 2359302 (0x240006) for an installed update",
					"already installed: %s is on the host", p.KB)
			}
			return v(InstalledOrSuperseded, "catalog supersedence: an installed update replaces this one",
				"already superseded: the installed %s replaces %s", by, p.KB)
		}
	}
	if p.SHA2Signed && !p.SHA1Signed {
		kbSHA2 := "KB4474419" // named in the message only when the catalog lacks the role
		sha2, ok := "", false
		if u := c.Role(catalog.RoleSHA2); u != nil {
			kbSHA2 = u.KB
			sha2, ok = c.Covers(installed, u.KB)
		}
		switch {
		case !ok:
			return v(FailsSHA2, "Microsoft KB4472027: updates signed with SHA-2 only need SHA-2 code signing support",
				"will fail with 0x80092004: the package is signed with SHA-2 only and SHA-2 support (%s) is missing; install it and restart first", kbSHA2)
		case h.Facts != nil && h.Facts.SHA2Active != nil && !*h.Facts.SHA2Active:
			return v(FailsSHA2, "SHA-2 support counts only after the restart that follows its install (collector: reg-sha2.txt)",
				"will fail with 0x80092004: %s is installed but SHA-2 support is not active yet: restart first", sha2)
		}
	}
	return v(WillInstall, "architecture, applicability, installed updates and signature algorithms checked",
		"will install")
}

// appliesTo matches ApplicabilityInfo entries ("Windows Server 2008 SP2",
// "Windows Vista SP1", "Windows 6.0") to the host.
func appliesTo(list []string, h inventory.Host) bool {
	vista := h.OS.Product == "Windows Vista"
	sp := winver.ReleaseOf(*h.OS.Version)
	for _, e := range list {
		e = strings.ToLower(e)
		switch {
		case strings.Contains(e, "windows 6.0"):
			return true
		case strings.Contains(e, "r2"):
			continue
		case vista && strings.Contains(e, "vista"), !vista && strings.Contains(e, "server 2008"):
			if !strings.Contains(e, "sp") || strings.Contains(e, strings.ToLower(spName(sp))) {
				return true
			}
		}
	}
	return false
}

// spName is "sp1", "sp2" or "rtm" from the service pack the build implies
// (Windows Server 2008 RTM is build 6001, the same as Vista SP1).
func spName(r winver.Release) string {
	switch r.ServicePack {
	case 2:
		return "sp2"
	case 1:
		return "sp1"
	}
	return "rtm"
}

// JudgeAfter judges a package on h as it will be once the updates in
// before (earlier steps of its plan) are installed and the plan's restarts
// done: those KBs count as installed, and SHA-2 support as active once its
// update is among them (the plan restarts right after it).
func JudgeAfter(h inventory.Host, c *catalog.Catalog, p PackageFacts, before []string) PackageVerdict {
	if len(before) == 0 {
		return JudgePackage(h, c, p)
	}
	h.Hotfixes = append(append([]string(nil), h.Hotfixes...), before...)
	h.HotfixesKnown = true
	planned := map[string]bool{}
	for _, kb := range before {
		planned[kb] = true
	}
	if u := c.Role(catalog.RoleSHA2); u != nil && h.Facts != nil {
		if _, ok := c.Covers(planned, u.KB); !ok {
			return JudgePackage(h, c, p)
		}
		f := *h.Facts
		f.SHA2Active = nil
		h.Facts = &f
	}
	return JudgePackage(h, c, p)
}

// newerRevision reports whether p is a newer revision of an update the
// host has: the collector's CBS package version for its KB is lower than
// p's. It returns the host's version.
func newerRevision(h inventory.Host, p PackageFacts) (bool, string) {
	if h.Facts == nil || p.Version == "" {
		return false, ""
	}
	have := h.Facts.CBSVersions[p.KB]
	hv, err1 := winver.Parse(have)
	pv, err2 := winver.Parse(p.Version)
	if have == "" || err1 != nil || err2 != nil {
		return false, have
	}
	return pv.Compare(hv) > 0, have
}
