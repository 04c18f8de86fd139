package report

import "testing"

func TestEscapeControls(t *testing.T) {
	tests := []struct{ in, want string }{
		{"WIN-01\tok\n", "WIN-01\tok\n"},
		{"evil\x1b]0;pwned\x07host", `evil\x1b]0;pwned\x07host`},
		{"a\rb\x00c\x7f", `a\x0db\x00c\x7f`},
		{"c1\u009bcode", `c1\x9bcode`},
		{"bidi\u202egnp.exe", `bidi\u202egnp.exe`},
		{"bad \xff utf-8", `bad \xff utf-8`},
		{"Köln ® ok", "Köln ® ok"},
	}
	for _, tc := range tests {
		if got := escapeControls(tc.in); got != tc.want {
			t.Errorf("%q: got %q, want %q", tc.in, got, tc.want)
		}
	}
}
