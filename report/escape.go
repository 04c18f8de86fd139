package report

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// writeText writes text meant for a terminal. Input text (host names, file
// names, lines quoted from an inventory) can carry control characters: an
// escape sequence would rewrite the screen or the window title, a bidi
// override would reorder what the reader sees. Every C0 control but tab
// and newline, DEL, every C1 control and the bidi overrides and isolates
// are written as \xNN or \uNNNN instead; an invalid UTF-8 byte as \xNN.
func writeText(w io.Writer, s string) error {
	_, err := io.WriteString(w, escapeControls(s))
	return err
}

func escapeControls(s string) string {
	if !strings.ContainsFunc(s, unsafeRune) && utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case unsafeRune(r) && r < 0x100:
			fmt.Fprintf(&b, `\x%02x`, r)
		case unsafeRune(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

func unsafeRune(r rune) bool {
	switch {
	case r == '\t' || r == '\n':
		return false
	case r < 0x20 || r == 0x7f || r >= 0x80 && r <= 0x9f:
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
		return true
	}
	return false
}
