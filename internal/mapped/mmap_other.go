//go:build !unix

package mapped

import "os"

// Elsewhere (Windows) the file is read with read calls.
func mmap(*os.File, int64) []byte { return nil }

func munmap([]byte) {}
