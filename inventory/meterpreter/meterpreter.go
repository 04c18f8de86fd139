// Package meterpreter reads the block Meterpreter's `sysinfo` prints:
//
//	Computer        : WIN2008
//	OS              : Windows 2008 (6.0 Build 6002, Service Pack 2).
//	Architecture    : x64
//	System Language : en_US
//
// Older Meterpreter versions printed the OS line without the version,
// "Windows 2008 (Build 6002, Service Pack 2).", and "Windows .NET Server"
// for Server 2003; the build then gives the version (winver.FromBuild).
package meterpreter

import (
	"strconv"
	"strings"

	"github.com/kbplan/kbplan/internal/lazyre"
	"github.com/kbplan/kbplan/inventory"
	"github.com/kbplan/kbplan/winver"
)

// Format reads Meterpreter sysinfo blocks.
type Format struct{}

// Name implements inventory.Format.
func (Format) Name() string { return "meterpreter" }

var (
	kvRe    = lazyre.New(`^(Computer|OS|Architecture|System Language|Domain|Logged On Users|Meterpreter|BuildTuple)\s*: (.*)$`)
	osRe    = lazyre.New(`^(.*?)\s*\((?:(\d{1,2})\.(\d{1,2}) )?Build (\d{3,5})(?:\.(\d{1,6}))?(?:, ([^)]*))?\)\.?$`)
	serverR = lazyre.New(`(?i)^Windows (2008|2012|2016|2019|2022)( R2)?`)
)

// Sniff implements inventory.Format.
func (Format) Sniff(head []inventory.Line) int {
	n := 0
	for _, l := range head {
		if !strings.Contains(l.Text, " : ") {
			continue
		}
		if m := kvRe.FindStringSubmatch(strings.TrimSpace(l.Text)); m != nil && (m[1] == "OS" && osRe.MatchString(m[2]) || m[1] == "Meterpreter" || m[1] == "Computer") {
			n++
		}
	}
	return min(n*35, 88)
}

// Parse implements inventory.Format.
func (Format) Parse(src *inventory.Lines, h *inventory.Host) error {
	h.Format = "meterpreter-sysinfo"
	found := false
	var odd inventory.Line
	for {
		l, ok := src.Next()
		if !ok {
			break
		}
		t := strings.TrimSpace(l.Text)
		m := kvRe.FindStringSubmatch(t)
		if m == nil {
			if odd.Num == 0 && t != "" {
				odd = l
			}
			continue
		}
		found = true
		v := strings.TrimSpace(m[2])
		switch m[1] {
		case "Computer":
			h.Hostname = v
		case "Architecture":
			h.OS.Architecture = inventory.ArchFromSystemType(v)
		case "System Language":
			h.OS.Language = strings.ReplaceAll(v, "_", "-")
		case "OS":
			if h.OS.Version == nil {
				applyOS(l, v, h)
			}
		}
	}
	if !found {
		return &inventory.ParseError{Line: odd.Num, Text: odd.Text, Expected: "Meterpreter sysinfo lines such as \"OS : Windows 2008 (6.0 Build 6002, Service Pack 2).\""}
	}
	h.Finish()
	return nil
}

func applyOS(l inventory.Line, v string, h *inventory.Host) {
	m := osRe.FindStringSubmatch(v)
	if m == nil {
		h.Warnf("line %d: OS %q is not \"Name (major.minor Build N, Service Pack N).\"", l.Num, v)
		return
	}
	// Meterpreter names servers "Windows 2008"; say "Windows Server 2008".
	name := serverR.ReplaceAllString(m[1], "Windows Server $1$2")
	h.ApplyOSName(name)
	var ver winver.Version
	var err error
	if m[2] == "" {
		// The older form: the build alone says the version.
		b, _ := strconv.Atoi(m[4])
		var ok bool
		if ver, ok = winver.FromBuild(b); !ok {
			h.Warnf("line %d: OS %q gives build %d without a version, and that build is not a known Windows release", l.Num, v, b)
			return
		}
	} else if ver, err = winver.Parse(m[2] + "." + m[3] + "." + m[4]); err != nil {
		h.Warnf("line %d: %v", l.Num, err)
		return
	}
	if m[5] != "" {
		ver.Revision, _ = strconv.Atoi(m[5])
	}
	if sp, ok := inventory.FindServicePack(m[6]); ok {
		h.OS.ServicePack = inventory.IntPtr(sp)
	}
	h.SetVersion(ver)
}
