//go:build unix

package mapped

import (
	"math"
	"os"
	"syscall"
)

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
