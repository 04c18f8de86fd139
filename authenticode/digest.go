package authenticode

import (
	"crypto"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"io"
	"sync"
)

// cabDigests computes the cabinet's Authenticode digest for every hash in
// hashes from one read of the file, each hash in its own goroutine.
//
// The digest covers (the layout relic's lib/cabfile documents): the header
// without reserved1 and the cabinet index, plus the signature header's last
// word; the folder table; and the cabinet from the end of the folder table
// for TotalSize-OffsetFiles bytes. The signature itself is not covered.
func cabDigests(r io.ReaderAt, size int64, hashes []crypto.Hash) (map[crypto.Hash][]byte, error) {
	if len(hashes) == 0 {
		return map[crypto.Hash][]byte{}, nil
	}
	var h [60]byte
	if _, err := r.ReadAt(h[:], 0); err != nil {
		return nil, fmt.Errorf("cabinet header: %w", err)
	}
	le := binary.LittleEndian
	flags := le.Uint16(h[30:])
	switch {
	case flags&(1|2) != 0:
		return nil, errors.New("spanned cabinets cannot carry a signature")
	case flags&^4 != 0:
		return nil, fmt.Errorf("cabinet byte 30: unknown flags %#x", flags)
	case le.Uint16(h[36:]) != 20 || h[38] != 0 || h[39] != 0:
		return nil, errors.New("cabinet byte 36: the reserved areas are not those of a signed cabinet")
	}
	total, filesAt := int64(le.Uint32(h[8:])), int64(le.Uint32(h[16:]))
	folders := int64(le.Uint16(h[26:]))
	start := int64(60) + 8*folders
	n := total - filesAt
	if n < 0 || start+n > size {
		return nil, fmt.Errorf("cabinet byte 16: %d bytes of files at %d do not fit in the %d-byte file", n, filesAt, size)
	}
	// The signed header fields, in relic's sigBlob order.
	var blob []byte
	blob = append(blob, h[0:4]...)   // signature
	blob = append(blob, h[8:12]...)  // cbCabinet
	blob = append(blob, h[12:16]...) // reserved2
	blob = append(blob, h[16:20]...) // coffFiles
	blob = append(blob, h[20:24]...) // reserved3
	blob = append(blob, h[24:34]...) // version, cFolders, cFiles, flags, setID
	blob = append(blob, h[56:60]...) // the signature header's last word
	// One reader, one goroutine per hash; a chunk goes back to the pool
	// when every hash has taken it in.
	type job struct {
		b    []byte
		done *sync.WaitGroup
	}
	ins := make([]chan job, len(hashes))
	sums := make([]hash.Hash, len(hashes))
	var wg sync.WaitGroup
	for i, hh := range hashes {
		if !hh.Available() {
			return nil, fmt.Errorf("hash %v is not available", hh)
		}
		sums[i] = hh.New()
		sums[i].Write(blob)
		ins[i] = make(chan job, 2)
		wg.Add(1)
		go func(h hash.Hash, in chan job) {
			defer wg.Done()
			for j := range in {
				h.Write(j.b)
				j.done.Done()
			}
		}(sums[i], ins[i])
	}
	chunk := int(min(1<<20, n+8*folders))
	pool := make(chan []byte, 3)
	for range 3 {
		pool <- make([]byte, chunk)
	}
	var readErr error
	for off, end := int64(60), start+n; off < end; {
		b := <-pool
		m := int(min(int64(chunk), end-off))
		if _, err := r.ReadAt(b[:m], off); err != nil {
			readErr = err
			break
		}
		off += int64(m)
		done := &sync.WaitGroup{}
		done.Add(len(ins))
		for _, in := range ins {
			in <- job{b[:m], done}
		}
		go func() {
			done.Wait()
			pool <- b
		}()
	}
	for _, in := range ins {
		close(in)
	}
	wg.Wait()
	if readErr != nil {
		return nil, readErr
	}
	out := map[crypto.Hash][]byte{}
	for i, hh := range hashes {
		out[hh] = sums[i].Sum(nil)
	}
	return out, nil
}
