package cli

import (
	"fmt"
	"os"

	"github.com/kbplan/kbplan/assess"
	"github.com/kbplan/kbplan/report"
)

func writeHTML(path string, as []assess.Assessment, o assess.Options) error {
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
