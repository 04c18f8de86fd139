package collector

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kbplan/kbplan/internal/winetest"
	"github.com/kbplan/kbplan/inventory/bundle"
)

// TestWineCollector runs kbplan-collect.cmd for real, in Wine's cmd.exe with
// the Windows version set to Windows Server 2008, in a throwaway prefix,
// and reads the bundle it writes. What Wine cannot emulate is listed in
// docs/bundle.md; the assertions below are what it can.
func TestWineCollector(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	p := winetest.New(t)
	run := p.MustRun
	drive := p.Drive
	b, _ := Script("kbplan-collect.cmd")
	if err := os.WriteFile(filepath.Join(drive, "kbplan-collect.cmd"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	out := run("cmd", "/c", `C:\kbplan-collect.cmd C:\bundle`)
	if !strings.Contains(out, `bundle written to "C:\bundle"`) {
		t.Errorf("collector output: %s", out)
	}
	dir := filepath.Join(drive, "bundle")
	for _, f := range append([]string{bundle.Manifest}, bundle.Files...) {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("the collector did not write %s: %v", f, err)
		}
	}
	// wmic writes UTF-16LE when redirected, with a BOM.
	if w, err := os.ReadFile(filepath.Join(dir, "wmic-os.txt")); err != nil || len(w) < 2 || w[0] != 0xFF || w[1] != 0xFE {
		t.Errorf("wmic-os.txt is not UTF-16LE with a BOM (%v): % x", err, w[:min(len(w), 16)])
	}
	h, err := bundle.Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("bundle read: %s %s %v, warnings:\n%s", h.Hostname, h.OS.Product, h.OS.Version, strings.Join(h.Warnings, "\n"))
	if h.OS.Version == nil || h.OS.Version.Short() != "6.0.6002" {
		t.Errorf("version %v, want 6.0.6002 (Wine's win2008)", h.OS.Version)
	}
	if h.Hostname == "" {
		t.Error("no hostname")
	}
	if !h.InScope() {
		t.Error("Wine's win2008 must read as NT 6.0, in scope")
	}
	if f := h.Facts; f == nil || !f.PendingKnown {
		t.Errorf("pending-restart probes missing: %+v", f)
	}
	warn := strings.Join(h.Warnings, "\n")
	if !strings.Contains(warn, "systeminfo.csv: not readable") {
		t.Errorf("Wine's systeminfo is a stub: the bundle should say so:\n%s", warn)
	}
}
