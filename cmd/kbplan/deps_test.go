package main

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/kbplan/kbplan/internal/lazyre"
)

// TestNoStrayDependencies: the binary links none of the packages that
// relic's signing half pulls in (a key ring over D-Bus, a password
// prompt), nor cgo. Importing one relic package too many brings them back.
func TestNoStrayDependencies(t *testing.T) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command")
	}
	cmd := exec.Command(gobin, "list", "-deps", ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, banned := range []string{"github.com/zalando/go-keyring", "github.com/godbus/dbus", "github.com/howeyc/gopass", "github.com/sassoftware/relic/v7/lib/certloader", "runtime/cgo"} {
		for _, p := range strings.Fields(string(out)) {
			if p == banned || strings.HasPrefix(p, banned+"/") {
				t.Errorf("cmd/kbplan depends on %s", p)
			}
		}
	}
}

// TestExpressionsCompile: every regular expression of every package the
// binary links compiles (they compile on first use, internal/lazyre).
func TestExpressionsCompile(t *testing.T) {
	n, errs := lazyre.Check()
	for _, err := range errs {
		t.Error(err)
	}
	if n < 40 {
		t.Errorf("only %d expressions registered: are the readers linked?", n)
	}
}
