package inventory

import (
	"strings"
	"unicode"

	"github.com/kbplan/kbplan/internal/lazyre"
)

// marks are removed from product names: trademark signs, their ASCII
// spellings, and the "?" a console prints for a character it cannot show.
var marks = strings.NewReplacer("(R)", "", "(r)", "", "(TM)", "", "(tm)", "", "®", "", "™", "", "?", "",
	"Майкрософт", "Microsoft")

// mangled undoes what cmd's best-fit conversion does to product names when
// output is redirected: "Microsoft® Windows Server® 2008" becomes
// "Microsoftr Windows Serverr 2008" and "Vista™" "VistaT" (wesng PR #78,
// bitsadmin/wesng wes.py's own replacements); Russian systems print "Майкрософт"
// (real sample srv_2012r2_x64_standard_ru_systeminfo.txt).
var mangled = map[string]string{"Microsoftr": "Microsoft", "Serverr": "Server", "Windowsr": "Windows", "VistaT": "Vista",
	"MicrosoftR": "Microsoft", "ServerR": "Server", "WindowsR": "Windows", "Vistat": "Vista", "VistaR": "Vista", "Vistar": "Vista"}

// CleanOSName is the one normalisation of an OS name every reader uses. It
// removes trademark signs and what they become on the way: the ® that a
// console or a code page turned into U+FFFD, "?", a cp437 "«" (byte 0xAE
// read under the OEM code page), or a stray letter ("Microsoftr",
// "ServerR", "VistaT"); it collapses repeated blanks and puts back the blank
// lost between a product word and its number or the next word
// ("Server2008", "WindowsServer", "2008R2"). The forms, each seen in real
// outputs or reports (issue 17, wesng PR #78), are in osname_test.go.
func CleanOSName(s string) string {
	s = marks.Replace(s)
	if lower := strings.ToLower(s); mayBeGlued(lower) {
		s = glued.ReplaceAllString(s, "$1 $2")
	}
	if strings.Contains(s, "R2") || strings.Contains(s, "r2") {
		s = gluedR2.ReplaceAllString(s, "$1 $2")
	}
	words := strings.Fields(s)
	out := words[:0]
	for _, w := range words {
		// Junk stuck to a word: anything that is not a letter or a digit,
		// at either end ("Microsoft\ufffd", "«Windows", "Server»").
		w = strings.TrimFunc(w, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '-' && r != '.' })
		if w == "" {
			continue
		}
		if fixed, ok := mangled[w]; ok {
			w = fixed
		}
		out = append(out, w)
	}
	return strings.Join(out, " ")
}

var (
	// glued finds a product word glued to a number or to the next word.
	glued   = lazyre.New(`(?i)(microsoft|windows|server|vista)(\d|windows|server|vista)`)
	gluedR2 = lazyre.New(`(?i)(2003|2008|2012)(r2\b)`)
)

// products maps an OS name to its product, most specific first. Editions
// that name themselves differently ("Windows Web Server 2008") keep their
// edition here. Needles are lower case and matched as substrings.
var products = []struct {
	needle  string
	product string
	edition string
}{
	{"server 2008 r2", "Windows Server 2008 R2", ""},
	{"small business server 2008", "Windows Server 2008", "Small Business"},
	{"essential business server 2008", "Windows Server 2008", "Essential Business"},
	{"web server 2008", "Windows Server 2008", "Web"},
	{"storage server 2008", "Windows Server 2008", "Storage"},
	{"hpc server 2008", "Windows Server 2008", "HPC"},
	{"hyper-v server 2008", "Windows Server 2008", "Hyper-V Server"},
	{"server 2008", "Windows Server 2008", ""},
	{"vista", "Windows Vista", ""},
	{"server 2012 r2", "Windows Server 2012 R2", ""},
	{"server 2012", "Windows Server 2012", ""},
	{"server 2016", "Windows Server 2016", ""},
	{"server 2019", "Windows Server 2019", ""},
	{"server 2022", "Windows Server 2022", ""},
	{"server 2025", "Windows Server 2025", ""},
	{"server 2003 r2", "Windows Server 2003 R2", ""},
	{"server 2003", "Windows Server 2003", ""},
	{"windows 2000", "Windows 2000", ""},
	{"windows xp", "Windows XP", ""},
	{"windows 8.1", "Windows 8.1", ""},
	{"windows 8", "Windows 8", ""},
	{"windows 7", "Windows 7", ""},
	{"windows 10", "Windows 10", ""},
	{"windows 11", "Windows 11", ""},
}

// editions maps edition words, including localised ones seen in real
// outputs, to kbplan's edition names. Longer phrases come first; they match
// as whole words.
var editions = []struct {
	word    string
	edition string
}{
	{"home premium", "Home Premium"},
	{"home basic", "Home Basic"},
	{"itanium", "Itanium"},
	{"datacenter", "Datacenter"},
	{"enterprise", "Enterprise"},
	{"entreprise", "Enterprise"},
	{"standard", "Standard"},
	{"foundation", "Foundation"},
	{"hpc", "HPC"},
	{"storage", "Storage"},
	{"web", "Web"},
	{"business", "Business"},
	{"professionnel", "Business"},
	{"ultimate", "Ultimate"},
	{"intégrale", "Ultimate"},
	{"starter", "Starter"},
	{"professional", "Professional"},
	{"pro", "Professional"},
	{"education", "Education"},
}

// hasWord reports whether s contains w as a whole word.
func hasWord(s, w string) bool {
	for i := 0; ; {
		j := strings.Index(s[i:], w)
		if j < 0 {
			return false
		}
		j += i
		end := j + len(w)
		if (j == 0 || !isWordByte(s[j-1])) && (end == len(s) || !isWordByte(s[end])) {
			return true
		}
		i = j + 1
	}
}

// ApplyOSName records an OS name (systeminfo "OS Name", WMI Caption,
// registry ProductName) and what it tells: product, edition and, for
// Itanium, the architecture.
func (h *Host) ApplyOSName(raw string) {
	name := CleanOSName(raw)
	if name == "" {
		return
	}
	h.OS.Name = name
	lower := strings.ToLower(name)
	for _, p := range products {
		if strings.Contains(lower, p.needle) {
			h.OS.Product = p.product
			h.OS.Edition = p.edition
			break
		}
	}
	if h.OS.Edition == "" {
		for _, e := range editions {
			if hasWord(lower, e.word) {
				h.OS.Edition = e.edition
				break
			}
		}
	}
	if strings.Contains(lower, "itanium") && h.OS.Architecture == "" {
		h.OS.Architecture = "ia64"
	}
	if strings.Contains(lower, "server core") || strings.Contains(lower, "core installation") {
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
	versionRe = lazyre.New(`\b(\d{1,2}\.\d{1,2}\.\d{3,5})(?:\.(\d{1,6}))?\b`)
	spRe      = lazyre.New(`(?i)Service\s*Pack\s*(\d+)`)
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

// mayBeGlued is a cheap test for what glued finds: a product word followed
// at once by a digit or another product word.
func mayBeGlued(lower string) bool {
	for _, w := range []string{"microsoft", "windows", "server", "vista"} {
		for i := strings.Index(lower, w); i >= 0; {
			if j := i + len(w); j < len(lower) {
				c := lower[j]
				if c >= '0' && c <= '9' || c == 'w' || c == 's' || c == 'v' {
					return true
				}
			}
			k := strings.Index(lower[i+1:], w)
			if k < 0 {
				break
			}
			i += 1 + k
		}
	}
	return false
}
