package lazyre

import "testing"

func TestLazy(t *testing.T) {
	bad := New(`(`) // not compiled: no panic here
	if _, errs := Check(); len(errs) != 1 {
		t.Errorf("Check found %v, want the one invalid expression", errs)
	}
	re := New(`^KB(\d+)$`)
	for _, c := range []struct {
		in    string
		match bool
		sub   string
	}{{"KB4474419", true, "4474419"}, {"kb1", false, ""}, {"KB", false, ""}} {
		if got := re.MatchString(c.in); got != c.match {
			t.Errorf("MatchString(%q) = %v", c.in, got)
		}
		if m := re.FindStringSubmatch(c.in); (m != nil) != c.match || m != nil && m[1] != c.sub {
			t.Errorf("FindStringSubmatch(%q) = %q", c.in, m)
		}
	}
	if re.String() != `^KB(\d+)$` || re.Regexp() != re.Regexp() {
		t.Error("String or Regexp")
	}
	defer func() {
		if recover() == nil {
			t.Error("an invalid expression did not panic at first use")
		}
	}()
	bad.MatchString("x")
}
