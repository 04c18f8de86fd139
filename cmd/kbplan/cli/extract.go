package cli

import (
	"fmt"
	"io"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/kbplan/kbplan/cab"
	"github.com/kbplan/kbplan/internal/mapped"
)

// openCab opens a cabinet file; the caller closes the file.
func openCab(name string) (*cab.Reader, *mapped.File, error) {
	f, err := mapped.Open(name)
	if err != nil {
		return nil, nil, err
	}
	c, err := cab.NewReader(f, f.Size())
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("%s: %w", name, err)
	}
	return c, f, nil
}

func extractCmd(stdout, stderr io.Writer) *cobra.Command {
	var list bool
	cmd := &cobra.Command{
		Use:   "extract FILE DIR",
		Short: "Extract a cabinet (.cab or .msu) into DIR, byte-identical to cabextract",
		Long: `extract writes every file of a Microsoft Cabinet (an .msu, or the update .cab
inside one) under DIR, with the stored modification times. Stored, MSZIP and LZX
folders are decompressed; each data block's checksum is verified. Names are made
safe the way cabextract makes them (no leading separators, ".." becomes "xx"),
and every write stays inside DIR. Spanned sets and Quantum folders are refused
with a message.

Exit codes: 0 every file extracted; 1 some file could not be written or a
folder could not be decompressed; 2 bad usage or not a readable cabinet.`,
		Example: `  kbplan extract Windows6.0-KB4474419-v3-x64.msu out
  kbplan extract out/Windows6.0-KB4474419-v3-x64.cab out/inner
  kbplan extract --list Windows6.0-KB4474419-v3-x64.msu`,
		Args: func(cmd *cobra.Command, args []string) error {
			if list {
				return cobra.ExactArgs(1)(cmd, args)
			}
			return cobra.ExactArgs(2)(cmd, args)
		},
		RunE: func(_ *cobra.Command, args []string) error {
			c, f, err := openCab(args[0])
			if err != nil {
				fmt.Fprintln(stderr, "kbplan:", err)
				return &ExitError{Code: ExitUsage}
			}
			defer f.Close()
			if list {
				for _, fi := range c.Files {
					fmt.Fprintf(stdout, "%12d  %s  %-10s  %s\n", fi.Size, fi.Modified.Format("2006-01-02 15:04:05"), fi.Folder.Compression, fi.Name)
				}
				return nil
			}
			written, err := c.Extract(args[1])
			for _, p := range written {
				fmt.Fprintln(stdout, filepath.Join(args[1], p))
			}
			if err != nil {
				fmt.Fprintf(stderr, "kbplan: %s: %v\n", args[0], err)
				return &ExitError{Code: ExitFailure}
			}
			return nil
		},
	}
	cmd.Flags().BoolVarP(&list, "list", "l", false, "list the files (size, time, compression, name) instead of extracting")
	return cmd
}
