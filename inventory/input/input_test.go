package input

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kbplan/kbplan/internal/pkgtest"
	"github.com/kbplan/kbplan/inventory"
	"github.com/kbplan/kbplan/inventory/inventorytest"
)

const bundleDir = "../../testdata/bundles/ws2008-6003-reboot-pending"

// TestSameHost: a bundle read as a folder, as a zip file and as a cabinet
// file (named anything), and its bytes uploaded, are the same host.
func TestSameHost(t *testing.T) {
	dir := t.TempDir()
	want, err := ReadFile(bundleDir, nil)
	if err != nil {
		t.Fatal(err)
	}
	zipFile, cabFile := filepath.Join(dir, "upload.dat"), filepath.Join(dir, "b.txt")
	os.WriteFile(zipFile, pkgtest.ZipDir(t, bundleDir, "bundle/"), 0o644)
	os.WriteFile(cabFile, pkgtest.CabDir(t, bundleDir), 0o644)
	for _, p := range []string{zipFile, cabFile} {
		got, err := ReadFile(p, nil)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		inventorytest.Check(t, got)
		if got.Hostname != want.Hostname || got.OS.Version.String() != want.OS.Version.String() || strings.Join(got.Hotfixes, " ") != strings.Join(want.Hotfixes, " ") {
			t.Errorf("%s reads as %s %v %v, the folder as %s %v %v", p, got.Hostname, got.OS.Version, got.Hotfixes, want.Hostname, want.OS.Version, want.Hotfixes)
		}
		body, _ := os.ReadFile(p)
		up, err := ReadBytes(context.Background(), "upload", body)
		if err != nil || up.Hostname != want.Hostname {
			t.Errorf("%s uploaded: %s %v", p, up.Hostname, err)
		}
	}
}

func TestReadFileErrors(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "plain")
	os.Mkdir(empty, 0o755)
	huge := filepath.Join(dir, "huge.zip")
	f, _ := os.Create(huge)
	f.Write([]byte("PK\x03\x04"))
	f.Truncate(MaxArchive + 10)
	f.Close()
	bad := filepath.Join(dir, "bad.zip")
	os.WriteFile(bad, []byte("PK\x03\x04 not really a zip"), 0o644)
	tests := []struct{ path, want string }{
		{filepath.Join(dir, "nothing"), "check the path"},
		{empty, "a folder that is not a collector bundle"},
		{huge, "an archive larger than 64 MiB"},
		{bad, "bad.zip"},
	}
	for _, tc := range tests {
		_, err := ReadFile(tc.path, nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.path, err, tc.want)
		}
	}
}

func TestStdin(t *testing.T) {
	b, err := os.ReadFile(inventorytest.Hosts("ver-ru-cp866.txt"))
	if err != nil {
		t.Fatal(err)
	}
	h, err := ReadFile("-", bytes.NewReader(b))
	if err != nil || h.OS.Version == nil || h.Source != "-" {
		t.Errorf("%+v %v", h, err)
	}
	var _ inventory.Host = h
}

func FuzzReadBytes(f *testing.F) {
	f.Add(pkgtest.ZipDir(f, bundleDir, "bundle/"))
	inventorytest.AddSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		h, err := ReadBytes(context.Background(), "fuzz", data)
		if err != nil {
			if !strings.Contains(err.Error(), "fuzz") {
				t.Fatalf("error does not name the input: %v", err)
			}
			return
		}
		inventorytest.Check(t, h)
	})
}

// TestReadSizedGrown: a file that grew between its size being read and
// its bytes is read to its end, not cut at the old size.
func TestReadSizedGrown(t *testing.T) {
	text := "Host Name:                 GROWN\r\nOS Version:                6.0.6003 Service Pack 2 Build 6003\r\nHotfix(s):                 2 Hotfix(s) Installed.\r\n                           [01]: KB955430\r\n                           [02]: KB4474419\r\n"
	for _, size := range []int64{0, 40, int64(len(text)) - 1, int64(len(text))} {
		h, err := readSized("grown.txt", strings.NewReader(text), size)
		if err != nil {
			t.Fatalf("size %d: %v", size, err)
		}
		if strings.Join(h.Hotfixes, " ") != "KB955430 KB4474419" {
			t.Errorf("size %d: hotfixes %q", size, h.Hotfixes)
		}
	}
}
