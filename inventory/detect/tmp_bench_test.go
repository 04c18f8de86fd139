package detect

import (
	"bytes"
	"fmt"
	"os"
	"testing"
)

func BenchmarkTmpMix(b *testing.B) {
	var inputs [][]byte
	for i := 0; i < 13; i++ {
		d, err := os.ReadFile(fmt.Sprintf("/tmp/fleet10k/host%05d.txt", i))
		if err != nil {
			b.Fatal(err)
		}
		inputs = append(inputs, d)
	}
	b.ReportAllocs()
	for b.Loop() {
		for _, d := range inputs {
			if _, err := Read("x", bytes.NewReader(d)); err != nil {
				b.Fatal(err)
			}
		}
	}
}
