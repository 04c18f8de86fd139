package systeminfo

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/kbplan/kbplan/inventory/inventorytest"
)

// samples are the real outputs in testdata (wesng's validation files and
// VanillaWindowsReference, see the SOURCES.md beside them) and the
// repository's hand-built systeminfo inputs, with the fields that matter.
var samples = map[string]inventorytest.Want{
	"testdata/vanilla/08-systeminfo-2008sp2-x64-standard-en-utf16le.txt":   {Format: "systeminfo-list", Host: "WIN-1EYJ4CMP38T", Product: "Windows Server 2008", Edition: "Standard", Arch: "x64", SP: 2, Build: 6002, Revision: -1, Hotfixes: 5, InScope: true},
	"testdata/vanilla/09-systeminfo-2008r2sp1-x64-standard-en-utf16le.txt": {Format: "systeminfo-list", Host: "WIN-J47Q6ERIKD8", Product: "Windows Server 2008 R2", Edition: "Standard", Arch: "x64", SP: 1, Build: 7601, Revision: -1, Hotfixes: 6},
	"testdata/wesng/srv_2008_rtm_x64_standard_en-us_systeminfo.txt":        {Format: "systeminfo-list", Host: "SRV2K8SP0X64", Product: "Windows Server 2008", Edition: "Standard", Arch: "x64", SP: 1, Build: 6001, Revision: -1, Hotfixes: 1, InScope: true},
	"testdata/wesng/srv_2008_rtm_x86_standard_en-us_systeminfo.txt":        {Format: "systeminfo-list", Host: "SRV2K8SP0X86", Product: "Windows Server 2008", Edition: "Standard", Arch: "x86", SP: 1, Build: 6001, Revision: -1, Hotfixes: 1, InScope: true},
	"testdata/wesng/srv_2008r2_sp1_x64_standard_en-us_systeminfo.txt":      {Format: "systeminfo-list", Host: "SRV2K8R2SP1X64", Product: "Windows Server 2008 R2", Edition: "Standard", Arch: "x64", SP: 1, Build: 7601, Revision: -1, Hotfixes: 2},
	"testdata/wesng/vista_x64_sp0_systeminfo.txt":                          {Format: "systeminfo-list", Host: "WINVISTASP0X64", Product: "Windows Vista", Edition: "Enterprise", Arch: "x64", SP: 0, Build: 6000, Revision: -1, Hotfixes: 104, InScope: true},
	"testdata/wesng/vista_x64_sp1_systeminfo.txt":                          {Format: "systeminfo-list", Host: "WINVISTASP0X64", Product: "Windows Vista", Edition: "Enterprise", Arch: "x64", SP: 1, Build: 6001, Revision: -1, Hotfixes: 173, InScope: true},
	"testdata/wesng/vista_x64_sp2_systeminfo.txt":                          {Format: "systeminfo-list", Host: "WINVISTASP0X64", Product: "Windows Vista", Edition: "Enterprise", Arch: "x64", SP: 2, Build: 6002, Revision: -1, Hotfixes: 174, InScope: true},
	"testdata/wesng/7_sp1_x64_enterprise_en-us_20190305_systeminfo.txt":    {Format: "systeminfo-list", Host: "WIN7SP1X64", Product: "Windows 7", Edition: "Enterprise", Arch: "x64", SP: 1, Build: 7601, Revision: -1, Hotfixes: 245},
	"testdata/wesng/7_sp1_x64_ultimaten_de_systeminfo.txt":                 {Format: "systeminfo-list", Host: "OLI7-PC", Product: "Windows 7", Edition: "Ultimate", Arch: "x64", SP: 1, Build: 7601, Revision: -1, Hotfixes: 242},
	"testdata/wesng/7_sp1_x64_enterprise_fr_systeminfo_cmd.txt":            {Format: "systeminfo-list", Host: "WIN-IDKKFN87EL8", Product: "Windows 7", Edition: "Enterprise", Arch: "x64", SP: 1, Build: 7601, Revision: -1, Hotfixes: 73},
	"testdata/wesng/7_sp1_x64_enterprise_fr_systeminfo_powershell.txt":     {Format: "systeminfo-list", Host: "WIN-IDKKFN87EL8", Product: "Windows 7", Edition: "Enterprise", Arch: "x64", SP: 1, Build: 7601, Revision: -1, Hotfixes: 93},
	"testdata/wesng/srv_2012r2_x64_standard_ru_systeminfo.txt":             {Format: "systeminfo-list", Host: "DC", Product: "Windows Server 2012 R2", Edition: "Standard", Arch: "x64", SP: 0, Build: 9600, Revision: -1, Hotfixes: 7},
	"testdata/wesng/10_1809_x64_enterprise_zh-cn_systeminfo.txt":           {Format: "systeminfo-list", Host: "DESKTOP-0CQH3P2", Product: "Windows 10", Edition: "", Arch: "x64", SP: 0, Build: 17763, Revision: -1, Hotfixes: 1},
	"testdata/wesng/10_1803_x64_pro_it_systeminfo.txt":                     {Format: "systeminfo-list", Host: "PC044", Product: "Windows 10", Edition: "Professional", Arch: "x64", SP: 0, Build: 17134, Revision: -1, Hotfixes: 10},
	"testdata/wesng/10_1809_x64_education_es_systeminfo.txt":               {Format: "systeminfo-list", Host: "...", Product: "Windows 10", Edition: "Education", Arch: "x64", SP: 0, Build: 17763, Revision: -1, Hotfixes: 9},
	"testdata/wesng/10_1803_x86_enterprise_nl_systeminfo.txt":              {Format: "systeminfo-list", Host: "DESKTOP-LFQSJM4", Product: "Windows 10", Edition: "Enterprise", Arch: "x86", SP: 0, Build: 17134, Revision: -1, Hotfixes: 4},
	"testdata/wesng/10_1803_x64_enterprise_es-ar_20190307_systeminfo.txt":  {Format: "systeminfo-list", Host: "", Product: "Windows 10", Edition: "Enterprise", Arch: "x64", SP: 0, Build: 17134, Revision: -1, Hotfixes: 6},

	"systeminfo-ws2008sp2-x64-csv.txt":              {Format: "systeminfo-csv", Host: "PLANT-HMI-02", Product: "Windows Server 2008", Edition: "Enterprise", Arch: "x64", SP: 2, Build: 6002, Revision: -1, Hotfixes: 3, InScope: true},
	"systeminfo-ws2008sp2-x64-ja-cp932.txt":         {Format: "systeminfo-list", Host: "FACTORY-SCADA", Product: "Windows Server 2008", Edition: "Enterprise", Arch: "x64", SP: 2, Build: 6003, Revision: -1, Hotfixes: 3, InScope: true},
	"systeminfo-ws2008sp2-x64-ko-cp949.txt":         {Format: "systeminfo-list", Host: "FACTORY-SCADA", Product: "Windows Server 2008", Edition: "Enterprise", Arch: "x64", SP: 2, Build: 6003, Revision: -1, Hotfixes: 3, InScope: true},
	"systeminfo-ws2008sp2-x64-zh-tw-cp950.txt":      {Format: "systeminfo-list", Host: "FACTORY-SCADA", Product: "Windows Server 2008", Edition: "Enterprise", Arch: "x64", SP: 2, Build: 6003, Revision: -1, Hotfixes: 3, InScope: true},
	"systeminfo-ws2008sp2-x64-pt-cp850.txt":         {Format: "systeminfo-list", Host: "HOSP-PACS-01", Product: "Windows Server 2008", Edition: "Standard", Arch: "x64", SP: 2, Build: 6003, Revision: -1, Hotfixes: 2, InScope: true},
	"systeminfo-ws2008sp2-x64-lowpriv-na.txt":       {Format: "systeminfo-list", Host: "LEGACY-WEB", Product: "Windows Server 2008", Edition: "Web", Arch: "x64", SP: 2, Build: 6002, Revision: -1, Hotfixes: -1, InScope: true},
	"systeminfo-ws2008sp2-x64-truncated-paste.txt":  {Format: "systeminfo-list", Host: "LEGACY-SQL", Product: "Windows Server 2008", Edition: "Datacenter", Arch: "x64", SP: 2, Build: 6002, Revision: -1, Hotfixes: 3, InScope: true},
	"systeminfo-ws2008sp2-x64-unknown-language.txt": {Format: "systeminfo-list", Host: "WIN-1EYJ4CMP38T", Product: "Windows Server 2008", Edition: "Standard", Arch: "x64", SP: 2, Build: 6003, Revision: -1, Hotfixes: 5, InScope: true},
	"systeminfo-ws2008sp2-x86-ru-cp866.txt":         {Format: "systeminfo-list", Host: "SRV-MED-01", Product: "Windows Server 2008", Edition: "Standard", Arch: "x86", SP: 2, Build: 6003, Revision: -1, Hotfixes: 4, InScope: true},
}

func path(name string) string {
	if strings.HasPrefix(name, "testdata/") {
		return name
	}
	return inventorytest.Hosts(name)
}

// TestSamples reads every real sample and hand-built input with this
// reader alone and checks the fields that matter, then every field against
// the sample's golden file (go test -update rewrites them).
func TestSamples(t *testing.T) {
	for name, w := range samples {
		t.Run(filepath.Base(name), func(t *testing.T) {
			h := inventorytest.ReadFile(t, Format{}, path(name))
			inventorytest.Expect(t, h, w)
			inventorytest.Golden(t, strings.TrimSuffix(filepath.Base(name), ".txt"), h)
		})
	}
}

// TestEverySampleListed keeps the table complete: a real sample added to
// testdata must be asserted here.
func TestEverySampleListed(t *testing.T) {
	files, _ := filepath.Glob("testdata/*/*.txt")
	if len(files) < 18 {
		t.Fatalf("found %d real samples in testdata, want 18", len(files))
	}
	for _, f := range files {
		if strings.HasPrefix(filepath.Base(f), "LICENSE") {
			continue
		}
		if _, ok := samples[filepath.ToSlash(f)]; !ok {
			t.Errorf("%s is not in the samples table", f)
		}
	}
}

// TestOrphanHotfixes: hotfix lines that lost their "Hotfix(s):" header in a
// hand-trimmed paste are read, with a warning (hand-made, in the shape the
// issue describes).
func TestOrphanHotfixes(t *testing.T) {
	tests := []struct{ name, in string }{
		{"after the host name", "Host Name:                 WEB-07\r\n                           [01]: KB955430\r\n                           [02]: KB4474419\r\n"},
		{"alone", "                           [01]: KB955430\r\n                           [02]: KB4474419\r\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, err := inventorytest.ParseBytes(Format{}, "paste", []byte(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			if !h.HotfixesKnown || strings.Join(h.Hotfixes, " ") != "KB955430 KB4474419" || !strings.Contains(strings.Join(h.Warnings, "\n"), "without the \"Hotfix(s)\" header") {
				t.Errorf("hotfixes %v (known %v), warnings %q", h.Hotfixes, h.HotfixesKnown, h.Warnings)
			}
		})
	}
}

// TestTrailingBuild: the build number at the end of an OS Version value is
// what `(\d{3,5})$` finds there.
func TestTrailingBuild(t *testing.T) {
	re := regexp.MustCompile(`(\d{3,5})$`)
	for _, v := range []string{"6.0.6002 Service Pack 2 Build 6002", "6.3.9600 Н/Д построение 9600", "Build 12", "Build 123",
		"1234567", "x123456", "", "6002 ", "6.0.6003 Service Pack 2 Build 6003\u00a0", "99999", "0012"} {
		if got, want := trailingBuild(v), re.FindString(v); got != want {
			t.Errorf("trailingBuild(%q) = %q, the expression finds %q", v, got, want)
		}
	}
}
