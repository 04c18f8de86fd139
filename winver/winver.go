// Package winver parses and compares Windows version numbers and build lab
// strings, and names the Windows release a version belongs to.
//
// NT 6.0 build facts (Microsoft KB4489887 "March 19, 2019—KB4489887 (Preview
// of Monthly Rollup)" raised the build from 6002 to 6003; see
// catalog/updates.csv, KB4489887 row):
//
//	6000  Windows Vista RTM
//	6001  Windows Vista SP1 and Windows Server 2008 RTM (which already is SP1)
//	6002  Service Pack 2
//	6003  Service Pack 2 after the March 2019 servicing change
package winver

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Version is a Windows version major.minor.build.revision. A Revision of -1
// means the source did not carry one; it is never guessed.
type Version struct {
	Major, Minor, Build, Revision int
}

// NoRevision marks a Version whose revision is unknown.
const NoRevision = -1

// Parse reads "6.0.6002", "6.0.6003.20489" or "10.0.17763.1". Three or four
// dot-separated decimal fields are accepted; anything else is an error.
func Parse(s string) (Version, error) {
	s = strings.TrimSpace(s)
	parts := strings.Split(s, ".")
	if len(parts) < 3 || len(parts) > 4 {
		return Version{}, fmt.Errorf("winver: %q is not major.minor.build[.revision]", s)
	}
	var n [4]int
	n[3] = NoRevision
	for i, p := range parts {
		v, err := strconv.Atoi(p)
		if err != nil || v < 0 || v > 1<<20 || p == "" || p[0] == '+' {
			return Version{}, fmt.Errorf("winver: %q: field %d (%q) is not a decimal number", s, i+1, p)
		}
		n[i] = v
	}
	return Version{n[0], n[1], n[2], n[3]}, nil
}

// String renders the version with its revision when it is known.
func (v Version) String() string {
	if v.Revision == NoRevision {
		return fmt.Sprintf("%d.%d.%d", v.Major, v.Minor, v.Build)
	}
	return fmt.Sprintf("%d.%d.%d.%d", v.Major, v.Minor, v.Build, v.Revision)
}

// Short renders major.minor.build only.
func (v Version) Short() string {
	return fmt.Sprintf("%d.%d.%d", v.Major, v.Minor, v.Build)
}

// HasRevision reports whether the revision is known.
func (v Version) HasRevision() bool { return v.Revision != NoRevision }

// Compare orders versions field by field. An unknown revision sorts before
// every known revision of the same build.
func (v Version) Compare(w Version) int {
	for _, d := range [4]int{v.Major - w.Major, v.Minor - w.Minor, v.Build - w.Build, v.Revision - w.Revision} {
		switch {
		case d < 0:
			return -1
		case d > 0:
			return 1
		}
	}
	return 0
}

// IsNT60 reports whether v is Windows NT 6.0 (Vista or Server 2008).
func (v Version) IsNT60() bool { return v.Major == 6 && v.Minor == 0 }

// BuildLab is a parsed build lab string such as
// "6003.20489.amd64fre.vistasp2_ldr_escrow.190320-1700" (BuildLabEx) or
// "6002.vistasp2_gdr.090410-1800" (BuildLab, which has no revision).
type BuildLab struct {
	Build    int
	Revision int    // NoRevision when the string has none
	Arch     string // "x86", "x64", "ia64" or "" when absent
	Flavor   string // "fre" or "chk"
	Branch   string // e.g. "vistasp2_ldr_escrow"
	Compiled time.Time
	Raw      string
}

var labArch = map[string]string{"x86": "x86", "amd64": "x64", "ia64": "ia64", "arm64": "arm64", "arm": "arm", "woa": "arm"}

// ParseBuildLab reads a BuildLab or BuildLabEx value.
func ParseBuildLab(s string) (BuildLab, error) {
	raw := strings.TrimSpace(s)
	parts := strings.Split(raw, ".")
	bad := func(why string) (BuildLab, error) {
		return BuildLab{}, fmt.Errorf("winver: build lab %q: %s (want build.revision.archflavor.branch.yymmdd-hhmm)", raw, why)
	}
	if len(parts) < 3 {
		return bad("too few fields")
	}
	lab := BuildLab{Revision: NoRevision, Raw: raw}
	b, err := strconv.Atoi(parts[0])
	if err != nil || b < 0 {
		return bad("build is not a number")
	}
	lab.Build = b
	rest := parts[1:]
	if r, err := strconv.Atoi(rest[0]); err == nil && r >= 0 {
		lab.Revision = r
		rest = rest[1:]
	}
	if len(rest) >= 3 {
		af := rest[0]
		for _, fl := range []string{"fre", "chk"} {
			if a, ok := strings.CutSuffix(af, fl); ok {
				if arch, known := labArch[a]; known {
					lab.Arch, lab.Flavor = arch, fl
					rest = rest[1:]
				}
				break
			}
		}
	}
	if len(rest) < 2 {
		return bad("missing branch or compile stamp")
	}
	lab.Branch = rest[0]
	stamp := strings.Join(rest[1:], ".")
	t, err := time.Parse("060102-1504", stamp)
	if err != nil {
		return bad("compile stamp " + strconv.Quote(stamp) + " is not yymmdd-hhmm")
	}
	lab.Compiled = t
	return lab, nil
}

// Release names the Windows release of a version, and whether kbplan
// covers it (NT 6.0 only).
type Release struct {
	Client      string // e.g. "Windows Vista SP2"
	Server      string // e.g. "Windows Server 2008 SP2"; empty when no server shipped
	ServicePack int    // service pack implied by the build, -1 when none is implied
	InScope     bool
	Note        string
}

// nt60 maps NT 6.0 builds to releases.
var nt60 = map[int]Release{
	6000: {Client: "Windows Vista", ServicePack: 0, InScope: true},
	6001: {Client: "Windows Vista SP1", Server: "Windows Server 2008", ServicePack: 1, InScope: true,
		Note: "Windows Server 2008 RTM is build 6001 and already counts as SP1"},
	6002: {Client: "Windows Vista SP2", Server: "Windows Server 2008 SP2", ServicePack: 2, InScope: true},
	6003: {Client: "Windows Vista SP2", Server: "Windows Server 2008 SP2", ServicePack: 2, InScope: true,
		Note: "build 6003: SP2 after the March 2019 servicing change (KB4489887 and later)"},
}

// ReleaseOf names the release for a version. Versions after NT 6.0 get
// their common names and InScope false, so that they are reported as out of
// scope instead of being mis-read.
func ReleaseOf(v Version) Release {
	if v.IsNT60() {
		if r, ok := nt60[v.Build]; ok {
			return r
		}
		return Release{Client: "Windows Vista (unknown build)", Server: "Windows Server 2008 (unknown build)",
			ServicePack: -1,
			Note:        fmt.Sprintf("NT 6.0 build %d is not a released build (6000-6003)", v.Build)}
	}
	r := Release{ServicePack: -1}
	switch {
	case v.Major < 6:
		r.Client, r.Server = "Windows XP or earlier", "Windows Server 2003 or earlier"
		r.Note = fmt.Sprintf("NT %d.%d predates Windows NT 6.0: kbplan covers Vista and Server 2008 only", v.Major, v.Minor)
		return r
	case v.Major == 6 && v.Minor == 1:
		r.Client, r.Server = "Windows 7", "Windows Server 2008 R2"
		if v.Build >= 7601 {
			r.ServicePack = 1
		} else if v.Build == 7600 {
			r.ServicePack = 0
		}
	case v.Major == 6 && v.Minor == 2:
		r.Client, r.Server = "Windows 8", "Windows Server 2012"
	case v.Major == 6 && v.Minor == 3:
		r.Client, r.Server = "Windows 8.1", "Windows Server 2012 R2"
	case v.Major == 10 && v.Minor == 0:
		r.Client, r.Server = "Windows 10", "Windows Server"
		if v.Build >= 22000 {
			r.Client = "Windows 11"
		}
		if s, ok := serverBuilds[v.Build]; ok {
			r.Server = s
		}
	default:
		r.Client, r.Server = "unknown Windows", "unknown Windows Server"
		r.Note = fmt.Sprintf("NT %d.%d is unknown to kbplan", v.Major, v.Minor)
		return r
	}
	r.Note = fmt.Sprintf("NT %d.%d (%s / %s) is not Windows NT 6.0: kbplan covers Vista and Server 2008 only", v.Major, v.Minor, r.Client, r.Server)
	return r
}

// serverBuilds names the Windows Server releases on NT 10.0 by build.
var serverBuilds = map[int]string{
	14393: "Windows Server 2016",
	17763: "Windows Server 2019",
	20348: "Windows Server 2022",
	26100: "Windows Server 2025",
}

// FromBuild is the version a bare build number implies, for inputs that
// print "Build 6002" alone (older Meterpreter sysinfo). Only builds with a
// source here are mapped: the NT 6.0 builds (6000-6003, this file's
// header); 7601, NT 6.1 (the real sample
// inventory/systeminfo/testdata/vanilla/09-systeminfo-2008r2sp1-…, 6.1.7601);
// 9600, NT 6.3 (the real sample srv_2012r2_x64_standard_ru_systeminfo.txt,
// 6.3.9600); and 10240 and later, NT 10.0 (Microsoft Learn, "Windows 10
// release information": version 1507 is build 10240; the real samples
// 10_1803… and 10_1809… are 10.0.17134 and 10.0.17763). ok is false for any
// other build: no major.minor is guessed for it.
func FromBuild(build int) (Version, bool) {
	v := Version{Build: build, Revision: NoRevision}
	switch {
	case build >= 6000 && build <= 6003:
		v.Major, v.Minor = 6, 0
	case build == 7601:
		v.Major, v.Minor = 6, 1
	case build == 9600:
		v.Major, v.Minor = 6, 3
	case build >= 10240 && build < 100000:
		v.Major, v.Minor = 10, 0
	default:
		return Version{}, false
	}
	return v, true
}
