package collector

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/kbplan/kbplan/inventory/bundle"
)

func script(t *testing.T, name string) string {
	t.Helper()
	b, err := Script(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// code returns the lines of a script that are not comments, numbered.
func code(s, comment string) map[int]string {
	out := map[int]string{}
	for i, l := range strings.Split(s, "\r\n") {
		t := strings.TrimSpace(l)
		if t == "" || strings.HasPrefix(strings.ToLower(t), comment) {
			continue
		}
		out[i+1] = l
	}
	return out
}

// ps2Forbidden are the cmdlets, operators and syntax newer than PowerShell
// 2.0 (the version Windows Server 2008 SP2 can have, through WMF 2.0), or
// missing from it. docs/bundle.md lists them too.
var ps2Forbidden = []struct {
	re, why string
}{
	{`(?i)ConvertTo-Json|ConvertFrom-Json`, "JSON cmdlets came with PowerShell 3.0"},
	{`(?i)Invoke-WebRequest|Invoke-RestMethod`, "web cmdlets came with PowerShell 3.0"},
	{`(?i)Get-CimInstance|New-CimSession|Get-CimClass`, "CIM cmdlets came with PowerShell 3.0; 2.0 has Get-WmiObject"},
	{`(?i)\[ordered\]`, "[ordered] came with PowerShell 3.0"},
	{`(?i)\[pscustomobject\]`, "[pscustomobject] literals came with PowerShell 3.0"},
	{`::new\(`, "::new() came with PowerShell 5.0"},
	{`(?i)\s-(not)?in\s`, "-in and -notin came with PowerShell 3.0"},
	{`(?i)\$PSItem\b`, "$PSItem came with PowerShell 3.0; use $_"},
	{`(?i)\$PSScriptRoot\b|\$PSCommandPath\b`, "$PSScriptRoot outside modules came with PowerShell 3.0"},
	{`(?i)\s-Raw\b`, "Get-Content -Raw came with PowerShell 3.0"},
	{`(?i)-NoNewline\b`, "-NoNewline came with PowerShell 5.0"},
	{`(?i)^\s*(class|enum)\s+\w+|^\s*using\s+(namespace|module)`, "classes, enums and using came with PowerShell 5.0"},
	{`(?i)(Where-Object|ForEach-Object|\?|%)\s+[A-Za-z]\w*\s*(-\w+\s|$)`, "simplified Where-Object/ForEach-Object syntax came with PowerShell 3.0"},
	{`\.(Where|ForEach)\(`, ".Where()/.ForEach() came with PowerShell 4.0"},
	{`(?i)-(Encoding)\s+(utf8NoBOM|utf8BOM)\b`, "these encodings came with PowerShell 6"},
	{`(?i)Get-FileHash|Expand-Archive|Compress-Archive|New-TemporaryFile|Get-ComputerInfo`, "cmdlets newer than 2.0"},
	{`(?i)Set-Content\s.*-Stream|Tee-Object\s.*-Append`, "parameters newer than 2.0"},
	{`\?\?|\?\.`, "null-coalescing and null-conditional operators came with PowerShell 7"},
	{`&&|\|\|`, "pipeline chain operators came with PowerShell 7"},
	{`(?i)\bTernary\b|\s\?\s.+\s:\s`, "the ternary operator came with PowerShell 7"},
}

func TestPowerShell2Syntax(t *testing.T) {
	lines := code(script(t, "kbplan-collect.ps1"), "#")
	for _, f := range ps2Forbidden {
		re := regexp.MustCompile(f.re)
		for n, l := range lines {
			if re.MatchString(l) {
				t.Errorf("kbplan-collect.ps1 line %d: %s\n\t%s", n, f.why, strings.TrimSpace(l))
			}
		}
	}
	// The rules must be able to fail: each catches its example.
	for _, bad := range []string{
		`$x | ConvertTo-Json`, `Invoke-WebRequest $u`, `Get-CimInstance Win32_OperatingSystem`,
		`$o = [ordered]@{}`, `[pscustomobject]@{a=1}`, `[System.Text.StringBuilder]::new()`,
		`if ($a -in $b) {}`, `$PSItem.Name`, `Join-Path $PSScriptRoot x`, `Get-Content $f -Raw`,
		`Write-Host x -NoNewline`, `class Foo {}`, `Get-ChildItem | Where-Object PSIsContainer -eq $true`,
		`$l.Where({$_})`, `$a ?? $b`, `cmd /c x && y`,
	} {
		hit := false
		for _, f := range ps2Forbidden {
			hit = hit || regexp.MustCompile(f.re).MatchString(bad)
		}
		if !hit {
			t.Errorf("no rule catches %q", bad)
		}
	}
}

func TestCmdScript(t *testing.T) {
	s := script(t, "kbplan-collect.cmd")
	if strings.Count(s, "\n") != strings.Count(s, "\r\n") {
		t.Error("kbplan-collect.cmd must use CRLF line ends: cmd misreads labels and blocks in LF files")
	}
	for i, c := range []byte(s) {
		if c >= 0x80 {
			t.Fatalf("byte %d: non-ASCII 0x%02x: cmd reads the script in the OEM code page", i, c)
		}
	}
	for n, l := range code(s, "rem") {
		if strings.Contains(strings.ToLower(l), "powershell") {
			t.Errorf("line %d uses PowerShell, which a stock 2008 may lack: %s", n, l)
		}
		// A "( ... ) > file" block loses its output under Wine's cmd and is
		// fragile with ")" in values: every line redirects on its own.
		if regexp.MustCompile(`^\s*\)\s*>`).MatchString(l) {
			t.Errorf("line %d redirects a block: %s", n, l)
		}
	}
	if ps := script(t, "kbplan-collect.ps1"); strings.Count(ps, "\n") != strings.Count(ps, "\r\n") {
		t.Error("kbplan-collect.ps1 must use CRLF line ends")
	}
}

// TestScriptsWriteTheBundle: both collectors write every file of the
// bundle format that the reader knows.
func TestScriptsWriteTheBundle(t *testing.T) {
	for _, name := range Names {
		s := script(t, name)
		for _, f := range append([]string{bundle.Manifest}, bundle.Files...) {
			if !strings.Contains(s, `"`+f+`"`) && !strings.Contains(s, `\`+f+`"`) {
				t.Errorf("%s does not write %s", name, f)
			}
		}
		if !strings.Contains(s, "kbplan-bundle 1") {
			t.Errorf("%s does not write the format version", name)
		}
	}
}

func TestWrite(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new", "dir")
	paths, err := Write(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) != 2 {
		t.Fatalf("wrote %v", paths)
	}
	for _, p := range paths {
		got, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := Script(filepath.Base(p))
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from the embedded script", p)
		}
	}
	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, nil, 0o644)
	if _, err := Write(file); err == nil || !strings.Contains(err.Error(), file) {
		t.Errorf("writing into a file: %v", err)
	}
}
