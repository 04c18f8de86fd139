package wmi

import (
	_ "embed"
	"regexp"
	"strconv"
	"strings"

	"github.com/kbplan/kbplan/inventory"
	"github.com/kbplan/kbplan/winver"
)

//go:embed skus.tsv
var skusTSV string

type sku struct {
	edition string
	core    bool
}

var skus = func() map[int]sku {
	m := map[int]sku{}
	for _, row := range strings.Split(skusTSV, "\n") {
		if row == "" || row[0] == '#' {
			continue
		}
		c := strings.Split(row, "\t")
		n, err := strconv.Atoi(c[0])
		if err != nil || len(c) != 4 {
			panic("wmi: bad skus.tsv row: " + row)
		}
		m[n] = sku{edition: c[2], core: c[3] == "true"}
	}
	return m
}()

// Wmic recognises wmic output.
type Wmic struct{}

// PowerShell recognises Get-HotFix and Get-WmiObject output.
type PowerShell struct{}

// Name implements inventory.Format.
func (Wmic) Name() string { return "wmic" }

// Name implements inventory.Format.
func (PowerShell) Name() string { return "powershell" }

var (
	psHeaderRe = regexp.MustCompile(`(?i)^(Source|PSComputerName)\s+Description\s+HotFixID|^#TYPE |^"?PSComputerName"?,|^\s*"(HotFixID|PSComputerName|__GENUS)"\s*:`)
	psListRe   = regexp.MustCompile(`^(Source|HotFixID|SystemDirectory|BuildNumber|RegisteredUser|Caption|PSComputerName)\s+: `)
	wmicRe     = regexp.MustCompile(`(?i)^(Caption\s+CSName\s+Description|Description\s+FixComments\s+HotFixID|HotFixID\s*$|Node,|HotFixID=|Caption=|BuildNumber=|Version=|CSDVersion=|BootDevice\s+BuildNumber|BuildNumber\s+|Caption\s+)`)
)

// Sniff implements inventory.Format.
func (Wmic) Sniff(head []inventory.Line) int {
	n := 0
	for _, l := range head {
		if wmicRe.MatchString(strings.TrimSpace(l.Text)) {
			n++
		}
	}
	return min(n*40, 85)
}

// Sniff implements inventory.Format.
func (PowerShell) Sniff(head []inventory.Line) int {
	n := 0
	for _, l := range head {
		t := l.Text
		if psHeaderRe.MatchString(t) {
			n += 2
		} else if psListRe.MatchString(t) {
			n++
		}
	}
	return min(n*30, 86)
}

// Parse implements inventory.Format.
func (Wmic) Parse(src *inventory.Lines, h *inventory.Host) error {
	return parse(src, h, "wmic")
}

// Parse implements inventory.Format.
func (PowerShell) Parse(src *inventory.Lines, h *inventory.Host) error {
	return parse(src, h, "powershell")
}

func parse(src *inventory.Lines, h *inventory.Host, tool string) error {
	recs, lay, odd, err := readRecords(src)
	if err != nil {
		return err
	}
	var qfe, os int
	var noKB []string
	for _, r := range recs {
		p := r.props
		if id, ok := p["hotfixid"]; ok {
			qfe++
			h.HotfixesKnown = true
			if !h.AddHotfix(id) {
				if id != "" {
					noKB = append(noKB, id)
				}
			}
			setHostname(h, first(p, "csname", "source", "pscomputername"))
			continue
		}
		if isOS(p) {
			os++
			applyOS(r, h)
		}
	}
	if qfe == 0 && os == 0 {
		e := &inventory.ParseError{Expected: "Win32_QuickFixEngineering (HotFixID) or Win32_OperatingSystem (Version, Caption) properties"}
		if odd != nil {
			e.Line, e.Text = odd.Num, odd.Text
		}
		return e
	}
	class := "qfe"
	if qfe == 0 {
		class = "os"
	} else if os > 0 {
		class = "qfe+os"
	}
	switch tool {
	case "wmic":
		h.Format = "wmic-" + class + "-" + lay.String()
	default:
		noun := "get-hotfix"
		if class == "os" {
			noun = "get-wmiobject-os"
		}
		h.Format = noun + "-" + lay.String()
	}
	if len(noKB) > 0 {
		h.Warnf("%d hotfix entries carry no KB number and were skipped (first: %q)", len(noKB), noKB[0])
	}
	h.Finish()
	return nil
}

func isOS(p map[string]string) bool {
	_, v := p["version"]
	_, b := p["buildnumber"]
	_, c := p["caption"]
	_, d := p["csdversion"]
	return v || b || (c && d)
}

func first(p map[string]string, keys ...string) string {
	for _, k := range keys {
		if v := p[k]; v != "" {
			return v
		}
	}
	return ""
}

func setHostname(h *inventory.Host, name string) {
	if name != "" && h.Hostname == "" {
		h.Hostname = name
	}
}

func applyOS(r record, h *inventory.Host) {
	p := r.props
	if c := p["caption"]; c != "" {
		h.ApplyOSName(c)
	}
	setHostname(h, first(p, "csname", "pscomputername"))
	if v := p["version"]; v != "" {
		if ver, err := winver.Parse(v); err == nil {
			h.SetVersion(ver)
		} else {
			h.Warnf("line %d: %v", r.line, err)
		}
	} else if b := p["buildnumber"]; b != "" {
		h.Warnf("line %d: only BuildNumber %s is given, without Version; the major and minor version stay unknown", r.line, b)
	}
	if sp, ok := inventory.FindServicePack(p["csdversion"]); ok {
		h.OS.ServicePack = inventory.IntPtr(sp)
	} else if n, err := strconv.Atoi(p["servicepackmajorversion"]); err == nil && n >= 0 && n < 100 {
		h.OS.ServicePack = inventory.IntPtr(n)
	}
	if a := p["osarchitecture"]; a != "" && h.OS.Architecture == "" {
		h.OS.Architecture = inventory.ArchFromSystemType(a)
	}
	if n, err := strconv.Atoi(p["operatingsystemsku"]); err == nil {
		if s, ok := skus[n]; ok {
			h.OS.Edition = s.edition
			h.OS.ServerCore = inventory.BoolPtr(s.core)
		}
	}
}
