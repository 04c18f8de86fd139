// Package systeminfo reads the output of Windows' systeminfo command, in its
// list and CSV forms, in any UI language.
//
// Labels are looked up in labels.tsv, where every label was copied from a
// real output named in the file. An unknown language still yields the
// version, service pack, architecture and hotfixes: the field order of
// systeminfo is fixed for a given OS, and the version and hotfix fields are
// recognised by their content.
package systeminfo

import (
	_ "embed"
	"strings"
)

//go:embed labels.tsv
var labelsTSV string

// Field is a canonical systeminfo field.
type Field string

// The fields kbplan reads. order is systeminfo's field order on NT 6.0 and
// 6.1 (real samples: vanilla 2008 SP2 and wesng's Windows 7 outputs).
const (
	Host       Field = "host"
	OSName     Field = "osname"
	OSVersion  Field = "osversion"
	OSConfig   Field = "osconfig"
	SystemType Field = "systype"
	SysLocale  Field = "syslocale"
	Hotfix     Field = "hotfix"
)

var order = []Field{Host, OSName, OSVersion, "osmanuf", OSConfig, "buildtype", "owner", "org",
	"productid", "installdate", "boottime", "sysmanuf", "sysmodel", SystemType, "cpu", "bios",
	"windir", "sysdir", "bootdev", SysLocale, "inputlocale", "tz", "totalmem", "availmem",
	"vmmax", "vmavail", "vminuse", "pagefileloc", "domain", "logon", Hotfix, "nic", "hyperv"}

func position(f Field) int {
	for i, g := range order {
		if g == f {
			return i
		}
	}
	return -1
}

type label struct {
	text  string
	field Field
	lang  string
}

// byFirst indexes labels by their first byte, longest label first.
var byFirst = func() *[256][]label {
	m := new([256][]label)
	for _, row := range strings.Split(labelsTSV, "\n") {
		if row == "" || row[0] == '#' {
			continue
		}
		c := strings.Split(row, "\t")
		if len(c) < 4 {
			panic("systeminfo: labels.tsv row without 4 columns: " + row)
		}
		l := label{text: c[2], field: Field(c[1]), lang: c[0]}
		m[l.text[0]] = append(m[l.text[0]], l)
	}
	for _, ls := range m {
		for i := 1; i < len(ls); i++ {
			for j := i; j > 0 && len(ls[j].text) > len(ls[j-1].text); j-- {
				ls[j], ls[j-1] = ls[j-1], ls[j]
			}
		}
	}
	return m
}()

// lookup finds the known label that starts s and is followed by a colon. It
// returns the label and the value after the colon.
func lookup(s string) (label, string, bool) {
	if s == "" {
		return label{}, "", false
	}
	for _, l := range byFirst[s[0]] {
		if !strings.HasPrefix(s, l.text) {
			continue
		}
		rest := strings.TrimLeft(s[len(l.text):], " ")
		if v, ok := strings.CutPrefix(rest, ":"); ok {
			return l, strings.TrimSpace(v), true
		}
		if v, ok := strings.CutPrefix(rest, "："); ok {
			return l, strings.TrimSpace(v), true
		}
	}
	return label{}, "", false
}

// split cuts an unknown "Label:   value" line. The separator is the first
// colon followed by two or more blanks or by the end of the line, else the
// last ": " (the longest labels leave a single blank).
func split(s string) (string, string, bool) {
	for i := 0; i < len(s); i++ {
		if s[i] != ':' {
			continue
		}
		if i+1 == len(s) || strings.HasPrefix(s[i+1:], "  ") {
			return strings.TrimSpace(s[:i]), strings.TrimSpace(s[i+1:]), true
		}
	}
	if i := strings.LastIndex(s, ": "); i > 0 {
		return strings.TrimSpace(s[:i]), strings.TrimSpace(s[i+2:]), true
	}
	return "", "", false
}
