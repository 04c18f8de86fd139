package regripper

import (
	"testing"

	"github.com/kbplan/kbplan/inventory/inventorytest"
)

func TestSamples(t *testing.T) {
	tests := []struct {
		file string
		want inventorytest.Want
	}{
		{"testdata/winver-ws2008sp2-x64.txt", inventorytest.Want{Format: "regripper-winver", Product: "Windows Server 2008", Edition: "Standard", Arch: "x64", SP: 2, Build: 6002, Revision: 24535, Hotfixes: -1, InScope: true}},
		{"testdata/winver-vista-sp1.txt", inventorytest.Want{Format: "regripper-winver", Product: "Windows Vista", Edition: "Business", SP: 1, Build: 6001, Revision: -1, Hotfixes: -1, InScope: true}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			h := inventorytest.ReadFile(t, Format{}, tc.file)
			inventorytest.Expect(t, h, tc.want)
			inventorytest.Golden(t, tc.file[len("testdata/"):len(tc.file)-4], h)
		})
	}
}

func FuzzRegRipper(f *testing.F) {
	inventorytest.AddSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		inventorytest.Parse(t, Format{}, data)
	})
}
