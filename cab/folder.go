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
// checksum.
type blocks struct {
	c       *Reader
	f       *Folder
	next    int   // index of the next block
	off     int64 // file offset of the next block
	payload []byte
}

func (c *Reader) blocks(f *Folder) *blocks {
	return &blocks{c: c, f: f, off: f.dataOffset, payload: make([]byte, 0, 1<<16)}
}

// read returns the next block's compressed bytes and its uncompressed size,
// or io.EOF after the last block.
func (b *blocks) read() ([]byte, int, error) {
	if b.next >= b.f.blocks {
		return nil, 0, io.EOF
	}
	var h [dataEntry]byte
	at := b.off
	if _, err := b.c.r.ReadAt(h[:], at); err != nil {
		return nil, 0, formatErr(at, "data block %d of folder %d cut short: the cabinet is truncated", b.next, b.f.index)
	}
	le := binary.LittleEndian
	sum, n, un := le.Uint32(h[0:]), int(le.Uint16(h[4:])), int(le.Uint16(h[6:]))
	start := at + dataEntry + int64(b.c.dataReserve)
	if start+int64(n) > b.c.size {
		return nil, 0, formatErr(at, "data block %d of folder %d (%d bytes) runs past the end of the file: the cabinet is truncated", b.next, b.f.index, n)
	}
	if un > maxFrame {
		return nil, 0, formatErr(at+6, "data block %d of folder %d claims %d uncompressed bytes, more than 32768", b.next, b.f.index, un)
	}
	b.payload = b.payload[:n]
	if _, err := b.c.r.ReadAt(b.payload, start); err != nil {
		return nil, 0, formatErr(start, "data block %d: %v", b.next, err)
	}
	if sum != 0 {
		if got := checksum(h[4:8], checksum(b.payload, 0)); got != sum {
			return nil, 0, formatErr(at, "data block %d of folder %d: checksum %08x, want %08x: the cabinet is damaged or was altered", b.next, b.f.index, got, sum)
		}
	}
	// Every block decoded costs its uncompressed size, whether its bytes
	// reach a file or are skipped: the budget bounds the work, not the
	// output.
	if err := b.c.Budget.Spend(un); err != nil {
		return nil, 0, err
	}
	b.next++
	b.off = start + int64(n)
	return b.payload, un, nil
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

func (s *storedReader) close() {}

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
// may refer to the previous block's last 32 KiB (MS-MCI).
type mszipReader struct {
	b       *blocks
	inflate io.ReadCloser
	history []byte // the last 32 KiB of output, when blocks are short
	prev    []byte // the previous block's output
	cur     []byte
	buf     []byte
	err     error // sticky
}

func (m *mszipReader) Read(p []byte) (int, error) {
	b, err := m.chunk(len(p))
	return copy(p, b), err
}

func (m *mszipReader) close() {}

func (m *mszipReader) chunk(max int) ([]byte, error) {
	if len(m.buf) == 0 && m.err == nil {
		m.err = m.fill()
	}
	if len(m.buf) == 0 {
		return nil, m.err
	}
	n := min(max, len(m.buf))
	b := m.buf[:n]
	m.buf = m.buf[n:]
	return b, nil
}

// fill decodes the next block into m.buf.
func (m *mszipReader) fill() error {
	for len(m.buf) == 0 {
		at := m.b.off
		data, un, err := m.b.read()
		if err != nil {
			return err
		}
		if len(data) < 2 || data[0] != 'C' || data[1] != 'K' {
			return formatErr(at, "MSZIP data block %d does not start with \"CK\"", m.b.next-1)
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
			return err
		}
		if m.cur == nil {
			m.cur, m.prev = make([]byte, maxFrame), make([]byte, 0, maxFrame)
		}
		n, err := io.ReadFull(m.inflate, m.cur[:un])
		if err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
				return formatErr(at, "MSZIP data block %d inflates to %d bytes, not the %d it claims", m.b.next-1, n, un)
			}
			return formatErr(at, "MSZIP data block %d: %v", m.b.next-1, err)
		}
		m.buf = m.cur[:un]
		if un < maxFrame || len(m.history) > 0 {
			if len(m.history) == 0 {
				m.history = append(m.history, m.prev...)
			}
			m.history = append(m.history, m.buf...)
			if len(m.history) > maxFrame {
				m.history = append(m.history[:0], m.history[len(m.history)-maxFrame:]...)
			}
			if un == maxFrame {
				m.history = m.history[:0]
			}
		}
		m.cur, m.prev = m.prev[:cap(m.prev)], m.buf
	}
	return nil
}
