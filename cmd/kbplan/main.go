// Command kbplan identifies, assesses and plans updates for Windows Server
// 2008 SP2 and Vista (Windows NT 6.0) hosts, offline. See README.md.
package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/kbplan/kbplan/cmd/kbplan/cli"
)

func main() {
	cmd, err := cli.Root(os.Stdin, os.Stdout, os.Stderr).ExecuteC()
	var ee *cli.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		os.Exit(ee.Code) // the command has said why
	default:
		// cobra's own errors: a missing argument, an unknown flag.
		fmt.Fprintln(os.Stderr, cli.UsageError(cmd, err))
		os.Exit(cli.ExitUsage)
	}
}
