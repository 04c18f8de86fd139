package fleet

import (
	"context"
	"fmt"

	"github.com/kbplan/kbplan/inventory"
	"github.com/kbplan/kbplan/inventory/input"
)

// MaxUnpacked bounds an uploaded bundle, unpacked (input.MaxUnpacked).
const MaxUnpacked = input.MaxUnpacked

// UploadError is an upload kbplan cannot read: a 4xx, never a 5xx.
type UploadError struct{ Err error }

func (e *UploadError) Error() string { return e.Err.Error() }
func (e *UploadError) Unwrap() error { return e.Err }

func uploadErr(format string, args ...any) error { return &UploadError{fmt.Errorf(format, args...)} }

// Decode reads an upload the way every kbplan command reads an input
// (input.ReadBytes): a bundle packed as a cabinet or a zip, or any single
// inventory. name labels messages.
func Decode(ctx context.Context, name string, body []byte) (inventory.Host, error) {
	h, err := input.ReadBytes(ctx, name, body)
	if err != nil {
		return h, &UploadError{err}
	}
	return h, nil
}
