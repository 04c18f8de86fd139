package msu

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kbplan/kbplan/internal/pkgtest"
)

func read(t *testing.T, path string) *Package {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	p, err := Read(bytes.NewReader(b), int64(len(b)), nil)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRead(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		spec pkgtest.Spec
		arch string
	}{
		{pkgtest.Spec{KB: "KB4534303", Arch: "amd64", Applicability: "Windows Vista SP2;Windows Server 2008 SP2;", Sign: "sha256"}, "x64"},
		{pkgtest.Spec{KB: "KB4474419", Arch: "x86", Applicability: "Windows Server 2008 SP2;", Sign: "dual", Restart: "possible"}, "x86"},
		{pkgtest.Spec{KB: "KB955430", Arch: "ia64", Applicability: "Windows Server 2008;"}, "ia64"},
	}
	for _, tc := range tests {
		t.Run(tc.spec.KB, func(t *testing.T) {
			path := pkgtest.Build(t, dir, tc.spec)
			p := read(t, path)
			if p.Format != "msu" || p.KB != tc.spec.KB || p.KBSource != "pkgProperties.txt KB Article Number" || p.Architecture != tc.arch || p.Language != "ALL" {
				t.Errorf("%+v", p)
			}
			if len(p.Updates) != 1 || p.Updates[0].Identity.Name != "Package_for_"+tc.spec.KB || p.Updates[0].KB != tc.spec.KB ||
				p.Updates[0].Identity.ProcessorArchitecture != tc.spec.Arch || p.Updates[0].ReleaseType != "Security Update" {
				t.Errorf("updates %+v", p.Updates)
			}
			if want := map[string]string{"": "required"}[tc.spec.Restart]; want != "" && p.Updates[0].Restart != want {
				t.Errorf("restart %q", p.Updates[0].Restart)
			}
			if len(p.Files) != 4 || len(p.Applicability) == 0 {
				t.Errorf("files %v, applicability %v", p.Files, p.Applicability)
			}
			// The inner update cabinet read on its own.
			inner := filepath.Join(dir, "Windows6.0-"+tc.spec.KB+"-"+tc.arch+"-"+tc.spec.Sign+"-work", "Windows6.0-"+tc.spec.KB+"-"+tc.arch+".cab")
			q := read(t, inner)
			if q.Format != "cab" || q.KB != tc.spec.KB || q.KBSource != "update.mum package identifier" || q.Architecture != tc.arch {
				t.Errorf("inner %+v", q)
			}
		})
	}
}

func TestNotAPackage(t *testing.T) {
	b, err := os.ReadFile("../cab/testdata/corpus/libmspack-cabd/normal_2files_1folder.cab")
	if err != nil {
		t.Fatal(err)
	}
	p, err := Read(bytes.NewReader(b), int64(len(b)), nil)
	if err != nil || p.Format != "cab" || p.KB != "" || len(p.Files) != 2 {
		t.Errorf("%+v %v", p, err)
	}
	if _, err := Read(bytes.NewReader([]byte("not a cabinet at all")), 20, nil); err == nil {
		t.Error("no error for a non-cabinet")
	}
}

func FuzzRead(f *testing.F) {
	for _, p := range []string{"testdata/seed.msu", "../cab/testdata/corpus/libmspack-cabd/normal_2files_1folder.cab"} {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		Read(bytes.NewReader(data), int64(len(data)), nil)
	})
}

// TestBombs: an .msu whose "update cabinet" is gigabytes of zeros writes
// nothing to the temporary folder, and a real one costs no more than its
// budget.
func TestBombs(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	const n = 65535
	tests := []struct {
		name  string
		files []pkgtest.BombFile
		want  string
	}{
		{"2 GiB of zeros as the update cabinet", []pkgtest.BombFile{{Name: "Windows6.0-KB4474419-x64.cab", Offset: 0, Size: n*32768 - 1}}, "not an update cabinet"},
		{"properties at the end of 2 GiB", []pkgtest.BombFile{{Name: "Windows6.0-KB4474419-x64-pkgProperties.txt", Offset: n*32768 - 10, Size: 10}}, "inflates to more than"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := pkgtest.CabBomb(n, tc.files, nil)
			_, err := Read(bytes.NewReader(b), int64(len(b)), nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error with %q", err, tc.want)
			}
			if left, _ := os.ReadDir(tmp); len(left) > 0 {
				t.Errorf("left in the temporary folder: %v", left)
			}
		})
	}
}
