//go:build unix

package mapped

import (
	"math"
	"os"
	"syscall"
)

// openFlags opens a FIFO without waiting for a writer.
const openFlags = syscall.O_NONBLOCK

func mmap(f *os.File, size int64) []byte {
	if size > math.MaxInt {
		return nil
	}
	b, err := syscall.Mmap(int(f.Fd()), 0, int(size), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return nil
	}
	return b
}

func munmap(b []byte) { syscall.Munmap(b) }
