package cli

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/kbplan/kbplan/collector"
)

func collectorCmd(stdout, stderr io.Writer) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "collector",
		Short: "Write the collector scripts that gather a host's state into a bundle",
		Long: `kbplan ships two collectors: kbplan-collect.cmd (cmd only: systeminfo, wmic, reg,
ver, dir; no PowerShell) and kbplan-collect.ps1 (PowerShell 2.0). Run either on
the 2008 host; it writes a bundle folder (docs/bundle.md) that identify and
analyze read as one host.`,
	}
	write := &cobra.Command{
		Use:   "write DIR",
		Short: "Write kbplan-collect.cmd and kbplan-collect.ps1 into DIR",
		Example: `  kbplan collector write E:\kbplan
  (on the host)  E:\kbplan\kbplan-collect.cmd E:\bundles\%COMPUTERNAME%
  (back here)    kbplan analyze E:\bundles`,
		Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			paths, err := collector.Write(args[0])
			if err != nil {
				fmt.Fprintln(stderr, "kbplan:", err)
				return &ExitError{Code: ExitFailure}
			}
			for _, p := range paths {
				fmt.Fprintln(stdout, p)
			}
			return nil
		},
	}
	cmd.AddCommand(write)
	return cmd
}
