// Package reg reads `reg query` output and regedit .reg exports of
// HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion. They carry BuildLabEx,
// the only place besides file versions where NT 6.0 keeps its revision (it
// has no UBR value). Keys of the CBS package store
// (Component Based Servicing\Packages\Package_for_KB…) count as installed
// updates.
package reg

import (
	"strconv"
	"strings"

	"github.com/kbplan/kbplan/internal/lazyre"
	"github.com/kbplan/kbplan/inventory"
	"github.com/kbplan/kbplan/winver"
)

// Format reads registry text.
type Format struct{}

// Name implements inventory.Format.
func (Format) Name() string { return "reg" }

var (
	keyRe      = lazyre.New(`(?i)^\[?-?(HKEY_LOCAL_MACHINE|HKLM)\\[^\]]*\]?$`)
	queryRe    = lazyre.New(`^\s+(\S.*?)\s+(REG_[A-Z_]+)\s*(.*)$`)
	exportRe   = lazyre.New(`^"((?:[^"\\]|\\.)*)"="((?:[^"\\]|\\.)*)"$`)
	dwordRe    = lazyre.New(`^"((?:[^"\\]|\\.)*)"=dword:([0-9a-fA-F]{1,8})$`)
	packageRe  = lazyre.New(`(?i)\\Package_(?:\d+_)?for_KB(\d{1,8})[~\\]`)
	headerRe   = lazyre.New(`^(Windows Registry Editor Version 5\.00|REGEDIT4)$`)
	currentKey = lazyre.New(`(?i)\\Windows NT\\CurrentVersion$`)
)

// Sniff implements inventory.Format.
func (Format) Sniff(head []inventory.Line) int {
	score := 0
	for _, l := range head {
		t := strings.TrimSpace(l.Text)
		switch {
		case isHeader(t):
			score += 60
		case isKey(t):
			score += 30
		case strings.Contains(l.Text, "REG_") && queryRe.MatchString(l.Text):
			score += 10
		}
	}
	return min(score, 90)
}

// Parse implements inventory.Format.
func (Format) Parse(src *inventory.Lines, h *inventory.Host) error {
	vals := map[string]string{}
	key, export := "", false
	var odd *inventory.Line
	seen := 0
	for {
		l, ok := src.Next()
		if !ok {
			break
		}
		t := strings.TrimSpace(l.Text)
		if t == "" || inventory.IsPrompt(t) {
			continue
		}
		if isHeader(t) {
			export = true
			continue
		}
		if isKey(t) {
			key = strings.Trim(t, "[]")
			seen++
			if m := packageRe.FindStringSubmatch(key + `\`); m != nil {
				h.AddHotfix(m[1])
			}
			continue
		}
		var name, value string
		if m := matchQuery(l.Text); m != nil {
			name, value = m[1], strings.TrimSpace(m[3])
			if m[2] == "REG_DWORD" {
				if n, err := strconv.ParseUint(strings.TrimPrefix(value, "0x"), 16, 32); err == nil {
					value = strconv.FormatUint(n, 10)
				}
			}
		} else if m := exportRe.FindStringSubmatch(t); m != nil {
			name, value = unescape(m[1]), unescape(m[2])
		} else if m := dwordRe.FindStringSubmatch(t); m != nil {
			n, _ := strconv.ParseUint(m[2], 16, 32)
			name, value = unescape(m[1]), strconv.FormatUint(n, 10)
		} else {
			if odd == nil && !strings.HasPrefix(t, "\"") && !strings.HasPrefix(t, "@") {
				ll := l
				odd = &ll
			}
			continue
		}
		seen++
		switch {
		case currentKey.MatchString(key) || key == "":
			vals[strings.ToLower(name)] = value
		case strings.EqualFold(name, "ComputerName") && strings.Contains(strings.ToLower(key), `\computername\computername`):
			h.Hostname = value
		case strings.EqualFold(name, "PROCESSOR_ARCHITECTURE"):
			vals["processor_architecture"] = value
		}
	}
	if seen == 0 {
		e := &inventory.ParseError{Expected: "a registry key (HKEY_LOCAL_MACHINE\\...) and its values"}
		if odd != nil {
			e.Line, e.Text = odd.Num, odd.Text
		}
		return e
	}
	if export {
		h.Format = "reg-export"
	} else {
		h.Format = "reg-query"
	}
	Apply(vals, h)
	if h.HotfixesKnown {
		h.Warnf("installed updates were read from CBS package keys; updates that are staged but not yet committed by a restart are listed as well")
	}
	h.Finish()
	return nil
}

func isHeader(t string) bool {
	return (strings.HasPrefix(t, "Windows Registry") || strings.HasPrefix(t, "REGEDIT")) && headerRe.MatchString(t)
}

func isKey(t string) bool {
	u := strings.TrimLeft(t, "[-")
	return len(u) > 4 && (u[0] == 'H' || u[0] == 'h') && keyRe.MatchString(t)
}

func matchQuery(t string) []string {
	if !strings.Contains(t, "REG_") {
		return nil
	}
	return queryRe.FindStringSubmatch(t)
}

func unescape(s string) string {
	return strings.NewReplacer(`\\`, `\`, `\"`, `"`).Replace(s)
}

// Apply sets h from the values of HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion, by
// lower-case name (productname, editionid, csdversion, buildlabex, buildlab,
// currentbuild or currentbuildnumber, currentversion, processor_architecture):
// the readers of registry dumps (reg, Volatility, RegRipper) share it.
func Apply(v map[string]string, h *inventory.Host) {
	if n := v["productname"]; n != "" {
		h.ApplyOSName(n)
	}
	if e := v["editionid"]; e != "" && h.OS.Edition == "" {
		h.OS.Edition = strings.TrimPrefix(strings.TrimSuffix(e, "Core"), "Server")
	}
	if sp, ok := inventory.FindServicePack(v["csdversion"]); ok {
		h.OS.ServicePack = inventory.IntPtr(sp)
	}
	var lab *winver.BuildLab
	for _, k := range []string{"buildlabex", "buildlab"} {
		if s := v[k]; s != "" {
			if b, err := winver.ParseBuildLab(s); err == nil {
				lab = &b
				h.OS.BuildLab = s
				break
			} else {
				h.Warnf("%s: %v", k, err)
			}
		}
	}
	build := first(v, "currentbuild", "currentbuildnumber")
	cur := v["currentversion"]
	if cur == "" || build == "" {
		if lab == nil {
			return
		}
		h.Warnf("CurrentVersion or CurrentBuild is missing; the version comes from the build lab %q", lab.Raw)
	}
	if cur == "" {
		cur = "6.0"
		if lab.Build >= 7600 {
			h.Warnf("build lab %q is not NT 6.0 and CurrentVersion is missing: the version stays unknown", lab.Raw)
			return
		}
	}
	if build == "" {
		build = strconv.Itoa(lab.Build)
	}
	ver, err := winver.Parse(cur + "." + build)
	if err != nil {
		h.Warnf("CurrentVersion %q and CurrentBuild %q do not make a version: %v", cur, build, err)
		return
	}
	if lab != nil {
		switch {
		case lab.Build != ver.Build:
			h.Warnf("BuildLabEx %q names build %d but CurrentBuild is %d: an update changed one and a restart is pending, or the values were edited",
				lab.Raw, lab.Build, ver.Build)
		default:
			ver.Revision = lab.Revision
		}
		if lab.Arch != "" {
			h.OS.Architecture = lab.Arch
		}
	}
	if a := v["processor_architecture"]; a != "" {
		if arch := inventory.ArchFromSystemType(a); arch != "" {
			h.OS.Architecture = arch
		}
	}
	h.SetVersion(ver)
}

func first(v map[string]string, keys ...string) string {
	for _, k := range keys {
		if s := v[k]; s != "" {
			return s
		}
	}
	return ""
}
