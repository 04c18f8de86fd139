// Package regripper reads RegRipper's winver plugin output, what a
// responder gets from a SOFTWARE hive (rip.pl -r SOFTWARE -p winver):
//
//	winver v.20081210
//	(Software) Get Windows version
//
//	ProductName = Windows Server (R) 2008 Standard
//	CSDVersion  = Service Pack 2
//	BuildLab    = 6002.vistasp2_gdr.181204-1700
//
// The values are read as reg query's are (reg.Apply); winver prints no
// CurrentVersion, so NT 6.0 is taken from the build lab when it says so.
package regripper

import (
	"strings"

	"github.com/kbplan/kbplan/internal/lazyre"
	"github.com/kbplan/kbplan/inventory"
	"github.com/kbplan/kbplan/inventory/reg"
)

// Format reads winver output.
type Format struct{}

// Name implements inventory.Format.
func (Format) Name() string { return "regripper" }

var kvRe = lazyre.New(`^\s*(ProductName|CSDVersion|BuildLab|BuildLabEx|CurrentVersion|CurrentBuild|CurrentBuildNumber|EditionID|InstallationType|RegisteredOwner|InstallDate)\s*=\s*(.*?)\s*$`)

// Sniff implements inventory.Format.
func (Format) Sniff(head []inventory.Line) int {
	score := 0
	for _, l := range head {
		t := l.Text
		if strings.IndexByte(t, '=') < 0 && strings.IndexByte(t, '(') < 0 && !strings.HasPrefix(t, "winver") {
			continue
		}
		switch {
		case strings.HasPrefix(t, "winver v."), strings.Contains(t, "(Software) Get Windows version"):
			score += 40
		case strings.Contains(t, " = ") && kvRe.MatchString(t):
			score += 12
		}
	}
	return min(score, 88)
}

// Parse implements inventory.Format.
func (Format) Parse(src *inventory.Lines, h *inventory.Host) error {
	h.Format = "regripper-winver"
	vals := map[string]string{}
	for {
		l, ok := src.Next()
		if !ok {
			break
		}
		if m := kvRe.FindStringSubmatch(l.Text); m != nil {
			if name := strings.ToLower(m[1]); vals[name] == "" {
				vals[name] = m[2]
			}
		}
	}
	if len(vals) == 0 {
		return &inventory.ParseError{Expected: `RegRipper winver lines such as "ProductName = Windows Server (R) 2008 Standard"`}
	}
	reg.Apply(vals, h)
	h.Warnf("a registry dump lists no installed updates: add the CBS package keys or a systeminfo for a plan")
	h.Finish()
	return nil
}
