// Package volatility reads Volatility's printkey output for the key
// Microsoft\Windows NT\CurrentVersion of a memory image's SOFTWARE hive
// (volatility -f mem.raw printkey -K "Microsoft\Windows NT\CurrentVersion"):
//
//	Key name: CurrentVersion (S)
//	Values:
//	REG_SZ        CurrentBuildNumber : (S) 6002
//	REG_SZ        BuildLabEx      : (S) 6002.18005.amd64fre.lh_sp2rtm.090410-1830
//
// Responders hold such dumps, not the live host. The values are read as
// reg query's are (reg.Apply).
package volatility

import (
	"strings"

	"github.com/kbplan/kbplan/internal/lazyre"
	"github.com/kbplan/kbplan/inventory"
	"github.com/kbplan/kbplan/inventory/reg"
)

// Format reads printkey output.
type Format struct{}

// Name implements inventory.Format.
func (Format) Name() string { return "volatility" }

var (
	valueRe = lazyre.New(`^\s*(REG_[A-Z_]+)\s+(\S.*?)\s*:\s*\([SV]\)\s?(.*?)\s*$`)
	keyRe   = lazyre.New(`^Key name:\s*(\S+)`)
)

// Sniff implements inventory.Format.
func (Format) Sniff(head []inventory.Line) int {
	score := 0
	for _, l := range head {
		t := l.Text
		switch {
		case strings.HasPrefix(t, "Legend: (S) = Stable"):
			score += 30
		case strings.HasPrefix(t, "Key name:"):
			score += 30
		case strings.Contains(t, "REG_") && strings.Contains(t, "(S)") && valueRe.MatchString(t):
			score += 10
		}
	}
	return min(score, 90)
}

// Parse implements inventory.Format.
func (Format) Parse(src *inventory.Lines, h *inventory.Host) error {
	h.Format = "volatility-printkey"
	vals := map[string]string{}
	key := ""
	for {
		l, ok := src.Next()
		if !ok {
			break
		}
		if m := keyRe.FindStringSubmatch(l.Text); m != nil {
			key = m[1]
			continue
		}
		m := valueRe.FindStringSubmatch(l.Text)
		if m == nil || !strings.EqualFold(key, "CurrentVersion") && key != "" {
			continue
		}
		if name := strings.ToLower(m[2]); vals[name] == "" {
			vals[name] = m[3]
		}
	}
	if len(vals) == 0 {
		return &inventory.ParseError{Expected: `printkey values of "Microsoft\Windows NT\CurrentVersion" (REG_SZ  CurrentBuildNumber : (S) 6002)`}
	}
	reg.Apply(vals, h)
	h.Warnf("a registry dump lists no installed updates: add the CBS package keys or a systeminfo for a plan")
	h.Finish()
	return nil
}
