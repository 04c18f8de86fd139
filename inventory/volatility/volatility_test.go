package volatility

import (
	"testing"

	"github.com/kbplan/kbplan/inventory/inventorytest"
)

func TestSamples(t *testing.T) {
	inventorytest.Samples(t, Format{}, []inventorytest.Sample{
		{File: "testdata/printkey-ws2008sp2-x64.txt", Want: inventorytest.Want{Format: "volatility-printkey", Product: "Windows Server 2008", Edition: "Standard", Arch: "x64", SP: 2, Build: 6002, Revision: 24535, Hotfixes: -1, InScope: true}},
		{File: "testdata/printkey-ws2008-rtm-x86.txt", Want: inventorytest.Want{Format: "volatility-printkey", Product: "Windows Server 2008", Edition: "Enterprise", Arch: "x86", SP: 1, Build: 6001, Revision: 18000, Hotfixes: -1, InScope: true}},
	})
}

func FuzzVolatility(f *testing.F) { inventorytest.Fuzz(f, Format{}) }
