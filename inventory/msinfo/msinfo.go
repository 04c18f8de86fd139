// Package msinfo reads the System Summary of an msinfo32 text report
// (msinfo32 /report FILE, UTF-16, tab-separated "Item<TAB>Value" rows):
//
//	[System Summary]
//
//	Item	Value
//	OS Name	Microsoft® Windows Server® 2008 Standard
//	Version	6.0.6002 Service Pack 2 Build 6002
//	System Name	WIN-SRV01
//	System Type	x64-based PC
//
// Support staff ask for it. The item names are English: a report of
// another UI language is read by the shapes of its values (the version,
// "x64-based PC") where they are language-independent.
package msinfo

import (
	"strings"

	"github.com/kbplan/kbplan/internal/lazyre"
	"github.com/kbplan/kbplan/inventory"
	"github.com/kbplan/kbplan/winver"
)

var rowRe = lazyre.New(`^\s*(\S.*?)\s{2,}(\S.*?)\s*$`)

// Format reads msinfo32 reports.
type Format struct{}

// Name implements inventory.Format.
func (Format) Name() string { return "msinfo32" }

// Sniff implements inventory.Format.
func (Format) Sniff(head []inventory.Line) int {
	score := 0
	for _, l := range head {
		// The summary's lines start at column 0 with one of these.
		if l.Text == "" || !strings.ContainsRune("[SOV", rune(l.Text[0])) {
			continue
		}
		t := strings.TrimSpace(l.Text)
		switch {
		case t == "[System Summary]":
			score += 45
		case strings.HasPrefix(t, "System Information report written at"):
			score += 30
		case strings.HasPrefix(t, "OS Name  ") || strings.HasPrefix(t, "Version  ") && strings.Contains(t, " Build "):
			score += 15
		}
	}
	return min(score, 90)
}

// Parse implements inventory.Format.
func (Format) Parse(src *inventory.Lines, h *inventory.Host) error {
	h.Format = "msinfo32"
	found := false
	for {
		l, ok := src.Next()
		if !ok {
			break
		}
		// The first section ends the summary: the rest (hardware,
		// software environment) holds nothing about the OS.
		if t := strings.TrimSpace(l.Text); strings.HasPrefix(t, "[") && t != "[System Summary]" && found {
			break
		}
		// The reader turns each tab into spaces: an item and its value
		// are apart by two blanks or more.
		m := rowRe.FindStringSubmatch(l.Text)
		if m == nil {
			continue
		}
		item, value := m[1], m[2]
		switch {
		case item == "OS Name" && h.OS.Name == "":
			h.ApplyOSName(value)
			found = true
		case item == "System Name" && h.Hostname == "":
			h.Hostname = value
			found = true
		case item == "System Type" || inventory.ArchFromSystemType(value) != "" && h.OS.Architecture == "":
			if a := inventory.ArchFromSystemType(value); a != "" {
				h.OS.Architecture = a
				found = true
			}
		case h.OS.Version == nil && strings.Contains(value, " Build "):
			if v, err := winver.Parse(inventory.FindVersion(value)); err == nil {
				h.SetVersion(v)
				if sp, ok := inventory.FindServicePack(value); ok {
					h.OS.ServicePack = inventory.IntPtr(sp)
				}
				found = true
			}
		}
	}
	if !found {
		return &inventory.ParseError{Expected: "an msinfo32 System Summary (OS Name, Version, System Name, System Type)"}
	}
	h.Warnf("an msinfo32 report lists no installed updates: add systeminfo or wmic qfe output for a plan")
	h.Finish()
	return nil
}
