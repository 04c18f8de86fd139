//go:build unix

package regular

import (
	"errors"
	"io/fs"
	"os"
	"syscall"
)

// noWait opens a FIFO without waiting for a writer; Go's runtime then also
// skips making the file non-blocking itself (four fcntl calls fewer).
const noWait = syscall.O_NONBLOCK

func openListed(name string) (*os.File, fs.FileInfo, error) {
	f, st, err := open(name, os.O_RDONLY|noWait|syscall.O_NOFOLLOW)
	if errors.Is(err, syscall.ELOOP) {
		// O_NOFOLLOW met a link: say so, as for a link in the listing.
		return nil, nil, &Error{Name: name, Mode: fs.ModeSymlink}
	}
	return f, st, err
}
