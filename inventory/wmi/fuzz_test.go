package wmi

import (
	"testing"

	"github.com/kbplan/kbplan/inventory/inventorytest"
)

func FuzzWmi(f *testing.F) {
	inventorytest.AddSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		inventorytest.Parse(t, Wmic{}, data)
	})
}

func FuzzPowerShell(f *testing.F) {
	inventorytest.AddSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		inventorytest.Parse(t, PowerShell{}, data)
	})
}
