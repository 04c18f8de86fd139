// Package pkgtest builds update-package fixtures for tests with the real
// tools an admin's packages come from: gcab builds the cabinets (inner
// update cabinet, WSUSSCAN.cab, the .msu around them), openssl makes a
// throwaway CA, osslsigncode signs. The layout follows Microsoft's
// description of .msu files (KB934307; TechNet "How to know whether a fix
// can be applied to Vista or Server 2008"): update cabinet with
// update.mum, -pkgProperties.txt (UTF-16LE), WSUSSCAN.cab and an .xml.
package pkgtest

import (
	"archive/zip"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf16"
)

// Spec describes one package.
type Spec struct {
	KB            string // "KB4534303"
	Arch          string // "x86", "amd64", "ia64"
	Applicability string // ApplicabilityInfo, e.g. "Windows Vista SP2;Windows Server 2008 SP2;"
	Sign          string // "", "sha1", "sha256" or "dual"
	Restart       string // update.mum restart attribute
}

// Tool finds a peer tool (cabextract, gcab, osslsigncode, openssl). Without
// it the test skips, unless KBPLAN_REQUIRE_PEERS is set (.ci/run sets it
// after installing them): then it fails.
func Tool(t testing.TB, name string) string {
	t.Helper()
	return Find(t, "KBPLAN_REQUIRE_PEERS", name, name)
}

// Find returns the first of candidates found (a path or a name on PATH;
// empty ones are skipped, so an override from the environment can lead).
// Without any, the test skips, unless the environment variable require is
// set: then it fails, with the Debian package to install.
func Find(t testing.TB, require, pkg string, candidates ...string) string {
	t.Helper()
	for _, c := range candidates {
		if c == "" {
			continue
		}
		if p, err := exec.LookPath(c); err == nil {
			return p
		}
	}
	if os.Getenv(require) != "" {
		t.Fatalf("%s not found and %s is set: apt-get install -y %s", candidates[len(candidates)-1], require, pkg)
	}
	t.Skipf("%s not installed (apt-get install -y %s); this test runs it", candidates[len(candidates)-1], pkg)
	return ""
}

// Need checks the tools Build uses.
func Need(t testing.TB) {
	t.Helper()
	for _, n := range []string{"gcab", "openssl", "osslsigncode"} {
		Tool(t, n)
	}
}

func run(t testing.TB, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// fixed is the modification time of every fixture file, so that unsigned
// packages are byte-for-byte reproducible.
var fixed = time.Date(2020, 1, 14, 10, 0, 0, 0, time.UTC)

func write(t testing.TB, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	os.Chtimes(path, fixed, fixed)
}

// CA makes a throwaway root and code-signing certificate in dir; it
// returns the root's PEM path.
func CA(t testing.TB, dir string) string {
	t.Helper()
	if _, err := os.Stat(filepath.Join(dir, "ca.pem")); err == nil {
		return filepath.Join(dir, "ca.pem")
	}
	write(t, filepath.Join(dir, "ca.cnf"), []byte("[req]\ndistinguished_name=dn\n[dn]\n"+
		"[v3_ca]\nbasicConstraints=critical,CA:true\nkeyUsage=critical,keyCertSign,cRLSign\n"+
		"[leaf]\nbasicConstraints=CA:false\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=codeSigning\n"))
	run(t, dir, "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem",
		"-days", "3650", "-subj", "/CN=kbplan Test Root CA", "-config", "ca.cnf", "-extensions", "v3_ca")
	run(t, dir, "openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", "leaf.key", "-out", "leaf.csr", "-subj", "/CN=kbplan Test Microsoft Windows")
	run(t, dir, "openssl", "x509", "-req", "-in", "leaf.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
		"-out", "leaf.pem", "-days", "3650", "-extfile", "ca.cnf", "-extensions", "leaf")
	return filepath.Join(dir, "ca.pem")
}

func sign(t testing.TB, dir, how, file string) {
	t.Helper()
	if how == "" {
		return
	}
	CA(t, dir)
	tmp := file + ".signed"
	h := how
	if how == "dual" {
		h = "sha1"
	}
	run(t, dir, "osslsigncode", "sign", "-certs", "leaf.pem", "-key", "leaf.key", "-h", h, "-in", file, "-out", tmp)
	if how == "dual" {
		run(t, dir, "osslsigncode", "sign", "-certs", "leaf.pem", "-key", "leaf.key", "-h", "sha256", "-nest", "-in", tmp, "-out", tmp+"2")
		os.Rename(tmp+"2", tmp)
	}
	os.Rename(tmp, file)
}

func utf16le(s string) []byte {
	b := []byte{0xff, 0xfe}
	for _, u := range utf16.Encode([]rune(s)) {
		b = append(b, byte(u), byte(u>>8))
	}
	return b
}

// Build writes the .msu for s into dir and returns its path.
func Build(t testing.TB, dir string, s Spec) string {
	t.Helper()
	Need(t)
	arch := map[string]string{"x86": "x86", "amd64": "x64", "ia64": "ia64"}[s.Arch]
	base := fmt.Sprintf("Windows6.0-%s-%s", s.KB, arch)
	work := filepath.Join(dir, base+"-"+s.Sign+"-work")
	os.MkdirAll(work, 0o755)
	restart := s.Restart
	if restart == "" {
		restart = "required"
	}
	mum := fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<assembly xmlns="urn:schemas-microsoft-com:asm.v3" manifestVersion="1.0" copyright="Copyright (c) Microsoft Corporation. All Rights Reserved.">
  <assemblyIdentity name="Package_for_%s" version="6.0.1.0" language="neutral" processorArchitecture="%s" publicKeyToken="31bf3856ad364e35"/>
  <package identifier="%s" releaseType="Security Update" restart="%s">
    <parent disposition="detect" integrate="separate">
      <assemblyIdentity name="Microsoft-Windows-Foundation-Package" version="6.0.6001.18000" language="neutral" processorArchitecture="%s" publicKeyToken="31bf3856ad364e35"/>
    </parent>
  </package>
</assembly>
`, s.KB, s.Arch, s.KB, restart, s.Arch)
	write(t, filepath.Join(work, "update.mum"), []byte(mum))
	write(t, filepath.Join(work, "ntoskrnl.exe"), []byte(strings.Repeat("MZ kbplan test kernel image \xe8\x10\x00\x00\x00", 4000)))
	inner := base + ".cab"
	run(t, work, "gcab", "-c", "-z", inner, "update.mum", "ntoskrnl.exe")
	sign(t, dir, s.Sign, filepath.Join(work, inner))
	os.Chtimes(filepath.Join(work, inner), fixed, fixed)
	write(t, filepath.Join(work, "package.xml"), []byte(`<?xml version="1.0"?><unattend xmlns="urn:schemas-microsoft-com:unattend"><servicing><package action="install"/></servicing></unattend>`))
	run(t, work, "gcab", "-c", "WSUSSCAN.cab", "package.xml")
	os.Chtimes(filepath.Join(work, "WSUSSCAN.cab"), fixed, fixed)
	os.Rename(filepath.Join(work, "package.xml"), filepath.Join(work, base+".xml"))
	props := fmt.Sprintf("ApplicabilityInfo=%q\r\nApplies to=\"Windows 6.0\"\r\nBuild Date=\"2020/01/03\"\r\nCompany=\"Microsoft Corporation\"\r\nFile Version=\"1\"\r\n"+
		"Installation Type=\"FULL\"\r\nInstaller Engine=\"Component Based Servicing - WUSA.exe\"\r\nInstaller Version=\"6.0.6001.18000\"\r\n"+
		"KB Article Number=%q\r\nLanguage=\"ALL\"\r\nPackage Type=\"Security Update\"\r\nProcessor Architecture=%q\r\n"+
		"Product Name=\"Windows 6.0\"\r\nSupport Link=\"http://support.microsoft.com?kbid=%s\"\r\n",
		s.Applicability, strings.TrimPrefix(s.KB, "KB"), s.Arch, strings.TrimPrefix(s.KB, "KB"))
	write(t, filepath.Join(work, base+"-pkgProperties.txt"), utf16le(props))
	out := filepath.Join(dir, base+"-"+orNone(s.Sign)+".msu")
	run(t, work, "gcab", "-c", out, "WSUSSCAN.cab", inner, base+"-pkgProperties.txt", base+".xml")
	sign(t, dir, s.Sign, out)
	return out
}

func orNone(s string) string {
	if s == "" {
		return "unsigned"
	}
	return s
}

// CabDir packs a folder's files as makecab would (MSZIP), with gcab, and
// returns the cabinet: a collector bundle as kbplan-collect.cmd uploads it.
func CabDir(t testing.TB, dir string) []byte {
	t.Helper()
	gcab := Tool(t, "gcab")
	out := filepath.Join(t.TempDir(), "bundle.cab")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	args := []string{"-c", "-z", "-n", out}
	for _, e := range entries {
		args = append(args, e.Name())
	}
	cmd := exec.Command(gcab, args...)
	cmd.Dir = dir
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("gcab: %v\n%s", err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// ZipDir packs a folder's files as the PowerShell collector would, each
// name behind prefix ("" for the top level, "bundle/" one folder down).
func ZipDir(t testing.TB, dir, prefix string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		w, err := zw.Create(prefix + e.Name())
		if err != nil {
			t.Fatal(err)
		}
		w.Write(data)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
