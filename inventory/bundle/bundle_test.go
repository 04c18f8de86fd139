package bundle

import (
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/kbplan/kbplan/inventory/inventorytest"
)

const samples = "../../testdata/bundles/"

func ptr[T any](v T) *T { return &v }

func TestReadSamples(t *testing.T) {
	tests := []struct {
		dir      string
		host     string
		version  string
		pending  []string
		sha2     *bool
		ssu      string
		esu      []int
		esuKnown bool
		hotfixes int
		programs []string
	}{
		{"ws2008-6003-reboot-pending", "APP-PENDING", "6.0.6003.21446", []string{"RebootPending", "PendingFileRenameOperations"}, ptr(true), "6.0.6003.21370", []int{3}, true, 6,
			[]string{"HP Smart Update Manager", "Microsoft Visual C++ 2008 Redistributable - x86 9.0.30729.17"}},
		{"ws2008-6003-sha2-inactive", "DB-SHA2-OFF", "6.0.6003.20512", nil, ptr(false), "6.0.6003.20484", nil, false, 4,
			[]string{"HP Smart Update Manager", "Microsoft Visual C++ 2008 Redistributable - x86 9.0.30729.17"}},
		{"ws2008-6003-esu-activated", "HIS-ESU-02", "6.0.6003.21518", nil, ptr(true), "6.0.6003.21569", []int{1, 2, 3}, true, 7,
			[]string{"HP Smart Update Manager", "MSXML 4.0 SP3 Parser", "Microsoft .NET Framework 4.6.2", "Microsoft Visual C++ 2008 Redistributable - x86 9.0.21022"}},
	}
	for _, tc := range tests {
		t.Run(tc.dir, func(t *testing.T) {
			dir := samples + tc.dir
			if !IsBundle(dir) {
				t.Fatal("not recognised as a bundle")
			}
			h, err := Read(dir)
			if err != nil {
				t.Fatal(err)
			}
			inventorytest.Check(t, h)
			f := h.Facts
			switch {
			case h.Hostname != tc.host:
				t.Errorf("hostname %q, want %q", h.Hostname, tc.host)
			case h.OS.Version == nil || h.OS.Version.String() != tc.version:
				t.Errorf("version %v, want %s (from ntoskrnl.exe)", h.OS.Version, tc.version)
			case f == nil:
				t.Fatal("no facts")
			case !f.PendingKnown || !slices.Equal(f.PendingReboot, tc.pending):
				t.Errorf("pending %v (known %v), want %v", f.PendingReboot, f.PendingKnown, tc.pending)
			case (f.SHA2Active == nil) != (tc.sha2 == nil) || f.SHA2Active != nil && *f.SHA2Active != *tc.sha2:
				t.Errorf("sha2Active %v, want %v", f.SHA2Active, *tc.sha2)
			case f.ServicingStack != tc.ssu:
				t.Errorf("servicing stack %q, want %q", f.ServicingStack, tc.ssu)
			case f.ESUKnown != tc.esuKnown || !slices.Equal(f.ESULicensed, tc.esu):
				t.Errorf("ESU %v (known %v), want %v", f.ESULicensed, f.ESUKnown, tc.esu)
			case len(h.Hotfixes) != tc.hotfixes:
				t.Errorf("%d hotfixes %v, want %d", len(h.Hotfixes), h.Hotfixes, tc.hotfixes)
			case !slices.Equal(f.Programs, tc.programs):
				t.Errorf("programs %q, want %q", f.Programs, tc.programs)
			case h.Format != "kbplan-bundle":
				t.Errorf("format %q", h.Format)
			}
			for _, w := range h.Warnings {
				if strings.Contains(w, "ver does not tell") {
					t.Errorf("the ver limitation is noise once systeminfo is there: %s", w)
				}
			}
		})
	}
}

// write makes a bundle folder from name → content.
func write(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const ver = "\r\nMicrosoft Windows [Version 6.0.6002]\r\n"

func TestReadErrors(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  []string // substrings of the error
	}{
		{"no manifest", map[string]string{"ver.txt": ver}, []string{Manifest}},
		{"bad manifest", map[string]string{Manifest: "hello\r\n", "ver.txt": ver}, []string{"line 1", `"kbplan-bundle N"`}},
		{"newer format", map[string]string{Manifest: "kbplan-bundle 2\r\n", "ver.txt": ver}, []string{"format 2", "update kbplan"}},
		{"no inventory", map[string]string{Manifest: "kbplan-bundle 1\r\n", "systeminfo.csv": "ERROR: not supported\r\n"}, []string{"no readable inventory", "systeminfo.csv: not readable", "ver.txt: missing"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Read(write(t, tc.files))
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

// TestReadPartial: a bundle where tools failed (Wine's systeminfo is a
// stub, wmic has no qfe alias) still yields a host, with the failures named.
func TestReadPartial(t *testing.T) {
	dir := write(t, map[string]string{
		Manifest:                "kbplan-bundle 1\r\ncollector: cmd 1\r\n",
		"ver.txt":               ver,
		"systeminfo.csv":        "",
		"wmic-qfe.txt":          "Error: Alias not found.\r\n",
		"pending.txt":           "RebootPending=absent\r\nPackagesPending=present\r\n",
		"reg-sha2.txt":          "ERROR: The system was unable to find the specified registry key or value.\r\n",
		"file-srv.txt":          "Error: Alias not found.\r\n",
		"esu.txt":               "esu-year1 553673ed-6ddf-419c-a153-b760283472fd LicenseStatus=unknown\r\n",
		"servicing-version.txt": "File Not Found\r\n",
	})
	h, err := Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	inventorytest.Check(t, h)
	f := h.Facts
	if h.OS.Version == nil || h.OS.Version.Build != 6002 {
		t.Errorf("version %v", h.OS.Version)
	}
	if !slices.Equal(f.PendingReboot, []string{"PackagesPending"}) {
		t.Errorf("pending %v", f.PendingReboot)
	}
	if f.ESUKnown || f.SHA2Active != nil && *f.SHA2Active || f.ServicingStack != "" || len(f.Files) != 0 {
		t.Errorf("facts invented from failed commands: %+v", f)
	}
	warn := strings.Join(h.Warnings, "\n")
	for _, w := range []string{"systeminfo.csv: not readable", "wmic-qfe.txt: not readable"} {
		if !strings.Contains(warn, w) {
			t.Errorf("warnings lack %q:\n%s", w, warn)
		}
	}
}

// TestReadOversized: a huge file in a bundle is refused by size, without
// reading it (the files are sparse, so the test is cheap).
func TestReadOversized(t *testing.T) {
	dir := write(t, map[string]string{Manifest: "kbplan-bundle 1\r\n", "ver.txt": ver})
	for name, size := range map[string]int64{"wmic-qfe.txt": 2 << 30, "servicing-packages.txt": 1 << 30} {
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := f.Truncate(size); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	h, err := Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	warn := strings.Join(h.Warnings, "\n")
	for _, w := range []string{"wmic-qfe.txt: 2147483648 bytes", "servicing-packages.txt: 1073741824 bytes"} {
		if !strings.Contains(warn, w) {
			t.Errorf("warnings lack %q:\n%s", w, warn)
		}
	}
}

// FuzzRead fuzzes one bundle file at a time, the others being those of a
// real sample, through the whole reader (in memory: fstest.MapFS).
func FuzzRead(f *testing.F) {
	names := append([]string{Manifest}, Files...)
	base := fstest.MapFS{}
	for i, name := range names {
		b, err := os.ReadFile(samples + "ws2008-6003-reboot-pending/" + name)
		if err != nil {
			f.Fatal(err)
		}
		base[name] = &fstest.MapFile{Data: b}
		f.Add(uint8(i), b)
	}
	f.Fuzz(func(t *testing.T, which uint8, data []byte) {
		fsys := maps.Clone(base)
		fsys[names[int(which)%len(names)]] = &fstest.MapFile{Data: data}
		h, err := ReadFS(fsys, "fuzzed")
		if err != nil {
			if !strings.Contains(err.Error(), "fuzzed") {
				t.Errorf("error does not name the bundle: %v", err)
			}
			return
		}
		inventorytest.Check(t, h)
	})
}

func BenchmarkRead(b *testing.B) {
	for b.Loop() {
		if _, err := Read(samples + "ws2008-6003-reboot-pending"); err != nil {
			b.Fatal(err)
		}
	}
}

// TestCBSVersions: each KB's highest package version is kept (a
// re-released update leaves its older package beside the new one), and
// language-specific or numbered packages count too.
func TestCBSVersions(t *testing.T) {
	dir := write(t, map[string]string{
		Manifest:  "kbplan-bundle 1\r\ncollector: cmd 1\r\n",
		"ver.txt": ver,
		"servicing-packages.txt": "Package_for_KB4474419~31bf3856ad364e35~amd64~~6.0.1.0.mum\r\n" +
			"Package_for_KB4474419~31bf3856ad364e35~amd64~~6.0.4.1.mum\r\n" +
			"Package_for_KB4474419~31bf3856ad364e35~amd64~~6.0.2.0.mum\r\n" +
			"Package_1_for_KB2506014~31bf3856ad364e35~amd64~~6.0.1.10.mum\r\n" +
			"Package_for_KB955430~31bf3856ad364e35~amd64~en-US~6.0.1.0.mum\r\n" +
			"Package_for_KB999999~31bf3856ad364e35~amd64~~.mum\r\n",
	})
	h, err := Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"KB4474419": "6.0.4.1", "KB2506014": "6.0.1.10", "KB955430": "6.0.1.0"}
	if !maps.Equal(h.Facts.CBSVersions, want) {
		t.Errorf("versions %v, want %v", h.Facts.CBSVersions, want)
	}
	if !slices.Contains(h.Hotfixes, "KB999999") {
		t.Errorf("a package without a version lost its KB: %v", h.Hotfixes)
	}
}

// TestRoles: servermanagercmd -query's [X] lines, role services included;
// an unmarked list is known and empty; an error message is not known.
func TestRoles(t *testing.T) {
	query := "Server Manager Command Line Tool\r\n\r\n----- Roles -----\r\n\r\n" +
		"[ ] Certification Authority Web Enrollment  [ADCS-Web-Enrollment]\r\n" +
		"[X] Web Server (IIS)  [Web-Server]\r\n" +
		"    [X] Web Server  [Web-WebServer]\r\n" +
		"        [ ] HTTP Redirection  [Web-Http-Redirect]\r\n" +
		"            [X] Default Document  [Web-Default-Doc]\r\n"
	tests := []struct {
		name, text string
		known      bool
		roles      []string
	}{
		{"query", query, true, []string{"Default Document [Web-Default-Doc]", "Web Server (IIS) [Web-Server]", "Web Server [Web-WebServer]"}},
		{"nothing installed", "----- Roles -----\r\n[ ] Web Server (IIS)  [Web-Server]\r\n", true, nil},
		{"not a server", "'servermanagercmd' is not recognized as an internal or external command,\r\n", false, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, err := Read(write(t, map[string]string{Manifest: "kbplan-bundle 1\r\ncollector: cmd 1\r\n", "ver.txt": ver, "roles.txt": tc.text}))
			if err != nil {
				t.Fatal(err)
			}
			if h.Facts.RolesKnown != tc.known || !slices.Equal(h.Facts.Roles, tc.roles) {
				t.Errorf("known %v roles %q, want %v %q", h.Facts.RolesKnown, h.Facts.Roles, tc.known, tc.roles)
			}
		})
	}
}

// TestReadRefusesLinks: a bundle member that is a symbolic link is not
// followed (its target is never read) and says so; the rest is read.
func TestReadRefusesLinks(t *testing.T) {
	secret := filepath.Join(t.TempDir(), "secret.txt")
	if err := os.WriteFile(secret, []byte("Host Name: SECRET-HOST\r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	dir := write(t, map[string]string{Manifest: "kbplan-bundle 1\r\ncollector: cmd 1\r\n", "ver.txt": ver})
	if err := os.Symlink(secret, filepath.Join(dir, "systeminfo.csv")); err != nil {
		t.Skip(err)
	}
	if err := os.Symlink(secret, filepath.Join(dir, "pending.txt")); err != nil {
		t.Skip(err)
	}
	h, err := Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	warn := strings.Join(h.Warnings, "\n")
	if h.Hostname == "SECRET-HOST" || !strings.Contains(warn, "systeminfo.csv: open systeminfo.csv: a symbolic link: not followed") || !strings.Contains(warn, "pending.txt") {
		t.Errorf("host %q, warnings:\n%s", h.Hostname, warn)
	}
	if h.OS.Version == nil {
		t.Error("the regular files were not read")
	}
}

// TestReadSeen: a folder read after it was looked at must be the folder
// that was looked at; another one in its place (a link swapped in, say)
// is refused, naming the folder.
func TestReadSeen(t *testing.T) {
	a := samples + "ws2008-6003-reboot-pending"
	other := t.TempDir()
	for _, tt := range []struct {
		name string
		seen string
		want string // "" reads
	}{
		{"the folder seen", a, ""},
		{"another folder in its place", other, "the folder changed while it was read"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			st, err := os.Stat(tt.seen)
			if err != nil {
				t.Fatal(err)
			}
			_, err = ReadSeen(a, st)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("error %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), a)):
				t.Errorf("error %v, want one naming %s with %q", err, a, tt.want)
			}
		})
	}
}
