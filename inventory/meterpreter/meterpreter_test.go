package meterpreter

import (
	"testing"

	"github.com/kbplan/kbplan/inventory/inventorytest"
)

func TestSamples(t *testing.T) {
	h := inventorytest.ReadFile(t, Format{}, inventorytest.Hosts("meterpreter-sysinfo.txt"))
	inventorytest.Expect(t, h, inventorytest.Want{Format: "meterpreter-sysinfo", Host: "WEB-OLD-07", Product: "Windows Server 2008", Arch: "x64", SP: 2, Build: 6002, Revision: -1, Hotfixes: -1, InScope: true})
	inventorytest.Golden(t, "meterpreter-sysinfo", h)
}

// TestOSLines: the OS line shapes Meterpreter prints, one a case.
func TestOSLines(t *testing.T) {
	tests := []struct {
		os, product, arch string
		build, sp         int
	}{
		{"Windows 2008 (6.0 Build 6002, Service Pack 2).", "Windows Server 2008", "x64", 6002, 2},
		{"Windows Server 2008 (6.0 Build 6003, Service Pack 2).", "Windows Server 2008", "x64", 6003, 2},
		{"Windows Vista (6.0 Build 6002, Service Pack 2).", "Windows Vista", "x64", 6002, 2},
		// The older form, without the version (issue 17: Meterpreter
		// printed it so for years; hand-made from that shape).
		{"Windows 2008 (Build 6002, Service Pack 2).", "Windows Server 2008", "x64", 6002, 2},
		{"Windows Vista (Build 6001, Service Pack 1).", "Windows Vista", "x86", 6001, 1},
		{"Windows 2008 (Build 6001).", "Windows Server 2008", "x64", 6001, -1},
		{"Windows 7 (Build 7601, Service Pack 1).", "Windows 7", "x64", 7601, 1},
	}
	for _, tc := range tests {
		t.Run(tc.os, func(t *testing.T) {
			in := "Computer        : H\r\nOS              : " + tc.os + "\r\nArchitecture    : " + tc.arch + "\r\nMeterpreter     : x64/windows\r\n"
			h, err := inventorytest.ParseBytes(Format{}, "m", []byte(in))
			if err != nil {
				t.Fatal(err)
			}
			sp := -1
			if h.OS.ServicePack != nil {
				sp = *h.OS.ServicePack
			}
			if h.OS.Product != tc.product || h.OS.Version == nil || h.OS.Version.Build != tc.build || sp != tc.sp && !(tc.sp == -1 && sp == 1) {
				t.Errorf("product %q version %v sp %v, want %q %d SP%d", h.OS.Product, h.OS.Version, h.OS.ServicePack, tc.product, tc.build, tc.sp)
			}
		})
	}
}
