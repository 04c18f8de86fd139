// Package collector holds kbplan's two collector scripts, embedded in the
// binary: kbplan-collect.cmd (cmd only) and kbplan-collect.ps1 (PowerShell
// 2.0). Both write the bundle that package inventory/bundle reads
// (docs/bundle.md).
package collector

import (
	"embed"
	"fmt"
	"os"
	"path/filepath"
)

//go:embed kbplan-collect.cmd kbplan-collect.ps1
var scripts embed.FS

// Names are the scripts' file names.
var Names = []string{"kbplan-collect.cmd", "kbplan-collect.ps1"}

// Script returns one script's bytes.
func Script(name string) ([]byte, error) { return scripts.ReadFile(name) }

// Write writes both scripts into dir, creating it if needed.
func Write(dir string) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var out []string
	for _, n := range Names {
		b, err := scripts.ReadFile(n)
		if err != nil {
			return nil, err
		}
		p := filepath.Join(dir, n)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		out = append(out, p)
	}
	return out, nil
}
