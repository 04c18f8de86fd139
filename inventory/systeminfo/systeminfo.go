package systeminfo

import (
	"encoding/csv"
	"strconv"
	"strings"

	"github.com/kbplan/kbplan/internal/lazyre"
	"github.com/kbplan/kbplan/inventory"
	"github.com/kbplan/kbplan/winver"
)

// Format reads systeminfo output.
type Format struct{}

// Name implements inventory.Format.
func (Format) Name() string { return "systeminfo" }

var (
	bareKBRe = lazyre.New(`^(\d{5,8})\b`)
	countRe  = lazyre.New(`\d+`)
	// buildRe is the shape of the OS Version value in every language:
	// "6.0.6002 Service Pack 2 Build 6002", "6.3.9600 Н/Д построение 9600".
	buildRe = lazyre.New(`^\d{1,2}\.\d{1,2}\.\d{3,5}\b.*\b\d{3,5}$`)
)

// Sniff implements inventory.Format.
func (Format) Sniff(head []inventory.Line) int {
	score := 0
	for _, l := range head {
		t := l.Text
		if t == "" || inventory.IsPrompt(t) {
			continue
		}
		if strings.HasPrefix(t, `"`) && strings.Count(t, `","`) >= 20 {
			if isCSVHeader(t) || buildRe.MatchString(csvField(t, 2)) {
				return 95
			}
			score += 20
			continue
		}
		if _, _, ok := lookup(t); ok {
			score += 10
			continue
		}
		if _, v, ok := split(t); ok && l.Indent() == 0 && buildRe.MatchString(v) {
			score += 30
		}
		if e, ok := entry(t); ok {
			if _, kb := inventory.FindKB(e); kb {
				score += 3
			}
		}
		// 90 is as sure as a list gets: the rest need not be read.
		if score >= 90 {
			return 90
		}
	}
	return score
}

func isCSVHeader(t string) bool {
	r := csv.NewReader(strings.NewReader(t))
	r.LazyQuotes = true
	rec, err := r.Read()
	if err != nil {
		return false
	}
	known := 0
	for _, c := range rec {
		if _, _, ok := lookup(c + ":"); ok {
			known++
		}
	}
	return known >= 3
}

func csvField(t string, i int) string {
	r := csv.NewReader(strings.NewReader(t))
	r.LazyQuotes = true
	rec, err := r.Read()
	if err != nil || len(rec) <= i {
		return ""
	}
	return rec[i]
}

// entry reads a continuation entry "   [01]: KB955430" and returns its text.
func entry(t string) (string, bool) {
	t = strings.TrimLeft(t, " ")
	if len(t) < 3 || t[0] != '[' {
		return "", false
	}
	i := 1
	for i < len(t) && i <= 5 && t[i] >= '0' && t[i] <= '9' {
		i++
	}
	if i == 1 || i >= len(t) || t[i] != ']' {
		return "", false
	}
	rest := strings.TrimLeft(t[i+1:], " ")
	rest = strings.TrimPrefix(rest, ":")
	return strings.TrimSpace(rest), true
}

// maxValue bounds a value grown by joining console-wrapped lines.
const maxValue = 4096

// field is one top-level "Label: value" of the list form, with its
// indented continuation entries ("[01]: KB955430").
type field struct {
	line    int
	label   string
	known   bool
	lang    string
	canon   Field
	value   string
	entries []string
}

// Parse implements inventory.Format.
func (Format) Parse(src *inventory.Lines, h *inventory.Host) error {
	// A list output has len(order) fields, plus one per network card.
	fields := make([]field, 0, len(order)+8)
	var firstOdd inventory.Line
	csvMode := false
	var csvHeader []string
	truncated := false
	for {
		l, ok := src.Next()
		if !ok {
			break
		}
		t := l.Text
		if strings.TrimSpace(t) == "" || inventory.IsPrompt(t) {
			continue
		}
		if strings.HasPrefix(t, `"`) && strings.Count(t, `","`) >= 20 {
			r := csv.NewReader(strings.NewReader(t))
			r.LazyQuotes = true
			rec, err := r.Read()
			if err != nil {
				h.Warnf("line %d: CSV row does not parse (%v); skipped", l.Num, err)
				continue
			}
			csvMode = true
			if isCSVHeader(t) {
				csvHeader = rec
				continue
			}
			fields = append(fields, csvFields(l.Num, csvHeader, rec)...)
			continue
		}
		if len(fields) >= inventory.MaxRecords {
			if !truncated {
				truncated = true
				h.Warnf("line %d: more than %d fields; the rest of the input was ignored: this is not systeminfo output", l.Num, inventory.MaxRecords)
			}
			continue
		}
		if l.Indent() > 0 && len(fields) == 0 {
			// Entries before any label: a paste cut above its header.
			// known: it is no label of an unknown language.
			if _, ok := entry(t); ok {
				fields = append(fields, field{line: l.Num, known: true})
			}
		}
		if l.Indent() > 0 && len(fields) > 0 {
			last := &fields[len(fields)-1]
			if len(last.entries) >= inventory.MaxRecords {
				continue
			}
			if e, ok := entry(t); ok {
				last.entries = append(last.entries, e)
			}
			continue
		}
		if lab, v, ok := lookup(t); ok {
			fields = append(fields, field{line: l.Num, label: lab.text, known: true, lang: lab.lang, canon: lab.field, value: v})
			continue
		}
		if lab, v, ok := split(t); ok {
			fields = append(fields, field{line: l.Num, label: lab, value: v})
			continue
		}
		// A line at column 0 without a label is the tail of a value that the
		// console wrapped.
		if len(fields) > 0 {
			last := &fields[len(fields)-1]
			if n := len(last.entries); n > 0 && len(last.entries[n-1]) < maxValue {
				last.entries[n-1] += t
			} else if len(last.value) < maxValue {
				last.value += t
			}
			continue
		}
		if firstOdd.Num == 0 {
			firstOdd = l
		}
	}
	if csvMode {
		h.Format = "systeminfo-csv"
	} else {
		h.Format = "systeminfo-list"
	}
	if len(fields) == 0 {
		if firstOdd.Num == 0 {
			return &inventory.ParseError{Expected: "systeminfo output (\"Host Name:  ...\" lines); the input is empty"}
		}
		return &inventory.ParseError{Line: firstOdd.Num, Text: firstOdd.Text, Expected: "a systeminfo \"Label:  value\" line"}
	}
	assign(fields, h)
	apply(fields, h)
	h.Finish()
	return nil
}

// csvFields turns one CSV record into fields, labelled by the header when
// there is one. Multi-valued cells ("2 Hotfix(s) Installed.,[01]: KB1,[02]:
// KB2") become value plus entries.
func csvFields(line int, header, rec []string) []field {
	out := make([]field, 0, len(rec))
	for i, cell := range rec {
		f := field{line: line}
		parts := strings.Split(cell, ",[")
		f.value = strings.TrimSpace(parts[0])
		if strings.HasPrefix(f.value, "[") {
			parts = append([]string{""}, strings.Split(strings.TrimPrefix(cell, "["), ",[")...)
			f.value = ""
		}
		for _, p := range parts[1:] {
			if e, ok := entry("[" + p); ok {
				f.entries = append(f.entries, e)
			}
		}
		if i < len(header) {
			f.label = header[i]
			if lab, _, ok := lookup(header[i] + ":"); ok {
				f.known, f.lang, f.canon = true, lab.lang, lab.field
			}
		}
		out = append(out, f)
	}
	return out
}

// assign gives each field without a known label its canonical name by
// position, anchored on the OS Version field, which is recognised by its
// content in every language.
func assign(fields []field, h *inventory.Host) {
	unknown := 0
	for _, f := range fields {
		if !f.known {
			unknown++
		}
	}
	if unknown == 0 {
		return
	}
	anchor := -1
	for i, f := range fields {
		if f.canon == OSVersion || (!f.known && buildRe.MatchString(f.value)) {
			anchor = i
			break
		}
	}
	if anchor < 0 {
		h.Warnf("%d systeminfo labels are in a language kbplan does not know, and no OS version value was found to anchor them", unknown)
		return
	}
	base := anchor - position(OSVersion)
	for i := range fields {
		if fields[i].known {
			continue
		}
		if p := i - base; p >= 0 && p < len(order) {
			fields[i].canon = order[p]
		}
	}
	// The hotfix list is recognised by its entries, wherever it stands.
	for i := range fields {
		if !fields[i].known && fields[i].canon != Hotfix && hotfixLike(fields[i].entries) {
			for j := range fields {
				if fields[j].canon == Hotfix && !fields[j].known {
					fields[j].canon = ""
				}
			}
			fields[i].canon = Hotfix
		}
	}
	h.Warnf("%d of %d systeminfo labels are not in kbplan's label table (an unknown UI language or OS version); they were read by position (first: %q, line %d)",
		unknown, len(fields), firstUnknown(fields).label, firstUnknown(fields).line)
}

func firstUnknown(fields []field) field {
	for _, f := range fields {
		if !f.known {
			return f
		}
	}
	return field{}
}

func hotfixLike(entries []string) bool {
	n := 0
	for _, e := range entries {
		if _, ok := inventory.FindKB(e); ok {
			n++
		}
	}
	return n > 0 && n*2 >= len(entries)
}

// apply copies the canonical fields into the host.
func apply(fields []field, h *inventory.Host) {
	langs := map[string]int{}
	var hotfix *field
	for i := range fields {
		f := &fields[i]
		if f.known && f.lang != "" {
			langs[f.lang]++
		}
		switch f.canon {
		case Host:
			if !notAvailable(f.value) {
				h.Hostname = f.value
			}
		case OSName:
			h.ApplyOSName(f.value)
		case OSVersion:
			applyVersion(f, h)
		case SystemType:
			if a := inventory.ArchFromSystemType(f.value); a != "" {
				h.OS.Architecture = a
			} else if !notAvailable(f.value) {
				h.Warnf("line %d: system type %q is not x86, x64 or Itanium", f.line, f.value)
			}
		case Hotfix:
			if hotfix == nil {
				hotfix = f
			}
		}
	}
	best, n := "", 0
	for lang, c := range langs {
		if c > n || c == n && lang < best {
			best, n = lang, c
		}
	}
	h.OS.Language = best
	if h.OS.Version == nil {
		h.Warnf("no OS version found: the input may be truncated before the \"OS Version\" line")
	}
	if hotfix == nil {
		if orphanHotfixes(fields, h) {
			return
		}
		h.Warnf("no hotfix list found: the input may be truncated before the \"Hotfix(s)\" section")
		return
	}
	applyHotfixes(hotfix, h)
}

// orphanHotfixes reads "[01]: KB955430" lines that lost their "Hotfix(s):"
// header (a hand-trimmed paste), wherever they ended up, with a warning:
// the list may be incomplete. It reports whether it found any.
func orphanHotfixes(fields []field, h *inventory.Host) bool {
	first, n := 0, 0
	for _, f := range fields {
		for _, e := range f.entries {
			if kb, ok := inventory.FindKB(e); ok {
				if n == 0 {
					first = f.line
				}
				h.AddHotfix(kb)
				n++
			}
		}
	}
	if n == 0 {
		return false
	}
	h.Warnf("line %d: %d hotfix lines without the \"Hotfix(s)\" header (a trimmed paste?) were read as installed updates; the list may be incomplete: paste the whole systeminfo output, or add wmic qfe", first, n)
	return true
}

func applyVersion(f *field, h *inventory.Host) {
	vs := inventory.FindVersion(f.value)
	if vs == "" {
		h.Warnf("line %d: OS version %q holds no version number", f.line, f.value)
		return
	}
	v, err := winver.Parse(vs)
	if err != nil {
		h.Warnf("line %d: %v", f.line, err)
		return
	}
	if sp, ok := inventory.FindServicePack(f.value); ok {
		h.OS.ServicePack = inventory.IntPtr(sp)
	} else if middle := strings.TrimSuffix(strings.TrimPrefix(f.value, vs), trailingBuild(f.value)); !strings.ContainsAny(middle, "0123456789") {
		// Without a service pack, systeminfo prints its localised "N/A"
		// (N/D, Н/Д, 暂缺) where CSDVersion would be.
		h.OS.ServicePack = inventory.IntPtr(0)
	}
	// The trailing "Build NNNN" must repeat the build of the version.
	if m := trailingBuild(f.value); m != "" && m != strconv.Itoa(v.Build) {
		h.Warnf("line %d: OS version %q names two builds; kbplan uses %d", f.line, f.value, v.Build)
	}
	h.SetVersion(v)
}

// trailingBuild is the build number ending an OS Version value ("... Build
// 6002"): the last 3 to 5 digits it ends with (of a longer run of digits,
// its last 5), or "" when it ends with fewer than 3.
func trailingBuild(v string) string {
	i := len(v)
	for i > 0 && v[i-1] >= '0' && v[i-1] <= '9' {
		i--
	}
	switch n := len(v) - i; {
	case n < 3:
		return ""
	case n > 5:
		return v[len(v)-5:]
	}
	return v[i:]
}

// notAvailable recognises systeminfo's "N/A" in the languages seen: N/A,
// N/D (Italian, Spanish), Н/Д (Russian), and 不可用.
func notAvailable(v string) bool {
	switch strings.ToUpper(strings.TrimSpace(v)) {
	case "N/A", "N/D", "Н/Д", "NON DISPONIBLE", "不可用", "":
		return true
	}
	return false
}

func applyHotfixes(f *field, h *inventory.Host) {
	declared := -1
	if m := countRe.FindString(f.value); m != "" {
		declared, _ = strconv.Atoi(m)
	}
	if declared < 0 && len(f.entries) == 0 {
		h.Warnf("line %d: the hotfix list reads %q: systeminfo could not list updates (a low-privilege run?) or none is installed; use wmic qfe to be sure", f.line, f.value)
		return
	}
	h.HotfixesKnown = true
	var skipped []string
	listed := 0
	for _, e := range f.entries {
		if e == "" {
			continue
		}
		listed++
		if kb, ok := inventory.FindKB(e); ok {
			h.AddHotfix(kb)
			continue
		}
		if m := bareKBRe.FindStringSubmatch(e); m != nil {
			h.AddHotfix(m[1])
			continue
		}
		skipped = append(skipped, e)
	}
	if len(skipped) > 0 {
		h.Warnf("line %d: %d hotfix entries carry no KB number and were skipped (first: %q)", f.line, len(skipped), skipped[0])
	}
	if declared >= 0 && listed < declared {
		h.Warnf("line %d: systeminfo declares %d hotfixes but lists %d: systeminfo stops listing after a fixed number (two real samples stop at 245), or the paste is truncated; read the full list with wmic qfe", f.line, declared, listed)
	}
}
