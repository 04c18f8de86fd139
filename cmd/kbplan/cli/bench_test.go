package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkAnalyzeFleet analyses a directory of 1,000 inventories (the
// hand-built scenarios and real samples, copied under many names) to CSV,
// in process; bench/analyze.sh measures the same as a whole process.
func BenchmarkAnalyzeFleet(b *testing.B) {
	srcs, _ := filepath.Glob("../../../testdata/analyze/*.txt")
	srcs = append(srcs, samples+"/vanilla/08-systeminfo-2008sp2-x64-standard-en-utf16le.txt",
		"../../../testdata/hosts/systeminfo-ws2008sp2-x86-ru-cp866.txt")
	dir := b.TempDir()
	const hosts = 1000
	for i := 0; i < hosts; i++ {
		data, err := os.ReadFile(srcs[i%len(srcs)])
		if err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("h%05d.txt", i)), data, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for b.Loop() {
		run(b, "", "analyze", "--csv", "--as-of", "2026-11-25", dir)
	}
	b.ReportMetric(float64(hosts*b.N)/b.Elapsed().Seconds(), "hosts/s")
}
