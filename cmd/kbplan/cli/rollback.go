package cli

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/kbplan/kbplan/assess"
	"github.com/kbplan/kbplan/inventory"
	"github.com/kbplan/kbplan/report"
)

func rollbackCmd(stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	var asJSON bool
	var esu, asOf string
	cmd := &cobra.Command{
		Use:   "rollback KB FILE...",
		Short: "Tell what uninstalling an update would do on a host",
		Long: `rollback answers "what happens if I uninstall KB X here": which installed updates
depend on it, whether it can be removed at all (servicing stack updates cannot),
whether the build goes back (it stays 6003), how the patch level changes, and the
supported way back (a restore from backup). It changes nothing.`,
		Example: `  kbplan rollback KB4474419 systeminfo.txt
  kbplan rollback --json KB4534303 systeminfo.txt qfe.txt`,
		Args: cobra.MinimumNArgs(2),
		RunE: func(_ *cobra.Command, args []string) error {
			o, err := analyzeFlags{esu: esu, asOf: asOf}.options()
			if err != nil {
				fmt.Fprintln(stderr, "kbplan:", err)
				return &ExitError{Code: ExitUsage}
			}
			kb, ok := inventory.NormalizeKB(args[0])
			if !ok {
				fmt.Fprintf(stderr, "kbplan: %q is not a KB number such as KB4474419\n", args[0])
				return &ExitError{Code: ExitUsage}
			}
			c, err := loadCatalog("")
			if err != nil {
				fmt.Fprintln(stderr, "kbplan:", err)
				return &ExitError{Code: ExitUsage}
			}
			var hosts []inventory.Host
			for _, name := range args[1:] {
				h, err := readInput(stdin, name)
				if err != nil {
					fmt.Fprintln(stderr, "kbplan:", err)
					return &ExitError{Code: ExitUsage}
				}
				hosts = append(hosts, h)
			}
			r := assess.Uninstall(inventory.Merge(hosts...), c, kb, o)
			h, _ := report.NewHandler(stdout, jsonOr(asJSON, report.Text), report.Options{One: true})
			if err := h.Rollback(r); err != nil {
				return err
			}
			return h.Close()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.Flags().StringVar(&esu, "esu", "", "the host has ESU: --esu or --esu=azure")
	cmd.Flags().Lookup("esu").NoOptDefVal = "esu"
	cmd.Flags().StringVar(&asOf, "as-of", "", "analysis date YYYY-MM-DD (default: today)")
	return cmd
}
