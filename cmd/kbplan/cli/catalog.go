package cli

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kbplan/kbplan/catalog"
	"github.com/kbplan/kbplan/exposure"
	"github.com/kbplan/kbplan/report"
)

// ExitInvalid is returned by `catalog validate` when the catalog breaks a rule.
const ExitInvalid = ExitFindings

func catalogCmd(stdout, stderr io.Writer) *cobra.Command {
	var file string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "catalog",
		Short: "List, show and validate the update catalog (embedded, or --catalog FILE)",
		Long: `The catalog is kbplan's fact base for Windows Server 2008 SP2 and Vista SP2:
every monthly rollup, security-only update and preview, servicing stack update,
SHA-2 and ESU preparation package, standalone, IE and .NET update, with its
supersedence, prerequisites, channel (public, esu, azure-esu, custom) and source.
It is embedded in kbplan; --catalog FILE loads a newer updates file (same CSV
columns as catalog/updates.csv) without rebuilding.`,
	}
	cmd.PersistentFlags().StringVar(&file, "catalog", "", "load the updates from this CSV file instead of the embedded catalog")
	cmd.PersistentFlags().BoolVar(&asJSON, "json", false, "print JSON (docs/json.md)")
	load := func() (*catalog.Catalog, error) { return loadCatalog(file) }
	fail := func(err error) error {
		fmt.Fprintln(stderr, "kbplan:", err)
		return &ExitError{Code: ExitUsage}
	}

	var kind, channel string
	list := &cobra.Command{
		Use:   "list [--kind KIND] [--channel CHANNEL] [--json]",
		Short: "List updates, oldest first",
		Example: `  kbplan catalog list --kind rollup
  kbplan catalog list --kind ssu --json`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			c, err := load()
			if err != nil {
				return fail(err)
			}
			var us []*catalog.Update
			for _, u := range c.Updates {
				if (kind == "" || string(u.Kind) == kind) && (channel == "" || string(u.Channel) == channel) {
					us = append(us, u)
				}
			}
			if asJSON {
				return report.WriteUpdatesJSON(stdout, c, us)
			}
			return report.WriteUpdatesText(stdout, us)
		},
	}
	list.Flags().StringVar(&kind, "kind", "", "only this kind: service-pack, ssu, sha2, esu-prep, rollup, preview-rollup, security-only, ie, dotnet, standalone")
	list.Flags().StringVar(&channel, "channel", "", "only this channel: public, esu, azure-esu, custom")

	show := &cobra.Command{
		Use:     "show KB [--json]",
		Short:   "Show one update: kind, date, channel, build, supersedence, prerequisites, source",
		Example: "  kbplan catalog show KB4489887 --json",
		Args:    cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			c, err := load()
			if err != nil {
				return fail(err)
			}
			kb := strings.ToUpper(args[0])
			if !strings.HasPrefix(kb, "KB") {
				kb = "KB" + kb
			}
			u, ok := c.Get(kb)
			if !ok {
				return fail(fmt.Errorf("%s is not in the %s catalog; `kbplan catalog list` shows what is", kb, c.Name))
			}
			if asJSON {
				return report.WriteUpdateJSON(stdout, c, u)
			}
			return report.WriteUpdateText(stdout, c, u)
		},
	}

	validate := &cobra.Command{
		Use:   "validate [--catalog FILE] [--json]",
		Short: "Check the catalog's rules; exit 3 when one is broken",
		Long: `validate checks: known kinds and channels, a source on every row, dates in
order along supersedence, acyclic supersedence, every prerequisite present, a
rollup and a security-only update for x86 and x64 in every month from 2018-09 to
the newest month, and channels that match the lifecycle dates.`,
		Example: "  kbplan catalog validate --catalog updates-2026-12.csv",
		Args:    cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			c, err := load()
			if err != nil {
				return fail(err)
			}
			ps := c.Validate()
			h, _ := report.NewHandler(stdout, jsonOr(asJSON, report.Text), report.Options{One: true})
			if err := h.Validation(c, ps); err != nil {
				return err
			}
			if err := h.Close(); err != nil {
				return err
			}
			if len(ps) > 0 {
				return &ExitError{Code: ExitInvalid}
			}
			return nil
		},
	}
	var wesng, out string
	importCmd := &cobra.Command{
		Use:   "import --wesng definitions.zip [--out cves.tsv.gz]",
		Short: "Build a CVE index from a newer wesng definitions.zip, for analyze --exposure --cves",
		Long: `import reads the CVE table of a wesng definitions.zip (Microsoft's MSRC data as
distilled by wesng, BSD-3) and writes kbplan's compact CVE index for Windows
Server 2008 SP2 and Vista SP2. Use it with analyze --exposure --cves FILE. A CVE
table as CSV or .csv.gz is accepted too.`,
		Example: "  kbplan catalog import --wesng definitions.zip --out cves-2026-12.tsv.gz\n  kbplan analyze --exposure --cves cves-2026-12.tsv.gz systeminfo.txt",
		Args:    cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			if wesng == "" {
				return fail(fmt.Errorf("--wesng FILE is required"))
			}
			idx, err := exposure.Import(wesng)
			if err != nil {
				return fail(err)
			}
			f, err := os.Create(out)
			if err != nil {
				return fail(err)
			}
			if err := idx.Write(f); err != nil {
				f.Close()
				return fail(err)
			}
			if err := f.Close(); err != nil {
				return fail(err)
			}
			fmt.Fprintf(stdout, "%s: %d CVEs, %d fixes for Windows Server 2008 SP2 and Vista SP2\n", out, len(idx.CVEs), idx.Fixes())
			return nil
		},
	}
	importCmd.Flags().StringVar(&wesng, "wesng", "", "wesng definitions.zip (or its CVEs_*.csv, plain or gzip)")
	importCmd.Flags().StringVar(&out, "out", "cves.tsv.gz", "where to write the CVE index")
	cmd.AddCommand(list, show, validate, importCmd)
	return cmd
}
