// Package cli holds kbplan's command tree. main only runs it, so that tests
// run the real commands in process.
package cli

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kbplan/kbplan/inventory"
	"github.com/kbplan/kbplan/inventory/bundle"
	"github.com/kbplan/kbplan/inventory/input"
	"github.com/kbplan/kbplan/report"
)

// Exit codes, documented in README.md: each means one thing.
const (
	ExitOK       = 0 // every input was read, and nothing is to be done
	ExitFailure  = 1 // kbplan itself failed (for example, writing the output)
	ExitUsage    = 2 // bad usage, or an input could not be read
	ExitFindings = 3 // something to install, a package not genuine or not installable, a kit incomplete, catalog problems
)

// worse returns the exit code that wins when a command has more than one
// outcome: a failure of kbplan itself, then an unreadable input, then
// findings, then success.
func worse(a, b int) int {
	rank := func(c int) int {
		switch c {
		case ExitFailure:
			return 3
		case ExitUsage:
			return 2
		case ExitFindings:
			return 1
		}
		return 0
	}
	if rank(b) > rank(a) {
		return b
	}
	return a
}

// version is set at release builds: -ldflags "-X github.com/kbplan/kbplan/cmd/kbplan/cli.version=1.2.0".
var version string

// Version is kbplan's version: the release version, else the module
// version, else the VCS revision and time the binary was built from, else
// "devel"; then the Go version.
func Version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	v := bi.Main.Version
	if version != "" {
		v = version
	}
	var rev, when, dirty string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			when = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "+dirty"
			}
		}
	}
	if (v == "" || v == "(devel)") && rev != "" {
		v = "devel " + rev[:min(12, len(rev))] + dirty + " " + when
	}
	if v == "" || v == "(devel)" {
		v = "devel"
	}
	return strings.TrimSpace(v + " " + runtime.Version())
}

// UsageError is the message for an error cobra itself reports (a missing
// argument, an unknown flag): the error, the command's usage line and where
// its examples are.
func UsageError(cmd *cobra.Command, err error) string {
	if cmd == nil {
		return "kbplan: " + err.Error()
	}
	return fmt.Sprintf("kbplan: %v\nUsage: %s\nRun '%s --help' for the options and examples.", err, cmd.UseLine(), cmd.CommandPath())
}

// ExitError carries an exit code; its message has already been printed.
type ExitError struct{ Code int }

func (e *ExitError) Error() string { return fmt.Sprintf("exit status %d", e.Code) }

// Root builds the kbplan command.
func Root(stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "kbplan",
		Short: "Identify, assess and plan updates for Windows Server 2008 SP2 and Vista hosts, offline",
		Long: `kbplan reads what a Windows Server 2008 SP2 (NT 6.0) box can print (systeminfo,
wmic, reg query, ver, Get-HotFix) and tells what the box is, what it has, what it
lacks and in what order to install it; it checks update packages (genuine? will
they install here?) and builds offline kits. Everything works offline.

Exit codes: 0 nothing to do; 3 something to do: something to install
(analyze), a package not genuine or not installable (verify), a kit
incomplete (kit), the catalog breaks a rule (catalog validate); 1 kbplan
itself failed (for example, writing its output); 2 bad usage or an input
kbplan could not read (including a folder with no inventory in it).`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       Version(),
	}
	root.SetVersionTemplate("kbplan {{.Version}}\n")
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.AddCommand(identifyCmd(stdin, stdout, stderr), analyzeCmd(stdin, stdout, stderr), rollbackCmd(stdin, stdout, stderr), catalogCmd(stdout, stderr),
		collectorCmd(stdout, stderr), extractCmd(stdout, stderr), inspectCmd(stdout, stderr), verifyCmd(stdout, stderr), kitCmd(stdout, stderr), downloadCmd(stdin, stdout, stderr),
		serveCmd(stdout, stderr), fleetCmd(stdin, stdout, stderr))
	return root
}

func identifyCmd(stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	var asJSON, merge bool
	cmd := &cobra.Command{
		Use:   "identify [--json] [--merge] FILE...",
		Short: "Tell exactly what a host is: product, edition, SP, build, revision, architecture, hotfixes",
		Long: `identify reads inventories and reports the host each describes. The format and
the text encoding are detected from the content: systeminfo (list or CSV, any UI
language), wmic qfe / wmic os (any layout), Get-HotFix, Get-WmiObject
Win32_OperatingSystem, reg query or .reg exports of CurrentVersion, ver banners
and Meterpreter sysinfo. UTF-16, UTF-8, OEM and ANSI code pages are detected.

With several files, each is reported on its own; --merge combines them into one
host and warns where they disagree. "-" reads standard input. A folder written
by kbplan's collector (a bundle, docs/bundle.md), or a bundle packed as a zip or
cabinet, is read as one host. Any other folder is read as analyze reads it: one
host per file, bundle and subfolder of one host's files.

With --json, each host is one line of JSON (schema: docs/json.md).`,
		Example: `  kbplan identify systeminfo.txt
  kbplan identify --json systeminfo.txt qfe.txt
  kbplan identify --merge systeminfo.txt qfe.txt currentversion.reg
  systeminfo | kbplan identify -`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
			var hosts []inventory.Host
			failed := false
			for _, name := range args {
				if st, err := os.Stat(name); err == nil && st.IsDir() && !bundle.IsBundle(name) {
					// A folder: one host per file, bundle folder or subfolder
					// of one host's files, as analyze reads it.
					hs, ok := identifyFolder(stdin, stderr, name)
					hosts, failed = append(hosts, hs...), failed || !ok
					continue
				}
				h, err := readInput(stdin, name)
				if err != nil {
					fmt.Fprintln(stderr, "kbplan:", err)
					failed = true
					continue
				}
				hosts = append(hosts, h)
			}
			if merge && len(hosts) > 1 {
				hosts = []inventory.Host{inventory.Merge(hosts...)}
			}
			for i, h := range hosts {
				var err error
				if asJSON {
					err = report.WriteJSON(stdout, h)
				} else {
					if i > 0 {
						fmt.Fprintln(stdout)
					}
					err = report.WriteText(stdout, h)
				}
				if err != nil {
					log.Error("writing output", "err", err)
					return &ExitError{Code: ExitFailure}
				}
			}
			if failed {
				return &ExitError{Code: ExitUsage}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object per host (docs/json.md)")
	cmd.Flags().BoolVar(&merge, "merge", false, "merge all inputs into one host")
	return cmd
}

// identifyFolder reads a folder as analyze does (input.Collect, then each
// job's inputs grouped by host and merged). It reports whether every input
// was read and the folder held an inventory.
func identifyFolder(stdin io.Reader, stderr io.Writer, dir string) ([]inventory.Host, bool) {
	jobs, err := input.Collect([]string{dir})
	if err != nil {
		fmt.Fprintln(stderr, "kbplan:", err)
		return nil, false
	}
	var out []inventory.Host
	ok := true
	for _, j := range jobs {
		hs, errs := j.Hosts(stdin)
		for _, err := range errs {
			fmt.Fprintln(stderr, "kbplan:", err)
			ok = false
		}
		out = append(out, hs...)
	}
	if len(out) == 0 && ok {
		fmt.Fprintf(stderr, "kbplan: %s: no inventory in it\n", dir)
		ok = false
	}
	return out, ok
}

func readInput(stdin io.Reader, name string) (inventory.Host, error) {
	return input.ReadFile(name, stdin)
}

// jsonOr is JSON when asJSON, else f.
func jsonOr(asJSON bool, f report.Format) report.Format {
	if asJSON {
		return report.JSON
	}
	return f
}
