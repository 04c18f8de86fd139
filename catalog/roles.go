package catalog

import (
	"slices"
	"strconv"
	"strings"
)

// Role is a part an update plays in every plan. The planner asks the
// catalog which update plays it instead of naming KB numbers, so a catalog
// that lacks one is reported (Validate, and a finding in assess), never
// a crash.
type Role string

// The roles.
const (
	// RoleVistaSP1 is Windows Vista Service Pack 1 (KB936330): a Vista
	// without a service pack needs it before SP2.
	RoleVistaSP1 Role = "vista-sp1"
	// RoleSP2 is Service Pack 2 for Server 2008 and Vista (KB948465):
	// every later update needs it.
	RoleSP2 Role = "sp2"
	// RoleSSUBeforeSHA2 is the servicing stack update that installs before
	// SHA-2 code signing support (KB4493730, April 2019): the SSUs that
	// replace it are SHA-2 signed and cannot install until SHA-2 support
	// has, so it is planned even though they supersede it.
	RoleSSUBeforeSHA2 Role = "ssu-before-sha2"
	// RoleSHA2 is SHA-2 code signing support (KB4474419): updates from
	// July 2019 need it, and a restart must follow it.
	RoleSHA2 Role = "sha2-support"
)

// Roles lists every role; each must be played by exactly one update.
var Roles = []Role{RoleVistaSP1, RoleSP2, RoleSSUBeforeSHA2, RoleSHA2}

// Role returns the update that plays r, or nil when the catalog has none.
func (c *Catalog) Role(r Role) *Update {
	for _, e := range c.roles {
		if e.role == r {
			return c.Updates[e.row]
		}
	}
	return nil
}

// FamilyIECumulative is the family of Internet Explorer cumulative security
// updates: each one carries every earlier IE fix for the IE versions it
// serves (Microsoft's IE cumulative update model; WSUS Offline and
// updateVista install only the newest).
const FamilyIECumulative = "ie-cumulative"

// FamilyDotNetRollup is the family of .NET Framework 2.0 SP2/3.0 SP2
// Security and Quality Rollups (monthly since October 2016): each carries
// every earlier rollup's fixes and its month's security-only update's.
const FamilyDotNetRollup = "dotnet-rollup"

var families = []string{FamilyIECumulative, FamilyDotNetRollup}

// Component is something an update may apply to besides the OS itself.
type Component string

// The components. OS is the operating system; the others are products a
// host has only when it came with them or someone installed them.
const (
	OS       Component = "os"
	IE7      Component = "ie7"
	IE8      Component = "ie8"
	IE9      Component = "ie9"
	DotNet11 Component = "dotnet11"
	DotNet20 Component = "dotnet20" // .NET Framework 2.0 SP2 and 3.0 SP2
	DotNet35 Component = "dotnet35"
	DotNet4  Component = "dotnet4"
	MSXML4   Component = "msxml4"
	ADFS     Component = "adfs"
	FTP7     Component = "ftp7"
	WMS      Component = "wms"
	WME      Component = "wme"
	WLM      Component = "wlm"
	Office   Component = "office"
)

// Info describes a component for people: its name, and how to check
// whether a host has it.
type Info struct {
	ID    Component
	Name  string
	Check string
}

var componentInfo = []Info{
	{OS, "the operating system", ""},
	{IE7, "Internet Explorer 7", `the version in HKLM\SOFTWARE\Microsoft\Internet Explorer (Version, svcVersion) starts with 7`},
	{IE8, "Internet Explorer 8", `HKLM\SOFTWARE\Microsoft\Internet Explorer svcVersion or Version starts with 8`},
	{IE9, "Internet Explorer 9", `HKLM\SOFTWARE\Microsoft\Internet Explorer svcVersion starts with 9`},
	{DotNet11, ".NET Framework 1.1", `HKLM\SOFTWARE\Microsoft\NET Framework Setup\NDP\v1.1.4322 Install=1`},
	{DotNet20, ".NET Framework 2.0 SP2 and 3.0 SP2", `HKLM\SOFTWARE\Microsoft\NET Framework Setup\NDP\v2.0.50727 SP=2`},
	{DotNet35, ".NET Framework 3.5 SP1", `HKLM\SOFTWARE\Microsoft\NET Framework Setup\NDP\v3.5 Install=1`},
	{DotNet4, ".NET Framework 4.x", `HKLM\SOFTWARE\Microsoft\NET Framework Setup\NDP\v4\Full Install=1`},
	{MSXML4, "MSXML 4.0", `%SystemRoot%\System32\msxml4.dll exists`},
	{ADFS, "Active Directory Federation Services", `servermanagercmd -query lists AD FS, or the AD FS 2.0 program is installed`},
	{FTP7, "FTP Service 7.0/7.5 for IIS 7.0", `the FTP 7 program (ftpsvc) is installed separately from IIS 7.0's FTP 6`},
	{WMS, "Windows Media Services 2008", `servermanagercmd -query lists Streaming Media Services`},
	{WME, "Windows Media Encoder 9", `Windows Media Encoder 9 is in Programs and Features`},
	{WLM, "Windows Live Mail", `Windows Live Mail is in Programs and Features`},
	{Office, "Microsoft Office", `Microsoft Office is in Programs and Features`},
}

// ComponentInfo describes a component.
func ComponentInfo(c Component) (Info, bool) {
	i := slices.IndexFunc(componentInfo, func(x Info) bool { return x.ID == c })
	if i < 0 {
		return Info{}, false
	}
	return componentInfo[i], true
}

func componentIDs() []Component {
	out := make([]Component, len(componentInfo))
	for i, c := range componentInfo {
		out[i] = c.ID
	}
	return out
}

// ParseComponents reads a comma-separated list such as "ie9,dotnet35"
// (the --assume flag).
func ParseComponents(s string) ([]Component, error) {
	var out []Component
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' }) {
		c := Component(strings.ToLower(f))
		if _, ok := ComponentInfo(c); !ok {
			return nil, &UnknownComponentError{Name: f}
		}
		out = append(out, c)
	}
	return out, nil
}

// UnknownComponentError names a component kbplan does not know.
type UnknownComponentError struct{ Name string }

func (e *UnknownComponentError) Error() string {
	var ids []string
	for _, c := range componentIDs() {
		ids = append(ids, string(c))
	}
	return "unknown component " + strconv.Quote(e.Name) + "; expected one of " + strings.Join(ids, ", ")
}

// InBox lists the components every Server 2008 SP2 or Vista SP2 has before
// anyone installs anything (the plan installs SP2 first on older builds):
//   - Internet Explorer 7: MSRC lists "Windows Internet Explorer 7" fixes for
//     the "Windows Server 2008 ... Service Pack 2" products; IE 8 and IE 9
//     are separate installs (updateVista 1c-Populate-Full.bat@71841b6,
//     section 211-Installations, installs IE 9 as KB982861).
//   - .NET Framework 2.0 SP2 and 3.0 SP2: MSRC names them as products "on
//     Windows Server 2008 ... Service Pack 2", and WSUS Offline installs their
//     security updates on every w60 host (wsusoffline-release-esr
//     client/static/StaticUpdateIds-w60-seconly.txt@ab2dd33).
//
// Every other component needs evidence: an installed update of it, the
// collector's IE version or .NET keys, or --assume.
func InBox() []Component { return []Component{OS, IE7, DotNet20} }
