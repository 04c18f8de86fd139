package kit

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kbplan/kbplan/assess"
	"github.com/kbplan/kbplan/internal/golden"
)

func goldenManifest() Manifest {
	sum := strings.Repeat("0123456789abcdef", 4)
	m := Manifest{Version: Version, Created: "2026-11-25T12:00:00Z",
		Host: Host{Hostname: "SQL-NOSHA2", Product: "Windows Server 2008", Build: 6003, Architecture: "x64"},
		Steps: []Step{
			{Order: 1, KB: "KB4474419", File: "packages/windows6.0-kb4474419-v4-x64.msu", SHA256: sum, Installer: "wusa", RebootAfter: true},
			{Order: 2, KB: "KB4536953", File: "packages/02-KB4536953-x64.cab", SHA256: sum, Installer: "pkgmgr"},
			{Order: 3, KB: "KB4534303", File: "packages/windows6.0-kb4534303-x64.msu", SHA256: sum, Installer: "wusa", RebootAfter: true},
		}, Reboots: 2, Complete: true}
	m.ID = manifestID(m)
	return m
}

// TestInstallerGolden pins the generated install.cmd; the Wine tests run
// it (wine_test.go).
func TestInstallerGolden(t *testing.T) {
	got, err := Installer(goldenManifest())
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(bytes.ReplaceAll(got, []byte("\r\n"), nil), []byte("\n")) {
		t.Error("install.cmd has a bare LF line end")
	}
	for _, want := range []string{
		"set \"KIT_HOST=SQL-NOSHA2\"\r\n", "set \"KIT_BUILD=6003\"\r\n", "set \"KIT_ARCH=AMD64\"\r\n", "set \"MAXBOOTS=8\"\r\n",
		"call :step 1 KB4474419 \"packages\\windows6.0-kb4474419-v4-x64.msu\" " + strings.Repeat("0123456789abcdef", 4) + " wusa restart\r\n",
		"call :step 2 KB4536953 \"packages\\02-KB4536953-x64.cab\" " + strings.Repeat("0123456789abcdef", 4) + " pkgmgr -\r\n",
	} {
		if !bytes.Contains(got, []byte(want)) {
			t.Errorf("install.cmd lacks %q", want)
		}
	}
	golden.Check(t, filepath.Join("testdata", "install.cmd.golden"), got)
	if h := Hasher(); !bytes.HasPrefix(h, []byte("// kbplan-sha256.js")) || !bytes.Contains(h, []byte("\r\n")) {
		t.Error("kbplan-sha256.js is not the script with CRLF line ends")
	}
}

func TestInstallerRefuses(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Manifest)
		want string
	}{
		{"host name with a percent sign", func(m *Manifest) { m.Host.Hostname = "APP%PATH%" }, `the host name "APP%PATH%" holds '%'`},
		{"host name with an ampersand", func(m *Manifest) { m.Host.Hostname = "A&B" }, `holds '&'`},
		{"empty host name", func(m *Manifest) { m.Host.Hostname = "" }, "the host name is empty"},
		{"unknown architecture", func(m *Manifest) { m.Host.Architecture = "" }, `architecture "" is not x86, x64 or ia64`},
		{"unknown build", func(m *Manifest) { m.Host.Build = 0 }, "the host's build is unknown"},
		{"file name with a space", func(m *Manifest) { m.Steps[0].File = "packages/a b.msu" }, `holds ' '`},
		{"short SHA-256", func(m *Manifest) { m.Steps[1].SHA256 = "abc" }, `step 2 (KB4536953): SHA-256 "abc"`},
		{"upper-case SHA-256", func(m *Manifest) { m.Steps[1].SHA256 = strings.ToUpper(m.Steps[1].SHA256) }, "not 64 lower-case hex digits"},
		{"unknown installer", func(m *Manifest) { m.Steps[2].Installer = "dism" }, `installer "dism" is not wusa or pkgmgr`},
		{"a device name", func(m *Manifest) { m.Steps[0].File = "packages/CON.msu" }, "reserved device name on Windows (CON.msu)"},
		{"a device name with a number", func(m *Manifest) { m.Steps[0].File = "packages/lpt1.cab" }, "reserved device name"},
		{"a dot-ended name", func(m *Manifest) { m.Steps[0].File = "packages/x.msu." }, "dot-ended"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := goldenManifest()
			m.Steps = append([]Step(nil), m.Steps...)
			tt.edit(&m)
			_, err := Installer(m)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want %q", err, tt.want)
			}
		})
	}
}

func TestKitName(t *testing.T) {
	taken := map[string]bool{}
	p := func(name, arch, format string) Package {
		return Package{Name: name, Format: format, Facts: assess.PackageFacts{Architecture: arch}}
	}
	tests := []struct {
		order int
		p     Package
		want  string
	}{
		{1, p("windows6.0-kb4474419-v4-x64_09cb1c6f.msu", "x64", "msu"), "windows6.0-kb4474419-v4-x64_09cb1c6f.msu"},
		{2, p("Windows6.0-KB4474419-v4-X64_09CB1C6F.msu", "x64", "msu"), "02-KB2-x64.msu"}, // same name to Windows
		{3, p("rollup (1).msu", "x64", "msu"), "03-KB3-x64.msu"},
		{4, p("100%&^!.cab", "", "cab"), "04-KB4-neutral.cab"},
		{5, p("nul.msu", "x86", "msu"), "05-KB5-x86.msu"},
		{6, p("COM9.cab", "x64", "cab"), "06-KB6-x64.cab"},
		{7, p("console.msu", "x64", "msu"), "console.msu"}, // only the device names themselves
	}
	for _, tt := range tests {
		if got := kitName(tt.order, "KB"+string(rune('0'+tt.order)), tt.p, taken); got != tt.want {
			t.Errorf("kitName(%q) = %q, want %q", tt.p.Name, got, tt.want)
		}
	}
}
