package cli

import (
	"fmt"
	"io"
	"os"

	"github.com/kbplan/kbplan/assess"
	"github.com/kbplan/kbplan/report"
)

// writeHTML writes the HTML report to path, or to stdout when path is "-".
func writeHTML(path string, as []assess.Assessment, o assess.Options, stdout io.Writer) error {
	if path == "-" {
		if err := report.WriteHTML(stdout, as, o.AsOf.String()); err != nil {
			return fmt.Errorf("--html -: %w", err)
		}
		return nil
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("--html: %w", err)
	}
	if err := report.WriteHTML(f, as, o.AsOf.String()); err != nil {
		f.Close()
		return fmt.Errorf("--html %s: %w", path, err)
	}
	return f.Close()
}
