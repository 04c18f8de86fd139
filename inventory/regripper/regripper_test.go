package regripper

import (
	"testing"

	"github.com/kbplan/kbplan/inventory/inventorytest"
)

func TestSamples(t *testing.T) {
	inventorytest.Samples(t, Format{}, []inventorytest.Sample{
		{File: "testdata/winver-ws2008sp2-x64.txt", Want: inventorytest.Want{Format: "regripper-winver", Product: "Windows Server 2008", Edition: "Standard", Arch: "x64", SP: 2, Build: 6002, Revision: 24535, Hotfixes: -1, InScope: true}},
		{File: "testdata/winver-vista-sp1.txt", Want: inventorytest.Want{Format: "regripper-winver", Product: "Windows Vista", Edition: "Business", SP: 1, Build: 6001, Revision: -1, Hotfixes: -1, InScope: true}},
	})
}

func FuzzRegRipper(f *testing.F) { inventorytest.Fuzz(f, Format{}) }
