package kit

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/kbplan/kbplan/internal/golden"
	"github.com/kbplan/kbplan/internal/pkgtest"
	"github.com/kbplan/kbplan/internal/winetest"
)

// wineHost is a Wine prefix with stand-ins for the programs install.cmd
// runs (testdata/standin/standin.c): wusa, pkgmgr and shutdown, and, when
// a case asks, certutil.
type wineHost struct {
	*winetest.Prefix
	name    string            // %COMPUTERNAME%
	standin string            // the stand-in .exe on the Linux side
	orig    map[string][]byte // Wine's own programs the cases replace, to put back
}

// standins are the programs install.cmd runs that every case replaces.
var standins = []string{"wusa.exe", "pkgmgr.exe", "shutdown.exe"}

// replaceable are the programs a case may swap for the stand-in.
var replaceable = []string{"certutil.exe", "expand.exe"}

func newWineHost(t *testing.T) *wineHost {
	p := winetest.New(t, "wusa.exe", "pkgmgr.exe", "shutdown.exe", "certutil.exe", "expand.exe")
	exe := filepath.Join(t.TempDir(), "standin.exe")
	winetest.Mingw(t, filepath.Join("testdata", "standin", "standin.c"), exe)
	for _, n := range standins {
		p.Install(exe, n)
	}
	orig := map[string][]byte{}
	for _, n := range replaceable {
		b, err := os.ReadFile(filepath.Join(p.Drive, "windows", "system32", n))
		if err != nil {
			t.Fatal(err)
		}
		orig[n] = b
	}
	name := strings.TrimSpace(p.MustRun("cmd", "/c", "echo %COMPUTERNAME%"))
	return &wineHost{Prefix: p, name: name, standin: exe, orig: orig}
}

// reset forgets the last case: stand-in scripts, calls and counters,
// the registry values install.cmd writes or reads.
func (w *wineHost) reset(t *testing.T) {
	dir := filepath.Join(w.Drive, "standin")
	os.RemoveAll(dir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	w.Run("reg", "delete", `HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\RunOnce`, "/v", "kbplan-kit", "/f")
	w.Run("reg", "delete", `HKLM\SOFTWARE\kbplan`, "/f")
	w.Run("reg", "delete", `HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Component Based Servicing\RebootPending`, "/f")
	for n, b := range w.orig {
		if err := os.WriteFile(filepath.Join(w.Drive, "windows", "system32", n), b, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// Before every case, the stand-ins must be in place: on a loaded machine
	// Wine's own prefix set-up can still be writing its placeholder
	// programs into system32 after wineboot returned, and a stand-in
	// overwritten then makes cmd report exit code 9009 ("Can't recognize")
	// for wusa.exe. Put them back, and say so when it happened.
	want, err := os.ReadFile(w.standin)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range standins {
		p := filepath.Join(w.Drive, "windows", "system32", n)
		if got, err := os.ReadFile(p); err != nil || !bytes.Equal(got, want) {
			t.Logf("%s in the prefix is not the stand-in any more (%v): Wine replaced it; restored", n, err)
			w.Install(w.standin, n)
		}
	}
}

func (w *wineHost) script(t *testing.T, name, text string) {
	if err := os.WriteFile(filepath.Join(w.Drive, "standin", name+".txt"), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// calls returns the stand-ins' calls, one "NAME COMMAND-LINE" per line.
func (w *wineHost) calls() string {
	b, _ := os.ReadFile(filepath.Join(w.Drive, "standin", "calls.txt"))
	return string(b)
}

func (w *wineHost) runOnce() string {
	out, code := w.Run("reg", "query", `HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\RunOnce`, "/v", "kbplan-kit")
	if code != 0 {
		return ""
	}
	for _, l := range strings.Split(out, "\n") {
		if i := strings.Index(l, "REG_SZ"); i >= 0 {
			return strings.TrimSpace(l[i+len("REG_SZ"):])
		}
	}
	return ""
}

// wineStep is one step of a test kit: a package of size bytes (even, so
// that the Unicode TextStream path of kbplan-sha256.js can read it in
// Wine, which has no ADODB.Stream).
type wineStep struct {
	kb      string
	restart bool
	cab     bool // an expanded cabinet for pkgmgr, built with gcab
	// without, when set, is a hex digit the package's SHA-256 must not
	// contain (install.cmd's hex check once failed on such hashes).
	without string
}

// writeKit writes a kit for steps into C:\DIR and returns its manifest.
func (w *wineHost) writeKit(t *testing.T, dir, host string, steps []wineStep) Manifest {
	m := Manifest{Version: Version, Created: "2026-11-25T12:00:00Z",
		Host: Host{Hostname: host, Product: "Windows Server 2008", Build: 6002, Architecture: "x64"}}
	root := filepath.Join(w.Drive, dir)
	if err := os.MkdirAll(filepath.Join(root, "packages"), 0o755); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, uint64(len(dir))))
	for i, s := range steps {
		var b []byte
		ext, installer := "msu", "wusa"
		if s.cab {
			b = gcab(t)
			ext, installer = "cab", "pkgmgr"
		} else {
			for {
				b = make([]byte, 2*(100+rng.IntN(3000)))
				for j := range b {
					b[j] = byte(rng.Uint32())
				}
				copy(b, "MSCF")
				sum := sha256.Sum256(b)
				if s.without == "" || !strings.Contains(hex.EncodeToString(sum[:]), s.without) {
					break
				}
			}
		}
		name := fmt.Sprintf("windows6.0-%s-x64.%s", strings.ToLower(s.kb), ext)
		if err := os.WriteFile(filepath.Join(root, "packages", name), b, 0o644); err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(b)
		m.Steps = append(m.Steps, Step{Order: i + 1, KB: s.kb, Kind: "standalone", File: "packages/" + name, Source: name,
			Size: int64(len(b)), SHA256: hex.EncodeToString(sum[:]), Installer: installer, RebootAfter: s.restart})
		if s.restart {
			m.Reboots++
		}
	}
	m.ID = manifestID(m)
	m.Complete = true
	script, err := Installer(m)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(root, InstallerName), script, 0o644)
	os.WriteFile(filepath.Join(root, HasherName), Hasher(), 0o644)
	return m
}

var gcabOnce []byte

// gcab builds a small real cabinet, so that install.cmd's expand works.
func gcab(t *testing.T) []byte {
	if gcabOnce != nil {
		return gcabOnce
	}
	tool := pkgtest.Tool(t, "gcab")
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "update.mum"), []byte("<assembly/>\r\n"), 0o644)
	cmd := exec.Command(tool, "-c", "-z", "x.cab", "update.mum")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("gcab: %v\n%s", err, out)
	}
	b, err := os.ReadFile(filepath.Join(dir, "x.cab"))
	if err != nil {
		t.Fatal(err)
	}
	if len(b)%2 == 1 {
		t.Fatalf("gcab made a cabinet of odd size %d; pad the member", len(b))
	}
	gcabOnce = b
	return b
}

// wineRun is one run of install.cmd in a case.
type wineRun struct {
	args     []string
	code     int
	log      []string // lines the run must print
	shutdown bool     // the run calls shutdown /r
	runOnce  bool     // the run leaves the RunOnce value
	pending  bool     // Windows waits for a restart (CBS RebootPending)
}

func repeat(r wineRun, n int) []wineRun {
	out := make([]wineRun, n)
	for i := range out {
		out[i] = r
	}
	return out
}

// TestWineInstaller runs generated install.cmd scripts in Wine's cmd.exe
// (Windows version win2008) with stand-ins that return scripted exit
// codes, through every branch: success, restart and resume, already
// installed, not applicable, SHA-2 failure, CBS failure, an unknown code,
// wrong host, a changed package, a restart pending before the start,
// /check, /noreboot, an installer's own restart, pkgmgr for a cabinet,
// certutil's hash, and the restart-loop guard.
func TestWineInstaller(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	w := newWineHost(t)
	resume := []string{"/resume"}
	cases := []wineCase{
		{name: "success", steps: []wineStep{{kb: "KB1000001"}, {kb: "KB1000002"}},
			wusa: "kb1000001 0\nkb1000002 0\n",
			runs: []wineRun{{code: 0, log: []string{"host ok: ", "step 1/2: KB1000001 installed", "step 2/2: KB1000002 installed", "all 2 steps are done", "summary:", "step 2 KB1000002 0x00000000 installed"}}},
			// The installed file is the copy hashed in a work folder.
			calls:  []string{`wusa "C:\windows\System32\wusa.exe" "C:\kit-success\work-`, `\windows6.0-kb1000001-x64.msu" /quiet /norestart`, "kb1000002-x64.msu\" /quiet /norestart"},
			nocall: []string{"shutdown"}},
		{name: "restart-and-resume", steps: []wineStep{{kb: "KB2000001", restart: true}, {kb: "KB2000002"}, {kb: "KB2000003"}},
			wusa: "kb2000001 0\nkb2000002 3010\nkb2000003 0\n",
			runs: []wineRun{
				{code: 4, shutdown: true, runOnce: true, log: []string{"step 1/3: KB2000001 installed", "restarting Windows in 60 seconds after KB2000001"}},
				{args: resume, code: 4, shutdown: true, runOnce: true, log: []string{"resumed after a restart", "step 2/3: KB2000002 installed, restart required (3010 ERROR_SUCCESS_REBOOT_REQUIRED)"}},
				{args: resume, code: 0, log: []string{"step 3/3: KB2000003 installed", "all 3 steps are done", "step 2 KB2000002 0x00000BC2 installed, restart required"}},
			},
			calls: []string{"kb2000001", `shutdown "C:\windows\System32\shutdown.exe" /r /t 60 /d p:2:17`, "kb2000002", "shutdown", "kb2000003"}},
		{name: "already-installed", steps: []wineStep{{kb: "KB3000001", restart: true}, {kb: "KB3000002"}},
			wusa:   "kb3000001 2359302\nkb3000002 0\n",
			runs:   []wineRun{{code: 0, log: []string{"KB3000001 already installed (0x00240006 WU_S_ALREADY_INSTALLED): skipped", "KB3000002 installed"}}},
			nocall: []string{"shutdown"}},
		{name: "not-applicable", steps: []wineStep{{kb: "KB4000001"}, {kb: "KB4000002"}},
			wusa: "kb4000001 -2145124329\nkb4000002 0\n",
			runs: []wineRun{{code: 0, log: []string{"KB4000001 not applicable to this host (0x80240017 WU_E_NOT_APPLICABLE): skipped", "all 2 steps are done"}}}},
		{name: "sha2-failure", steps: []wineStep{{kb: "KB5000001"}, {kb: "KB5000002"}},
			wusa:   "kb5000001 -2146885628\n",
			runs:   []wineRun{{code: 1, log: []string{"KB5000001 failed with 0x80092004 CRYPT_E_NOT_FOUND", "SHA-2 code signing support (KB4474419) is missing or not active yet", "step 1 KB5000001 failed 0x80092004"}}},
			nocall: []string{"kb5000002", "shutdown"}},
		// A SHA-256 without an "f" (1 in 60 packages): install.cmd's hex check
		// once left "f=" behind in an emptied variable and refused it.
		{name: "hash-without-f", steps: []wineStep{{kb: "KB5100001", without: "f"}},
			wusa: "kb5100001 0\n",
			runs: []wineRun{{code: 0, log: []string{"KB5100001 installed"}}}},
		{name: "cbs-failure", steps: []wineStep{{kb: "KB6000001"}},
			wusa: "kb6000001 -2146498270\n",
			runs: []wineRun{{code: 1, log: []string{"failed with 0x800F0922 CBS_E_INSTALLERS_FAILED", `Logs\CBS\CBS.log`}}}},
		{name: "unknown-code", steps: []wineStep{{kb: "KB6100001"}},
			wusa: "kb6100001 5\n",
			runs: []wineRun{{code: 1, log: []string{"KB6100001 failed with exit code 5 (0x00000005)"}}}},
		{name: "wrong-host", host: "OTHERHOST", steps: []wineStep{{kb: "KB7000001"}},
			runs:   []wineRun{{code: 2, log: []string{"refused: this kit was made for OTHERHOST, and this computer is "}}},
			nocall: []string{"wusa"}},
		{name: "changed-package", steps: []wineStep{{kb: "KB8000001"}},
			setup: func(t *testing.T, w *wineHost, kit string, m Manifest) {
				p := filepath.Join(w.Drive, kit, filepath.FromSlash(m.Steps[0].File))
				b, _ := os.ReadFile(p)
				b[len(b)/2] ^= 1
				os.WriteFile(p, b, 0o644)
			},
			runs:   []wineRun{{code: 3, log: []string{"the file changed since the kit was made; do not install it"}}},
			nocall: []string{"wusa"}},
		{name: "pending-restart-before-start", steps: []wineStep{{kb: "KB9000001"}},
			setup: func(t *testing.T, w *wineHost, kit string, m Manifest) {
				w.MustRun("reg", "add", `HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Component Based Servicing\RebootPending`, "/f")
			},
			runs:   []wineRun{{code: 2, log: []string{"refused: Windows has a restart pending (CBS RebootPending): restart first"}}},
			nocall: []string{"wusa"}},
		{name: "check", steps: []wineStep{{kb: "KB9100001"}, {kb: "KB9100002"}},
			runs:   []wineRun{{args: []string{"/check"}, code: 0, log: []string{"KB9100001: packages\\windows6.0-kb9100001-x64.msu SHA-256 ok (kbplan-sha256.js)", "check passed"}}},
			nocall: []string{"wusa"}},
		{name: "check-missing-package", steps: []wineStep{{kb: "KB9200001"}},
			setup: func(t *testing.T, w *wineHost, kit string, m Manifest) {
				os.Remove(filepath.Join(w.Drive, kit, filepath.FromSlash(m.Steps[0].File)))
			},
			runs: []wineRun{{args: []string{"/check"}, code: 3, log: []string{"is missing from the kit: copy the whole kit folder again", "check failed"}}}},
		{name: "noreboot", steps: []wineStep{{kb: "KB9300001"}, {kb: "KB9300002"}},
			wusa: "kb9300001 2359301\nkb9300002 0\n",
			runs: []wineRun{
				{args: []string{"/noreboot"}, code: 4, log: []string{"installed, restart required (0x00240005 WU_S_REBOOT_REQUIRED)", "restart needed after KB9300001: restart Windows, then run install.cmd again"}},
				{code: 0, log: []string{"KB9300002 installed", "all 2 steps are done"}},
			},
			nocall: []string{"shutdown"}},
		{name: "installer-restarts", steps: []wineStep{{kb: "KB9400001"}, {kb: "KB9400002"}},
			wusa: "kb9400001 1641\nkb9400002 0\n",
			runs: []wineRun{
				{code: 4, runOnce: true, log: []string{"the installer is restarting Windows (1641 ERROR_SUCCESS_REBOOT_INITIATED)", "Windows is restarting after KB9400001"}},
				{args: resume, code: 0, log: []string{"all 2 steps are done"}},
			},
			nocall: []string{"shutdown"}},
		{name: "pkgmgr", steps: []wineStep{{kb: "KB9500001", cab: true}},
			// Wine's expand has no -F: the stand-in records the call.
			setup: func(t *testing.T, w *wineHost, kit string, m Manifest) { w.Install(w.standin, "expand.exe") },
			runs:  []wineRun{{code: 0, log: []string{"installing KB9500001 with pkgmgr", "KB9500001 installed"}}},
			calls: []string{`expand "C:\windows\System32\expand.exe" -F:* "C:\kit-pkgmgr\work-`, `\windows6.0-kb9500001-x64.cab" "C:\kit-pkgmgr\work-`, `pkgmgr "C:\windows\System32\pkgmgr.exe" /ip /m:"C:\kit-pkgmgr\work-`, `\expanded" /quiet /norestart`}},
		{name: "certutil", steps: []wineStep{{kb: "KB9600001"}},
			setup: func(t *testing.T, w *wineHost, kit string, m Manifest) {
				w.Install(w.standin, "certutil.exe")
				// Windows 7's certutil: bytes apart, upper case.
				var spaced []string
				for i := 0; i < 64; i += 2 {
					spaced = append(spaced, strings.ToUpper(m.Steps[0].SHA256[i:i+2]))
				}
				w.script(t, "certutil", "kb9600001 0 SHA256 hash of file x:\\n"+strings.Join(spaced, " ")+"\\nCertUtil: -hashfile command completed successfully.\n")
			},
			runs: []wineRun{{code: 0, log: []string{"SHA-256 ok (certutil)", "KB9600001 installed"}}}},
		{name: "certutil-sha1-only", steps: []wineStep{{kb: "KB9700001"}},
			setup: func(t *testing.T, w *wineHost, kit string, m Manifest) {
				// A certutil that ignores the algorithm and prints a SHA-1:
				// install.cmd must not take it, and hashes with the script.
				w.Install(w.standin, "certutil.exe")
				w.script(t, "certutil", "kb9700001 0 SHA1 hash of file x:\\n"+strings.Repeat("ab ", 19)+"ab\\nCertUtil: -hashfile command completed successfully.\n")
			},
			runs: []wineRun{{code: 0, log: []string{"SHA-256 ok (kbplan-sha256.js)"}}}},
		{name: "planted-certutil", steps: []wineStep{{kb: "KB9810001"}},
			// A certutil.bat in the current folder (and one beside the
			// kit) is what a bare "certutil" would run, as the
			// administrator: install.cmd runs System32's only.
			setup: func(t *testing.T, w *wineHost, kit string, m Manifest) {
				bat := "@echo off\r\necho planted> C:\\planted.txt\r\necho 0000000000000000000000000000000000000000000000000000000000000000\r\n"
				for _, dir := range []string{w.Dir, filepath.Join(w.Drive, kit)} {
					if err := os.WriteFile(filepath.Join(dir, "certutil.bat"), []byte(bat), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				os.Remove(filepath.Join(w.Drive, "planted.txt"))
				t.Cleanup(func() { os.Remove(filepath.Join(w.Dir, "certutil.bat")) })
			},
			runs: []wineRun{{code: 0, log: []string{"KB9810001 installed"}}},
			after: func(t *testing.T, w *wineHost) {
				if _, err := os.Stat(filepath.Join(w.Drive, "planted.txt")); err == nil {
					t.Error("the planted certutil.bat ran")
				}
			}},
		{name: "poisoned-state", steps: []wineStep{{kb: "KB9820001"}, {kb: "KB9820002"}},
			// A state line that would run a command where install.cmd
			// uses the value: refused before any is used.
			setup: func(t *testing.T, w *wineHost, kit string, m Manifest) {
				state := "kit=" + m.ID + "\r\nnext=1 & echo pwned> C:\\pwned.txt & rem\r\n"
				os.WriteFile(filepath.Join(w.Drive, kit, "install.state"), []byte(state), 0o644)
				os.Remove(filepath.Join(w.Drive, "pwned.txt"))
			},
			runs:   []wineRun{{code: 2, log: []string{"refused: install.state holds lines install.cmd does not write (error: line 2 is not one install.cmd writes)"}}},
			nocall: []string{"wusa"},
			after: func(t *testing.T, w *wineHost) {
				if _, err := os.Stat(filepath.Join(w.Drive, "pwned.txt")); err == nil {
					t.Error("the poisoned install.state ran a command")
				}
			}},
		{name: "poisoned-done-line", steps: []wineStep{{kb: "KB9830001"}},
			setup: func(t *testing.T, w *wineHost, kit string, m Manifest) {
				state := "kit=" + m.ID + "\r\ndone=1 KB9830001 \"&echo pwned> C:\\pwned.txt&\"\r\nnext=2\r\n"
				os.WriteFile(filepath.Join(w.Drive, kit, "install.state"), []byte(state), 0o644)
				os.Remove(filepath.Join(w.Drive, "pwned.txt"))
			},
			runs: []wineRun{{code: 2, log: []string{"refused: install.state holds lines"}}},
			after: func(t *testing.T, w *wineHost) {
				if _, err := os.Stat(filepath.Join(w.Drive, "pwned.txt")); err == nil {
					t.Error("the poisoned install.state ran a command")
				}
			}},
		{name: "restart-loop-guard", steps: []wineStep{{kb: "KB9800001"}, {kb: "KB9800002"}},
			wusa: "kb9800001 3010\n",
			// Step 1 asks for a restart, and the restart never clears: each
			// resume restarts again, until more restarts than the kit can
			// need (2 per step + 2 = 6).
			runs: append(append([]wineRun{{code: 4, shutdown: true, runOnce: true}},
				repeat(wineRun{args: resume, pending: true, code: 4, shutdown: true, runOnce: true,
					log: []string{"restarting Windows in 60 seconds first: Windows still has a restart pending"}}, 5)...),
				wineRun{args: resume, pending: true, code: 1, log: []string{"stopped: 7 restarts, more than this kit can need"}}),
			nocall: []string{"kb9800002"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for attempt := 1; ; attempt++ {
				if !w.runCase(t, c) {
					return
				}
				if attempt == 3 {
					t.Fatal("Wine failed to start a process three times")
				}
				t.Logf("Wine could not start a process (%q): the case runs again", wineFlake)
			}
		})
	}
}

// wineFlake is what Wine's cmd prints when, on a loaded machine, it
// fails to start a child process (its own cmd.exe for a for /f): Wine's
// failure, not install.cmd's, so the case runs again from the start.
const wineFlake = "Can't recognize 'CMD.EXE /C"

// wineCase is one case of TestWineInstaller: a kit, the stand-ins'
// scripts, and the runs of install.cmd with what each must do.
type wineCase struct {
	name   string
	host   string // "" = the Wine host
	steps  []wineStep
	wusa   string // the stand-in's script
	setup  func(t *testing.T, w *wineHost, kit string, m Manifest)
	runs   []wineRun
	calls  []string // substrings of the stand-ins' calls, in order
	nocall []string
	after  func(t *testing.T, w *wineHost)
}

var errFlake = errors.New("wine flake")

// runCase runs a case from a fresh kit folder; it reports whether Wine
// failed to start a process (wineFlake), in which case it stopped there,
// before asserting anything of that run.
func (w *wineHost) runCase(t *testing.T, c wineCase) (flaked bool) {
	os.RemoveAll(filepath.Join(w.Drive, "kit-"+c.name))
	defer func() {
		if r := recover(); r != nil {
			if r != errFlake {
				panic(r)
			}
			flaked = true
		}
	}()
	// A Wine failure stops the case at once, from wherever it is, without
	// failing it: runCase's caller runs it again.
	run := func(args ...string) (string, int) {
		out, code := w.Run(args...)
		if strings.Contains(out, wineFlake) {
			panic(errFlake)
		}
		return out, code
	}
	w.reset(t)
	host := c.host
	if host == "" {
		host = w.name
	}
	kitDir := "kit-" + c.name
	m := w.writeKit(t, kitDir, host, c.steps)
	if c.wusa != "" {
		w.script(t, "wusa", c.wusa)
		w.script(t, "pkgmgr", c.wusa)
	}
	if c.setup != nil {
		c.setup(t, w, kitDir, m)
	}
	script := `C:\` + kitDir + `\install.cmd`
	for i, r := range c.runs {
		if r.pending {
			w.MustRun("reg", "add", `HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Component Based Servicing\RebootPending`, "/f")
		}
		before := strings.Count(w.calls(), "shutdown ")
		out, code := run(append([]string{"cmd", "/c", script}, r.args...)...)
		if code != r.code {
			t.Fatalf("run %d %v: exit %d, want %d\n%s", i+1, r.args, code, r.code, out)
		}
		for _, l := range r.log {
			if !strings.Contains(out, l) {
				t.Errorf("run %d: output lacks %q:\n%s", i+1, l, out)
			}
		}
		if got := strings.Count(w.calls(), "shutdown ") > before; got != r.shutdown {
			t.Errorf("run %d: shutdown called %v, want %v\n%s", i+1, got, r.shutdown, w.calls())
		}
		ro := w.runOnce()
		if want := `"C:\windows\System32\cmd.exe" /c ""` + script + `" /resume"`; r.runOnce && !strings.EqualFold(ro, want) {
			t.Errorf("run %d: RunOnce kbplan-kit = %q, want %q", i+1, ro, want)
		} else if !r.runOnce && ro != "" {
			t.Errorf("run %d: RunOnce kbplan-kit left: %q", i+1, ro)
		}
		// Windows deletes a RunOnce value before it runs it.
		w.Run("reg", "delete", `HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\RunOnce`, "/v", "kbplan-kit", "/f")
	}
	calls := strings.ToLower(w.calls())
	at := 0
	for _, want := range c.calls {
		i := strings.Index(calls[at:], strings.ToLower(want))
		if i < 0 {
			t.Errorf("calls lack %q after offset %d:\n%s", want, at, calls)
			break
		}
		at += i + len(want)
	}
	for _, no := range c.nocall {
		if strings.Contains(calls, strings.ToLower(no)) {
			t.Errorf("calls hold %q:\n%s", no, calls)
		}
	}
	if c.after != nil {
		c.after(t, w)
	}
	if left, _ := filepath.Glob(filepath.Join(w.Drive, kitDir, "work-*")); len(left) > 0 {
		t.Errorf("work folders left in the kit: %v", left)
	}
	logText, err := os.ReadFile(filepath.Join(w.Drive, kitDir, "install.log"))
	if err != nil || !strings.Contains(string(logText), "install.cmd ") {
		t.Errorf("install.log next to the script: %v\n%s", err, logText)
	}
	return false
}

// TestWineHasher checks kbplan-sha256.js against crypto/sha256 in Wine's
// Windows Script Host, over the sizes around SHA-256's padding edges, and
// its refusal of a file it cannot read whole.
func TestWineHasher(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	p := winetest.New(t)
	os.WriteFile(filepath.Join(p.Drive, HasherName), Hasher(), 0o644)
	rng := rand.New(rand.NewPCG(7, 7))
	for _, n := range []int{0, 2, 54, 56, 62, 64, 66, 118, 120, 128, 4096, 70000} {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		name := fmt.Sprintf("f%d.bin", n)
		os.WriteFile(filepath.Join(p.Drive, name), b, 0o644)
		out := p.MustRun("cscript", "//nologo", `C:\`+HasherName, `C:\`+name)
		sum := sha256.Sum256(b)
		if got := strings.TrimSpace(out); got != hex.EncodeToString(sum[:]) {
			t.Errorf("%d bytes: %q, want %x", n, got, sum)
		}
	}
	os.WriteFile(filepath.Join(p.Drive, "odd.bin"), []byte("MSCF\x00"), 0o644)
	out, code := p.Run("cscript", "//nologo", `C:\`+HasherName, `C:\odd.bin`)
	if code != 1 || !strings.HasPrefix(strings.TrimSpace(out), "error: ") || !strings.Contains(out, "odd size") {
		t.Errorf("odd size: exit %d, %q", code, out)
	}
}

// TestWineReport runs install.cmd with report-to.txt in Wine: it sends its
// results when it restarts and when a step fails, to a loopback server,
// with the token; what arrives is a results document ParseResult reads,
// and a server that does not answer holds nothing up. With -update the
// documents are kept in testdata/results (the fleet's tests upload them).
func TestWineReport(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	var mu sync.Mutex
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if r.Method != "POST" || r.URL.Path != "/api/v1/results" || r.Header.Get("Authorization") != "Bearer kbp_reporttoken" {
			t.Errorf("%s %s %q", r.Method, r.URL.Path, r.Header.Get("Authorization"))
		}
		mu.Lock()
		got = append(got, string(b))
		mu.Unlock()
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, `{"created": true}`)
	}))
	defer srv.Close()
	w := newWineHost(t)
	w.reset(t)
	steps := []wineStep{{kb: "KB4474419", restart: true}, {kb: "KB4536953"}, {kb: "KB4534303", restart: true}}
	m := w.writeKit(t, "kit-report", w.name, steps)
	cfg, err := ReportTo(srv.URL+"/api/v1/results", "kbp_reporttoken")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(w.Drive, "kit-report", ReportName), cfg, 0o600)
	w.script(t, "wusa", "kb4474419 3010\nkb4536953 0\nkb4534303 -2146498270\n")
	script := `C:\kit-report\install.cmd`
	out, code := w.Run("cmd", "/c", script)
	if code != 4 || !strings.Contains(out, "results sent to "+srv.URL) {
		t.Fatalf("run 1: exit %d\n%s", code, out)
	}
	w.Run("reg", "delete", `HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\RunOnce`, "/v", "kbplan-kit", "/f")
	out, code = w.Run("cmd", "/c", script, "/resume")
	if code != 1 || !strings.Contains(out, "results sent to") {
		t.Fatalf("run 2: exit %d\n%s", code, out)
	}
	mu.Lock()
	docs := append([]string(nil), got...)
	mu.Unlock()
	if len(docs) != 2 {
		t.Fatalf("%d documents arrived, want 2 (at the restart, at the failure)", len(docs))
	}
	want := []struct {
		status, event string
		outcomes      int
	}{{StatusRestart, "restart", 1}, {StatusFailed, "failed", 3}}
	for i, d := range docs {
		res, err := ParseResult("upload", strings.NewReader(d))
		if err != nil {
			t.Fatalf("document %d: %v\n%s", i+1, err, d)
		}
		if res.Status != want[i].status || res.Event != want[i].event || len(res.Outcomes) != want[i].outcomes || res.Kit != m.ID || !strings.EqualFold(res.Host, w.name) || res.Steps != 3 {
			t.Errorf("document %d: %+v", i+1, res)
		}
		if i == 1 {
			last := res.Outcomes[2]
			if last.KB != "KB4534303" || last.Outcome != Failed || last.Hex() != "0x800F0922" {
				t.Errorf("the failed step: %+v", last)
			}
		}
	}
	if *golden.Update {
		os.MkdirAll(filepath.Join("testdata", "results"), 0o755)
		os.WriteFile(filepath.Join("testdata", "results", "wine-restart.txt"), []byte(docs[0]), 0o644)
		os.WriteFile(filepath.Join("testdata", "results", "wine-failed.txt"), []byte(docs[1]), 0o644)
		// The kit folder as install.cmd left it, for kbplan fleet import.
		kitDir := filepath.Join("testdata", "results", "wine-kit")
		os.MkdirAll(kitDir, 0o755)
		for _, n := range []string{ManifestName, InstallerName, StateName, LogName} {
			b, err := os.ReadFile(filepath.Join(w.Drive, "kit-report", n))
			if n == ManifestName {
				b, err = json.MarshalIndent(m, "", "  ")
			}
			if err != nil {
				t.Fatal(err)
			}
			os.WriteFile(filepath.Join(kitDir, n), b, 0o644)
		}
	}
	// A server that is gone: the results are not sent, and the install
	// goes on and ends as it would.
	srv.Close()
	w.reset(t)
	w.writeKit(t, "kit-report2", w.name, []wineStep{{kb: "KB4536953"}})
	os.WriteFile(filepath.Join(w.Drive, "kit-report2", ReportName), cfg, 0o600)
	w.script(t, "wusa", "kb4536953 0\n")
	out, code = w.Run("cmd", "/c", `C:\kit-report2\install.cmd`)
	if code != 0 || !strings.Contains(out, "results not sent: ") || !strings.Contains(out, "all 1 steps are done") {
		t.Errorf("server gone: exit %d\n%s", code, out)
	}
}
