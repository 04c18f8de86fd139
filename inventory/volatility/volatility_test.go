package volatility

import (
	"testing"

	"github.com/kbplan/kbplan/inventory/inventorytest"
)

func TestSamples(t *testing.T) {
	tests := []struct {
		file string
		want inventorytest.Want
	}{
		{"testdata/printkey-ws2008sp2-x64.txt", inventorytest.Want{Format: "volatility-printkey", Product: "Windows Server 2008", Edition: "Standard", Arch: "x64", SP: 2, Build: 6002, Revision: 24535, Hotfixes: -1, InScope: true}},
		{"testdata/printkey-ws2008-rtm-x86.txt", inventorytest.Want{Format: "volatility-printkey", Product: "Windows Server 2008", Edition: "Enterprise", Arch: "x86", SP: 1, Build: 6001, Revision: 18000, Hotfixes: -1, InScope: true}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			h := inventorytest.ReadFile(t, Format{}, tc.file)
			inventorytest.Expect(t, h, tc.want)
			inventorytest.Golden(t, tc.file[len("testdata/"):len(tc.file)-4], h)
		})
	}
}

func FuzzVolatility(f *testing.F) {
	inventorytest.AddSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		inventorytest.Parse(t, Format{}, data)
	})
}
