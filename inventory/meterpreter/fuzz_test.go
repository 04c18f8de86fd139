package meterpreter

import (
	"testing"

	"github.com/kbplan/kbplan/inventory/inventorytest"
)

func FuzzMeterpreter(f *testing.F) {
	inventorytest.AddSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		inventorytest.Parse(t, Format{}, data)
	})
}
