package authenticode

import (
	"crypto"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"io"
	"sync"

	"github.com/kbplan/kbplan/internal/mapped"
)

// cabLayout is what the cabinet's Authenticode digest covers (the layout
// relic's lib/cabfile documents): the header without reserved1 and the
// cabinet index, plus the signature header's last word (prefix, in relic's
// sigBlob order); then the folder table and the cabinet from the end of
// the folder table for TotalSize-OffsetFiles bytes: bytes [from, to) of the
// file. The signature itself is not covered.
func cabLayout(r io.ReaderAt, size int64) (prefix []byte, from, to int64, err error) {
	var h [60]byte
	if _, err := r.ReadAt(h[:], 0); err != nil {
		return nil, 0, 0, fmt.Errorf("cabinet header: %w", err)
	}
	le := binary.LittleEndian
	flags := le.Uint16(h[30:])
	switch {
	case flags&(1|2) != 0:
		return nil, 0, 0, errors.New("spanned cabinets cannot carry a signature")
	case flags&^4 != 0:
		return nil, 0, 0, fmt.Errorf("cabinet byte 30: unknown flags %#x", flags)
	case le.Uint16(h[36:]) != 20 || h[38] != 0 || h[39] != 0:
		return nil, 0, 0, errors.New("cabinet byte 36: the reserved areas are not those of a signed cabinet")
	}
	total, filesAt := int64(le.Uint32(h[8:])), int64(le.Uint32(h[16:]))
	folders := int64(le.Uint16(h[26:]))
	start := int64(60) + 8*folders
	n := total - filesAt
	if n < 0 || start+n > size {
		return nil, 0, 0, fmt.Errorf("cabinet byte 16: %d bytes of files at %d do not fit in the %d-byte file", n, filesAt, size)
	}
	prefix = append(prefix, h[0:4]...)   // signature
	prefix = append(prefix, h[8:12]...)  // cbCabinet
	prefix = append(prefix, h[12:16]...) // reserved2
	prefix = append(prefix, h[16:20]...) // coffFiles
	prefix = append(prefix, h[20:24]...) // reserved3
	prefix = append(prefix, h[24:34]...) // version, cFolders, cFiles, flags, setID
	prefix = append(prefix, h[56:60]...) // the signature header's last word
	return prefix, 60, start + n, nil
}

// stream is one hash over a range of the file, after a prefix.
type stream struct {
	h        hash.Hash
	prefix   []byte
	from, to int64
}

// hashRanges computes every stream from one read of r: the file is read
// once, in 1 MiB chunks, and each stream hashes its part of each chunk in
// a goroutine of its own; a chunk goes back to the pool when every stream
// has taken it in.
//
// A file mapped in memory (internal/mapped) is not read: each stream
// hashes the mapping in place, in a goroutine of its own.
func hashRanges(r io.ReaderAt, streams []stream) error {
	if len(streams) == 0 {
		return nil
	}
	from, to := streams[0].from, streams[0].to
	for _, s := range streams {
		from, to = min(from, s.from), max(to, s.to)
		s.h.Write(s.prefix)
	}
	if m, ok := r.(inPlace); ok && int64(len(m.Bytes())) >= to {
		return hashInPlace(m.Bytes(), streams)
	}
	type job struct {
		b    []byte
		off  int64
		done *sync.WaitGroup
	}
	ins := make([]chan job, len(streams))
	var wg sync.WaitGroup
	for i, s := range streams {
		ins[i] = make(chan job, 2)
		wg.Add(1)
		go func(s stream, in chan job) {
			defer wg.Done()
			for j := range in {
				lo, hi := max(s.from, j.off), min(s.to, j.off+int64(len(j.b)))
				if lo < hi {
					s.h.Write(j.b[lo-j.off : hi-j.off])
				}
				j.done.Done()
			}
		}(s, ins[i])
	}
	chunk := int(min(1<<20, max(to-from, 1)))
	pool := make(chan []byte, 3)
	for range 3 {
		pool <- make([]byte, chunk)
	}
	var readErr error
	for off := from; off < to; {
		b := <-pool
		m := int(min(int64(chunk), to-off))
		if _, err := r.ReadAt(b[:m], off); err != nil {
			readErr = err
			break
		}
		done := &sync.WaitGroup{}
		done.Add(len(ins))
		for _, in := range ins {
			in <- job{b[:m], off, done}
		}
		off += int64(m)
		go func() {
			done.Wait()
			pool <- b
		}()
	}
	for _, in := range ins {
		close(in)
	}
	wg.Wait()
	return readErr
}

// newStreams starts a stream per hash over one range.
func newStreams(hashes []crypto.Hash, prefix []byte, from, to int64) ([]stream, error) {
	out := make([]stream, 0, len(hashes))
	for _, h := range hashes {
		if !h.Available() {
			return nil, fmt.Errorf("hash %v is not available", h)
		}
		out = append(out, stream{h: h.New(), prefix: prefix, from: from, to: to})
	}
	return out, nil
}

// sums collects the streams' digests by hash.
func sums(hashes []crypto.Hash, streams []stream) map[crypto.Hash][]byte {
	out := make(map[crypto.Hash][]byte, len(hashes))
	for i, h := range hashes {
		out[h] = streams[i].h.Sum(nil)
	}
	return out
}

// inPlace is a ReaderAt whose content is in memory: a mapped file.
type inPlace interface{ Bytes() []byte }

// hashInPlace hashes each stream's range of data in a goroutine of its
// own; a page that faults (the file was cut short meanwhile) is an error.
func hashInPlace(data []byte, streams []stream) error {
	errs := make([]error, len(streams))
	var wg sync.WaitGroup
	for i, s := range streams {
		wg.Go(func() {
			errs[i] = mapped.Guard(func() error {
				s.h.Write(data[s.from:s.to])
				return nil
			})
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
