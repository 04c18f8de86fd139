package msinfo

import (
	"testing"

	"github.com/kbplan/kbplan/inventory/inventorytest"
)

func TestSamples(t *testing.T) {
	tests := []struct {
		file string
		want inventorytest.Want
	}{
		{"testdata/msinfo32-ws2008sp2-x64.txt", inventorytest.Want{Format: "msinfo32", Host: "WIN-SRV01", Product: "Windows Server 2008", Edition: "Standard", Arch: "x64", SP: 2, Build: 6002, Revision: -1, Hotfixes: -1, InScope: true}},
		{"testdata/msinfo32-vista-sp1-x86.txt", inventorytest.Want{Format: "msinfo32", Host: "VISTA-PC", Product: "Windows Vista", Edition: "Business", Arch: "x86", SP: 1, Build: 6001, Revision: -1, Hotfixes: -1, InScope: true}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			h := inventorytest.ReadFile(t, Format{}, tc.file)
			inventorytest.Expect(t, h, tc.want)
			inventorytest.Golden(t, tc.file[len("testdata/"):len(tc.file)-4], h)
		})
	}
}

func FuzzMsinfo(f *testing.F) {
	inventorytest.AddSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		inventorytest.Parse(t, Format{}, data)
	})
}
