package cab

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// LZX as used in cabinets (MS-PATCH's LZX DELTA without the delta parts;
// the format as libmspack's lzxd.c documents it): a window of 2^15..2^21
// bytes, output in 32 KiB frames, three block types (verbatim, aligned,
// uncompressed), canonical Huffman trees delta-coded against the previous
// block's, and an optional E8 call-translation pass over each frame.

const (
	lzxNumChars     = 256
	lzxMinMatch     = 2
	lzxPrimaryLens  = 7
	lzxSecondary    = 249
	lzxPretreeSyms  = 20
	lzxAlignedSyms  = 8
	lzxMaxSlots     = 50
	lzxMainMax      = lzxNumChars + lzxMaxSlots*8
	lzxLenSafety    = 64 // runs may overshoot a tree's end, as in libmspack
	blockVerbatim   = 1
	blockAligned    = 2
	blockStored     = 3
	e8Frames        = 32768 // E8 translation covers the first 1 GiB only
	huffMaxBits     = 16
	huffTableBits   = 10
	lzxMaxInputPast = 2 // zero bytes past the input end, as libmspack pads
)

var lzxSlots = map[int]int{15: 30, 16: 32, 17: 34, 18: 36, 19: 38, 20: 42, 21: 50}

var lzxExtraBits, lzxPositionBase [lzxMaxSlots + 1]uint32

func init() {
	j := uint32(0)
	for i := 0; i <= lzxMaxSlots; i += 2 {
		lzxExtraBits[i] = j
		if i < lzxMaxSlots {
			lzxExtraBits[i+1] = j
		}
		if i != 0 && j < 17 {
			j++
		}
	}
	j = 0
	for i := 0; i <= lzxMaxSlots; i++ {
		lzxPositionBase[i] = j
		j += 1 << lzxExtraBits[i]
	}
}

var errLZX = errors.New("LZX data is corrupt")

func lzxErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errLZX, fmt.Sprintf(format, args...))
}

// lzxInput is the folder's compressed bytes, block after block, read as
// 16-bit little-endian words, most significant bit first.
type lzxInput struct {
	b     *blocks
	data  []byte
	back  []byte // bytes handed back by unread, read before data
	past  int    // zero bytes supplied past the end
	buf   uint64
	nbits uint
}

func (in *lzxInput) byte() (byte, error) {
	if len(in.back) > 0 {
		c := in.back[0]
		in.back = in.back[1:]
		return c, nil
	}
	for len(in.data) == 0 {
		data, _, err := in.b.read()
		if err == io.EOF {
			if in.past >= lzxMaxInputPast {
				return 0, lzxErr("the compressed data ends too early")
			}
			in.past++
			return 0, nil
		}
		if err != nil {
			return 0, err
		}
		in.data = data
	}
	c := in.data[0]
	in.data = in.data[1:]
	return c, nil
}

// ensure buffers at least n bits, then, while the current block has them,
// more whole words (up to 64 bits; 48 near a block's end) so that most
// reads need no refill. The extra words are handed back by unread where
// the format switches to bytes.
func (in *lzxInput) ensure(n uint) error {
	if len(in.back) == 0 && len(in.data) >= 8 && in.nbits <= 48 {
		in.buf, in.nbits, in.data = refill(in.buf, in.nbits, in.data)
		if in.nbits >= n {
			return nil
		}
	}
	for in.nbits < n {
		var w uint16
		if len(in.back) == 0 && len(in.data) >= 2 {
			w = uint16(in.data[0]) | uint16(in.data[1])<<8
			in.data = in.data[2:]
		} else {
			lo, err := in.byte()
			if err != nil {
				return err
			}
			hi, err := in.byte()
			if err != nil {
				return err
			}
			w = uint16(lo) | uint16(hi)<<8
		}
		in.buf |= uint64(w) << (64 - 16 - in.nbits)
		in.nbits += 16
	}
	if len(in.back) == 0 {
		for in.nbits <= 32 && len(in.data) >= 2 {
			in.buf |= uint64(uint16(in.data[0])|uint16(in.data[1])<<8) << (64 - 16 - in.nbits)
			in.data = in.data[2:]
			in.nbits += 16
		}
	}
	return nil
}

// refill adds as many whole 16-bit words of data (one to four) to the bit
// buffer buf holding nbits (at most 48) as fit, from one 8-byte load
// (data holds at least 8 bytes): big-endian, then each word's two bytes
// swapped, puts the first little-endian word on top. It returns at least
// 49 bits. It works on values, so that decodeMatches, which keeps the bit
// reader in locals, refills without a call.
func refill(buf uint64, nbits uint, data []byte) (uint64, uint, []byte) {
	k := (64 - nbits) / 16
	v := binary.BigEndian.Uint64(data)
	v = (v&0x00ff00ff00ff00ff)<<8 | (v>>8)&0x00ff00ff00ff00ff
	v >>= nbits
	if keep := nbits + 16*k; keep < 64 {
		v &^= 1<<(64-keep) - 1
	}
	return buf | v, nbits + 16*k, data[2*k:]
}

// fill is ensure(n) for a loop that keeps the bit reader in locals (buf,
// nbits, data): it puts them back, refills and returns them, and whether
// data is the input again (no bytes handed back). The loop refills inline
// (refill) when it can and calls fill only near a block's end.
func (in *lzxInput) fill(buf uint64, nbits uint, data []byte, n uint) (uint64, uint, []byte, bool, error) {
	in.buf, in.nbits, in.data = buf, nbits, data
	err := in.ensure(n)
	return in.buf, in.nbits, in.data, len(in.back) == 0, err
}

// unread drops the partial word and hands the whole buffered words back
// as bytes, so that byte reads continue where the bit stream stands.
func (in *lzxInput) unread() {
	in.drop(in.nbits & 15)
	var back []byte
	for in.nbits >= 16 {
		w := uint16(in.buf >> 48)
		back = append(back, byte(w), byte(w>>8))
		in.drop(16)
	}
	in.back = append(back, in.back...)
	in.buf, in.nbits = 0, 0
}

func (in *lzxInput) bits(n uint) (uint32, error) {
	if n == 0 {
		return 0, nil
	}
	if in.nbits < n {
		if err := in.ensure(n); err != nil {
			return 0, err
		}
	}
	v := uint32(in.buf >> (64 - n))
	in.buf <<= n
	in.nbits -= n
	return v, nil
}

// fixedLengths reads one n-bit code length per element of lens (the
// pretree's and the aligned tree's, which are not delta-coded).
func (in *lzxInput) fixedLengths(lens []byte, n uint) error {
	for i := range lens {
		v, err := in.bits(n)
		if err != nil {
			return err
		}
		lens[i] = byte(v)
	}
	return nil
}

func (in *lzxInput) drop(n uint) {
	in.buf <<= n
	in.nbits -= n
}

// huffman is a canonical Huffman decoder: a table for codes of up to
// huffTableBits bits and the canonical ranges for longer ones.
type huffman struct {
	table [1 << huffTableBits]uint32 // symbol<<5 | length; 0: longer code
	count [huffMaxBits + 1]uint32
	first [huffMaxBits + 1]uint32 // first canonical code of each length
	index [huffMaxBits + 1]uint32 // index in syms of that code
	syms  []uint16
	empty bool
}

// build makes the decoder from code lengths. A tree must be complete,
// or entirely empty when allowEmpty.
func (h *huffman) build(lens []byte, allowEmpty bool, name string) error {
	h.count = [huffMaxBits + 1]uint32{}
	for _, l := range lens {
		if l > huffMaxBits {
			return lzxErr("%s tree has a code of %d bits", name, l)
		}
		h.count[l]++
	}
	h.count[0] = 0
	used := uint32(0)
	for l := 1; l <= huffMaxBits; l++ {
		used += h.count[l] << (huffMaxBits - l)
	}
	h.empty = used == 0
	switch {
	case h.empty && allowEmpty:
		return nil
	case used != 1<<huffMaxBits:
		return lzxErr("%s tree is not a complete prefix code", name)
	}
	code, idx := uint32(0), uint32(0)
	for l := 1; l <= huffMaxBits; l++ {
		code = (code + h.count[l-1]) << 1
		if l == 1 {
			code = 0
		}
		h.first[l], h.index[l] = code, idx
		idx += h.count[l]
	}
	if cap(h.syms) < int(idx) {
		h.syms = make([]uint16, idx)
	}
	h.syms = h.syms[:idx]
	next := h.index
	for s, l := range lens {
		if l > 0 {
			h.syms[next[l]] = uint16(s)
			next[l]++
		}
	}
	h.table = [1 << huffTableBits]uint32{}
	for l := 1; l <= huffTableBits; l++ {
		for k := uint32(0); k < h.count[l]; k++ {
			c := (h.first[l] + k) << (huffTableBits - l)
			e := uint32(h.syms[h.index[l]+k])<<5 | uint32(l)
			for j := uint32(0); j < 1<<(huffTableBits-l); j++ {
				h.table[c+j] = e
			}
		}
	}
	return nil
}

func (h *huffman) decode(in *lzxInput) (int, error) {
	if in.nbits < huffMaxBits {
		if err := in.ensure(huffMaxBits); err != nil {
			return 0, err
		}
	}
	if e := h.table[in.buf>>(64-huffTableBits)]; e != 0 {
		in.drop(uint(e & 31))
		return int(e >> 5), nil
	}
	v := uint32(in.buf >> (64 - huffMaxBits))
	for l := huffTableBits + 1; l <= huffMaxBits; l++ {
		c := v >> (huffMaxBits - l)
		if c-h.first[l] < h.count[l] {
			in.drop(uint(l))
			return int(h.syms[h.index[l]+c-h.first[l]]), nil
		}
	}
	return 0, lzxErr("invalid Huffman code")
}

// lzxReader decompresses one LZX folder.
type lzxReader struct {
	in         lzxInput
	window     []byte
	wpos       int   // position in window
	total      int64 // bytes decoded so far
	length     int64 // the folder's uncompressed size
	slots      int
	r0, r1, r2 uint32

	mainLens   [lzxMainMax + lzxLenSafety]byte
	lenLens    [lzxSecondary + lzxLenSafety]byte
	alignLens  [lzxAlignedSyms]byte
	pretreeLen [lzxPretreeSyms]byte
	main, lens huffman
	aligned    huffman
	pretree    huffman

	headerRead   bool
	blockType    int
	blockLen     int
	blockRemain  int
	intelSize    int32
	intelStarted bool
	intelPos     int32
	frame        int

	// The side that hands frames out (chunk's caller); the fields above
	// belong to the decoder, which runs ahead on a goroutine of its own
	// when ahead is set.
	ahead *ahead[lzxFrame]
	out   []byte // the current frame, after E8 translation, still unread
	err   error  // sticky
	e8    [maxFrame]byte
}

// An lzxFrame is one decoded frame: its bytes in the window, not yet E8
// translated, and the translation's parameters (size 0: none).
type lzxFrame struct {
	data      []byte
	intelPos  int32
	intelSize int32
}

func newLZXReader(b *blocks, wbits int) (*lzxReader, error) {
	z := &lzxReader{in: lzxInput{b: b}, slots: lzxSlots[wbits], r0: 1, r1: 1, r2: 1}
	// The folder's size is the sum of its blocks' uncompressed sizes; read
	// their headers ahead (8 bytes each) without their data.
	off := b.f.dataOffset
	var h [dataEntry]byte
	for i := 0; i < b.f.blocks; i++ {
		if _, err := b.c.r.ReadAt(h[:], off); err != nil {
			return nil, formatErr(off, "data block %d of folder %d cut short: the cabinet is truncated", i, b.f.index)
		}
		z.length += int64(h[6]) | int64(h[7])<<8
		off += dataEntry + int64(b.c.dataReserve) + (int64(h[4]) | int64(h[5])<<8)
		if off > b.c.size {
			return nil, formatErr(off, "data block %d of folder %d runs past the end of the file: the cabinet is truncated", i, b.f.index)
		}
	}
	z.window = make([]byte, 1<<wbits)
	return z, nil
}

func (z *lzxReader) Read(p []byte) (int, error) {
	b, err := z.chunk(len(p))
	return copy(p, b), err
}

func (z *lzxReader) chunk(max int) ([]byte, error) {
	for len(z.out) == 0 {
		if z.err != nil {
			return nil, z.err
		}
		// An error is final: the window holds a half-decoded frame.
		var f lzxFrame
		if f, z.err = z.take(); z.err == nil {
			z.out = z.translated(f)
		}
	}
	n := min(max, len(z.out))
	b := z.out[:n]
	z.out = z.out[n:]
	return b, nil
}

// translated returns f's bytes as the folder holds them: E8-translated
// into a buffer of the reader's own when the frame needs it (the window
// keeps the untranslated bytes later matches copy), else the window's.
func (z *lzxReader) translated(f lzxFrame) []byte {
	if f.intelSize == 0 {
		return f.data
	}
	buf := z.e8[:len(f.data)]
	copy(buf, f.data)
	z.ahead.release() // the window's bytes are no longer needed
	translateE8(buf, f.intelPos, f.intelSize)
	return buf
}

// An LZX folder is decoded ahead of its reader (ahead) when the window
// holds at least lzxAheadFrames frames and the folder is longer than that.
// (A variable for tests, which compare both ways.)
var lzxAheadFrames = 4

// take returns the next decoded frame, or the error that ended decoding
// (io.EOF after the last frame).
func (z *lzxReader) take() (lzxFrame, error) {
	if z.ahead == nil {
		credits := len(z.window)/maxFrame - 1
		if credits+1 < lzxAheadFrames || z.length <= int64(lzxAheadFrames)*maxFrame {
			return z.decodeFrame()
		}
		// Each frame holds its credit while its bytes are in use, so the
		// frames in flight never cover more than the window less one frame
		// (the margin a corrupt last match may write past its frame before
		// it is refused), and the decoder never overwrites bytes still
		// being read.
		z.ahead = startAhead(credits, z.decodeFrame)
	}
	return z.ahead.take()
}

// close stops the decoding goroutine, if any, and waits for it; the reader
// reads nothing after.
func (z *lzxReader) close() {
	z.ahead.close()
	z.in.b.close()
	z.out, z.err = nil, errClosed
}

// readLengths reads tree lengths lens[first:last] delta-coded against their
// previous values, through the pretree.
func (z *lzxReader) readLengths(lens []byte, first, last int) error {
	in := &z.in
	if err := in.fixedLengths(z.pretreeLen[:], 4); err != nil {
		return err
	}
	if err := z.pretree.build(z.pretreeLen[:], false, "pretree"); err != nil {
		return err
	}
	delta := func(x int, sym int) byte {
		v := int(lens[x]) - sym
		if v < 0 {
			v += 17
		}
		return byte(v)
	}
	for x := first; x < last; {
		sym, err := z.pretree.decode(in)
		if err != nil {
			return err
		}
		run, val := 1, byte(0)
		switch sym {
		case 17, 18:
			n, base := uint(4), 4
			if sym == 18 {
				n, base = 5, 20
			}
			v, err := in.bits(n)
			if err != nil {
				return err
			}
			run = int(v) + base
		case 19:
			v, err := in.bits(1)
			if err != nil {
				return err
			}
			run = int(v) + 4
			s, err := z.pretree.decode(in)
			if err != nil {
				return err
			}
			if s > 16 {
				return lzxErr("pretree run of symbol %d", s)
			}
			val = delta(x, s)
		default:
			val = delta(x, sym)
		}
		if x+run > len(lens) {
			return lzxErr("tree length run overflows")
		}
		for ; run > 0; run-- {
			lens[x] = val
			x++
		}
	}
	return nil
}

func (z *lzxReader) readBlockHeader() error {
	in := &z.in
	if z.blockType == blockStored {
		if z.blockLen&1 != 0 {
			if _, err := in.byte(); err != nil {
				return err
			}
		}
		in.buf, in.nbits = 0, 0
	}
	t, err := in.bits(3)
	if err != nil {
		return err
	}
	hi, err := in.bits(16)
	if err != nil {
		return err
	}
	lo, err := in.bits(8)
	if err != nil {
		return err
	}
	z.blockType, z.blockLen = int(t), int(hi<<8|lo)
	z.blockRemain = z.blockLen
	switch z.blockType {
	case blockAligned:
		if err := in.fixedLengths(z.alignLens[:], 3); err != nil {
			return err
		}
		if err := z.aligned.build(z.alignLens[:], false, "aligned offset"); err != nil {
			return err
		}
		fallthrough
	case blockVerbatim:
		mainSize := lzxNumChars + z.slots*8
		if err := z.readLengths(z.mainLens[:], 0, lzxNumChars); err != nil {
			return err
		}
		if err := z.readLengths(z.mainLens[:], lzxNumChars, mainSize); err != nil {
			return err
		}
		if err := z.main.build(z.mainLens[:mainSize], false, "main"); err != nil {
			return err
		}
		if z.mainLens[0xe8] != 0 {
			z.intelStarted = true
		}
		if err := z.readLengths(z.lenLens[:], 0, lzxSecondary); err != nil {
			return err
		}
		return z.lens.build(z.lenLens[:lzxSecondary], true, "length")
	case blockStored:
		z.intelStarted = true
		// As libmspack: drop the rest of the current 16-bit word, or a
		// whole word when the stream is already aligned.
		if in.nbits&15 == 0 {
			if err := in.ensure(16); err != nil {
				return err
			}
			in.drop(16)
		}
		in.unread()
		var r [12]byte
		for i := range r {
			c, err := in.byte()
			if err != nil {
				return err
			}
			r[i] = c
		}
		le := func(b []byte) uint32 { return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24 }
		z.r0, z.r1, z.r2 = le(r[0:]), le(r[4:]), le(r[8:])
		return nil
	}
	return lzxErr("block type %d is not 1, 2 or 3", z.blockType)
}

// decodeFrame decodes the next frame into the window (io.EOF after the
// last).
func (z *lzxReader) decodeFrame() (lzxFrame, error) {
	if z.total >= z.length {
		return lzxFrame{}, io.EOF
	}
	in := &z.in
	if !z.headerRead {
		z.headerRead = true
		e8, err := in.bits(1)
		if err != nil {
			return lzxFrame{}, err
		}
		if e8 != 0 {
			hi, err := in.bits(16)
			if err != nil {
				return lzxFrame{}, err
			}
			lo, err := in.bits(16)
			if err != nil {
				return lzxFrame{}, err
			}
			z.intelSize = int32(hi<<16 | lo)
		}
	}
	frameSize := int(min(maxFrame, z.length-z.total))
	framePos := z.wpos
	todo := frameSize
	for todo > 0 {
		if z.blockRemain == 0 {
			if err := z.readBlockHeader(); err != nil {
				return lzxFrame{}, err
			}
		}
		run := min(z.blockRemain, todo)
		todo -= run
		z.blockRemain -= run
		var err error
		switch z.blockType {
		case blockVerbatim, blockAligned:
			run, err = z.decodeMatches(run)
		case blockStored:
			err = z.copyStored(run)
			run = 0
		}
		if err != nil {
			return lzxFrame{}, err
		}
		if run < 0 {
			// libmspack fails such a frame at its end ("decode beyond
			// output frame limits"); failing now keeps every later write
			// inside the window.
			return lzxFrame{}, lzxErr("a match runs past the end of its 32 KiB frame")
		}
	}
	if z.wpos == len(z.window) {
		z.wpos = 0
	}
	z.total += int64(frameSize)
	f := lzxFrame{data: z.window[framePos : framePos+frameSize]}
	if z.intelStarted && z.intelSize != 0 && z.frame < e8Frames && frameSize > 10 {
		f.intelPos, f.intelSize = z.intelPos, z.intelSize
	}
	z.intelPos += int32(frameSize)
	z.frame++
	// Frames end on a 16-bit boundary of the input.
	if in.nbits > 0 {
		if err := in.ensure(16); err != nil {
			return lzxFrame{}, err
		}
	}
	in.drop(in.nbits & 15)
	return f, nil
}

// translateE8 undoes the E8 (x86 CALL) translation of one frame that
// starts at stream position cur.
func translateE8(buf []byte, cur, size int32) {
	end := len(buf) - 10
	for i := 0; i < end; {
		j := bytes.IndexByte(buf[i:end], 0xe8)
		if j < 0 {
			break
		}
		i += j + 1
		cur += int32(j)
		abs := int32(uint32(buf[i]) | uint32(buf[i+1])<<8 | uint32(buf[i+2])<<16 | uint32(buf[i+3])<<24)
		if abs >= -cur && abs < size {
			rel := abs - cur
			if abs < 0 {
				rel = abs + size
			}
			buf[i], buf[i+1], buf[i+2], buf[i+3] = byte(rel), byte(rel>>8), byte(rel>>16), byte(rel>>24)
		}
		i += 4
		cur += 5
	}
}

func (z *lzxReader) copyStored(n int) error {
	in := &z.in
	for n > 0 {
		if len(in.data) == 0 || len(in.back) > 0 {
			c, err := in.byte()
			if err != nil {
				return err
			}
			z.window[z.wpos] = c
			z.wpos++
			n--
			continue
		}
		k := copy(z.window[z.wpos:z.wpos+min(n, len(in.data))], in.data)
		in.data = in.data[k:]
		z.wpos += k
		n -= k
	}
	return nil
}

// decodeMatches decodes at least run bytes of a verbatim or aligned block
// and returns run minus what it decoded (negative when the last match ran
// over).
//
// The bit buffer, its count, the input and the window position live in
// locals for the loop (a field of z would be stored and loaded again at
// every symbol); they go back to z before every call that reads input and
// are taken again after it, and go back when the loop ends.
func (z *lzxReader) decodeMatches(run int) (int, error) {
	in := &z.in
	win := z.window
	aligned := z.blockType == blockAligned
	// base+wpos is the stream position (for the check that a match does not
	// reach before the stream's start).
	base := z.total - int64(z.frameStart())
	wpos := z.wpos
	buf, nbits, data := in.buf, in.nbits, in.data
	fast := len(in.back) == 0 // no bytes handed back: data is the input
	var err error
	for run > 0 {
		if nbits < huffMaxBits {
			if fast && len(data) >= 8 {
				buf, nbits, data = refill(buf, nbits, data)
			} else if buf, nbits, data, fast, err = in.fill(buf, nbits, data, huffMaxBits); err != nil {
				z.wpos = wpos
				return 0, err
			}
		}
		var sym int
		if e := z.main.table[buf>>(64-huffTableBits)]; e != 0 {
			buf <<= e & 31
			nbits -= uint(e & 31)
			sym = int(e >> 5)
		} else {
			in.buf, in.nbits, in.data = buf, nbits, data
			if sym, err = z.main.decode(in); err != nil {
				z.wpos = wpos
				return 0, err
			}
			buf, nbits, data = in.buf, in.nbits, in.data
		}
		if sym < lzxNumChars {
			win[wpos] = byte(sym)
			wpos++
			run--
			continue
		}
		sym -= lzxNumChars
		length := sym & lzxPrimaryLens
		if length == lzxPrimaryLens {
			if z.lens.empty {
				z.wpos = wpos
				return 0, lzxErr("a long match but the length tree is empty")
			}
			if nbits < huffMaxBits {
				if fast && len(data) >= 8 {
					buf, nbits, data = refill(buf, nbits, data)
				} else if buf, nbits, data, fast, err = in.fill(buf, nbits, data, huffMaxBits); err != nil {
					z.wpos = wpos
					return 0, err
				}
			}
			if e := z.lens.table[buf>>(64-huffTableBits)]; e != 0 {
				buf <<= e & 31
				nbits -= uint(e & 31)
				length += int(e >> 5)
			} else {
				in.buf, in.nbits, in.data = buf, nbits, data
				extra, err := z.lens.decode(in)
				if err != nil {
					z.wpos = wpos
					return 0, err
				}
				buf, nbits, data = in.buf, in.nbits, in.data
				length += extra
			}
		}
		length += lzxMinMatch
		var off uint32
		switch slot := sym >> 3; slot {
		case 0:
			off = z.r0
		case 1:
			off = z.r1
			z.r1 = z.r0
			z.r0 = off
		case 2:
			off = z.r2
			z.r2 = z.r0
			z.r0 = off
		default:
			extra := uint(lzxExtraBits[slot])
			off = lzxPositionBase[slot] - 2
			switch {
			case aligned && extra >= 3 && fast && (nbits >= extra+4 || len(data) >= 8):
				// An aligned block's offset: extra-3 bits as they are, the
				// last three from the aligned tree (codes of at most 7 bits).
				if nbits < extra+4 {
					buf, nbits, data = refill(buf, nbits, data)
				}
				verb := extra - 3
				off += uint32(buf>>(64-verb)) << 3 // a shift by 64 gives 0
				buf <<= verb
				nbits -= verb
				e := z.aligned.table[buf>>(64-huffTableBits)]
				if e == 0 {
					z.wpos = wpos
					return 0, lzxErr("invalid Huffman code")
				}
				buf <<= e & 31
				nbits -= uint(e & 31)
				off += e >> 5
			case !aligned:
				if nbits < extra {
					if fast && len(data) >= 8 {
						buf, nbits, data = refill(buf, nbits, data)
					} else if buf, nbits, data, fast, err = in.fill(buf, nbits, data, extra); err != nil {
						z.wpos = wpos
						return 0, err
					}
				}
				// extra is 1..17 here (slots 4 and up); Go shifts by 64 give 0.
				off += uint32(buf >> (64 - extra))
				buf <<= extra
				nbits -= extra
			default:
				in.buf, in.nbits, in.data = buf, nbits, data
				v, err := z.alignedOffset(extra)
				if err != nil {
					z.wpos = wpos
					return 0, err
				}
				buf, nbits, data = in.buf, in.nbits, in.data
				fast = len(in.back) == 0
				off += v
			}
			z.r2, z.r1, z.r0 = z.r1, z.r0, off
		}
		if wpos+length > len(win) {
			z.wpos = wpos
			return 0, lzxErr("a match runs over the window's end")
		}
		// As libmspack: a match may not reach before the stream's start,
		// nor more than a window behind.
		if int64(off) > base+int64(wpos) || int(off) > wpos+len(win) {
			z.wpos = wpos
			return 0, lzxErr("a match refers %d bytes back, before the start of the data", off)
		}
		src := wpos - int(off)
		if src < 0 {
			src += len(win)
		}
		if src+length <= len(win) {
			d, from := win[wpos:wpos+length], win[src:src+length]
			if int(off) >= length {
				copy(d, from)
			} else {
				// A run: the match repeats its last off bytes. They are
				// copied once, then the copied part doubles until the match
				// is full (each copy's source ends before its destination).
				n := copy(d[:off], from)
				for n < length {
					n += copy(d[n:], d[:n])
				}
			}
			wpos += length
		} else {
			// Overlapping (a run) or wrapping: byte by byte, as the format means.
			for i := 0; i < length; i++ {
				win[wpos] = win[src]
				wpos++
				src++
				if src == len(win) {
					src = 0
				}
			}
		}
		run -= length
	}
	in.buf, in.nbits, in.data, z.wpos = buf, nbits, data, wpos
	return run, nil
}

// alignedOffset reads the part of an aligned block's match offset past its
// position base: extra bits, the last three from the aligned tree.
func (z *lzxReader) alignedOffset(extra uint) (uint32, error) {
	in := &z.in
	switch {
	case extra > 3:
		v, err := in.bits(extra - 3)
		if err != nil {
			return 0, err
		}
		a, err := z.aligned.decode(in)
		if err != nil {
			return 0, err
		}
		return v<<3 + uint32(a), nil
	case extra == 3:
		a, err := z.aligned.decode(in)
		return uint32(a), err
	case extra > 0:
		return in.bits(extra)
	}
	return 0, nil // slot 3: no extra bits, the offset is its base, 1
}

// frameStart is the window position where the current frame began; total
// counts only whole frames, so stream position = total + (wpos - frameStart).
func (z *lzxReader) frameStart() int {
	return int(z.total % int64(len(z.window)))
}
