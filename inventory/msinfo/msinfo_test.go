package msinfo

import (
	"testing"

	"github.com/kbplan/kbplan/inventory/inventorytest"
)

func TestSamples(t *testing.T) {
	inventorytest.Samples(t, Format{}, []inventorytest.Sample{
		{File: "testdata/msinfo32-ws2008sp2-x64.txt", Want: inventorytest.Want{Format: "msinfo32", Host: "WIN-SRV01", Product: "Windows Server 2008", Edition: "Standard", Arch: "x64", SP: 2, Build: 6002, Revision: -1, Hotfixes: -1, InScope: true}},
		{File: "testdata/msinfo32-vista-sp1-x86.txt", Want: inventorytest.Want{Format: "msinfo32", Host: "VISTA-PC", Product: "Windows Vista", Edition: "Business", Arch: "x86", SP: 1, Build: 6001, Revision: -1, Hotfixes: -1, InScope: true}},
	})
}

func FuzzMsinfo(f *testing.F) { inventorytest.Fuzz(f, Format{}) }
