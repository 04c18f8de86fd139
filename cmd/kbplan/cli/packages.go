package cli

import (
	"crypto"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kbplan/kbplan/assess"
	"github.com/kbplan/kbplan/authenticode"
	"github.com/kbplan/kbplan/budget"
	"github.com/kbplan/kbplan/catalog"
	"github.com/kbplan/kbplan/internal/mapped"
	"github.com/kbplan/kbplan/inventory"
	"github.com/kbplan/kbplan/msu"
	"github.com/kbplan/kbplan/report"
)

// inspectFile reads a package: its hash, its metadata, its signatures, and
// the facts assess judges it by.
func inspectFile(name string, roots []*x509.Certificate) (report.PackageJSON, assess.PackageFacts, error) {
	return inspect(name, roots, false)
}

// inspect is inspectFile; withSHA1 adds the file's SHA-1, which identifies
// a Microsoft file by the digest its Windows Update name carries (kit).
func inspect(name string, roots []*x509.Certificate, withSHA1 bool) (report.PackageJSON, assess.PackageFacts, error) {
	// Mapped: the hashes take the file's bytes in place.
	f, err := mapped.Open(name)
	if err != nil {
		return report.PackageJSON{}, assess.PackageFacts{}, err
	}
	defer f.Close()
	size := f.Size()
	// The signatures and the file's own digests come from one read of the
	// file (VerifyCabAndHash), while the package metadata is read.
	files := []crypto.Hash{crypto.SHA256}
	if withSHA1 {
		files = append(files, crypto.SHA1)
	}
	var sigs []authenticode.Signature
	var fileSums map[crypto.Hash][]byte
	var sigErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		sigs, fileSums, sigErr = authenticode.VerifyCabAndHash(f, size, authenticode.Options{Roots: roots}, files...)
	}()
	p, err := msu.Read(f, size, budget.New(nil, name, msu.Limit(size)))
	<-done
	if err != nil {
		return report.PackageJSON{}, assess.PackageFacts{}, fmt.Errorf("%s: %w", name, err)
	}
	if errors.Is(sigErr, authenticode.ErrNotSigned) {
		sigErr = nil
	}
	if fileSums == nil {
		return report.PackageJSON{}, assess.PackageFacts{}, fmt.Errorf("%s: %w", name, sigErr)
	}
	sum, sum1 := hex.EncodeToString(fileSums[crypto.SHA256]), ""
	if withSHA1 {
		sum1 = hex.EncodeToString(fileSums[crypto.SHA1])
	}
	j := report.Package(name, size, sum, p, sigs, sigErr)
	j.SHA1 = sum1
	return j, assess.FactsOf(p, sigs, sigErr), nil
}

func loadRoots(file string) ([]*x509.Certificate, error) {
	roots := authenticode.MicrosoftRoots()
	if file == "" {
		return roots, nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	extra, err := authenticode.ParseRoots(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return append(roots, extra...), nil
}

func inspectCmd(stdout, stderr io.Writer) *cobra.Command {
	var asJSON, files bool
	var rootsFile string
	cmd := &cobra.Command{
		Use:   "inspect FILE",
		Short: "Show what an update package (.msu or .cab) is: KB, applicability, contents, signatures",
		Long: `inspect reads an .msu (or an update .cab) without installing or extracting it:
its SHA-256, the KB and applicability from its -pkgProperties.txt and update.mum,
the CBS identity of each update cabinet, its files, and every Authenticode
signature (SHA-1, SHA-256, nested dual signatures, timestamps), verified against
the bundled Microsoft roots (plus --roots).

With --json the schema is in docs/json.md. Exit codes: 0 read; 2 not readable.`,
		Example: `  kbplan inspect Windows6.0-KB4474419-v3-x64.msu
  kbplan inspect --json --files Windows6.0-KB4474419-v3-x64.msu`,
		Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			roots, err := loadRoots(rootsFile)
			if err != nil {
				fmt.Fprintln(stderr, "kbplan:", err)
				return &ExitError{Code: ExitUsage}
			}
			j, _, err := inspectFile(args[0], roots)
			if err != nil {
				fmt.Fprintln(stderr, "kbplan:", err)
				return &ExitError{Code: ExitUsage}
			}
			h, _ := report.NewHandler(stdout, jsonOr(asJSON, report.Text), report.Options{One: true, ListFiles: files})
			if err := h.Package(j); err != nil || h.Close() != nil {
				return &ExitError{Code: ExitFailure}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON (docs/json.md)")
	cmd.Flags().BoolVar(&files, "files", false, "list the files of the package and of its update cabinets")
	cmd.Flags().StringVar(&rootsFile, "roots", "", "PEM `FILE` of further trusted roots (a test CA, say)")
	return cmd
}

func verifyCmd(stdout, stderr io.Writer) *cobra.Command {
	var asJSON bool
	var rootsFile, hostFile string
	cmd := &cobra.Command{
		Use:   "verify FILE... [--host INVENTORY] [--roots PEMFILE]",
		Short: "Check that update packages are genuine and, with --host, whether they will install there",
		Long: `verify checks every Authenticode signature of each package: the digest over the
cabinet (any altered byte fails), the signer's chain to a trusted root (the
bundled Microsoft code-signing roots, plus --roots), and the timestamp.

With --host (any inventory or collector bundle kbplan reads), it also says what
wusa.exe will do with the package there: "will install"; "will fail with
0x80092004" (SHA-2-only package, SHA-2 support missing or not active);
"not applicable" (architecture or system); "already installed or superseded".

Exit codes: 0 every package is genuine (and, with --host, will install);
3 some package is not genuine or will not install; 1 kbplan failed; 2 bad
usage or a file that cannot be read.`,
		Example: `  kbplan verify *.msu
  kbplan verify --host systeminfo.txt Windows6.0-KB4474419-v3-x64.msu
  kbplan verify --roots testca.pem --json signed.cab`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			roots, err := loadRoots(rootsFile)
			if err != nil {
				fmt.Fprintln(stderr, "kbplan:", err)
				return &ExitError{Code: ExitUsage}
			}
			var host *inventory.Host
			var cat *catalog.Catalog
			if hostFile != "" {
				h, err := readInput(strings.NewReader(""), hostFile)
				if err != nil {
					fmt.Fprintf(stderr, "kbplan: %s: %v\n", hostFile, err)
					return &ExitError{Code: ExitUsage}
				}
				host = &h
				if cat, err = catalog.Default(); err != nil {
					fmt.Fprintln(stderr, "kbplan:", err)
					return &ExitError{Code: ExitFailure}
				}
			}
			code := ExitOK
			out, _ := report.NewHandler(stdout, jsonOr(asJSON, report.Text), report.Options{})
			var writeErr error
			for _, name := range args {
				j, facts, err := inspectFile(name, roots)
				if err != nil {
					fmt.Fprintln(stderr, "kbplan:", err)
					code = worse(code, ExitUsage)
					continue
				}
				if !j.Genuine {
					code = worse(code, ExitFindings)
				}
				if host != nil {
					v := assess.JudgePackage(*host, cat, facts)
					j.Host, j.Verdict = &host.Hostname, &v
					if v.Verdict != assess.WillInstall {
						code = worse(code, ExitFindings)
					}
				}
				if writeErr == nil {
					writeErr = out.Package(j)
				}
			}
			if writeErr == nil {
				writeErr = out.Close()
			}
			if writeErr != nil {
				fmt.Fprintln(stderr, "kbplan: writing the output:", writeErr)
				code = worse(code, ExitFailure)
			}
			if code != ExitOK {
				return &ExitError{Code: code}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print a JSON array (docs/json.md)")
	cmd.Flags().StringVar(&rootsFile, "roots", "", "PEM `FILE` of further trusted roots (a test CA, say)")
	cmd.Flags().StringVar(&hostFile, "host", "", "judge the packages for this host (an inventory `FILE` or bundle folder)")
	return cmd
}
