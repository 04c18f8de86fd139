package report

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/kbplan/kbplan/assess"
	"github.com/kbplan/kbplan/catalog"
	"github.com/kbplan/kbplan/exposure"
	"github.com/kbplan/kbplan/inventory/detect"
)

// benchAssessment is a bare SP2 host's assessment, with its exposure.
func benchAssessment(b *testing.B, withExposure bool) assess.Assessment {
	c, err := catalog.Default()
	if err != nil {
		b.Fatal(err)
	}
	path := "../inventory/systeminfo/testdata/vanilla/08-systeminfo-2008sp2-x64-standard-en-utf16le.txt"
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	h, err := detect.Read(path, f)
	if err != nil {
		b.Fatal(err)
	}
	o := assess.Options{AsOf: catalog.Date{Year: 2026, Month: 11, Day: 25}}
	if withExposure {
		if o.Exposure.Index, err = exposure.Default(); err != nil {
			b.Fatal(err)
		}
	}
	return assess.Assess(h, c, o)
}

// BenchmarkEncode: one bare host's JSON line and JSON document, by the
// encoder Encode uses and by encoding/json, the choice BENCHMARKS.md
// records.
func BenchmarkEncode(b *testing.B) {
	for _, x := range []struct {
		name     string
		exposure bool
	}{{"plan", false}, {"exposure", true}} {
		a := benchAssessment(b, x.exposure)
		// An Encoder of a run, its records given back: what a batch does
		// from its second host with the same updates on.
		lines, docs := NewEncoder(JSONL), NewEncoder(JSON)
		var last []byte
		shared := func(x *Encoder) func() ([]byte, error) {
			return func() ([]byte, error) {
				x.Release(last)
				var err error
				last, err = x.Encode(a)
				return last, err
			}
		}
		encoders := []struct {
			name string
			enc  func() ([]byte, error)
		}{
			{"jsonl", func() ([]byte, error) { return Encode(JSONL, a) }},
			{"json", func() ([]byte, error) { return Encode(JSON, a) }},
			{"csv", func() ([]byte, error) { return Encode(CSV, a) }},
			{"jsonl-encoder", shared(lines)},
			{"json-encoder", shared(docs)},
			{"encoding-json-marshal", func() ([]byte, error) { return json.Marshal(Assessment(a)) }},
			{"encoding-json-indent", func() ([]byte, error) { return json.MarshalIndent(Assessment(a), "  ", "  ") }},
		}
		for _, e := range encoders {
			b.Run(x.name+"/"+e.name, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					out, err := e.enc()
					if err != nil {
						b.Fatal(err)
					}
					b.SetBytes(int64(len(out)))
				}
			})
		}
	}
}
