package wmi

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/kbplan/kbplan/inventory"
	"github.com/kbplan/kbplan/inventory/inventorytest"
)

// samples are the real wmic qfe outputs in testdata (wesng's validation
// files, see testdata/wesng/SOURCES.md) and the repository's hand-built wmic
// and PowerShell inputs, with the reader that must read each and the fields
// that matter.
var samples = []struct {
	file   string
	format inventory.Format
	want   inventorytest.Want
}{
	{"testdata/wesng/vista_x64_sp2_qfe.txt", Wmic{}, inventorytest.Want{Format: "wmic-qfe-table", Host: "WINVISTASP0X64", SP: -1, Revision: -1, Hotfixes: 174}},
	{"testdata/wesng/vista_x64_sp1_qfe.txt", Wmic{}, inventorytest.Want{Format: "wmic-qfe-table", Host: "WINVISTASP0X64", SP: -1, Revision: -1, Hotfixes: 173}},
	{"testdata/wesng/7_sp1_x64_enterprise_en-us_20190305_qfe.txt", Wmic{}, inventorytest.Want{Format: "wmic-qfe-table", SP: -1, Revision: -1, Hotfixes: 276}},
	{"testdata/wesng/srv_2012r2_x64_standard_ru_qfe.txt", Wmic{}, inventorytest.Want{Format: "wmic-qfe-table", Host: "DC", SP: -1, Revision: -1, Hotfixes: 7}},

	{"wmic-qfe-csv-utf16le-nobom.txt", Wmic{}, inventorytest.Want{Format: "wmic-qfe-csv", Host: "SRV-MED-01", SP: -1, Revision: -1, Hotfixes: 3}},
	{"wmic-qfe-hotfixid-utf16le-bom.txt", Wmic{}, inventorytest.Want{Format: "wmic-qfe-table", SP: -1, Revision: -1, Hotfixes: 4}},
	{"wmic-qfe-list-full-utf16le-bom.txt", Wmic{}, inventorytest.Want{Format: "wmic-qfe-list", Host: "SRV-MED-01", SP: -1, Revision: -1, Hotfixes: 4}},
	{"wmic-os-value-utf16le-bom.txt", Wmic{}, inventorytest.Want{Format: "wmic-os-list", Host: "CORE-DNS-01", Product: "Windows Server 2008", Edition: "Standard", Arch: "x64", SP: 2, Build: 6003, Revision: -1, Hotfixes: -1, InScope: true}},
	{"get-hotfix-export-csv.txt", PowerShell{}, inventorytest.Want{Format: "get-hotfix-csv", Host: "APP-FIN-03", SP: -1, Revision: -1, Hotfixes: 3}},
	{"get-hotfix-json.txt", PowerShell{}, inventorytest.Want{Format: "get-hotfix-json", Host: "APP-FIN-03", SP: -1, Revision: -1, Hotfixes: 2}},
	{"get-hotfix-table-utf16le-bom.txt", PowerShell{}, inventorytest.Want{Format: "get-hotfix-table", Host: "APP-FIN-03", SP: -1, Revision: -1, Hotfixes: 4}},
	{"get-wmiobject-os-utf16le-bom.txt", PowerShell{}, inventorytest.Want{Format: "get-wmiobject-os-list", SP: 2, Build: 6003, Revision: -1, Hotfixes: -1, InScope: true}},
}

// TestSamples reads every input with its reader alone, checks the fields
// that matter, then every field against its golden file (-update rewrites).
func TestSamples(t *testing.T) {
	for _, s := range samples {
		t.Run(filepath.Base(s.file), func(t *testing.T) {
			p := s.file
			if !strings.HasPrefix(p, "testdata/") {
				p = inventorytest.Hosts(p)
			}
			h := inventorytest.ReadFile(t, s.format, p)
			inventorytest.Expect(t, h, s.want)
			inventorytest.Golden(t, strings.TrimSuffix(filepath.Base(s.file), ".txt"), h)
		})
	}
}

// TestServerCore: OperatingSystemSKU 13 is "Server Standard (core
// installation)" in Microsoft's GetProductInfo table (skus.tsv).
func TestServerCore(t *testing.T) {
	h := inventorytest.ReadFile(t, Wmic{}, inventorytest.Hosts("wmic-os-value-utf16le-bom.txt"))
	if h.OS.ServerCore == nil || !*h.OS.ServerCore {
		t.Errorf("server core = %v, want true for SKU 13", h.OS.ServerCore)
	}
}

// TestRecords covers the layouts one rule at a time, on small inputs.
func TestRecords(t *testing.T) {
	tests := []struct {
		name, in string
		format   inventory.Format
		hotfixes []string
		wantErr  bool
	}{
		{"qfe table", "HotFixID  \r\nKB955430  \r\nKB4474419 \r\n", Wmic{}, []string{"KB955430", "KB4474419"}, false},
		{"qfe table, duplicates and order", "HotFixID\r\nKB4474419\r\nKB955430\r\nKB4474419\r\n", Wmic{}, []string{"KB955430", "KB4474419"}, false},
		{"qfe csv", "Node,Caption,CSName,Description,FixComments,HotFixID,InstallDate,InstalledBy,InstalledOn,Name,ServicePackInEffect,Status\r\nHOST,http://support.microsoft.com/?kbid=955430,HOST,Update,,KB955430,,,3/1/2019,,,\r\n", Wmic{}, []string{"KB955430"}, false},
		{"qfe list", "\r\nHotFixID=KB955430\r\n\r\nHotFixID=KB4474419\r\n", Wmic{}, []string{"KB955430", "KB4474419"}, false},
		{"get-hotfix json", "[\r\n    {\r\n        \"PSComputerName\":  \"H\",\r\n        \"HotFixID\":  \"KB955430\"\r\n    },\r\n    {\r\n        \"PSComputerName\":  \"H\",\r\n        \"HotFixID\":  \"KB4474419\"\r\n    }\r\n]\r\n", PowerShell{}, []string{"KB955430", "KB4474419"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, err := inventorytest.ParseBytes(tc.format, tc.name, []byte(tc.in))
			if (err != nil) != tc.wantErr {
				t.Fatalf("error %v, want error %v", err, tc.wantErr)
			}
			if err != nil {
				return
			}
			if strings.Join(h.Hotfixes, " ") != strings.Join(tc.hotfixes, " ") {
				t.Errorf("hotfixes %v, want %v", h.Hotfixes, tc.hotfixes)
			}
		})
	}
}
