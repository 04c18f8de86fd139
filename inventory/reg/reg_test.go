package reg

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/kbplan/kbplan/inventory/inventorytest"
)

func TestSamples(t *testing.T) {
	tests := map[string]inventorytest.Want{
		"reg-query-currentversion.txt":          {Format: "reg-query", Product: "Windows Server 2008", Edition: "Standard", Arch: "x64", SP: 2, Build: 6003, Revision: 20489, Hotfixes: -1, InScope: true},
		"reg-export-currentversion-utf16le.reg": {Format: "reg-export", Host: "LAB-PRINT-01", Product: "Windows Server 2008", Edition: "Enterprise", Arch: "x86", SP: 2, Build: 6002, Revision: 18005, Hotfixes: -1, InScope: true},
	}
	for name, w := range tests {
		t.Run(name, func(t *testing.T) {
			h := inventorytest.ReadFile(t, Format{}, inventorytest.Hosts(name))
			inventorytest.Expect(t, h, w)
			inventorytest.Golden(t, strings.TrimSuffix(filepath.Base(name), filepath.Ext(name)), h)
		})
	}
}

// TestRules covers one rule a case, on small reg query outputs.
func TestRules(t *testing.T) {
	const key = "HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\r\n"
	tests := []struct {
		name, in       string
		build, rev     int
		lab, hotfix    string
		wantErr, known bool
	}{
		{"BuildLabEx gives the revision", key + "    CurrentVersion    REG_SZ    6.0\r\n    CurrentBuild    REG_SZ    6003\r\n    BuildLabEx    REG_SZ    6003.20489.amd64fre.vistasp2_ldr_escrow.190320-1700\r\n", 6003, 20489, "6003.20489.amd64fre.vistasp2_ldr_escrow.190320-1700", "", false, false},
		{"CurrentVersion and CurrentBuild without a build lab", key + "    CurrentVersion    REG_SZ    6.0\r\n    CurrentBuild    REG_SZ    6002\r\n", 6002, -1, "", "", false, false},
		{"CBS package keys count as installed", "HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Component Based Servicing\\Packages\\Package_for_KB4474419~31bf3856ad364e35~amd64~~6.0.4.0\r\n", 0, -1, "", "KB4474419", false, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, err := inventorytest.ParseBytes(Format{}, tc.name, []byte(tc.in))
			if (err != nil) != tc.wantErr {
				t.Fatalf("error %v, want error %v", err, tc.wantErr)
			}
			if err != nil {
				return
			}
			build, rev := 0, -1
			if v := h.OS.Version; v != nil {
				build, rev = v.Build, v.Revision
			}
			if build != tc.build || rev != tc.rev {
				t.Errorf("build %d.%d, want %d.%d", build, rev, tc.build, tc.rev)
			}
			if h.OS.BuildLab != tc.lab {
				t.Errorf("build lab %q, want %q", h.OS.BuildLab, tc.lab)
			}
			if h.HotfixesKnown != tc.known || tc.hotfix != "" && strings.Join(h.Hotfixes, " ") != tc.hotfix {
				t.Errorf("hotfixes %v (known %v), want %q", h.Hotfixes, h.HotfixesKnown, tc.hotfix)
			}
		})
	}
}
