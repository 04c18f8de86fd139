package inventory

import (
	"regexp"
	"strings"
)

// nameFixes undoes what cmd's best-fit conversion and localisation do to
// product names: "Microsoft® Windows Server® 2008" is redirected as
// "Microsoftr Windows Serverr 2008", "Vista™" as "VistaT" (wesng PR #78,
// ../shared/data/wesng-notes.md §1.3), and Russian systems print
// "Майкрософт" (real sample srv_2012r2_x64_standard_ru_systeminfo.txt).
var nameFixes = []struct {
	re  *regexp.Regexp
	out string
}{
	{regexp.MustCompile(`(?i)\(R\)|\(TM\)|®|™|\?`), ""},
	{regexp.MustCompile(`Microsoftr\b`), "Microsoft"},
	{regexp.MustCompile(`\bServerr\b`), "Server"},
	{regexp.MustCompile(`\bWindowsr\b`), "Windows"},
	{regexp.MustCompile(`\bVistaT\b`), "Vista"},
	{regexp.MustCompile(`Майкрософт`), "Microsoft"},
	{regexp.MustCompile(`\s+`), " "},
}

// CleanOSName removes trademark signs and their mangled forms.
func CleanOSName(s string) string {
	for _, f := range nameFixes {
		s = f.re.ReplaceAllString(s, f.out)
	}
	return strings.TrimSpace(s)
}

// products maps an OS name to its product, most specific first. Editions
// that name themselves differently ("Windows Web Server 2008") keep their
// edition here.
var products = []struct {
	re      *regexp.Regexp
	product string
	edition string
}{
	{regexp.MustCompile(`(?i)Server 2008 R2|Server R2 2008`), "Windows Server 2008 R2", ""},
	{regexp.MustCompile(`(?i)Small Business Server 2008`), "Windows Server 2008", "Small Business"},
	{regexp.MustCompile(`(?i)Essential Business Server 2008`), "Windows Server 2008", "Essential Business"},
	{regexp.MustCompile(`(?i)Web Server 2008`), "Windows Server 2008", "Web"},
	{regexp.MustCompile(`(?i)Storage Server 2008`), "Windows Server 2008", "Storage"},
	{regexp.MustCompile(`(?i)HPC Server 2008`), "Windows Server 2008", "HPC"},
	{regexp.MustCompile(`(?i)Hyper-V Server 2008`), "Windows Server 2008", "Hyper-V Server"},
	{regexp.MustCompile(`(?i)Server 2008`), "Windows Server 2008", ""},
	{regexp.MustCompile(`(?i)Vista`), "Windows Vista", ""},
	{regexp.MustCompile(`(?i)Server 2012 R2`), "Windows Server 2012 R2", ""},
	{regexp.MustCompile(`(?i)Server 2012`), "Windows Server 2012", ""},
	{regexp.MustCompile(`(?i)Server 2016`), "Windows Server 2016", ""},
	{regexp.MustCompile(`(?i)Server 2019`), "Windows Server 2019", ""},
	{regexp.MustCompile(`(?i)Server 2022`), "Windows Server 2022", ""},
	{regexp.MustCompile(`(?i)Server 2025`), "Windows Server 2025", ""},
	{regexp.MustCompile(`(?i)Server 2003 R2`), "Windows Server 2003 R2", ""},
	{regexp.MustCompile(`(?i)Server 2003|Server\(R\) 2003`), "Windows Server 2003", ""},
	{regexp.MustCompile(`(?i)Windows 2000`), "Windows 2000", ""},
	{regexp.MustCompile(`(?i)Windows XP|\bXP\b`), "Windows XP", ""},
	{regexp.MustCompile(`(?i)Windows 8\.1`), "Windows 8.1", ""},
	{regexp.MustCompile(`(?i)Windows 8`), "Windows 8", ""},
	{regexp.MustCompile(`(?i)Windows 7`), "Windows 7", ""},
	{regexp.MustCompile(`(?i)Windows 10`), "Windows 10", ""},
	{regexp.MustCompile(`(?i)Windows 11`), "Windows 11", ""},
}

// editions maps edition words, including localised ones seen in real
// outputs, to kbplan's edition names. Longer phrases come first.
var editions = []struct {
	re      *regexp.Regexp
	edition string
}{
	{regexp.MustCompile(`(?i)\bHome Premium\b`), "Home Premium"},
	{regexp.MustCompile(`(?i)\bHome Basic\b`), "Home Basic"},
	{regexp.MustCompile(`(?i)\bItanium\b`), "Itanium"},
	{regexp.MustCompile(`(?i)\bDatacenter\b`), "Datacenter"},
	{regexp.MustCompile(`(?i)\bEnterprise\b|\bEntreprise\b`), "Enterprise"},
	{regexp.MustCompile(`(?i)\bStandard\b`), "Standard"},
	{regexp.MustCompile(`(?i)\bFoundation\b`), "Foundation"},
	{regexp.MustCompile(`(?i)\bHPC\b`), "HPC"},
	{regexp.MustCompile(`(?i)\bStorage\b`), "Storage"},
	{regexp.MustCompile(`(?i)\bWeb\b`), "Web"},
	{regexp.MustCompile(`(?i)\bBusiness\b|\bProfessionnel\b`), "Business"},
	{regexp.MustCompile(`(?i)\bUltimate\b|\bIntégrale\b`), "Ultimate"},
	{regexp.MustCompile(`(?i)\bStarter\b`), "Starter"},
	{regexp.MustCompile(`(?i)\bProfessional\b|\bPro\b`), "Professional"},
	{regexp.MustCompile(`(?i)\bEducation\b`), "Education"},
}

var (
	coreRe    = regexp.MustCompile(`(?i)Server Core|core installation`)
	itaniumRe = regexp.MustCompile(`(?i)Itanium`)
)

// ApplyOSName records an OS name (systeminfo "OS Name", WMI Caption,
// registry ProductName) and what it tells: product, edition and, for
// Itanium, the architecture.
func (h *Host) ApplyOSName(raw string) {
	name := CleanOSName(raw)
	if name == "" {
		return
	}
	h.OS.Name = name
	for _, p := range products {
		if loc := p.re.FindStringIndex(name); loc != nil {
			h.OS.Product = p.product
			h.OS.Edition = p.edition
			break
		}
	}
	if h.OS.Edition == "" {
		for _, e := range editions {
			if e.re.MatchString(name) {
				h.OS.Edition = e.edition
				break
			}
		}
	}
	if itaniumRe.MatchString(name) && h.OS.Architecture == "" {
		h.OS.Architecture = "ia64"
	}
	if coreRe.MatchString(name) {
		h.OS.ServerCore = BoolPtr(true)
	}
}

// ArchFromSystemType maps systeminfo's "System Type", WMI OSArchitecture or
// a PROCESSOR_ARCHITECTURE value to "x86", "x64" or "ia64".
func ArchFromSystemType(s string) string {
	t := strings.ToLower(s)
	switch {
	case strings.Contains(t, "x64"), strings.Contains(t, "amd64"), strings.Contains(t, "64-bit"),
		strings.Contains(t, "64 bit"), strings.Contains(t, "64 бит"):
		if strings.Contains(t, "itanium") || strings.Contains(t, "ia64") {
			return "ia64"
		}
		return "x64"
	case strings.Contains(t, "ia64"), strings.Contains(t, "itanium"):
		return "ia64"
	case strings.Contains(t, "arm64"):
		return "arm64"
	case strings.Contains(t, "x86"), strings.Contains(t, "32-bit"), strings.Contains(t, "32 bit"),
		strings.Contains(t, "32 бит"):
		return "x86"
	}
	return ""
}

var (
	versionRe = regexp.MustCompile(`\b(\d{1,2}\.\d{1,2}\.\d{3,5})(?:\.(\d{1,6}))?\b`)
	spRe      = regexp.MustCompile(`(?i)Service\s*Pack\s*(\d+)`)
)

// FindVersion finds the first Windows version number in s, such as
// "6.0.6002" in "6.0.6002 Service Pack 2 Build 6002".
func FindVersion(s string) string {
	m := versionRe.FindString(s)
	return m
}

// FindServicePack reads "Service Pack 2" (CSDVersion, which Windows prints in
// English in every UI language seen in the samples) from s.
func FindServicePack(s string) (int, bool) {
	m := spRe.FindStringSubmatch(s)
	if m == nil {
		return 0, false
	}
	n := 0
	for _, c := range m[1] {
		n = n*10 + int(c-'0')
		if n > 99 {
			return 0, false
		}
	}
	return n, true
}
