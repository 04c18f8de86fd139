package winver

import (
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in   string
		want Version
		err  bool
	}{
		{"6.0.6002", Version{6, 0, 6002, NoRevision}, false},
		{"6.0.6003.20489", Version{6, 0, 6003, 20489}, false},
		{" 10.0.17763.1 ", Version{10, 0, 17763, 1}, false},
		{"6.0", Version{}, true},
		{"6.0.6002.1.2", Version{}, true},
		{"6.0.x", Version{}, true},
		{"6.0.-1", Version{}, true},
		{"6.0.+1", Version{}, true},
		{"6..6002", Version{}, true},
		{"", Version{}, true},
	}
	for _, tc := range tests {
		got, err := Parse(tc.in)
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("Parse(%q) = %v, %v; want %v, error %v", tc.in, got, err, tc.want, tc.err)
		}
	}
}

func TestCompare(t *testing.T) {
	v := func(s string) Version { x, _ := Parse(s); return x }
	tests := []struct {
		a, b string
		want int
	}{
		{"6.0.6002", "6.0.6003", -1},
		{"6.0.6003.20489", "6.0.6003", 1},
		{"6.0.6003.20489", "6.0.6003.20489", 0},
		{"6.1.7601", "6.0.6003.99999", 1},
		{"10.0.1", "6.3.9600", 1},
	}
	for _, tc := range tests {
		if got := v(tc.a).Compare(v(tc.b)); got != tc.want {
			t.Errorf("%s vs %s = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}

func TestParseBuildLab(t *testing.T) {
	tests := []struct {
		in     string
		build  int
		rev    int
		arch   string
		branch string
		when   string
		err    bool
	}{
		// The example of the issue and PRODUCT.md: the initial LDR escrow build of 6003.
		{"6003.20489.amd64fre.vistasp2_ldr_escrow.190320-1700", 6003, 20489, "x64", "vistasp2_ldr_escrow", "2019-03-20 17:00", false},
		{"6002.18005.x86fre.lh_sp2rtm.090410-1830", 6002, 18005, "x86", "lh_sp2rtm", "2009-04-10 18:30", false},
		{"6002.18005.ia64fre.lh_sp2rtm.090410-1830", 6002, 18005, "ia64", "lh_sp2rtm", "2009-04-10 18:30", false},
		{"6003.vistasp2_ldr_escrow.190320-1700", 6003, NoRevision, "", "vistasp2_ldr_escrow", "2019-03-20 17:00", false},
		{"7601.24544.amd64fre.win7sp1_ldr_escrow.191108-1723", 7601, 24544, "x64", "win7sp1_ldr_escrow", "2019-11-08 17:23", false},
		{"6003.20489", 0, 0, "", "", "", true},
		{"6003.20489.amd64fre.branch.notadate", 0, 0, "", "", "", true},
		{"x.y.z", 0, 0, "", "", "", true},
	}
	for _, tc := range tests {
		got, err := ParseBuildLab(tc.in)
		if (err != nil) != tc.err {
			t.Errorf("ParseBuildLab(%q) error %v, want error %v", tc.in, err, tc.err)
			continue
		}
		if tc.err {
			continue
		}
		if got.Build != tc.build || got.Revision != tc.rev || got.Arch != tc.arch || got.Branch != tc.branch ||
			got.Compiled.Format("2006-01-02 15:04") != tc.when {
			t.Errorf("ParseBuildLab(%q) = %+v", tc.in, got)
		}
	}
}

func TestReleaseOf(t *testing.T) {
	tests := []struct {
		v       Version
		client  string
		server  string
		sp      int
		inScope bool
	}{
		{Version{6, 0, 6000, NoRevision}, "Windows Vista", "", 0, true},
		{Version{6, 0, 6001, NoRevision}, "Windows Vista SP1", "Windows Server 2008", 1, true},
		{Version{6, 0, 6002, NoRevision}, "Windows Vista SP2", "Windows Server 2008 SP2", 2, true},
		{Version{6, 0, 6003, 20489}, "Windows Vista SP2", "Windows Server 2008 SP2", 2, true},
		{Version{6, 0, 6004, NoRevision}, "Windows Vista (unknown build)", "Windows Server 2008 (unknown build)", -1, false},
		{Version{6, 1, 7601, NoRevision}, "Windows 7", "Windows Server 2008 R2", 1, false},
		{Version{6, 3, 9600, NoRevision}, "Windows 8.1", "Windows Server 2012 R2", -1, false},
		{Version{10, 0, 17763, NoRevision}, "Windows 10", "Windows Server 2019", -1, false},
		{Version{10, 0, 26100, NoRevision}, "Windows 11", "Windows Server 2025", -1, false},
		{Version{5, 2, 3790, NoRevision}, "Windows XP or earlier", "Windows Server 2003 or earlier", -1, false},
	}
	for _, tc := range tests {
		r := ReleaseOf(tc.v)
		if r.Client != tc.client || r.Server != tc.server || r.ServicePack != tc.sp || r.InScope != tc.inScope {
			t.Errorf("ReleaseOf(%v) = %+v", tc.v, r)
		}
		if !r.InScope && r.Note == "" {
			t.Errorf("ReleaseOf(%v): out of scope without a note", tc.v)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"6.0.6002", "6.0.6003.20489", "10.0.17763.1", "1.2", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := Parse(s)
		if err != nil {
			return
		}
		w, err := Parse(v.String())
		if err != nil || w != v {
			t.Fatalf("round trip %q -> %v -> %v, %v", s, v, w, err)
		}
		_ = ReleaseOf(v)
	})
}

func FuzzParseBuildLab(f *testing.F) {
	for _, s := range []string{"6003.20489.amd64fre.vistasp2_ldr_escrow.190320-1700", "6002.vistasp2_gdr.090410-1800", "1.2.3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		lab, err := ParseBuildLab(s)
		if err != nil {
			return
		}
		if lab.Build < 0 || lab.Compiled.IsZero() && lab.Compiled != (time.Time{}) {
			t.Fatalf("bad lab %+v", lab)
		}
	})
}

func TestFromBuild(t *testing.T) {
	for b, want := range map[int]string{6000: "6.0.6000", 6003: "6.0.6003", 7601: "6.1.7601", 9600: "6.3.9600", 17763: "10.0.17763"} {
		if v, ok := FromBuild(b); !ok || v.String() != want {
			t.Errorf("FromBuild(%d) = %v, %v; want %s", b, v, ok, want)
		}
	}
	// No source here maps these (2003's 3790, 7's RTM 7600): none is guessed.
	for _, b := range []int{6004, 7602, 100, 0, 3790, 7600} {
		if v, ok := FromBuild(b); ok {
			t.Errorf("FromBuild(%d) = %v, want none", b, v)
		}
	}
}
