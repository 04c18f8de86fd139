package cli

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kbplan/kbplan/internal/pkgtest"
	"github.com/kbplan/kbplan/report"
)

const hosts = "../../../testdata/analyze/"

// TestInspectGolden: an unsigned package, byte-for-byte reproducible, as
// text and JSON.
func TestInspectGolden(t *testing.T) {
	dir := t.TempDir()
	p := pkgtest.Build(t, dir, pkgtest.Spec{KB: "KB4534303", Arch: "amd64", Applicability: "Windows Vista SP2;Windows Server 2008 SP2;"})
	for _, c := range []struct {
		name string
		args []string
	}{{"inspect-unsigned.txt", []string{"inspect", "--files", p}}, {"inspect-unsigned.json", []string{"inspect", "--json", p}}} {
		out, errOut, code := run(t, "", c.args...)
		if code != ExitOK {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		golden(t, c.name, strings.ReplaceAll(out, dir+"/", ""))
	}
}

// TestVerifyVerdicts: the verdict for each package on each host.
func TestVerifyVerdicts(t *testing.T) {
	dir := t.TempDir()
	ca := pkgtest.CA(t, dir)
	rollup := pkgtest.Spec{KB: "KB4534303", Arch: "amd64", Applicability: "Windows Vista SP2;Windows Server 2008 SP2;", Sign: "sha256"}
	x86 := rollup
	x86.Arch = "x86"
	dual := rollup
	dual.Sign = "dual"
	r2 := rollup
	r2.Applicability = "Windows 7;Windows Server 2008 R2;"
	r2.KB = "KB4534310"
	tests := []struct {
		name    string
		spec    pkgtest.Spec
		host    string
		roots   bool
		verdict string
		msg     string
		code    int
	}{
		{"sha2-only on a host without SHA-2", rollup, "ws2008-6003-x64-no-sha2.txt", true, "fails-0x80092004", "will fail with 0x80092004", ExitFindings},
		{"sha2-only on a host with SHA-2", rollup, "ws2008-6003-x64-security-only.txt", true, "will-install", "will install", ExitOK},
		{"dual-signed on a host without SHA-2", dual, "ws2008-6003-x64-no-sha2.txt", true, "will-install", "will install", ExitOK},
		{"superseded by a later rollup", rollup, "ws2008-6003-x64-esu-prepared.txt", true, "installed-or-superseded", "superseded: the installed KB5003661", ExitFindings},
		{"x64 package on x86", rollup, "ws2008-6003-x86-public-current.txt", true, "not-applicable", "x64 package on an x86 host", ExitFindings},
		{"x86 package on x64", x86, "ws2008-6003-x64-security-only.txt", true, "not-applicable", "x86 package on an x64 host", ExitFindings},
		{"x86 package installed", x86, "ws2008-6003-x86-public-current.txt", true, "installed-or-superseded", "already installed", ExitFindings},
		{"2008 R2 package", r2, "ws2008-6003-x64-security-only.txt", true, "not-applicable", "Windows Server 2008 R2", ExitFindings},
		{"untrusted signer", rollup, "ws2008-6003-x64-security-only.txt", false, "not-genuine", "not genuine", ExitFindings},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := pkgtest.Build(t, dir, tc.spec)
			args := []string{"verify", "--json", "--host", hosts + tc.host}
			if tc.roots {
				args = append(args, "--roots", ca)
			}
			out, errOut, code := run(t, "", append(args, p)...)
			if code != tc.code {
				t.Errorf("exit %d, want %d: %s", code, tc.code, errOut)
			}
			var js []report.PackageJSON
			if err := json.Unmarshal([]byte(out), &js); err != nil || len(js) != 1 || js[0].Verdict == nil {
				t.Fatalf("%v: %s", err, out)
			}
			v := js[0].Verdict
			if v.Verdict != tc.verdict || !strings.Contains(v.Message, tc.msg) {
				t.Errorf("verdict %s %q, want %s %q", v.Verdict, v.Message, tc.verdict, tc.msg)
			}
		})
	}
}

// TestVerifyGenuine: exit 0 only when every signature is valid and trusted.
func TestVerifyGenuine(t *testing.T) {
	dir := t.TempDir()
	ca := pkgtest.CA(t, dir)
	signed := pkgtest.Build(t, dir, pkgtest.Spec{KB: "KB4474419", Arch: "amd64", Applicability: "Windows Server 2008 SP2;", Sign: "dual"})
	unsigned := pkgtest.Build(t, dir, pkgtest.Spec{KB: "KB4474419", Arch: "amd64", Applicability: "Windows Server 2008 SP2;"})
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"verify", "--roots", ca, signed}, ExitOK, "GENUINE"},
		{[]string{"verify", signed}, ExitFindings, "NOT GENUINE"},
		{[]string{"verify", "--roots", ca, unsigned}, ExitFindings, "not signed"},
		{[]string{"verify", "--roots", ca, filepath.Join(dir, "missing.msu")}, ExitUsage, ""},
		{[]string{"verify", "--roots", hosts + "ws2008-6003-x64-no-sha2.txt", signed}, ExitUsage, ""},
	} {
		out, errOut, code := run(t, "", tc.args...)
		if code != tc.code || !strings.Contains(out, tc.want) {
			t.Errorf("%v: exit %d (want %d), output %q %s", tc.args, code, tc.code, out, errOut)
		}
	}
}
