package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const cabs = "../../../cab/testdata/corpus/"

func TestExtract(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name   string
		args   []string
		code   int
		golden string
		stderr string
	}{
		{"list", []string{"extract", "--list", cabs + "libmspack-cabd/mszip_lzx_qtm.cab"}, ExitOK, "extract-list-mszip_lzx_qtm.txt", ""},
		{"extract", []string{"extract", cabs + "libmspack-cabd/normal_2files_1folder.cab", dir + "/out"}, ExitOK, "", ""},
		{"quantum", []string{"extract", cabs + "libmspack-cabd/mszip_lzx_qtm.cab", dir + "/q"}, ExitFailure, "", "quantum compression"},
		{"not a cabinet", []string{"extract", "../../../testdata/hosts/ver-ru-cp866.txt", dir + "/n"}, ExitUsage, "", "not a cabinet"},
		{"spanned", []string{"extract", cabs + "libmspack-cabd/multi_basic_pt1.cab", dir + "/s"}, ExitUsage, "", "spanned set"},
		{"missing", []string{"extract", dir + "/nothing.cab", dir + "/m"}, ExitUsage, "", "no such file"},
		{"usage", []string{"extract", "only-one-arg"}, ExitUsage, "", "accepts 2 arg"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := run(t, "", tc.args...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d: %s", code, tc.code, errOut)
			}
			if tc.golden != "" {
				golden(t, tc.golden, out)
			}
			if !strings.Contains(errOut, tc.stderr) {
				t.Errorf("stderr %q lacks %q", errOut, tc.stderr)
			}
		})
	}
	for _, f := range []string{"hello.c", "welcome.c"} {
		if _, err := os.Stat(filepath.Join(dir, "out", f)); err != nil {
			t.Errorf("extract did not write %s: %v", f, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "q", "lzx.txt")); err != nil {
		t.Errorf("the LZX file of a cabinet with a Quantum folder should still be extracted: %v", err)
	}
}
