package wmi

import (
	_ "embed"
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

// psListKeys start the Format-List output of Get-HotFix and
// Get-WmiObject Win32_OperatingSystem.
var psListKeys = []string{"Source", "HotFixID", "SystemDirectory", "BuildNumber", "RegisteredUser", "Caption", "PSComputerName"}

// wmicPrefixes start wmic's list (/value, list full) and CSV outputs.
var wmicPrefixes = []string{"Node,", "HotFixID=", "Caption=", "BuildNumber=", "Version=", "CSDVersion="}

// wmicHeaders are the first columns of wmic's tables.
var wmicHeaders = [][]string{
	{"Caption", "CSName", "Description"},
	{"Description", "FixComments", "HotFixID"},
	{"BootDevice", "BuildNumber"},
	{"HotFixID"},
	{"BuildNumber"},
	{"Caption"},
}

func fieldsHavePrefix(t string, want []string) bool {
	if len(t) > 4096 || !strings.HasPrefix(t, want[0][:1]) {
		return false
	}
	f := strings.Fields(t)
	if len(f) < len(want) {
		return false
	}
	for i, w := range want {
		if !strings.EqualFold(f[i], w) {
			return false
		}
	}
	return true
}

// Sniff implements inventory.Format.
func (Wmic) Sniff(head []inventory.Line) int {
	n := 0
	for _, l := range head {
		t := strings.TrimSpace(l.Text)
		for _, p := range wmicPrefixes {
			if strings.HasPrefix(t, p) {
				n++
				break
			}
		}
		for _, h := range wmicHeaders {
			if fieldsHavePrefix(t, h) {
				n++
				break
			}
		}
	}
	return min(n*40, 85)
}

// Sniff implements inventory.Format.
func (PowerShell) Sniff(head []inventory.Line) int {
	n := 0
	for _, l := range head {
		t := strings.TrimSpace(l.Text)
		switch {
		case strings.HasPrefix(t, "#TYPE "), strings.HasPrefix(t, `"PSComputerName"`), strings.HasPrefix(t, `"HotFixID"`),
			strings.HasPrefix(t, `"__GENUS"`), fieldsHavePrefix(t, []string{"Source", "Description", "HotFixID"}),
			fieldsHavePrefix(t, []string{"PSComputerName", "Description", "HotFixID"}):
			n += 2
		default:
			for _, k := range psListKeys {
				if rest, ok := strings.CutPrefix(t, k); ok && strings.HasPrefix(strings.TrimLeft(rest, " "), ": ") {
					n++
					break
				}
			}
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
