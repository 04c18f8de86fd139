//go:build !unix

package regular

import (
	"io/fs"
	"os"
)

// noWait: elsewhere (Windows) a folder holds no FIFOs.
const noWait = 0

// openListed looks at the name itself first (a link is not followed),
// then opens it and checks what was opened.
func openListed(name string) (*os.File, fs.FileInfo, error) {
	st, err := os.Lstat(name)
	if err != nil {
		return nil, nil, err
	}
	if !st.Mode().IsRegular() && !st.IsDir() {
		return nil, nil, &Error{Name: name, Mode: st.Mode(), Info: st}
	}
	return open(name, os.O_RDONLY)
}
