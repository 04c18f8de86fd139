package catalog

import (
	"errors"
	"strings"
	"testing"
)

const goodFile = "KB4474419,x64,v4,windows6.0-kb4474419-v4-x64_09cb148f6ef10779d7352b7269d66a7f23019207.msu," +
	"https://catalog.s.download.windowsupdate.com/d/msdownload/update/software/secu/2019/09/windows6.0-kb4474419-v4-x64_09cb148f6ef10779d7352b7269d66a7f23019207.msu," +
	"09cb148f6ef10779d7352b7269d66a7f23019207,,github:tester9071348/updateVista@71841b6 1c-Populate-Full.bat:1"

func TestParseFiles(t *testing.T) {
	head := strings.Join(FileColumns, ",") + "\n"
	tests := []struct {
		name, body, column string // column: "" when the row is good
	}{
		{"good", goodFile, ""},
		{"kb not in the name", strings.Replace(goodFile, "KB4474419,", "KB4474418,", 1), "name"},
		{"revision differs", strings.Replace(goodFile, ",v4,", ",v3,", 1), "revision"},
		{"architecture differs", strings.Replace(goodFile, ",x64,", ",x86,", 1), "arch"},
		{"digest differs", strings.Replace(goodFile, ",09cb148f6ef10779d7352b7269d66a7f23019207,", ",09cb148f6ef10779d7352b7269d66a7f23019208,", 1), "sha1"},
		{"digest of 39 hex digits", strings.ReplaceAll(goodFile, "_09cb148f6ef10779d7352b7269d66a7f23019207", "_09cb148f6ef10779d7352b7269d66a7f2301920"), "name"},
		{"not a Microsoft host", strings.Replace(goodFile, "catalog.s.download.windowsupdate.com", "example.com", 1), "url"},
		{"URL of another file", strings.Replace(goodFile, "/windows6.0-kb4474419-v4-x64_09cb", "/windows6.0-kb4474419-v3-x64_09cb", 1), "url"},
		{"no source", strings.TrimSuffix(goodFile, "github:tester9071348/updateVista@71841b6 1c-Populate-Full.bat:1"), "source"},
		{"size not a number", strings.Replace(goodFile, ",,github", ",12k,github", 1), "size"},
		{"not a KB", strings.Replace(goodFile, "KB4474419,", "4474419,", 1), "kb"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fs, err := ParseFiles("test.csv", strings.NewReader(head+tc.body+"\n"))
			if tc.column == "" {
				if err != nil || len(fs) != 1 || fs[0].SHA1 != "09cb148f6ef10779d7352b7269d66a7f23019207" || fs[0].Line != 2 {
					t.Fatalf("got %+v, %v", fs, err)
				}
				return
			}
			var pe *ParseError
			if !errors.As(err, &pe) || pe.Column != tc.column || pe.Line != 2 {
				t.Fatalf("got %v, want an error at line 2, column %s", err, tc.column)
			}
		})
	}
	if _, err := ParseFiles("test.csv", strings.NewReader("kb,name\n")); err == nil {
		t.Error("a wrong header was accepted")
	}
}

// TestEmbeddedFiles: the embedded list parses, every file belongs to a
// catalog row, and a file is found by its digest.
func TestEmbeddedFiles(t *testing.T) {
	c, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	// Every file of files.csv is attached to its update's row.
	fs, err := ParseFiles("files.csv", strings.NewReader(filesCSV))
	if err != nil {
		t.Fatal(err)
	}
	attached := 0
	for _, u := range c.Updates {
		attached += len(u.Files)
	}
	if attached != len(fs) || len(fs) < 200 {
		t.Errorf("%d files listed, %d attached to updates", len(fs), attached)
	}
	// A catalog file read with Load gets the same files (embeddedFiles).
	l, err := Load("again.csv", strings.NewReader(updatesCSV))
	if err != nil {
		t.Fatal(err)
	}
	loaded := 0
	for _, u := range l.Updates {
		loaded += len(u.Files)
	}
	if loaded != len(fs) {
		t.Errorf("Load attached %d files, files.csv lists %d", loaded, len(fs))
	}
	u, f := c.FileBySHA1("09CB148F6EF10779D7352B7269D66A7F23019207")
	if u == nil || u.KB != "KB4474419" || f.Revision != "v4" || f.Arch != "x64" {
		t.Errorf("by digest: %v %+v", u, f)
	}
	if got := u.FileFor("x64"); got == nil || got.Name != f.Name {
		t.Errorf("FileFor(x64) = %+v", got)
	}
	if got := u.FileFor("ia64"); got != nil {
		t.Errorf("FileFor(ia64) = %+v, want none", got)
	}
}

// FuzzParseFiles: any files list is parsed or refused with a line, never a
// panic, and what is accepted keeps the rules.
func FuzzParseFiles(f *testing.F) {
	head := strings.Join(FileColumns, ",") + "\n"
	f.Add(head + goodFile + "\n")
	f.Add(filesCSV)
	f.Add(head + strings.Replace(goodFile, ",x64,", ",x86,", 1) + "\n")
	f.Fuzz(func(t *testing.T, s string) {
		fs, err := ParseFiles("fuzz.csv", strings.NewReader(s))
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("not a ParseError: %v", err)
			}
			return
		}
		for _, f := range fs {
			if !strings.Contains(f.Name, f.SHA1) || len(f.SHA1) != 40 || !strings.HasSuffix(f.URL, f.Name) {
				t.Fatalf("accepted %+v", f)
			}
		}
	})
}
