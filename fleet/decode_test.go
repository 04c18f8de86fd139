package fleet

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzDecode: whatever an upload holds, Decode returns a host or an
// *UploadError (a 4xx), in bounded memory, and never panics.
func FuzzDecode(f *testing.F) {
	for _, p := range []string{samples + "08-systeminfo-2008sp2-x64-standard-en-utf16le.txt", "../testdata/analyze/ws2008-6003-x64-no-sha2.txt"} {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	dir := bundles + "ws2008-6003-reboot-pending"
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		b, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		w, _ := zw.Create(e.Name())
		w.Write(b)
	}
	zw.Close()
	f.Add(buf.Bytes())
	f.Add([]byte("MSCF\x00\x00\x00\x00"))
	f.Add([]byte("PK\x03\x04"))
	f.Fuzz(func(t *testing.T, body []byte) {
		h, err := Decode(context.Background(), "fuzz", body)
		if err != nil {
			var ue *UploadError
			if !errors.As(err, &ue) {
				t.Fatalf("error is not an UploadError: %T %v", err, err)
			}
			return
		}
		_ = h.Hostname
	})
}
