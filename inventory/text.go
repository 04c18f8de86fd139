package inventory

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/kbplan/kbplan/internal/lazyre"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/encoding/korean"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/traditionalchinese"
	xunicode "golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

// Encoding names a text encoding kbplan detects by itself.
type Encoding string

// The encodings a 2008 box writes: UTF-16 from PowerShell redirects and
// wmic, OEM code pages from cmd redirects, ANSI code pages from Notepad, and
// UTF-8 from modern editors and pastes.
const (
	UTF8    Encoding = "utf-8"
	UTF16LE Encoding = "utf-16le"
	UTF16BE Encoding = "utf-16be"
	CP437   Encoding = "cp437"
	CP850   Encoding = "cp850"
	CP852   Encoding = "cp852"
	CP866   Encoding = "cp866"
	CP932   Encoding = "cp932"
	CP936   Encoding = "cp936"
	CP949   Encoding = "cp949"
	CP950   Encoding = "cp950"
	CP1250  Encoding = "cp1250"
	CP1251  Encoding = "cp1251"
	CP1252  Encoding = "cp1252"
)

var codecs = map[Encoding]encoding.Encoding{
	UTF16LE: xunicode.UTF16(xunicode.LittleEndian, xunicode.IgnoreBOM),
	UTF16BE: xunicode.UTF16(xunicode.BigEndian, xunicode.IgnoreBOM),
	CP437:   charmap.CodePage437,
	CP850:   charmap.CodePage850,
	CP852:   charmap.CodePage852,
	CP866:   charmap.CodePage866,
	CP932:   japanese.ShiftJIS,
	CP936:   simplifiedchinese.GBK,
	CP949:   korean.EUCKR,
	CP950:   traditionalchinese.Big5,
	CP1250:  charmap.Windows1250,
	CP1251:  charmap.Windows1251,
	CP1252:  charmap.Windows1252,
}

// legacy lists the 8-bit code pages in the order ties are broken: OEM pages
// first, since cmd redirects (the common case) write the OEM code page.
var legacy = []Encoding{CP850, CP437, CP852, CP866, CP1252, CP1250, CP1251, CP936, CP950, CP932, CP949}

// localePages maps the language part of a Windows locale ("de", "zh-cn", as
// printed by systeminfo's "System Locale") to its OEM and ANSI code pages.
var localePages = map[string][]Encoding{
	"en": {CP437, CP1252}, "de": {CP850, CP1252}, "fr": {CP850, CP1252}, "es": {CP850, CP1252},
	"it": {CP850, CP1252}, "pt": {CP850, CP1252}, "nl": {CP850, CP1252}, "sv": {CP850, CP1252},
	"da": {CP850, CP1252}, "nb": {CP850, CP1252}, "fi": {CP850, CP1252},
	"pl": {CP852, CP1250}, "cs": {CP852, CP1250}, "sk": {CP852, CP1250}, "hu": {CP852, CP1250},
	"sl": {CP852, CP1250}, "hr": {CP852, CP1250}, "ro": {CP852, CP1250},
	"ru": {CP866, CP1251}, "uk": {CP866, CP1251}, "bg": {CP866, CP1251}, "be": {CP866, CP1251},
	"ja": {CP932}, "ko": {CP949}, "zh-cn": {CP936}, "zh-sg": {CP936}, "zh-tw": {CP950}, "zh-hk": {CP950},
}

// HeadSize is how much of an input is examined to detect its encoding and
// format: systeminfo's "System Locale" line, the best hint for a code page,
// lies within the first 2 KiB.
const HeadSize = 16 << 10

// DetectEncoding picks the encoding of an input from its first bytes, and
// returns how many leading bytes are a byte-order mark.
func DetectEncoding(head []byte) (Encoding, int) {
	switch {
	case bytes.HasPrefix(head, []byte{0xEF, 0xBB, 0xBF}):
		return UTF8, 3
	case bytes.HasPrefix(head, []byte{0xFF, 0xFE}):
		return UTF16LE, 2
	case bytes.HasPrefix(head, []byte{0xFE, 0xFF}):
		return UTF16BE, 2
	}
	if enc, ok := sniffUTF16(head); ok {
		return enc, 0
	}
	if validUTF8Prefix(head) {
		return UTF8, 0
	}
	return guessLegacy(head), 0
}

// sniffUTF16 finds BOM-less UTF-16 by its zero bytes: text that is mostly
// ASCII has a zero in every other byte.
func sniffUTF16(head []byte) (Encoding, bool) {
	n := min(len(head), 4096) &^ 1
	if n < 4 {
		return "", false
	}
	var even, odd int
	for i := 0; i < n; i += 2 {
		if head[i] == 0 {
			even++
		}
		if head[i+1] == 0 {
			odd++
		}
	}
	pairs := n / 2
	switch {
	case odd*10 >= pairs*4 && even*10 < pairs:
		return UTF16LE, true
	case even*10 >= pairs*4 && odd*10 < pairs:
		return UTF16BE, true
	}
	return "", false
}

// validUTF8Prefix accepts a head that is valid UTF-8 except for a rune cut
// off at its end.
func validUTF8Prefix(b []byte) bool {
	for k := 0; k < utf8.UTFMax && k < len(b); k++ {
		if utf8.RuneStart(b[len(b)-1-k]) {
			if !utf8.FullRune(b[len(b)-1-k:]) {
				b = b[:len(b)-1-k]
			}
			break
		}
	}
	return utf8.Valid(b)
}

// guessLegacy decodes the head with every candidate code page and keeps the
// one whose text reads most like words. A Windows locale printed in the text
// (systeminfo's "System Locale: ru;Russian") favours that locale's pages.
func guessLegacy(head []byte) Encoding {
	candidates := legacy
	if hinted := localeHint(head); len(hinted) > 0 {
		candidates = hinted
	}
	sample := highLines(head, 1<<10)
	best, bestScore := candidates[0], -1<<62
	for _, enc := range candidates {
		var score int
		if table := byteTables[enc]; table != nil {
			score = scoreBytes(sample, table())
		} else {
			text, err := codecs[enc].NewDecoder().Bytes(sample)
			if err != nil {
				continue
			}
			score = wordScore(string(text))
		}
		if score > bestScore {
			best, bestScore = enc, score
		}
	}
	return best
}

// localeHint returns the code pages of the Windows locales named in the
// text ("ru;Russian", "zh-tw;中文" after a label's colon), if any.
func localeHint(head []byte) []Encoding {
	var out []Encoding
	found := 0
	for i := 0; i < len(head) && found < 4; i++ {
		if head[i] != ';' {
			continue
		}
		j := i
		for j > 0 && (head[j-1] >= 'a' && head[j-1] <= 'z' || head[j-1] == '-') {
			j--
		}
		tag := string(head[j:i])
		if j == 0 || (head[j-1] != ' ' && head[j-1] != ':' && head[j-1] != ',' && head[j-1] != '"') {
			continue
		}
		pages, ok := localePages[tag]
		if !ok && len(tag) == 5 && tag[2] == '-' {
			pages, ok = localePages[tag[:2]]
		}
		if !ok {
			continue
		}
		found++
		for _, p := range pages {
			if !slices.Contains(out, p) {
				out = append(out, p)
			}
		}
	}
	return out
}

// highLines collects up to max bytes of the lines that hold non-ASCII
// bytes: only those tell code pages apart.
func highLines(head []byte, max int) []byte {
	var out []byte
	for len(head) > 0 && len(out) < max {
		line := head
		if i := bytes.IndexByte(head, '\n'); i >= 0 {
			line, head = head[:i+1], head[i+1:]
		} else {
			head = nil
		}
		for _, c := range line {
			if c >= 0x80 {
				out = append(out, line...)
				break
			}
		}
	}
	return out
}

// wordScore rates decoded text: letters inside words of one script and
// plausible case score up, symbols, controls and replacement characters
// inside words score down.
func wordScore(s string) int {
	var w wordScorer
	for _, r := range s {
		w.add(classify(r))
	}
	return w.score
}

// scoreBytes is wordScore of text in a single-byte code page: each byte's
// character is looked up in the page's table, not decoded.
func scoreBytes(b []byte, table *[256]charClass) int {
	var w wordScorer
	for _, c := range b {
		w.add(table[c])
	}
	return w.score
}

// wordScorer keeps wordScore's running score and the previous character.
type wordScorer struct {
	score int
	prev  charClass
}

func (w *wordScorer) add(c charClass) {
	prev := w.prev
	w.prev = c
	switch {
	case c&isASCII != 0:
	case c&isError != 0:
		w.score -= 20
	case c&isLetter != 0:
		w.score += 2
		if c&isUpper != 0 && prev&isLower != 0 {
			w.score -= 6
		}
		if prev&isLetter != 0 && prev&scriptMask != c&scriptMask {
			w.score -= 6
		}
		if c&isKana != 0 {
			w.score++
		}
	case c&isControl != 0:
		w.score -= 8
	case c&isSymbol != 0:
		w.score -= 2
		if prev&isLetter != 0 {
			w.score -= 3
		}
	}
}

// charClass is what wordScore asks of a character, as bits.
type charClass uint16

const (
	isASCII charClass = 1 << iota
	isError           // U+FFFD, an undecodable byte
	isLetter
	isUpper
	isLower
	isKana // Hangul, Hiragana or Katakana
	isControl
	isSymbol    // a symbol or punctuation
	scriptShift = iota
	scriptMask  = 7 << scriptShift
)

func classify(r rune) charClass {
	var c charClass
	switch {
	case r < 0x80:
		c |= isASCII
	case r == utf8.RuneError:
		c |= isError
	}
	if unicode.IsLetter(r) {
		c |= isLetter | charClass(script(r))<<scriptShift
	}
	if unicode.IsUpper(r) {
		c |= isUpper
	}
	if unicode.IsLower(r) {
		c |= isLower
	}
	if unicode.Is(unicode.Hangul, r) || unicode.Is(unicode.Hiragana, r) || unicode.Is(unicode.Katakana, r) {
		c |= isKana
	}
	if unicode.IsControl(r) {
		c |= isControl
	}
	if unicode.IsSymbol(r) || unicode.IsPunct(r) {
		c |= isSymbol
	}
	return c
}

func script(r rune) int {
	switch {
	case r < 0x250:
		return 1 // Latin
	case unicode.Is(unicode.Cyrillic, r):
		return 2
	case unicode.Is(unicode.Greek, r):
		return 3
	}
	return 4
}

// byteTables give, for each single-byte code page, the class of the
// character each byte decodes to, built on first use.
var byteTables = func() map[Encoding]func() *[256]charClass {
	m := map[Encoding]func() *[256]charClass{}
	for enc, codec := range codecs {
		if cm, ok := codec.(*charmap.Charmap); ok {
			m[enc] = sync.OnceValue(func() *[256]charClass {
				var t [256]charClass
				for b := range t {
					t[b] = classify(cm.DecodeByte(byte(b)))
				}
				return &t
			})
		}
	}
	return m
}()

// Decoder returns a reader of UTF-8 text for an input in enc, which must not
// include the byte-order mark.
func Decoder(r io.Reader, enc Encoding) io.Reader {
	if c, ok := codecs[enc]; ok {
		return transform.NewReader(r, c.NewDecoder())
	}
	// UTF-8 passes through: invalid bytes stay in the strings and become
	// U+FFFD when the result is printed as JSON.
	return r
}

// Line is one line of decoded, cleaned input text.
type Line struct {
	Num  int    // 1-based line number in the input
	Text string // without the line ending, trailing blanks and any paste prefix
}

// Indent returns the number of leading spaces of the line.
func (l Line) Indent() int {
	i := 0
	for i < len(l.Text) && (l.Text[i] == ' ' || l.Text[i] == '\t') {
		i++
	}
	return i
}

// MaxLineLen bounds a line; longer lines are cut (with a warning), so that a
// hostile file without line breaks costs bounded memory.
const MaxLineLen = 1 << 20

// Lines reads cleaned lines from decoded text.
type Lines struct {
	r       *bufio.Reader
	num     int
	prefix  string
	err     error
	done    bool
	Cut     int // lines cut at MaxLineLen
	pending []Line
	text    string // whole lines taken from r's buffer, not yet returned
	// Kept holds the lines read, when Keep asked for them, so that a
	// caller can read the input again with another format; Overflow says
	// the input was longer than Keep's bounds and Kept holds only its
	// start.
	Kept      []Line
	Overflow  bool
	keep      int
	keepBytes int
}

// Keep makes the reader keep the lines it reads, in Kept, up to n lines
// and size bytes in all.
func (ls *Lines) Keep(n, size int) { ls.keep, ls.keepBytes = n, size }

// LinesOf reads the given lines again.
func LinesOf(lines []Line) *Lines {
	return &Lines{pending: append([]Line(nil), lines...), done: true}
}

// NewLines reads lines from UTF-8 text.
func NewLines(r io.Reader) *Lines {
	br := lineBuffers.Get().(*bufio.Reader)
	br.Reset(r)
	return &Lines{r: br}
}

// lineBuffers are the line readers' buffers, used again once a reader is
// done with (Close): a fleet reads thousands of small files.
var lineBuffers = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 16<<10) }}

// Close hands the reader's buffer back; the lines read stay valid (each is
// a copy), and Next reports no more lines.
func (ls *Lines) Close() {
	if ls.r != nil {
		ls.r.Reset(nil)
		lineBuffers.Put(ls.r)
		ls.r, ls.done, ls.text = nil, true, ""
	}
}

// Err returns the first read error other than io.EOF.
func (ls *Lines) Err() error { return ls.err }

// Next returns the next line.
func (ls *Lines) Next() (Line, bool) {
	if len(ls.pending) > 0 {
		l := ls.pending[0]
		ls.pending = ls.pending[1:]
		return l, true
	}
	return ls.read()
}

func (ls *Lines) read() (Line, bool) {
	l, ok := ls.readLine()
	if ok && ls.keep > 0 && !ls.Overflow {
		if len(ls.Kept) >= ls.keep || len(l.Text) > ls.keepBytes {
			ls.Overflow, ls.Kept = true, nil
		} else {
			if ls.Kept == nil {
				ls.Kept = make([]Line, 0, 64)
			}
			ls.Kept = append(ls.Kept, l)
			ls.keepBytes -= len(l.Text)
		}
	}
	return l, ok
}

func (ls *Lines) readLine() (Line, bool) {
	if ls.done {
		return Line{}, false
	}
	// The common case: the line is one of the whole lines taken from the
	// buffer at once, as one string (one allocation for every line a
	// buffer holds, not one per line).
	if ls.text == "" {
		ls.fill()
	}
	if ls.text != "" {
		i := strings.IndexByte(ls.text, '\n')
		line := ls.text[:i+1]
		ls.text = ls.text[i+1:]
		ls.num++
		return Line{Num: ls.num, Text: ls.clean(line)}, true
	}
	// A line longer than what is buffered, or the last one without a line
	// end: read it on its own.
	if chunk, err := ls.r.ReadSlice('\n'); err == nil {
		ls.num++
		return Line{Num: ls.num, Text: ls.clean(string(chunk))}, true
	} else if err != bufio.ErrBufferFull {
		ls.done = true
		if err != io.EOF {
			ls.err = err
		}
		if len(chunk) == 0 {
			return Line{}, false
		}
		ls.num++
		return Line{Num: ls.num, Text: ls.clean(string(chunk))}, true
	} else {
		return ls.readLong(chunk)
	}
}

// fill takes the whole lines the buffer holds (reading once if it is
// empty) into ls.text; it leaves ls.text empty when the buffer holds no
// line end.
func (ls *Lines) fill() {
	if ls.r.Buffered() == 0 {
		if _, err := ls.r.Peek(1); err != nil {
			return
		}
	}
	b, _ := ls.r.Peek(ls.r.Buffered())
	i := bytes.LastIndexByte(b, '\n')
	if i < 0 {
		return
	}
	ls.text = string(b[:i+1])
	ls.r.Discard(i + 1)
}

// readLong reads a line longer than the buffer, cutting it at MaxLineLen.
func (ls *Lines) readLong(first []byte) (Line, bool) {
	buf := append([]byte(nil), first...)
	cut := false
	for {
		chunk, err := ls.r.ReadSlice('\n')
		if room := MaxLineLen - len(buf); len(chunk) > room {
			buf = append(buf, chunk[:room]...)
			cut = true
		} else {
			buf = append(buf, chunk...)
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			ls.done = true
			if err != io.EOF {
				ls.err = err
			}
			if len(buf) == 0 {
				return Line{}, false
			}
		}
		break
	}
	if cut {
		ls.Cut++
	}
	ls.num++
	return Line{Num: ls.num, Text: ls.clean(string(buf))}, true
}

var blanks = strings.NewReplacer("\u00a0", " ", "\u202f", " ", "\t", "    ", "\x00", "", "\ufeff", "")

func (ls *Lines) clean(s string) string {
	for len(s) > 0 && (s[len(s)-1] == '\n' || s[len(s)-1] == '\r') {
		s = s[:len(s)-1]
	}
	for i := 0; i < len(s); i++ {
		// NBSP, U+202F and the BOM start with 0xC2, 0xE2 and 0xEF in UTF-8.
		if c := s[i]; c == '\t' || c == 0 || c >= 0xC2 {
			s = blanks.Replace(s)
			break
		}
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\r' || s[len(s)-1] == '\x1a') {
		s = s[:len(s)-1]
	}
	if ls.prefix != "" {
		if t, ok := strings.CutPrefix(s, ls.prefix); ok {
			s = t
		} else if t, ok := strings.CutPrefix(s, strings.TrimRight(ls.prefix, " ")); ok {
			s = t
		}
	}
	return s
}

// Head reads up to max lines (and at most HeadSize bytes of text) for
// sniffing. They are returned again by Next. A paste prefix shared by most
// lines ("> ", "# ", "| ") is detected here and stripped from every line.
//
// When the lines are kept (Keep) and the head is the first read, the head
// is the start of Kept itself, not a copy: the prefix is stripped from the
// kept lines as well, so that a paste split at its prompt lines (package
// detect) reads every part without the prefix.
func (ls *Lines) Head(max int) []Line {
	size := 0
	shared := ls.keep > 0 && len(ls.pending) == 0 && len(ls.Kept) == 0 && !ls.Overflow
	for len(ls.pending) < max && size < HeadSize {
		l, ok := ls.read()
		if !ok {
			break
		}
		if shared && !ls.Overflow {
			ls.pending = ls.Kept
		} else {
			ls.pending = append(ls.pending, l)
		}
		size += len(l.Text)
	}
	ls.detectPrefix()
	return ls.pending
}

var pastePrefixes = []string{"> ", "# ", "| ", ">", "#"}

func (ls *Lines) detectPrefix() {
	var nonEmpty int
	counts := make([]int, len(pastePrefixes))
	for _, l := range ls.pending {
		if l.Text == "" {
			continue
		}
		nonEmpty++
		for i, p := range pastePrefixes {
			if strings.HasPrefix(l.Text, p) || l.Text == strings.TrimSpace(p) {
				counts[i]++
				break
			}
		}
	}
	for i, c := range counts {
		if nonEmpty >= 3 && c*10 >= nonEmpty*8 {
			ls.prefix = pastePrefixes[i]
			for j := range ls.pending {
				ls.pending[j].Text = ls.clean(ls.pending[j].Text)
			}
			return
		}
	}
}

// Prefix returns the paste prefix that was stripped, if any.
func (ls *Lines) Prefix() string { return ls.prefix }

var promptRe = lazyre.New(`^(?:PS [A-Za-z]:\\[^>]*>|[A-Za-z]:\\[^>]*>|\$|C:\\>)\s*\S`)

// IsPrompt reports whether a line is an echoed command line, such as
// `C:\Users\admin>systeminfo` or `PS C:\> wmic qfe list`.
func IsPrompt(s string) bool {
	if !strings.HasPrefix(s, "$") && strings.IndexByte(s, '>') < 0 {
		return false
	}
	return promptRe.MatchString(s)
}

// Describe renders a short, printable excerpt of a line for error messages.
func Describe(s string) string {
	if len(s) > 60 {
		s = s[:60] + "…"
	}
	return fmt.Sprintf("%q", strings.ToValidUTF8(s, "?"))
}
