// Package inventory holds what kbplan knows about one host, read from the
// text that host printed (systeminfo, wmic, reg, ver, Get-HotFix, ...).
//
// Each input format has its own package under inventory/ and produces a Host;
// package inventory/detect picks the format from the content. Hosts read from
// several inputs of one machine are merged with Merge.
package inventory

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/kbplan/kbplan/winver"
)

// Host is one machine as described by one or more inputs. A field the input
// did not carry stays at its "unknown" value (empty string, nil pointer,
// NoRevision); it is never guessed.
type Host struct {
	Source   string // file name, or "-" for stdin; merged hosts join names with "+"
	Format   string // e.g. "systeminfo-list"; merged hosts join formats with "+"
	Encoding string // the detected text encoding, e.g. "utf-16le", "cp866"
	Hostname string
	OS       OS
	// Hotfixes holds unique KB identifiers ("KB955430"), sorted by number.
	// HotfixesKnown is false when the input did not list hotfixes at all
	// (for example "Hotfix(s): N/A" from a low-privilege run), as opposed to
	// listing none.
	Hotfixes      []string
	HotfixesKnown bool
	// HotfixesAsListed are the ids as the input listed them where they
	// differ from the KB they name ("KB925398_WMP64", "Q147222").
	HotfixesAsListed []string
	Warnings         []string
	// Disagreements are the warnings where the inputs of one host (or the
	// registry and the kernel file) contradict each other; assess turns
	// each into a finding.
	Disagreements []string
	// Facts holds what only a collector bundle carries; nil otherwise.
	Facts *Facts

	overflow bool // more than MaxHotfixes distinct hotfixes were listed
}

// OS describes the operating system of a Host.
type OS struct {
	Name         string // the OS name as printed, with mangled ® and ™ cleaned
	Product      string // "Windows Server 2008", "Windows Vista", or another OS's common name
	Edition      string // "Standard", "Enterprise", "Business", ...
	ServerCore   *bool
	ServicePack  *int
	Version      *winver.Version // Revision is winver.NoRevision when unknown
	BuildLab     string          // BuildLabEx or BuildLab when the input carried one
	Architecture string          // "x86", "x64", "ia64"
	Language     string          // UI language of the input's labels, e.g. "de-DE"
}

// Facts are what kbplan's collector records beyond systeminfo and wmic:
// the state Legacy Update and WSUS Offline read from the registry, the
// servicing folders and file versions (docs/bundle.md says what each comes
// from and why).
type Facts struct {
	// PendingReboot lists the pending-restart markers present: CBS
	// RebootPending and PackagesPending, WindowsUpdate RebootRequired,
	// PendingFileRenameOperations. PendingKnown is false when the bundle
	// did not record them.
	PendingReboot []string
	PendingKnown  bool
	// SHA2Active is whether both SHA2-Codesigning-Support and
	// SHA2-Core-Codesigning-Support are set above 0; nil when not recorded.
	SHA2Active *bool
	// ServicingStack is the highest folder under %SystemRoot%\servicing\Version.
	ServicingStack string
	// CBSPackages are the KBs named by Package_for_KB*.mum files.
	CBSPackages []string
	// CBSVersions maps a KB to the highest package version among its
	// Package_for_KB…~VERSION.mum files: a re-released update installs a
	// higher one.
	CBSVersions map[string]string
	// Files maps a file name (ntoskrnl.exe, wuaueng.dll, mshtml.dll,
	// srv.sys) to its version.
	Files map[string]string
	// ESULicensed lists the ESU years (1-3) whose activation ID is
	// licensed; ESUKnown is false when the licence state was not readable.
	ESULicensed []int
	ESUKnown    bool
	IEVersion   string
	DotNet      []string
	// Programs are the DisplayName values under the Uninstall keys
	// (Programs and Features): separately installed products.
	Programs []string
	// Roles are the installed roles, role services and features that
	// servermanagercmd -query marks [X], as "Display Name [Command-ID]";
	// RolesKnown is false when the bundle has no readable list.
	Roles      []string
	RolesKnown bool
}

// InScope reports whether the host is Windows NT 6.0 (Vista or Server 2008),
// the only OS kbplan plans for. A host of unknown version is not in scope.
func (h *Host) InScope() bool {
	if h.OS.Version != nil {
		return h.OS.Version.IsNT60() && winver.ReleaseOf(*h.OS.Version).InScope
	}
	return false
}

// Warnf records a warning about the input.
func (h *Host) Warnf(format string, args ...any) {
	h.Warnings = append(h.Warnings, fmt.Sprintf(format, args...))
}

// Disagreef records a warning that two sources of one host contradict each
// other; it is a warning and a disagreement.
func (h *Host) Disagreef(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	h.Warnings = append(h.Warnings, msg)
	h.Disagreements = append(h.Disagreements, msg)
}

// AddHotfix records one installed update. id may be "KB955430", "kb955430",
// a variant or revision ("KB925398_WMP64", "KB2894844-v2"), a Q number
// ("Q147222"), or a bare number (systeminfo on Vista lists some updates as
// "943729"); Hotfixes holds the KB it names, HotfixesAsListed the forms
// that differ from it. It reports whether id named a KB.
func (h *Host) AddHotfix(id string) bool {
	kb, ok := NormalizeKB(id)
	if !ok {
		return false
	}
	if listed := strings.TrimSpace(id); !strings.EqualFold(listed, kb) && !isDigits(listed) && len(h.HotfixesAsListed) < MaxHotfixes &&
		!slices.Contains(h.HotfixesAsListed, listed) {
		h.HotfixesAsListed = append(h.HotfixesAsListed, listed)
	}
	h.HotfixesKnown = true
	if h.overflow {
		return true
	}
	h.Hotfixes = append(h.Hotfixes, kb)
	// Repeats are dropped when Finish sorts the list; a list grown to
	// twice the bound is sorted here already, so that a hostile input
	// cannot grow it further.
	if len(h.Hotfixes) >= 2*MaxHotfixes {
		h.compactHotfixes()
	}
	return true
}

// compactHotfixes sorts the hotfixes by number and drops repeats, and past
// MaxHotfixes distinct ones keeps the lowest, with a warning.
func (h *Host) compactHotfixes() {
	slices.SortFunc(h.Hotfixes, compareKB)
	h.Hotfixes = slices.Compact(h.Hotfixes)
	if len(h.Hotfixes) > MaxHotfixes && !h.overflow {
		h.Hotfixes = h.Hotfixes[:MaxHotfixes]
		h.overflow = true
		h.Warnf("more than %d distinct hotfixes: only the %d lowest KB numbers were kept; this is not a real host's inventory", MaxHotfixes, MaxHotfixes)
	}
}

// ReadersVersion names the behaviour of the readers and of Merge. Raise it
// with any change to what they make of an input: the fleet stores uploads as
// they came and, when this changes, reads every host's snapshots again in
// the background (as it does for a new catalog).
const ReadersVersion = 6

// MaxHotfixes bounds the hotfix list of one host, so that a hostile input
// costs bounded memory. Real hosts have a few hundred.
const MaxHotfixes = 20000

// MaxRecords bounds how many fields or records a reader keeps from one
// input. Real inputs have tens (systeminfo) to a few thousand (wmic qfe).
const MaxRecords = 100000

// maxKBDigits bounds KB numbers: real ones have at most 7 digits.
const maxKBDigits = 8

// NormalizeKB turns "kb955430", "KB955430" or "955430" into "KB955430".
// A suffix after "_" or "-" names a variant or a revision of the same
// update and is dropped: "KB925398_WMP64", "KB2894844-v2" are KB925398 and
// KB2894844. "Q147222", the pre-Vista name of a Knowledge Base article
// (Microsoft's Q numbers became KB numbers), is KB147222.
func NormalizeKB(id string) (string, bool) {
	s := strings.TrimSpace(id)
	switch {
	case len(s) >= 2 && (s[0] == 'K' || s[0] == 'k') && (s[1] == 'B' || s[1] == 'b'):
		s = s[2:]
	case len(s) >= 2 && (s[0] == 'Q' || s[0] == 'q') && s[1] >= '0' && s[1] <= '9':
		s = s[1:]
	}
	for i := 1; i < len(s)-1; i++ {
		if s[i] == '_' || s[i] == '-' {
			if suffixOK(s[i+1:]) {
				s = s[:i]
			}
			break
		}
	}
	if s == "" || len(s) > maxKBDigits {
		return "", false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return "", false
		}
	}
	s = strings.TrimLeft(s, "0")
	if s == "" {
		return "", false
	}
	// Most ids are listed as they are normalised: no new string then.
	if t := strings.TrimSpace(id); len(t) == len(s)+2 && t[:2] == "KB" {
		return t, true
	}
	return "KB" + s, true
}

// FindKB returns the first KB id in s ("KB955430" in "[01]: KB955430" or
// "Security Update for Windows (KB955430)"), normalised.
func FindKB(s string) (string, bool) {
	for i := 0; i+2 < len(s); i++ {
		if s[i]|0x20 != 'k' || s[i+1]|0x20 != 'b' || i > 0 && isWordByte(s[i-1]) {
			continue
		}
		j := i + 2
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		if j == i+2 || j < len(s) && isWordByte(s[j]) && s[j] != '_' {
			continue
		}
		if kb, ok := NormalizeKB(s[i:j]); ok {
			return kb, true
		}
	}
	return "", false
}

// suffixOK: a variant or revision suffix is letters and digits, short.
func suffixOK(s string) bool {
	if len(s) > 16 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c|0x20 >= 'a' && c|0x20 <= 'z') {
			return false
		}
	}
	return true
}

func isWordByte(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c|0x20 >= 'a' && c|0x20 <= 'z'
}

// KBNumber returns the number of a normalised "KB…" id.
func KBNumber(kb string) int {
	n, _ := strconv.Atoi(strings.TrimPrefix(kb, "KB"))
	return n
}

// compareKB orders KB numbers as numbers. Hotfixes hold them normalised
// (NormalizeKB: "KB" and digits without leading zeros), so the shorter is
// the smaller, and of equal length the text decides: no number is parsed
// for each of a sort's comparisons.
func compareKB(a, b string) int {
	x, y := strings.TrimPrefix(a, "KB"), strings.TrimPrefix(b, "KB")
	return cmp.Or(cmp.Compare(len(x), len(y)), strings.Compare(x, y))
}

// Finish sorts and de-duplicates the hotfix list and derives what the
// version implies. Readers call it last.
func (h *Host) Finish() {
	h.derive()
	h.compactHotfixes()
	h.Hotfixes = slices.Clip(h.Hotfixes)
	if h.HotfixesKnown && h.Hotfixes == nil {
		h.Hotfixes = []string{}
	}
}

// SetVersion records the OS version.
func (h *Host) SetVersion(v winver.Version) { h.OS.Version = &v }

// derive fills what the version implies and checks it against what was read:
// on NT 6.0 and 6.1 the build fixes the service pack (6002 and 6003 are SP2).
func (h *Host) derive() {
	if h.OS.Version == nil {
		return
	}
	v := *h.OS.Version
	rel := winver.ReleaseOf(v)
	if rel.ServicePack < 0 {
		return
	}
	switch {
	case h.OS.ServicePack == nil:
		h.OS.ServicePack = IntPtr(rel.ServicePack)
	case *h.OS.ServicePack != rel.ServicePack:
		h.Warnf("service pack %d disagrees with build %d, which is %s: the build wins", *h.OS.ServicePack, v.Build, rel.Client)
		h.OS.ServicePack = IntPtr(rel.ServicePack)
	}
}

// IntPtr and BoolPtr help readers fill optional fields.
func IntPtr(n int) *int    { return &n }
func BoolPtr(b bool) *bool { return &b }

// ESUYears says which ESU years are licensed: "year 3", "years 1, 2 and 3",
// or "" when none is.
func (f *Facts) ESUYears() string {
	parts := make([]string, len(f.ESULicensed))
	for i, y := range f.ESULicensed {
		parts[i] = strconv.Itoa(y)
	}
	switch len(parts) {
	case 0:
		return ""
	case 1:
		return "year " + parts[0]
	}
	return "years " + strings.Join(parts[:len(parts)-1], ", ") + " and " + parts[len(parts)-1]
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
