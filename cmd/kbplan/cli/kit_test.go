package cli

import (
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kbplan/kbplan/internal/pkgtest"
	"github.com/kbplan/kbplan/kit"
)

// kitHost writes a host like ws2008-6003-x64-no-sha2 that has every
// standalone and .NET update of its plan, so that the plan is the servicing
// chain and the rollup: SHA-2 support (restart), servicing stack, rollup.
func kitHost(t *testing.T, dir string) string {
	t.Helper()
	src := hosts + "ws2008-6003-x64-no-sha2.txt"
	a := analyzeJSON(t, src)
	var kbs []string
	for _, s := range a.Plan.Steps {
		if s.Kind == "standalone" || s.Kind == "dotnet" || s.Kind == "ie" {
			kbs = append(kbs, s.KB)
		}
	}
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	old := "Hotfix(s):                 3 Hotfix(s) Installed.\r\n                           [01]: KB955430\r\n                           [02]: KB4493730\r\n                           [03]: KB4499149\r\n"
	if !strings.Contains(text, old) {
		t.Fatal("the sample's hotfix block changed")
	}
	all := append([]string{"KB955430", "KB4493730", "KB4499149"}, kbs...)
	var nb strings.Builder
	fmt.Fprintf(&nb, "Hotfix(s):                 %d Hotfix(s) Installed.\r\n", len(all))
	for i, kb := range all {
		fmt.Fprintf(&nb, "                           [%02d]: %s\r\n", i+1, kb)
	}
	p := filepath.Join(dir, "host.txt")
	os.WriteFile(p, []byte(strings.Replace(text, old, nb.String(), 1)), 0o644)
	return p
}

func TestKit(t *testing.T) {
	dir := t.TempDir()
	host := kitHost(t, dir)
	a := analyzeJSON(t, host)
	var plan []string
	for _, s := range a.Plan.Steps {
		plan = append(plan, s.KB)
	}
	if strings.Join(plan, " ") != "KB4474419 KB4536953 KB4534303" {
		t.Fatalf("the test host's plan is %v", plan)
	}
	ca := pkgtest.CA(t, dir)
	pkgs := filepath.Join(dir, "downloads")
	os.MkdirAll(pkgs, 0o755)
	build := func(s pkgtest.Spec, name string) {
		p := pkgtest.Build(t, dir, s)
		// File names mean nothing: the kit reads each package's metadata.
		if err := os.Rename(p, filepath.Join(pkgs, name)); err != nil {
			t.Fatal(err)
		}
	}
	applies := "Windows Vista SP2;Windows Server 2008 SP2;"
	build(pkgtest.Spec{KB: "KB4474419", Arch: "amd64", Applicability: applies, Sign: "dual"}, "sha2-support.msu")
	build(pkgtest.Spec{KB: "KB4534303", Arch: "x86", Applicability: applies, Sign: "sha256"}, "rollup-x86.msu")
	build(pkgtest.Spec{KB: "KB4534303", Arch: "amd64", Applicability: applies}, "rollup-unsigned.msu")

	out := filepath.Join(dir, "kit")
	run := func(wantCode int) kit.Manifest {
		t.Helper()
		stdout, errOut, code := run(t, "", "kit", "--as-of", asOf, "--host", host, "--packages", pkgs, "--out", out, "--roots", ca)
		if code != wantCode {
			t.Fatalf("exit %d, want %d: %s %s", code, wantCode, stdout, errOut)
		}
		b, err := os.ReadFile(filepath.Join(out, "kit.json"))
		if err != nil {
			t.Fatal(err)
		}
		var m kit.Manifest
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		return m
	}

	// Incomplete: no servicing stack package, no usable rollup.
	m := run(ExitFindings)
	if len(m.Steps) != 1 || m.Steps[0].KB != "KB4474419" || !m.Steps[0].RebootAfter || m.Steps[0].File != "packages/sha2-support.msu" {
		t.Errorf("steps %+v", m.Steps)
	}
	if len(m.Missing) != 2 || m.Missing[0].KB != "KB4536953" || !strings.Contains(m.Missing[0].CatalogURL, "q=KB4536953") {
		t.Fatalf("missing %+v", m.Missing)
	}
	rejected := strings.Join(m.Missing[1].Rejected, "\n")
	for _, want := range []string{"rollup-x86.msu: not applicable: x86 package on an x64 host", "rollup-unsigned.msu: will not install: the package is not genuine"} {
		if !strings.Contains(rejected, want) {
			t.Errorf("rejections lack %q:\n%s", want, rejected)
		}
	}

	// Complete: the SHA-2-only packages judged after SHA-2 support and its
	// restart.
	build(pkgtest.Spec{KB: "KB4536953", Arch: "amd64", Applicability: applies, Sign: "sha256", Restart: "possible"}, "ssu.msu")
	build(pkgtest.Spec{KB: "KB4534303", Arch: "amd64", Applicability: applies, Sign: "sha256"}, "rollup.msu")
	m = run(ExitOK)
	var got []string
	for _, s := range m.Steps {
		got = append(got, fmt.Sprintf("%d %s %s %s %v", s.Order, s.KB, s.File, s.Installer, s.RebootAfter))
		if s.Verdict != "will-install" || len(s.SHA256) != 64 || len(s.Signatures) == 0 {
			t.Errorf("step %+v", s)
		}
		if b, err := os.ReadFile(filepath.Join(out, s.File)); err != nil || int64(len(b)) != s.Size {
			t.Errorf("%s not copied: %v", s.File, err)
		}
	}
	want := "1 KB4474419 packages/sha2-support.msu wusa true|2 KB4536953 packages/ssu.msu wusa false|3 KB4534303 packages/rollup.msu wusa true"
	if strings.Join(got, "|") != want {
		t.Errorf("steps\n%s\nwant\n%s", strings.Join(got, "|"), want)
	}
	if !m.Complete || len(m.Missing) != 0 || m.Reboots != 2 || m.Host.Architecture != "x64" || m.Host.Build != 6003 {
		t.Errorf("manifest %+v", m)
	}
	if len(m.ID) != 16 || m.Steps[0].Source != "sha2-support.msu" {
		t.Errorf("id %q, source %q", m.ID, m.Steps[0].Source)
	}
	// The installer carries the same steps, hashes and host (its runs are
	// kit/wine_test.go's).
	script, err := os.ReadFile(filepath.Join(out, kit.InstallerName))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"set \"KIT_ID=" + m.ID + "\"", "set \"KIT_HOST=" + m.Host.Hostname + "\"", "set \"KIT_BUILD=6003\"",
		fmt.Sprintf("call :step 1 KB4474419 \"packages\\sha2-support.msu\" %s wusa restart\r\n", m.Steps[0].SHA256),
		fmt.Sprintf("call :step 2 KB4536953 \"packages\\ssu.msu\" %s wusa -\r\n", m.Steps[1].SHA256),
		fmt.Sprintf("call :step 3 KB4534303 \"packages\\rollup.msu\" %s wusa restart\r\n", m.Steps[2].SHA256)} {
		if !strings.Contains(string(script), want) {
			t.Errorf("install.cmd lacks %q", want)
		}
	}
	if js, err := os.ReadFile(filepath.Join(out, kit.HasherName)); err != nil || !strings.Contains(string(js), "function block()") {
		t.Errorf("%s: %v", kit.HasherName, err)
	}
}

// TestKitKnowsFilesByDigest: with a files list naming the fixtures the
// Microsoft way (--files), kit recognises each renamed package by its
// SHA-1, and refuses a file named like a Microsoft file whose digest is
// not its name's.
func TestKitKnowsFilesByDigest(t *testing.T) {
	dir := t.TempDir()
	host := kitHost(t, dir)
	ca := pkgtest.CA(t, dir)
	pkgs := filepath.Join(dir, "downloads")
	os.MkdirAll(pkgs, 0o755)
	applies := "Windows Vista SP2;Windows Server 2008 SP2;"
	var list strings.Builder
	list.WriteString("kb,arch,revision,name,url,sha1,size,source\n")
	msName := map[string]string{}
	for i, s := range []pkgtest.Spec{{KB: "KB4474419", Arch: "amd64", Applicability: applies, Sign: "dual"},
		{KB: "KB4536953", Arch: "amd64", Applicability: applies, Sign: "sha256", Restart: "possible"},
		{KB: "KB4534303", Arch: "amd64", Applicability: applies, Sign: "sha256"}} {
		b, err := os.ReadFile(pkgtest.Build(t, dir, s))
		if err != nil {
			t.Fatal(err)
		}
		sum := sha1.Sum(b)
		name := fmt.Sprintf("windows6.0-%s-x64_%s.msu", strings.ToLower(s.KB), hex.EncodeToString(sum[:]))
		msName[s.KB] = name
		fmt.Fprintf(&list, "%s,x64,,%s,http://mirror.example/%s,%s,,test fixture\n", s.KB, name, name, hex.EncodeToString(sum[:]))
		os.WriteFile(filepath.Join(pkgs, fmt.Sprintf("renamed-%d.msu", i)), b, 0o644)
		if s.KB == "KB4534303" {
			// The same bytes under another file's Microsoft name.
			os.WriteFile(filepath.Join(pkgs, "windows6.0-kb4534303-x64_"+strings.Repeat("0", 40)+".msu"), b, 0o644)
		}
	}
	lf := filepath.Join(dir, "files.csv")
	os.WriteFile(lf, []byte(list.String()), 0o644)
	out := filepath.Join(dir, "kit")
	stdout, stderr, code := run(t, "", "kit", "--as-of", asOf, "--host", host, "--packages", pkgs, "--out", out, "--roots", ca, "--files", lf)
	if code != ExitOK {
		t.Fatalf("exit %d: %s %s", code, stdout, stderr)
	}
	b, _ := os.ReadFile(filepath.Join(out, "kit.json"))
	var m kit.Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, s := range m.Steps {
		if s.Microsoft == nil || s.Microsoft.Name != msName[s.KB] || !strings.HasPrefix(s.Source, "renamed-") {
			t.Errorf("step %s from %s: Microsoft file %+v, want %s", s.KB, s.Source, s.Microsoft, msName[s.KB])
		}
	}
	if !strings.Contains(string(b), "microsoftFile") {
		t.Error("kit.json does not record the Microsoft files")
	}
}
