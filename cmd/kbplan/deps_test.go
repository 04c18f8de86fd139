package main

import (
	"os"
	"os/exec"
	"strings"
	"testing"
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
