package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unsafe"

	"github.com/kbplan/kbplan/assess"
	"github.com/kbplan/kbplan/catalog"
)

// TestEncoderSplicesSetAsideLists: an Encoder's JSON lines and documents
// are Encode's, byte for byte, whether a host's long set-aside lists are
// shared with hosts before it (copied in from the cache), its own, short
// (encoded in place) or missing; whether its plan steps were seen before
// (at another number, with equal text of their own, with a file or
// without) or not; and whatever their text holds (quotes, <>&, the very
// keys the splice looks for).
func TestEncoderSplicesSetAsideLists(t *testing.T) {
	list := func(n int, why string) []assess.Step {
		var out []assess.Step
		for i := range n {
			out = append(out, assess.Step{KB: fmt.Sprintf("KB%d", 3000000+i), Kind: catalog.Standalone, Title: `Update "A" <b> & c ` + why,
				Released: date("2016-02-09"), MayReboot: true, Evidence: []string{"msrc"}, Why: why + ` "conditional":[] "unconfirmed":[] ü`})
		}
		return out
	}
	sharedCond, sharedUnc := list(40, "install only if IE 9 is present"), list(222, "MSRC lists it")
	base := fixed()[0]
	var hosts []assess.Assessment
	for i, c := range []struct {
		cond, unc []assess.Step
	}{
		{sharedCond, sharedUnc},
		{sharedCond, sharedUnc},                                  // the same lists: from the cache
		{list(40, "install only if IE 9 is present"), sharedUnc}, // an equal list of its own
		{sharedCond[:20], nil},                                   // a shorter view of a shared list
		{list(3, "short"), list(5, "short too")},
		{nil, nil},
		{sharedCond, []assess.Step{}},
	} {
		a := base
		a.Host.Hostname = fmt.Sprintf(`HOST-%d "conditional":[]`, i)
		a.Plan.Conditional, a.Plan.Unconfirmed = c.cond, c.unc
		hosts = append(hosts, a)
	}
	// Exposures: one shared by hosts with long lists, short lists and
	// none, and one of a host's own.
	for _, i := range []int{1, 4, 5} {
		a := hosts[i]
		a.Exposure = base.Exposure
		hosts = append(hosts, a)
	}
	// Plan steps: more than nine (two-digit numbers), the same steps at
	// other numbers, equal steps of their own, one step, none.
	file := &catalog.File{Name: "windows6.0-kb4012598-x64.msu", URL: "https://example.invalid/a.msu", SHA1: "0123"}
	many := list(12, `"steps":[] {"n":1`)
	many[3].File, many[4].Evidence, many[5].RebootAfter, many[5].MayReboot = file, nil, true, false
	for _, steps := range [][]assess.Step{many, many[2:], append(list(1, "own"), list(12, `"steps":[] {"n":1`)...), many[:1], nil, {}} {
		a := hosts[0]
		a.Plan.Steps = steps
		hosts = append(hosts, a)
	}
	own := *base.Exposure
	own.Open = append([]assess.ExposureSet{{KB: "KB4012598", Why: `fixed by "KB4012598" <ms17-010>`, CVEs: own.Open[0].CVEs}}, own.Open...)
	a := hosts[0]
	a.Exposure = &own
	hosts = append(hosts, a)
	for _, f := range []Format{JSONL, JSON} {
		x := NewEncoder(f)
		// What the Encoder encodes apart (lists, steps, exposures) is
		// counted: the second round must find all of it cached.
		fm, encodes, firstRound := forms[f], 0, 0
		counted := fm
		counted.list = func(v []StepJSON) ([]byte, error) { encodes++; return fm.list(v) }
		counted.step = func(v StepJSON) ([]byte, error) { encodes++; return fm.step(v) }
		counted.exposure = func(v *ExposureJSON) ([]byte, error) { encodes++; return fm.exposure(v) }
		forms[f] = counted
		for round := range 2 {
			if round == 1 {
				firstRound = encodes
			}
			for i, a := range hosts {
				got, err := x.Encode(a)
				if err != nil {
					t.Fatal(err)
				}
				want, err := Encode(f, a)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, want) {
					at := 0
					for at < min(len(got), len(want)) && got[at] == want[at] {
						at++
					}
					t.Errorf("%s, round %d, host %d: the Encoder's output differs from Encode's at byte %d of %d/%d: %q", f, round, i, at, len(got), len(want), got[max(0, at-40):min(len(got), at+40)])
				}
			}
		}
		forms[f] = fm
		if encodes != firstRound || firstRound == 0 {
			t.Errorf("%s: %d parts encoded apart in the first round, %d more in the second: want some, then none", f, firstRound, encodes-firstRound)
		}
		n := 0
		x.lists.m.Range(func(_, _ any) bool { n++; return true })
		if n != 4 {
			t.Errorf("%s: %d lists cached, want 4 (the shared two, the list of its own, the shorter view)", f, n)
		}
		n = 0
		x.lists.exposures.Range(func(_, _ any) bool { n++; return true })
		if n != 2 {
			t.Errorf("%s: %d exposures cached, want 2", f, n)
		}
		// The base plan's 9 steps, the 12 (at other numbers too), "own", and
		// the 12 equal ones of their own: their evidence is compared by
		// address, and each has its own.
		if n := len(x.lists.steps); n != 9+12+1+12 {
			t.Errorf("%s: %d steps cached, want %d", f, n, 9+12+1+12)
		}
	}
}

// TestSplicedKeysAreStructure: encodeSpliced takes the first of each key
// it splices after the one before as the plan's list. That holds because
// the document's types have no maps of lists (whose keys could be
// anything) and nothing that could hold one (an interface), and the
// plan's lists are the only lists with those names.
func TestSplicedKeysAreStructure(t *testing.T) {
	lists := map[string][]string{}
	seen := map[reflect.Type]bool{}
	var walk func(path string, ty reflect.Type)
	walk = func(path string, ty reflect.Type) {
		for ty.Kind() == reflect.Pointer || ty.Kind() == reflect.Slice {
			ty = ty.Elem()
		}
		switch ty.Kind() {
		case reflect.Map:
			switch ty.Elem().Kind() {
			case reflect.Slice, reflect.Array, reflect.Interface, reflect.Pointer:
				t.Errorf("%s is a map of %s: a key of it could read as a spliced list", path, ty.Elem())
			}
			walk(path+"[]", ty.Elem())
			return
		case reflect.Interface:
			t.Errorf("%s is an interface: it could hold a map of lists", path)
			return
		case reflect.Struct:
			if seen[ty] {
				return
			}
		default:
			return
		}
		seen[ty] = true
		for f := range ty.Fields() {
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if f.Type.Kind() == reflect.Slice {
				lists[name] = append(lists[name], path+"."+f.Name)
			}
			walk(path+"."+f.Name, f.Type)
		}
	}
	walk("AssessmentJSON", reflect.TypeFor[AssessmentJSON]())
	for _, fm := range forms {
		for i, key := range []string{fm.steps, fm.cond, fm.unc} {
			name, _, _ := strings.Cut(strings.Trim(key, `"`), `"`)
			want := []string{"AssessmentJSON.Plan." + []string{"Steps", "Conditional", "Unconfirmed"}[i]}
			if !slices.Equal(lists[name], want) {
				t.Errorf("the lists named %q are %v, want %v only", name, lists[name], want)
			}
		}
	}
}

// TestEncoderReusesReleasedRecords: a record given back holds a later
// one (no new allocation to zero), and what it held before does not show.
func TestEncoderReusesReleasedRecords(t *testing.T) {
	hosts := fixed()
	for _, f := range []Format{JSONL, JSON, CSV} {
		x := NewEncoder(f)
		big, err := x.Encode(hosts[0]) // the bare host: the longest record
		if err != nil {
			t.Fatal(err)
		}
		x.Release(big)
		for _, a := range hosts[1:] {
			got, err := x.Encode(a)
			if err != nil {
				t.Fatal(err)
			}
			want, _ := Encode(f, a)
			if !bytes.Equal(got, want) {
				t.Errorf("%s: a record in a released one's memory differs from Encode's:\n%s\n%s", f, got, want)
			}
			if len(got) <= cap(big) && unsafe.SliceData(got) != unsafe.SliceData(big) {
				t.Errorf("%s: the released record was not reused", f)
			}
			x.Release(got)
			big = got[:cap(got)]
		}
	}
}

// FuzzEncoderSplice: whatever text the host and its steps carry, an
// Encoder's JSON line and document are Encode's.
func FuzzEncoderSplice(f *testing.F) {
	for _, s := range []string{"", `"conditional":[]`, `"unconfirmed":[]}`, "}\n", "<&>", "\u2028\xff\x00", `\"exposure\":`} {
		f.Add(s)
	}
	base := fixed()[0]
	f.Fuzz(func(t *testing.T, s string) {
		var steps []assess.Step
		for i := range minCachedList + 2 {
			steps = append(steps, assess.Step{KB: fmt.Sprintf("KB%d", 4000000+i), Kind: catalog.Standalone, Title: s, Why: s, Evidence: []string{s}})
		}
		a := base
		a.Host.Hostname, a.Host.Source = s, s
		a.Plan.Conditional, a.Plan.Unconfirmed, a.Plan.Steps = steps, steps[1:], steps[2:]
		exp := *base.Exposure
		exp.Index = s
		a.Exposure = &exp
		for _, f := range []Format{JSONL, JSON} {
			x := NewEncoder(f)
			want, err := Encode(f, a)
			if err != nil {
				t.Skip(err)
			}
			for range 2 {
				got, err := x.Encode(a)
				if err != nil || !bytes.Equal(got, want) {
					t.Fatalf("%s: the Encoder's output differs from Encode's (%v):\n%s\n%s", f, err, got, want)
				}
			}
		}
	})
}

// TestInvalidUTF8: a file name's bytes on Unix need not be UTF-8; every
// JSON output writes them as U+FFFD, as encoding/json does, instead of
// failing part way through the document.
func TestInvalidUTF8(t *testing.T) {
	a := fixed()[0]
	a.Host.Source, a.Host.Hostname = "bad\xffname.txt", "HOST\xc3("
	for _, f := range []Format{JSON, JSONL} {
		b, err := Encode(f, a)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		var j AssessmentJSON
		if err := json.Unmarshal(b, &j); err != nil {
			t.Fatalf("%s: the output does not parse: %v", f, err)
		}
		if j.Host.Source != "bad\ufffdname.txt" || *j.Host.Hostname != "HOST\ufffd(" {
			t.Errorf("%s: source %q, host name %q", f, j.Host.Source, *j.Host.Hostname)
		}
	}
}

// TestStepKeyCoversStep: a cached step is found by keyOf, so every field
// of assess.Step must change the key (a field added to Step and to its
// JSON but not to the key would copy in another step's JSON).
func TestStepKeyCoversStep(t *testing.T) {
	ty := reflect.TypeFor[assess.Step]()
	for i := range ty.NumField() {
		var s assess.Step
		v := reflect.ValueOf(&s).Elem().Field(i)
		switch v.Kind() {
		case reflect.String:
			v.SetString("x")
		case reflect.Bool:
			v.SetBool(true)
		case reflect.Slice:
			v.Set(reflect.MakeSlice(v.Type(), 1, 1))
		case reflect.Pointer:
			v.Set(reflect.New(v.Type().Elem()))
		case reflect.Struct:
			v.Field(0).SetInt(1)
		default:
			t.Fatalf("assess.Step.%s is a %s: teach this test and keyOf about it", ty.Field(i).Name, v.Kind())
		}
		if keyOf(&s) == keyOf(&assess.Step{}) {
			t.Errorf("assess.Step.%s does not change keyOf: add it to stepKey", ty.Field(i).Name)
		}
	}
}
