package cli

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kbplan/kbplan/report"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// shared is the project's shared data, beside the repository (CI has it).
const shared = "../../../../shared/data/samples"

func run(t testing.TB, stdin string, args ...string) (string, string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	root := Root(strings.NewReader(stdin), &out, &errOut)
	root.SetArgs(args)
	code := 0
	if err := root.Execute(); err != nil {
		if ee, ok := err.(*ExitError); ok {
			code = ee.Code
		} else {
			errOut.WriteString(err.Error())
			code = ExitUsage
		}
	}
	return out.String(), errOut.String(), code
}

func inputs(t *testing.T) []string {
	t.Helper()
	var files []string
	for _, pat := range []string{shared + "/*/*.txt", "../../../testdata/hosts/*"} {
		m, err := filepath.Glob(pat)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	var out []string
	for _, f := range files {
		if !strings.Contains(f, "LICENSE") && !strings.HasSuffix(f, ".md") {
			out = append(out, f)
		}
	}
	if len(out) < 30 {
		t.Fatalf("found only %d inputs: is ../shared beside the repository?", len(out))
	}
	return out
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./cmd/kbplan/cli -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file:\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

// TestIdentifyGolden runs `identify --json` and `identify` on every real
// sample and every hand-built input and compares with the golden files.
func TestIdentifyGolden(t *testing.T) {
	for _, f := range inputs(t) {
		base := filepath.Base(filepath.Dir(f)) + "__" + filepath.Base(f)
		t.Run(base, func(t *testing.T) {
			js, errOut, code := run(t, "", "identify", "--json", f)
			if code != ExitOK {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			js = strings.ReplaceAll(js, filepath.Dir(f)+"/", "")
			golden(t, base+".json", js)
			txt, _, _ := run(t, "", "identify", f)
			txt = strings.ReplaceAll(txt, filepath.Dir(f)+"/", "")
			golden(t, base+".txt", txt)
		})
	}
}

// TestIdentifyFields checks the fields that matter on every real sample,
// independently of the golden files.
func TestIdentifyFields(t *testing.T) {
	type want struct {
		host, product, edition, arch string
		sp, build, hotfixes          int // hotfixes -1: unknown (null)
		inScope                      bool
	}
	tests := map[string]want{
		"vanilla/08-systeminfo-2008sp2-x64-standard-en-utf16le.txt":   {"WIN-1EYJ4CMP38T", "Windows Server 2008", "Standard", "x64", 2, 6002, 5, true},
		"vanilla/09-systeminfo-2008r2sp1-x64-standard-en-utf16le.txt": {"WIN-J47Q6ERIKD8", "Windows Server 2008 R2", "Standard", "x64", 1, 7601, 6, false},
		"wesng/srv_2008_rtm_x64_standard_en-us_systeminfo.txt":        {"SRV2K8SP0X64", "Windows Server 2008", "Standard", "x64", 1, 6001, 1, true},
		"wesng/srv_2008_rtm_x86_standard_en-us_systeminfo.txt":        {"SRV2K8SP0X86", "Windows Server 2008", "Standard", "x86", 1, 6001, 1, true},
		"wesng/srv_2008r2_sp1_x64_standard_en-us_systeminfo.txt":      {"SRV2K8R2SP1X64", "Windows Server 2008 R2", "Standard", "x64", 1, 7601, 2, false},
		"wesng/vista_x64_sp0_systeminfo.txt":                          {"WINVISTASP0X64", "Windows Vista", "Enterprise", "x64", 0, 6000, 104, true},
		"wesng/vista_x64_sp1_systeminfo.txt":                          {"WINVISTASP0X64", "Windows Vista", "Enterprise", "x64", 1, 6001, 173, true},
		"wesng/vista_x64_sp2_systeminfo.txt":                          {"WINVISTASP0X64", "Windows Vista", "Enterprise", "x64", 2, 6002, 174, true},
		"wesng/vista_x64_sp2_qfe.txt":                                 {"WINVISTASP0X64", "", "", "", -1, 0, 174, false},
		"wesng/vista_x64_sp1_qfe.txt":                                 {"WINVISTASP0X64", "", "", "", -1, 0, 173, false},
		"wesng/7_sp1_x64_enterprise_en-us_20190305_qfe.txt":           {"", "", "", "", -1, 0, 276, false},
		"wesng/7_sp1_x64_ultimaten_de_systeminfo.txt":                 {"OLI7-PC", "Windows 7", "Ultimate", "x64", 1, 7601, 242, false},
		"wesng/7_sp1_x64_enterprise_fr_systeminfo_cmd.txt":            {"WIN-IDKKFN87EL8", "Windows 7", "Enterprise", "x64", 1, 7601, 73, false},
		"wesng/7_sp1_x64_enterprise_fr_systeminfo_powershell.txt":     {"WIN-IDKKFN87EL8", "Windows 7", "Enterprise", "x64", 1, 7601, 93, false},
		"wesng/srv_2012r2_x64_standard_ru_systeminfo.txt":             {"DC", "Windows Server 2012 R2", "Standard", "x64", 0, 9600, 7, false},
		"wesng/srv_2012r2_x64_standard_ru_qfe.txt":                    {"DC", "", "", "", -1, 0, 7, false},
		"wesng/10_1809_x64_enterprise_zh-cn_systeminfo.txt":           {"DESKTOP-0CQH3P2", "Windows 10", "", "x64", 0, 17763, 1, false},
		"wesng/10_1803_x64_pro_it_systeminfo.txt":                     {"PC044", "Windows 10", "Professional", "x64", 0, 17134, 10, false},
		"wesng/10_1809_x64_education_es_systeminfo.txt":               {"...", "Windows 10", "Education", "x64", 0, 17763, 9, false},
		"wesng/10_1803_x86_enterprise_nl_systeminfo.txt":              {"DESKTOP-LFQSJM4", "Windows 10", "Enterprise", "x86", 0, 17134, 4, false},
		"wesng/10_1803_x64_enterprise_es-ar_20190307_systeminfo.txt":  {"", "Windows 10", "Enterprise", "x64", 0, 17134, 6, false},
	}
	for file, w := range tests {
		t.Run(file, func(t *testing.T) {
			out, errOut, code := run(t, "", "identify", "--json", shared+"/"+file)
			if code != ExitOK {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			var h report.HostJSON
			if err := json.Unmarshal([]byte(out), &h); err != nil {
				t.Fatal(err)
			}
			check := func(what, got, want string) {
				if got != want {
					t.Errorf("%s = %q, want %q", what, got, want)
				}
			}
			s := func(p *string) string {
				if p == nil {
					return ""
				}
				return *p
			}
			n := func(p *int) int {
				if p == nil {
					return -1
				}
				return *p
			}
			check("hostname", s(h.Hostname), w.host)
			check("product", s(h.OS.Product), w.product)
			check("edition", s(h.OS.Edition), w.edition)
			check("architecture", s(h.OS.Architecture), w.arch)
			if got := n(h.OS.ServicePack); got != w.sp {
				t.Errorf("servicePack = %d, want %d", got, w.sp)
			}
			if got := max(n(h.OS.Build), 0); got != w.build {
				t.Errorf("build = %d, want %d", got, w.build)
			}
			if h.OS.Revision != nil {
				t.Errorf("revision = %d, want null: these inputs do not carry it", *h.OS.Revision)
			}
			if got := len(h.Hotfixes); got != w.hotfixes && !(h.Hotfixes == nil && w.hotfixes == -1) {
				t.Errorf("%d hotfixes, want %d", got, w.hotfixes)
			}
			if h.OS.InScope != w.inScope {
				t.Errorf("inScope = %v, want %v", h.OS.InScope, w.inScope)
			}
		})
	}
}

func TestIdentifyErrors(t *testing.T) {
	tests := []struct {
		name  string
		stdin string
		args  []string
		code  int
		want  []string
	}{
		{"not an inventory", "hello world\nthis is not systeminfo\n", []string{"identify", "-"}, ExitUsage,
			[]string{"-: not an inventory", `line 1 "hello world"`, "formats tried: systeminfo, wmic, powershell, reg, meterpreter, ver"}},
		{"empty", "", []string{"identify", "-"}, ExitUsage, []string{"-: the input is empty"}},
		{"missing file", "", []string{"identify", "testdata/no-such-file.txt"}, ExitUsage, []string{"no-such-file.txt", "check the path"}},
		{"no args", "", []string{"identify"}, ExitUsage, []string{"requires at least 1 arg"}},
		{"binary", "\x00\x01\x02\xff\xfe\x00garbage", []string{"identify", "-"}, ExitUsage, []string{"-: "}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, errOut, code := run(t, tc.stdin, tc.args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d (stderr %q)", code, tc.code, errOut)
			}
			for _, w := range tc.want {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr %q lacks %q", errOut, w)
				}
			}
		})
	}
}

// TestIdentifyMerge merges a 6002 systeminfo with a 6003 registry and
// expects the disagreement to be explained.
func TestIdentifyMerge(t *testing.T) {
	out, errOut, code := run(t, "", "identify", "--json", "--merge",
		"../../../testdata/hosts/systeminfo-ws2008sp2-x64-csv.txt", "../../../testdata/hosts/reg-query-currentversion.txt")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var h report.HostJSON
	if err := json.Unmarshal([]byte(out), &h); err != nil {
		t.Fatal(err)
	}
	if h.OS.Build == nil || *h.OS.Build != 6003 || h.OS.Revision == nil || *h.OS.Revision != 20489 {
		t.Errorf("build %v revision %v, want 6003.20489", h.OS.Build, h.OS.Revision)
	}
	if !strings.Contains(strings.Join(h.Warnings, "\n"), "has not restarted") {
		t.Errorf("no warning explains 6002 vs 6003: %q", h.Warnings)
	}
	if len(h.Hotfixes) != 3 {
		t.Errorf("hotfixes %v, want the 3 from systeminfo", h.Hotfixes)
	}
}
