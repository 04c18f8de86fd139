package exposure

import (
	"archive/zip"
	"fmt"
	"io"
	"os"
	"path"
	"strings"
)

// MaxDefinitions bounds the CVE table, as read (decompressed, whatever a
// zip member or gzip stream claims): the real one is about 150 MiB. A zip
// member that claims more is refused before it is read.
const MaxDefinitions = 1 << 30

// Import builds an index from a wesng definitions.zip (its CVEs_*.csv), or
// from a CVE table as CSV or gzip-compressed CSV.
func Import(file string) (*Index, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("%w; check the path", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	zr, err := zip.NewReader(f, st.Size())
	if err != nil {
		// Not a zip: a CVE table as CSV or .csv.gz.
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return nil, err
		}
		return FromWesng(file, f)
	}
	for _, e := range zr.File {
		name := path.Base(e.Name)
		if !strings.HasPrefix(name, "CVEs_") || !strings.HasSuffix(name, ".csv") {
			continue
		}
		if e.UncompressedSize64 > MaxDefinitions {
			return nil, fmt.Errorf("%s: %s claims %d bytes uncompressed, more than %d: not a wesng definitions file", file, e.Name, e.UncompressedSize64, int64(MaxDefinitions))
		}
		rc, err := e.Open()
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", file, e.Name, err)
		}
		defer rc.Close()
		return FromWesng(file+":"+e.Name, rc)
	}
	return nil, fmt.Errorf("%s: no CVEs_*.csv inside; expected wesng's definitions.zip", file)
}
