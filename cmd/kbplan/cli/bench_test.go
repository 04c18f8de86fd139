package cli

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// BenchmarkAnalyzeFleet analyses a directory of 1,000 inventories (the
// hand-built scenarios and real samples, copied under many names) in
// process, to each batch format (output discarded); bench/analyze.sh
// measures the same as a whole process.
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
	for _, mode := range [][]string{{"--csv"}, {"--jsonl"}, {"--jsonl", "--exposure"}} {
		b.Run(strings.Join(mode, ""), func(b *testing.B) {
			args := append(append([]string{"analyze"}, mode...), "--as-of", "2026-11-25", dir)
			for b.Loop() {
				var errOut strings.Builder
				root := Root(strings.NewReader(""), io.Discard, &errOut)
				root.SetArgs(args)
				// Exit code 3 (hosts lack updates) is the expected answer.
				if err := root.Execute(); err != nil {
					if ee, ok := err.(*ExitError); !ok || ee.Code != ExitFindings || errOut.Len() > 0 {
						b.Fatalf("%v: %s", err, errOut.String())
					}
				}
			}
			b.ReportMetric(float64(hosts*b.N)/b.Elapsed().Seconds(), "hosts/s")
		})
	}
}
