// Package dxdiag reads the System Information block of a DirectX
// Diagnostic Tool report (dxdiag /t FILE, or "Save All Information"):
//
//	------------------
//	System Information
//	------------------
//	       Machine name: WIN-SRV01
//	   Operating System: Windows Server 2008 Standard 64-bit (6.0, Build 6002) Service Pack 2 (6002.lh_sp2rtm.090410-1830)
//	     DxDiag Version: 6.00.6001.18000 32bit Unicode
//
// Support staff ask for it; it carries no hotfix list, so a host read from
// it alone has its hotfixes unknown.
package dxdiag

import (
	"strings"

	"github.com/kbplan/kbplan/internal/lazyre"
	"github.com/kbplan/kbplan/inventory"
	"github.com/kbplan/kbplan/winver"
)

// Format reads DxDiag reports.
type Format struct{}

// Name implements inventory.Format.
func (Format) Name() string { return "dxdiag" }

var (
	kvRe = lazyre.New(`^\s*(Machine name|Operating System|DxDiag Version|System Manufacturer|Time of this report)\s*:\s*(.*?)\s*$`)
	// "Windows Server 2008 Standard 64-bit (6.0, Build 6002) Service Pack 2 (6002.lh_sp2rtm.090410-1830)"
	osRe = lazyre.New(`^(.*?)\s*\((\d{1,2})\.(\d{1,2}), Build (\d{3,5})\)\s*(.*?)\s*(?:\((\d{3,5}\.[^)]*)\))?$`)
)

// Sniff implements inventory.Format.
func (Format) Sniff(head []inventory.Line) int {
	score := 0
	for _, l := range head {
		// Most lines of other inputs hold none of the labels: skip them
		// before the regular expression.
		// Its labels are right-aligned: the lines that matter start with
		// blanks, or are the section's title.
		if l.Text == "" || l.Text[0] != ' ' && l.Text[0] != 'S' && l.Text[0] != 'D' && l.Text[0] != 'M' && l.Text[0] != 'O' {
			continue
		}
		if !strings.Contains(l.Text, "Information") && !strings.Contains(l.Text, "DxDiag") &&
			!strings.Contains(l.Text, "name:") && !strings.Contains(l.Text, "System:") {
			continue
		}
		m := kvRe.FindStringSubmatch(l.Text)
		switch {
		case strings.TrimSpace(l.Text) == "System Information":
			score += 10
		case m == nil:
		case m[1] == "DxDiag Version":
			score += 50
		case m[1] == "Operating System" && osRe.MatchString(m[2]):
			score += 30
		case m[1] == "Machine name":
			score += 10
		}
	}
	return min(score, 90)
}

// Parse implements inventory.Format.
func (Format) Parse(src *inventory.Lines, h *inventory.Host) error {
	h.Format = "dxdiag"
	var osLine inventory.Line
	for {
		l, ok := src.Next()
		if !ok {
			break
		}
		m := kvRe.FindStringSubmatch(l.Text)
		if m == nil {
			continue
		}
		switch m[1] {
		case "Machine name":
			if h.Hostname == "" {
				h.Hostname = m[2]
			}
		case "Operating System":
			if osLine.Num == 0 {
				osLine = l
				applyOS(l, m[2], h)
			}
		}
	}
	if osLine.Num == 0 && h.Hostname == "" {
		return &inventory.ParseError{Expected: `a DxDiag "Machine name:" and "Operating System:" line`}
	}
	h.Warnf("a DxDiag report lists no installed updates: add systeminfo or wmic qfe output for a plan")
	h.Finish()
	return nil
}

func applyOS(l inventory.Line, v string, h *inventory.Host) {
	m := osRe.FindStringSubmatch(v)
	if m == nil {
		h.Warnf("line %d: Operating System %q is not \"Name (6.0, Build N) Service Pack N (lab)\"", l.Num, v)
		return
	}
	name := m[1]
	switch {
	case strings.HasSuffix(name, " 64-bit"):
		h.OS.Architecture, name = "x64", strings.TrimSuffix(name, " 64-bit")
	case strings.HasSuffix(name, " 32-bit"):
		h.OS.Architecture, name = "x86", strings.TrimSuffix(name, " 32-bit")
	}
	h.ApplyOSName(name)
	ver, err := winver.Parse(m[2] + "." + m[3] + "." + m[4])
	if err != nil {
		h.Warnf("line %d: %v", l.Num, err)
		return
	}
	if m[6] != "" {
		h.OS.BuildLab = m[6]
		if lab, err := winver.ParseBuildLab(m[6]); err == nil && lab.Revision > 0 && lab.Build == ver.Build {
			ver.Revision = lab.Revision
		}
	}
	if sp, ok := inventory.FindServicePack(m[5]); ok {
		h.OS.ServicePack = inventory.IntPtr(sp)
	}
	h.SetVersion(ver)
}
