// Package ver reads the banner of `ver` and of cmd.exe, in any language:
// "Microsoft Windows [Version 6.0.6002]", "Microsoft Windows [Версия 6.0.6003]".
package ver

import (
	"strings"

	"github.com/kbplan/kbplan/internal/lazyre"
	"github.com/kbplan/kbplan/inventory"
	"github.com/kbplan/kbplan/winver"
)

// Format reads ver banners.
type Format struct{}

// Name implements inventory.Format.
func (Format) Name() string { return "ver" }

// bannerRe allows any localised word for "Version" inside the brackets,
// and Wine's banner without them ("Microsoft Windows 6.0.6002").
var bannerRe = lazyre.New(`Microsoft Windows(?: [^\[\]\d]{0,40})?\s*(?:\[[^\]\d]{0,30}?)?(\d{1,2}\.\d{1,2}\.\d{3,5}(?:\.\d{1,6})?)(?:\]|\s*$)`)

// Sniff implements inventory.Format.
func (Format) Sniff(head []inventory.Line) int {
	for _, l := range head {
		if strings.Contains(l.Text, "Windows") && bannerRe.MatchString(l.Text) {
			return 50
		}
	}
	return 0
}

// Parse implements inventory.Format.
func (Format) Parse(src *inventory.Lines, h *inventory.Host) error {
	h.Format = "ver"
	var firstLine inventory.Line
	for {
		l, ok := src.Next()
		if !ok {
			break
		}
		if firstLine.Num == 0 && strings.TrimSpace(l.Text) != "" {
			firstLine = l
		}
		m := bannerRe.FindStringSubmatch(l.Text)
		if m == nil {
			continue
		}
		v, err := winver.Parse(m[1])
		if err != nil {
			return &inventory.ParseError{Line: l.Num, Text: l.Text, Expected: "a version such as 6.0.6002 (" + err.Error() + ")"}
		}
		if h.OS.Version != nil && h.OS.Version.Compare(v) != 0 {
			h.Warnf("line %d: a second banner says %s, the first said %s; kbplan uses the first", l.Num, v, h.OS.Version)
			continue
		}
		if h.OS.Version == nil {
			h.SetVersion(v)
		}
	}
	if h.OS.Version == nil {
		return &inventory.ParseError{Line: firstLine.Num, Text: firstLine.Text, Expected: "Microsoft Windows [Version 6.0.6002]"}
	}
	if h.OS.Version.IsNT60() {
		h.Warnf("%s", inventory.VerLimits)
	}
	h.Finish()
	return nil
}
