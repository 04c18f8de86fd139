package cli

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/kbplan/kbplan/assess"
	"github.com/kbplan/kbplan/internal/regular"
	"github.com/kbplan/kbplan/kit"
)

func kitCmd(stdout, stderr io.Writer) *cobra.Command {
	var f analyzeFlags
	var hostFile, pkgDir, outDir, rootsFile, reportTo, reportToken string
	cmd := &cobra.Command{
		Use:   "kit --host INVENTORY --packages DIR --out KITDIR [--esu[=azure]] [--strategy rollup|security-only]",
		Short: "Build an offline kit: the plan's packages, verified, in order, with a manifest",
		Long: `kit plans the host (as analyze does), then looks for each step's package in
--packages by the KB and architecture each package declares in its own metadata
(never by its file name), verifies its signatures, and judges it against the host
as it will be at that step (earlier steps installed, SHA-2 active after its
restart). Usable packages are copied into KITDIR/packages with a manifest,
KITDIR/kit.json (docs/kit.md): step order, KB, file, SHA-256, signatures, and
restart points, and the installer: KITDIR/install.cmd (plain cmd for a stock
2008 SP2: checks the host and each package's SHA-256, runs wusa or pkgmgr step
by step, explains exit codes, restarts where needed and continues after each
restart) with kbplan-sha256.js beside it. Steps without a usable package are listed with their Microsoft
Update Catalog search link, and why each candidate was rejected.

Exit codes: 0 the kit is complete; 3 some step has no usable package (the kit
is written anyway); 1 kbplan failed (writing the kit); 2 bad usage or an
unreadable host.`,
		Example: `  kbplan kit --host systeminfo.txt --packages E:\updates --out E:\kit
  kbplan kit --host bundle\HOST1 --packages updates --out kit --esu
  kbplan kit --host bundle\HOST1 --packages updates --out kit \
    --report-to https://kbplan.example/api/v1/results --report-token kbp_...`,
		Args: cobra.NoArgs,
		RunE: func(_ *cobra.Command, _ []string) error {
			if hostFile == "" || pkgDir == "" || outDir == "" {
				fmt.Fprintln(stderr, "kbplan: kit needs --host, --packages and --out")
				return &ExitError{Code: ExitUsage}
			}
			o, c, err := f.planSetup(stderr)
			if err != nil {
				return err
			}
			var report []byte
			if reportTo != "" || reportToken != "" {
				var err error
				if report, err = kit.ReportTo(reportTo, reportToken); err != nil {
					fmt.Fprintln(stderr, "kbplan:", err)
					return &ExitError{Code: ExitUsage}
				}
			}
			roots, err := loadRoots(rootsFile)
			if err != nil {
				fmt.Fprintln(stderr, "kbplan:", err)
				return &ExitError{Code: ExitUsage}
			}
			h, err := readInput(strings.NewReader(""), hostFile)
			if err != nil {
				fmt.Fprintf(stderr, "kbplan: %s: %v\n", hostFile, err)
				return &ExitError{Code: ExitUsage}
			}
			a := assess.Assess(h, c, o)
			if !a.InScope {
				fmt.Fprintf(stderr, "kbplan: %s: the host is not Windows NT 6.0; there is no plan to build a kit for\n", hostFile)
				return &ExitError{Code: ExitUsage}
			}
			pkgs, err := scanPackages(pkgDir, roots, stderr)
			if err != nil {
				fmt.Fprintln(stderr, "kbplan:", err)
				return &ExitError{Code: ExitUsage}
			}
			m := kit.Build(a, c, pkgs, time.Now())
			if err := writeKit(outDir, m); err != nil {
				fmt.Fprintln(stderr, "kbplan:", err)
				return &ExitError{Code: ExitFailure}
			}
			if report != nil {
				// The token lets anyone who reads the kit upload for hosts it
				// may write: make it for this host (--hosts NAME).
				if err := os.WriteFile(filepath.Join(outDir, kit.ReportName), report, 0o600); err != nil {
					fmt.Fprintln(stderr, "kbplan:", err)
					return &ExitError{Code: ExitFailure}
				}
			}
			fmt.Fprint(stdout, m.Summary())
			if !m.Complete {
				return &ExitError{Code: ExitFindings}
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&hostFile, "host", "", "the host: an inventory `FILE` or a collector bundle folder")
	fl.StringVar(&pkgDir, "packages", "", "the `DIR` of downloaded .msu and .cab files (searched recursively)")
	fl.StringVar(&outDir, "out", "", "the kit `DIR` to write")
	fl.StringVar(&rootsFile, "roots", "", "PEM `FILE` of further trusted roots (a test CA, say)")
	fl.StringVar(&reportTo, "report-to", "", "the fleet's results `URL` (https://SERVER/api/v1/results): install.cmd sends its results there when it finishes, fails or restarts")
	fl.StringVar(&reportToken, "report-token", "", "the enrollment `TOKEN` install.cmd sends results with (kbplan fleet token add NAME --hosts HOST)")
	f.addPlanFlags(fl)
	return cmd
}

// scanPackages inspects every .msu and .cab under dir. A file kbplan
// cannot read is reported and skipped.
func scanPackages(dir string, roots []*x509.Certificate, stderr io.Writer) ([]kit.Package, error) {
	var out []kit.Package
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		ext := strings.ToLower(filepath.Ext(p))
		if d.IsDir() || (ext != ".msu" && ext != ".cab") {
			return nil
		}
		j, facts, err := inspect(p, roots, true)
		if err != nil {
			fmt.Fprintln(stderr, "kbplan: skipping", err)
			return nil
		}
		pkg := kit.Package{Path: p, Name: filepath.Base(p), Size: j.Size, SHA256: j.SHA256, SHA1: j.SHA1, Format: j.Format, Facts: facts}
		for _, s := range j.Signatures {
			pkg.Signatures = append(pkg.Signatures, kit.Signature{DigestAlgorithm: s.DigestAlgorithm, Signer: s.Signer, Timestamp: s.Timestamp, Valid: s.Valid})
		}
		out = append(out, pkg)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	return out, nil
}

// writeKit copies the chosen packages (checking each copy's SHA-256
// against the inspected file) and writes kit.json.
func writeKit(dir string, m kit.Manifest) error {
	if err := os.MkdirAll(filepath.Join(dir, "packages"), 0o755); err != nil {
		return err
	}
	want := map[string]string{}
	for _, s := range m.Steps {
		want[s.File] = s.SHA256
	}
	for rel, src := range m.Sources() {
		dst := filepath.Join(dir, filepath.FromSlash(rel))
		sum, err := copyFile(src, dst)
		if err != nil {
			return err
		}
		if sum != want[rel] {
			return fmt.Errorf("%s changed while the kit was built (SHA-256 %s, inspected %s); build the kit again", src, sum, want[rel])
		}
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "kit.json"), append(b, '\n'), 0o644); err != nil {
		return err
	}
	script, err := kit.Installer(m)
	if err != nil {
		return fmt.Errorf("%s: kit.json is written, but %w", dir, err)
	}
	if err := os.WriteFile(filepath.Join(dir, kit.InstallerName), script, 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, kit.HasherName), kit.Hasher(), 0o644)
}

func copyFile(src, dst string) (string, error) {
	in, _, err := regular.Open(src) // a package swapped for a FIFO is refused, not waited on
	if err != nil {
		return "", err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	if _, err := io.Copy(io.MultiWriter(out, h), in); err != nil {
		out.Close()
		return "", fmt.Errorf("copying %s: %w", src, err)
	}
	if err := out.Close(); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
