// Package detect reads any inventory kbplan knows: it decodes the text
// (UTF-16, UTF-8, OEM and ANSI code pages, detected, never asked) and picks
// the format from the content, never from the file name.
package detect

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"

	"github.com/kbplan/kbplan/internal/lazyre"
	"github.com/kbplan/kbplan/inventory"
	"github.com/kbplan/kbplan/inventory/dxdiag"
	"github.com/kbplan/kbplan/inventory/meterpreter"
	"github.com/kbplan/kbplan/inventory/msinfo"
	"github.com/kbplan/kbplan/inventory/reg"
	"github.com/kbplan/kbplan/inventory/regripper"
	"github.com/kbplan/kbplan/inventory/systeminfo"
	"github.com/kbplan/kbplan/inventory/ver"
	"github.com/kbplan/kbplan/inventory/volatility"
	"github.com/kbplan/kbplan/inventory/wmi"
)

// Formats lists every format, in the order ties are broken.
var Formats = []inventory.Format{
	systeminfo.Format{},
	wmi.Wmic{},
	wmi.PowerShell{},
	reg.Format{},
	meterpreter.Format{},
	dxdiag.Format{},
	msinfo.Format{},
	volatility.Format{},
	regripper.Format{},
	ver.Format{},
}

// sureScore is the Sniff score no format but systeminfo (95 for its own
// header) exceeds: once a format has it, the formats after it cannot win.
// TestSniffCeiling keeps it true.
const sureScore = 90

// headLines is how many lines the formats see when sniffing.
const headLines = 200

// Error is returned when no format fits an input. It names the input, the
// formats tried and the first line that did not fit.
type Error struct {
	Source  string
	Tried   []string
	Line    int
	Text    string
	Problem string
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s", e.Source, e.Problem)
	if e.Line > 0 {
		fmt.Fprintf(&b, "; line %d %s did not fit", e.Line, inventory.Describe(e.Text))
	}
	fmt.Fprintf(&b, " (formats tried: %s). Give kbplan the unedited output of systeminfo, wmic qfe, wmic os, reg query, ver or Get-HotFix, or a kbplan collector bundle", strings.Join(e.Tried, ", "))
	return b.String()
}

// Read reads one inventory from r. name names the input in messages.
func Read(name string, r io.Reader) (inventory.Host, error) {
	br := heads.Get().(*bufio.Reader)
	br.Reset(r)
	defer func() {
		br.Reset(nil)
		heads.Put(br)
	}()
	peek, err := br.Peek(inventory.HeadSize)
	if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
		return inventory.Host{}, fmt.Errorf("%s: %w", name, err)
	}
	enc, bom := inventory.DetectEncoding(peek)
	if what := binaryKind(peek, enc); what != "" {
		return inventory.Host{}, &Error{Source: name, Problem: "this is " + what + ", not text: give kbplan the text a command printed (systeminfo > file.txt), or a collector bundle", Tried: formatNames()}
	}
	if _, err := br.Discard(bom); err != nil {
		return inventory.Host{}, fmt.Errorf("%s: %w", name, err)
	}
	lines := inventory.NewLines(inventory.Decoder(br, enc))
	defer lines.Close()
	lines.Keep(maxKept, maxKeptBytes)
	head := lines.Head(headLines)

	tried := formatNames()
	best := sniff(head)
	if best == nil {
		e := &Error{Source: name, Tried: tried, Problem: "not an inventory kbplan can read"}
		if l, ok := firstText(head); ok {
			e.Line, e.Text = l.Num, l.Text
		} else {
			e.Problem = "the input is empty"
		}
		return inventory.Host{}, e
	}
	h := inventory.Host{Source: name}
	if err := best.Parse(lines, &h); err != nil {
		return inventory.Host{}, fmt.Errorf("%s: %s: %w", name, best.Name(), err)
	}
	// A format that matched but gave nothing is not an answer: say what
	// was found instead of a host with every field unknown.
	if readNothing(&h) {
		e := &Error{Source: name, Tried: tried, Problem: "it looks like " + best.Name() + " output, but no host name, Windows version, product or hotfix could be read from it"}
		if l, ok := firstText(head); ok {
			e.Line, e.Text = l.Num, l.Text
		}
		return inventory.Host{}, e
	}
	if err := lines.Err(); err != nil {
		h.Warnf("reading stopped early: %v; what was read before is kept", err)
	}
	if lines.Cut > 0 {
		h.Warnf("%d lines were longer than %d bytes and were cut", lines.Cut, inventory.MaxLineLen)
	}
	h.Encoding = string(enc)
	if lines.Overflow {
		return h, nil
	}
	return alsoIn(h, lines.Kept), nil
}

// heads are the buffers Read peeks at an input's start with, used again.
var heads = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, inventory.HeadSize) }}

// maxKept and maxKeptBytes bound the lines kept to split a paste of
// several outputs; a longer input is read with one format only.
const (
	maxKept      = 20000
	maxKeptBytes = 4 << 20
)

// promptRe matches the prompt lines that separate the outputs of a pasted
// session: cmd ("C:\Users\x>systeminfo"), PowerShell ("PS C:\> ..."),
// Meterpreter ("meterpreter > sysinfo") and msfconsole.
var promptRe = lazyre.New(`^\s*(?:[A-Za-z]:\\[^>]*>|PS [A-Za-z]:\\[^>]*>|meterpreter\s*>|msf\d?(?: [^>]*)?>)`)

func isPrompt(l inventory.Line) bool {
	return strings.IndexByte(l.Text, '>') >= 0 && promptRe.MatchString(l.Text)
}

// alsoIn splits a paste of several outputs at its prompt lines, reads each
// part with the format that finds its own output there, and merges what
// they read as analyze merges several files of one host: the first part's
// values win, disagreements are warned about. A part no format reads is a
// warning naming its first line. A paste of one part is h as read.
func alsoIn(h inventory.Host, kept []inventory.Line) inventory.Host {
	if len(kept) == 0 {
		return h
	}
	// Most inputs hold no prompt line: nothing to split.
	if !slices.ContainsFunc(kept, isPrompt) {
		return h
	}
	var segs [][]inventory.Line
	var cur []inventory.Line
	for _, l := range kept {
		if isPrompt(l) {
			segs = append(segs, cur)
			cur = nil
			continue
		}
		cur = append(cur, l)
	}
	segs = append(segs, cur)
	filled := 0
	for _, seg := range segs {
		if _, ok := firstText(seg); ok {
			filled++
		}
	}
	if filled < 2 {
		return h
	}
	var parts []inventory.Host
	var names, unread []string
	for _, seg := range segs {
		first, ok := firstText(seg)
		if !ok {
			continue
		}
		best := sniff(seg[:min(len(seg), headLines)])
		p := inventory.Host{Source: h.Source, Encoding: h.Encoding}
		if best == nil || best.Parse(inventory.LinesOf(seg), &p) != nil || readNothing(&p) {
			unread = append(unread, fmt.Sprintf("line %d %s", first.Num, inventory.Describe(first.Text)))
			continue
		}
		parts = append(parts, p)
		names = append(names, p.Format)
	}
	if len(parts) < 2 {
		return h
	}
	m := inventory.Merge(parts...)
	m.Source, m.Encoding = h.Source, h.Encoding
	m.Warnf("the input holds %d outputs (%s), split at their prompt lines: each was read and they were merged", len(parts), strings.Join(names, ", "))
	for _, u := range unread {
		m.Warnf("a part of the input no format reads was left out: it starts at %s", u)
	}
	return m
}

// sniff is the format that scores highest on head, ties going to the
// earlier one, or nil when none claims it.
func sniff(head []inventory.Line) inventory.Format {
	var best inventory.Format
	bestScore := 0
	for _, f := range Formats {
		if s := f.Sniff(head); s > bestScore {
			best, bestScore = f, s
		}
		// No later format scores above sureScore, and ties go to the
		// earlier one: the rest need not look.
		if bestScore >= sureScore {
			break
		}
	}
	return best
}

// readNothing is a parse that found none of what an answer starts from: a
// host name, a Windows version, product or name, or a hotfix.
func readNothing(h *inventory.Host) bool {
	return h.Hostname == "" && h.OS.Version == nil && h.OS.Product == "" && h.OS.Name == "" && len(h.Hotfixes) == 0
}

func formatNames() []string {
	var out []string
	for _, f := range Formats {
		out = append(out, f.Name())
	}
	return out
}

// magics are file signatures of things people paste or rename by mistake
// that net/http's sniffer does not name.
var magics = []struct{ prefix, what string }{
	{"ElfFile\x00", "a Windows event log (EVTX)"},
	{"%PDF-", "a file of type application/pdf"},
	{"MZ", "a Windows program (PE)"},
	{"MSCF", "a cabinet that is not a collector bundle"},
	{"PK\x03\x04", "a zip archive that is not a collector bundle"},
	{"\x7fELF", "a Linux program (ELF)"},
	{"regf", "a registry hive (export it with reg export or reg query instead)"},
	{"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an OLE compound file (an .msg, .doc or .xls)"},
}

// binaryKind names what a non-text input is, or "" for text. UTF-16 text
// is text whatever its bytes look like.
func binaryKind(head []byte, enc inventory.Encoding) string {
	if len(head) == 0 || enc == inventory.UTF16LE || enc == inventory.UTF16BE {
		return ""
	}
	for _, m := range magics {
		if bytes.HasPrefix(head, []byte(m.prefix)) {
			return m.what
		}
	}
	// Text has no control bytes but tab, line ends and form feed: the
	// sniffer is asked only when some are there (every binary format
	// above has them early).
	n := min(len(head), 512)
	if !slices.ContainsFunc(head[:n], func(c byte) bool {
		return c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f' && c != 0x1a && c != 0x1b
	}) {
		return ""
	}
	ct := http.DetectContentType(head)
	switch {
	case strings.HasPrefix(ct, "text/"):
		return ""
	case ct == "application/octet-stream":
		return "binary data (control bytes that no text output has)"
	}
	mt, _, _ := strings.Cut(ct, ";")
	return "a file of type " + mt
}

func firstText(head []inventory.Line) (inventory.Line, bool) {
	for _, l := range head {
		if strings.TrimSpace(l.Text) != "" {
			return l, true
		}
	}
	return inventory.Line{}, false
}
