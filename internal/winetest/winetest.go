// Package winetest runs Windows scripts for real in Wine (Debian's
// wine64), in a throwaway prefix set to Windows Server 2008, for the
// collector's and the kit installer's tests.
package winetest

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kbplan/kbplan/internal/pkgtest"
)

// Wine finds Debian's wine64 (not on PATH: dpkg -L wine64). KBPLAN_WINE
// overrides it. Without Wine the test skips, unless KBPLAN_REQUIRE_WINE is
// set (.ci/run sets it, after installing wine64).
func Wine(t testing.TB) string {
	t.Helper()
	return pkgtest.Find(t, "KBPLAN_REQUIRE_WINE", "wine64", os.Getenv("KBPLAN_WINE"), "/usr/lib/wine/wine64", "wine64")
}

// Prefix is a Wine prefix made for one test.
type Prefix struct {
	t     testing.TB
	wine  string
	Dir   string // the prefix
	Drive string // its C: drive
	env   []string
	ctx   context.Context
}

// New makes a prefix (wineboot), sets the Windows version to win2008, and
// kills its wineserver when the test ends. native lists programs whose
// native copy in system32 Wine must run instead of its builtin, such as
// stand-ins written there with Install.
func New(t testing.TB, native ...string) *Prefix {
	t.Helper()
	wine64 := Wine(t)
	// Not t.TempDir: Wine's processes write the registry files back as
	// they exit, after "wineserver -k" returns, and t.TempDir fails a test
	// whose folder it cannot remove at once.
	dir, err := os.MkdirTemp("", "kbplan-wine-")
	if err != nil {
		t.Fatal(err)
	}
	overrides := "mscoree,mshtml=" // no Mono or Gecko installer prompts
	if len(native) > 0 {
		// Native first, builtin when the file is Wine's own placeholder.
		overrides += ";" + strings.Join(native, ",") + "=n,b"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	p := &Prefix{t: t, wine: wine64, Dir: dir, Drive: filepath.Join(dir, "drive_c"), ctx: ctx,
		env: append(os.Environ(), "WINEPREFIX="+dir, "WINEDEBUG=-all", "WINEARCH=win64", "WINEDLLOVERRIDES="+overrides, "DISPLAY=")}
	t.Cleanup(func() {
		for _, arg := range []string{"-k", "-w"} { // kill, then wait for it to end
			k := exec.CommandContext(ctx, p.server(), arg)
			k.Env = p.env
			k.Run()
		}
		cancel()
		for i := 0; ; i++ {
			err := os.RemoveAll(dir)
			if err == nil {
				break
			}
			if i == 20 {
				t.Logf("leaving the Wine prefix %s: %v", dir, err)
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
	// wineboot returns before the prefix is finished: the programs it
	// starts go on writing placeholder programs into system32 (on a
	// loaded machine, over a stand-in a test has just put there, which
	// cmd then reports as exit code 9009). "wineserver -w" waits until
	// every program of the prefix has ended; then one wineserver serves
	// the whole test, not one per program.
	p.MustRun("wineboot", "--init")
	for _, args := range [][]string{{"-w"}, {"-p"}} {
		server := exec.Command(p.server(), args...)
		server.Env = p.env
		if err := server.Run(); err != nil {
			t.Fatalf("wineserver %s: %v", args[0], err)
		}
	}
	// wineboot can return before the prefix's programs are in place (a
	// loaded machine shows "Application could not be started" for reg):
	// try again for a few seconds before calling it a failure.
	for i := 0; ; i++ {
		out, code := p.Run("reg", "add", `HKCU\Software\Wine`, "/v", "Version", "/d", "win2008", "/f")
		if code == 0 {
			break
		}
		if i == 10 {
			t.Fatalf("wine64 reg add HKCU\\Software\\Wine /v Version /d win2008 /f: exit %d\n%s", code, out)
		}
		time.Sleep(500 * time.Millisecond)
	}
	return p
}

// Run runs a Windows program (cmd, reg, C:\x.exe ...) and returns its
// combined output and exit code.
func (p *Prefix) Run(args ...string) (string, int) {
	p.t.Helper()
	// Output goes to a file, not a pipe: Wine's helper processes inherit
	// the handles and would hold a pipe open for seconds after the
	// program ends.
	f, err := os.CreateTemp(p.Dir, "out-*.txt")
	if err != nil {
		p.t.Fatal(err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	cmd := exec.CommandContext(p.ctx, p.wine, args...)
	cmd.Env = p.env
	cmd.Dir = p.Dir
	cmd.Stdout, cmd.Stderr = f, f
	err = cmd.Run()
	out, rerr := os.ReadFile(f.Name())
	if rerr != nil {
		p.t.Fatal(rerr)
	}
	var exit *exec.ExitError
	switch {
	case err == nil:
		return string(out), 0
	case errors.As(err, &exit):
		return string(out), exit.ExitCode()
	default:
		p.t.Fatalf("wine64 %s: %v\n%s", strings.Join(args, " "), err, out)
		return "", -1
	}
}

func (p *Prefix) server() string {
	for _, n := range []string{"wineserver64", "wineserver"} {
		if s := filepath.Join(filepath.Dir(p.wine), n); fileExists(s) {
			return s
		}
	}
	return "wineserver"
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// MustRun is Run for commands that must succeed.
func (p *Prefix) MustRun(args ...string) string {
	p.t.Helper()
	out, code := p.Run(args...)
	if code != 0 {
		p.t.Fatalf("wine64 %s: exit %d\n%s", strings.Join(args, " "), code, out)
	}
	return out
}

// Install copies exe over C:\windows\system32\NAME (list NAME in New's
// native so that Wine runs it).
func (p *Prefix) Install(exe, name string) {
	p.t.Helper()
	b, err := os.ReadFile(exe)
	if err != nil {
		p.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(p.Drive, "windows", "system32", name), b, 0o755); err != nil {
		p.t.Fatal(err)
	}
}

// Mingw builds a C program for Windows x64 with mingw-w64 (Go programs do
// not start under Wine 8). Without the compiler the test skips, unless
// KBPLAN_REQUIRE_WINE is set.
func Mingw(t testing.TB, src, out string) {
	t.Helper()
	cc := pkgtest.Find(t, "KBPLAN_REQUIRE_WINE", "gcc-mingw-w64-x86-64-win32", "x86_64-w64-mingw32-gcc")
	if b, err := exec.Command(cc, "-O2", "-s", "-o", out, src).CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", cc, src, err, b)
	}
}
