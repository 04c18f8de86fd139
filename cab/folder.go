package cab

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"github.com/klauspost/compress/flate"
	"io"
)

// blocks walks a folder's CFDATA blocks, checking each block's bounds and
// checksum. A folder of at least blocksAhead blocks is read ahead of its
// decoder (ahead), into a ring of blocksAhead payloads, a credit each: the
// reads and checksums then run beside the decoding.
type blocks struct {
	c       *Reader
	f       *Folder
	next    int   // index of the next block handed out
	off     int64 // file offset of the next block handed out
	payload []byte
	ahead   *ahead[block]
	closed  bool
}

// A block is one CFDATA block's compressed bytes, its uncompressed size
// and the offset after it.
type block struct {
	data []byte
	un   int
	end  int64
}

// blocksAhead is a variable for tests, which compare both ways.
var blocksAhead = 16

func (c *Reader) blocks(f *Folder) *blocks {
	return &blocks{c: c, f: f, off: f.dataOffset}
}

// read returns the next block's compressed bytes and its uncompressed size,
// or io.EOF after the last block; the bytes are valid until the next call.
func (b *blocks) read() ([]byte, int, error) {
	if b.closed {
		return nil, 0, errClosed
	}
	if b.ahead == nil && b.f.blocks >= blocksAhead && b.next == 0 {
		ring := make([][]byte, blocksAhead)
		i, at, slot := 0, b.off, 0
		b.ahead = startAhead(len(ring), func() (block, error) { // a credit per place
			k, err := b.readAt(i, at, ring[slot])
			if err == nil {
				ring[slot], slot, i, at = k.data, (slot+1)%len(ring), i+1, k.end
			}
			return k, err
		})
	}
	var k block
	var err error
	if b.ahead != nil {
		k, err = b.ahead.take()
	} else if k, err = b.readAt(b.next, b.off, b.payload); err == nil {
		b.payload = k.data
	}
	if err != nil {
		return nil, 0, err
	}
	b.next++
	b.off = k.end
	return k.data, k.un, nil
}

// close stops reading ahead; later reads fail.
func (b *blocks) close() {
	b.ahead.close()
	b.closed = true
}

// readAt reads block i, at offset at, into buf's memory (grown when short).
func (b *blocks) readAt(i int, at int64, buf []byte) (block, error) {
	if i >= b.f.blocks {
		return block{}, io.EOF
	}
	var h [dataEntry]byte
	if _, err := b.c.r.ReadAt(h[:], at); err != nil {
		return block{}, formatErr(at, "data block %d of folder %d cut short: the cabinet is truncated", i, b.f.index)
	}
	le := binary.LittleEndian
	sum, n, un := le.Uint32(h[0:]), int(le.Uint16(h[4:])), int(le.Uint16(h[6:]))
	start := at + dataEntry + int64(b.c.dataReserve)
	if start+int64(n) > b.c.size {
		return block{}, formatErr(at, "data block %d of folder %d (%d bytes) runs past the end of the file: the cabinet is truncated", i, b.f.index, n)
	}
	if un > maxFrame {
		return block{}, formatErr(at+6, "data block %d of folder %d claims %d uncompressed bytes, more than 32768", i, b.f.index, un)
	}
	if cap(buf) < n {
		buf = make([]byte, n, 1<<16)
	}
	buf = buf[:n]
	if _, err := b.c.r.ReadAt(buf, start); err != nil {
		return block{}, formatErr(start, "data block %d: %v", i, err)
	}
	if sum != 0 {
		if got := checksum(h[4:8], checksum(buf, 0)); got != sum {
			return block{}, formatErr(at, "data block %d of folder %d: checksum %08x, want %08x: the cabinet is damaged or was altered", i, b.f.index, got, sum)
		}
	}
	// Every block decoded costs its uncompressed size, whether its bytes
	// reach a file or are skipped: the budget bounds the work, not the
	// output.
	if err := b.c.Budget.Spend(un); err != nil {
		return block{}, err
	}
	return block{buf, un, start + int64(n)}, nil
}

// checksum is the CFDATA checksum of MS-CAB 2.4: the XOR of the data as
// little-endian 32-bit words, the last 1-3 bytes packed high byte first.
func checksum(p []byte, seed uint32) uint32 {
	sum := seed
	for len(p) >= 4 {
		sum ^= binary.LittleEndian.Uint32(p)
		p = p[4:]
	}
	var ul uint32
	switch len(p) {
	case 3:
		ul = uint32(p[0])<<16 | uint32(p[1])<<8 | uint32(p[2])
	case 2:
		ul = uint32(p[0])<<8 | uint32(p[1])
	case 1:
		ul = uint32(p[0])
	}
	return sum ^ ul
}

// folderReader returns the decompressed stream of a folder.
func (c *Reader) folderReader(f *Folder) (chunker, error) {
	b := c.blocks(f)
	switch f.Compression & 0x0f {
	case None:
		return &storedReader{b: b}, nil
	case MSZIP:
		return &mszipReader{b: b}, nil
	case LZX:
		return newLZXReader(b, f.Compression.window())
	}
	return nil, fmt.Errorf("folder %d uses %s compression, which kbplan does not decompress (update packages use LZX or MSZIP); extract it with cabextract", f.index, f.Compression)
}

type storedReader struct {
	b   *blocks
	buf []byte
}

func (s *storedReader) Read(p []byte) (int, error) {
	b, err := s.chunk(len(p))
	return copy(p, b), err
}

func (s *storedReader) close() {
	s.b.close()
	s.buf = nil
}

func (s *storedReader) chunk(max int) ([]byte, error) {
	for len(s.buf) == 0 {
		at := s.b.off
		data, un, err := s.b.read()
		if err != nil {
			return nil, err
		}
		if un != len(data) {
			return nil, formatErr(at, "stored data block of %d bytes claims %d uncompressed", len(data), un)
		}
		s.buf = data
	}
	n := min(max, len(s.buf))
	b := s.buf[:n]
	s.buf = s.buf[n:]
	return b, nil
}

// mszipReader inflates MSZIP blocks: each is "CK" and a deflate stream that
// may refer to the previous block's last 32 KiB (MS-MCI). A folder of at
// least mszipAheadBlocks blocks is inflated ahead of its reader (ahead),
// into a ring of mszipRing blocks, one credit each.
type mszipReader struct {
	b       *blocks
	inflate io.ReadCloser
	history []byte   // the last 32 KiB of output, when blocks are short
	ring    [][]byte // where blocks are inflated, in turn
	slot    int      // the ring's next
	prev    []byte   // the previous block's output
	ahead   *ahead[[]byte]
	buf     []byte // the current block, still unread
	err     error  // sticky
}

// mszipAheadBlocks is a variable for tests, which compare both ways.
var mszipAheadBlocks = 16

const mszipRing = 16

func (m *mszipReader) Read(p []byte) (int, error) {
	b, err := m.chunk(len(p))
	return copy(p, b), err
}

func (m *mszipReader) chunk(max int) ([]byte, error) {
	for len(m.buf) == 0 {
		if m.err != nil {
			return nil, m.err
		}
		m.buf, m.err = m.take()
	}
	n := min(max, len(m.buf))
	b := m.buf[:n]
	m.buf = m.buf[n:]
	return b, nil
}

// take returns the next block with bytes in it, or the error that ended
// the folder (io.EOF after its last block).
func (m *mszipReader) take() ([]byte, error) {
	if m.ahead != nil {
		return m.ahead.take()
	}
	if m.ring == nil {
		if m.b.f.blocks < mszipAheadBlocks {
			// The block handed out and the one inflated after it.
			m.ring = make([][]byte, 2)
		} else {
			m.ring = make([][]byte, mszipRing)
			m.ahead = startAhead(len(m.ring), m.inflateNext) // a credit per place
			return m.ahead.take()
		}
	}
	return m.inflateNext()
}

func (m *mszipReader) close() {
	m.ahead.close()
	m.b.close()
	m.buf, m.err = nil, errClosed
}

// inflateNext inflates the blocks up to the next one with bytes in it, into
// the ring's next place.
func (m *mszipReader) inflateNext() ([]byte, error) {
	for {
		at := m.b.off
		data, un, err := m.b.read()
		if err != nil {
			return nil, err
		}
		if len(data) < 2 || data[0] != 'C' || data[1] != 'K' {
			return nil, formatErr(at, "MSZIP data block %d does not start with \"CK\"", m.b.next-1)
		}
		// The dictionary is the last 32 KiB of output: the previous block
		// alone when it was a full one (the usual case, no copying).
		dict := m.history
		if len(m.prev) == maxFrame {
			dict = m.prev
		}
		src := bytes.NewReader(data[2:])
		if m.inflate == nil {
			m.inflate = flate.NewReaderDict(src, dict)
		} else if err := m.inflate.(flate.Resetter).Reset(src, dict); err != nil {
			return nil, err
		}
		if m.ring[m.slot] == nil {
			m.ring[m.slot] = make([]byte, maxFrame)
		}
		out := m.ring[m.slot][:un]
		n, err := io.ReadFull(m.inflate, out)
		if err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
				return nil, formatErr(at, "MSZIP data block %d inflates to %d bytes, not the %d it claims", m.b.next-1, n, un)
			}
			return nil, formatErr(at, "MSZIP data block %d: %v", m.b.next-1, err)
		}
		if un < maxFrame || len(m.history) > 0 {
			if len(m.history) == 0 {
				m.history = append(m.history, m.prev...)
			}
			m.history = append(m.history, out...)
			if len(m.history) > maxFrame {
				m.history = append(m.history[:0], m.history[len(m.history)-maxFrame:]...)
			}
			if un == maxFrame {
				m.history = m.history[:0]
			}
		}
		m.prev = out
		if un > 0 {
			// An empty block takes no place: every place but the one being
			// inflated holds a block handed out, or about to be.
			m.slot = (m.slot + 1) % len(m.ring)
			return out, nil
		}
	}
}
