package cab

// A small LZX encoder and cabinet writer for tests. No free tool on Debian
// writes LZX cabinets (gcab and lcab write stored and MSZIP only), so the
// tests make their own and use cabextract as the judge: a cabinet this
// encoder writes must extract with cabextract to the original bytes, and
// kbplan's reader must agree byte for byte. The encoder is plain (greedy
// matching, frequency Huffman trees), but it uses every feature of the
// format: verbatim, aligned and uncompressed blocks, blocks spanning frames,
// repeated offsets, long codes, and E8 translation.

import (
	"bytes"
	"compress/flate"
	"container/heap"
	"encoding/binary"

	"github.com/kbplan/kbplan/internal/pkgtest"
)

type bitWriter struct {
	out []byte
	acc uint32
	n   uint
}

func (w *bitWriter) put(v uint32, n uint) {
	for i := int(n) - 1; i >= 0; i-- {
		w.acc = w.acc<<1 | (v>>uint(i))&1
		w.n++
		if w.n == 16 {
			w.out = append(w.out, byte(w.acc), byte(w.acc>>8))
			w.acc, w.n = 0, 0
		}
	}
}

// align pads to the next 16-bit word; force writes a whole zero word when
// already aligned (what an uncompressed block header needs).
func (w *bitWriter) align(force bool) {
	if w.n == 0 {
		if force {
			w.put(0, 16)
		}
		return
	}
	w.put(0, 16-w.n)
}

// huffLengths makes code lengths of at most limit bits from frequencies;
// the code is complete (at least two symbols are given a code).
func huffLengths(freq []int, limit byte) []byte {
	f := make([]int, len(freq))
	copy(f, freq)
	used := 0
	for _, x := range f {
		if x > 0 {
			used++
		}
	}
	for i := 0; used < 2; i++ {
		if f[i] == 0 {
			f[i] = 1
			used++
		}
	}
	for {
		lens := huffTry(f)
		max := byte(0)
		for _, l := range lens {
			if l > max {
				max = l
			}
		}
		if max <= limit {
			return lens
		}
		for i := range f {
			if f[i] > 0 {
				f[i] = f[i]/2 + 1
			}
		}
	}
}

type hnode struct {
	w           int
	sym         int
	left, right *hnode
}
type hheap []*hnode

func (h hheap) Len() int           { return len(h) }
func (h hheap) Less(i, j int) bool { return h[i].w < h[j].w || h[i].w == h[j].w && h[i].sym < h[j].sym }
func (h hheap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *hheap) Push(x any)        { *h = append(*h, x.(*hnode)) }
func (h *hheap) Pop() any          { o := *h; x := o[len(o)-1]; *h = o[:len(o)-1]; return x }
func huffTry(f []int) []byte {
	h := &hheap{}
	for s, w := range f {
		if w > 0 {
			*h = append(*h, &hnode{w: w, sym: s})
		}
	}
	heap.Init(h)
	next := len(f)
	for h.Len() > 1 {
		a, b := heap.Pop(h).(*hnode), heap.Pop(h).(*hnode)
		heap.Push(h, &hnode{w: a.w + b.w, sym: next, left: a, right: b})
		next++
	}
	lens := make([]byte, len(f))
	var walk func(n *hnode, d byte)
	walk = func(n *hnode, d byte) {
		if n.left == nil {
			lens[n.sym] = max(d, 1)
			return
		}
		walk(n.left, d+1)
		walk(n.right, d+1)
	}
	walk((*h)[0], 0)
	return lens
}

// canonical codes for lengths, as the decoder assigns them.
func huffCodes(lens []byte) []uint32 {
	var count [17]uint32
	for _, l := range lens {
		count[l]++
	}
	count[0] = 0
	var next [17]uint32
	code := uint32(0)
	for l := 1; l <= 16; l++ {
		code = (code + count[l-1]) << 1
		next[l] = code
	}
	codes := make([]uint32, len(lens))
	for s, l := range lens {
		if l > 0 {
			codes[s] = next[l]
			next[l]++
		}
	}
	return codes
}

type token struct {
	lit    int // -1 for a match
	length int
	slot   int
	extra  uint32 // offset footer (formatted offset - position base)
}

type lzxEncoder struct {
	wbits      int
	slots      int
	w          bitWriter
	prevMain   []byte
	prevLen    []byte
	r0, r1, r2 uint32
	intelSize  int32
	blockTypes []int // cycled per block
	frames     int   // frames per block
}

func newLZXEncoder(wbits int, intelSize int32, blockTypes []int, framesPerBlock int) *lzxEncoder {
	return &lzxEncoder{wbits: wbits, slots: lzxSlots[wbits], prevMain: make([]byte, lzxMainMax),
		prevLen: make([]byte, lzxSecondary), r0: 1, r1: 1, r2: 1, intelSize: intelSize,
		blockTypes: blockTypes, frames: framesPerBlock}
}

// e8Forward applies the E8 translation the decoder undoes.
func e8Forward(buf []byte, cur, size int32) {
	for i := 0; i < len(buf)-10; {
		if buf[i] != 0xe8 {
			i++
			cur++
			continue
		}
		i++
		rel := int32(binary.LittleEndian.Uint32(buf[i:]))
		if rel >= -cur && rel < size {
			abs := rel + cur
			if rel >= size-cur {
				abs = rel - size
			}
			binary.LittleEndian.PutUint32(buf[i:], uint32(abs))
		}
		i += 4
		cur += 5
	}
}

// encode compresses data and returns the compressed bytes of each 32 KiB
// frame (one CFDATA block each) with the frame's size.
func (e *lzxEncoder) encode(data []byte) (blocks [][]byte, sizes []int) {
	window := 1 << e.wbits
	src := make([]byte, len(data))
	copy(src, data)
	if e.intelSize != 0 {
		e.w.put(1, 1)
		e.w.put(uint32(e.intelSize)>>16, 16)
		e.w.put(uint32(e.intelSize)&0xffff, 16)
		for f := 0; f*maxFrame < len(src) && f < e8Frames; f++ {
			end := min(len(src), (f+1)*maxFrame)
			if end-f*maxFrame > 10 {
				e8Forward(src[f*maxFrame:end], int32(f*maxFrame), e.intelSize)
			}
		}
	} else {
		e.w.put(0, 1)
	}
	head := map[uint32]int{}
	last := 0
	nframes := (len(src) + maxFrame - 1) / maxFrame
	for b := 0; b*e.frames < nframes; b++ {
		typ := e.blockTypes[b%len(e.blockTypes)]
		first := b * e.frames * maxFrame
		end := min(len(src), first+e.frames*maxFrame)
		if typ == blockStored {
			e.stored(src[first:end], &blocks, &sizes, &last)
			continue
		}
		// Tokens per frame of the block; matches stay inside a frame.
		var frameTokens [][]token
		for fs := first; fs < end; fs += maxFrame {
			fe := min(end, fs+maxFrame)
			var toks []token
			for p := fs; p < fe; {
				length, off := 0, 0
				if p+3 <= fe {
					k := uint32(src[p]) | uint32(src[p+1])<<8 | uint32(src[p+2])<<16
					if q, ok := head[k]; ok && p-q <= window-3 && p-q > 0 {
						for length < 257 && p+length < fe && src[q+length] == src[p+length] {
							length++
						}
						off = p - q
					}
					head[k] = p
				}
				if length < 3 {
					toks = append(toks, token{lit: int(src[p])})
					p++
					continue
				}
				toks = append(toks, e.match(length, uint32(off)))
				for i := p + 1; i < p+length && i+3 <= fe; i++ {
					head[uint32(src[i])|uint32(src[i+1])<<8|uint32(src[i+2])<<16] = i
				}
				p += length
			}
			frameTokens = append(frameTokens, toks)
		}
		e.writeBlock(typ, end-first, frameTokens, &blocks, &sizes, &last)
	}
	return blocks, sizes
}

func (e *lzxEncoder) match(length int, off uint32) token {
	t := token{lit: -1, length: length}
	switch off {
	case e.r0:
		t.slot = 0
	case e.r1:
		t.slot = 1
		e.r1, e.r0 = e.r0, off
	case e.r2:
		t.slot = 2
		e.r2, e.r0 = e.r0, off
	default:
		f := off + 2
		s := 3
		for s+1 < e.slots && lzxPositionBase[s+1] <= f {
			s++
		}
		t.slot, t.extra = s, f-lzxPositionBase[s]
		e.r2, e.r1, e.r0 = e.r1, e.r0, off
	}
	return t
}

// frameEnd records the compressed bytes of the frames that ended.
func (e *lzxEncoder) frameEnd(size int, blocks *[][]byte, sizes *[]int, last *int) {
	e.w.align(false)
	*blocks = append(*blocks, append([]byte(nil), e.w.out[*last:]...))
	*sizes = append(*sizes, size)
	*last = len(e.w.out)
}

func (e *lzxEncoder) stored(data []byte, blocks *[][]byte, sizes *[]int, last *int) {
	e.w.put(blockStored, 3)
	e.w.put(uint32(len(data))>>8, 16)
	e.w.put(uint32(len(data))&0xff, 8)
	e.w.align(true)
	for _, r := range []uint32{e.r0, e.r1, e.r2} {
		e.w.out = binary.LittleEndian.AppendUint32(e.w.out, r)
	}
	for fs := 0; fs < len(data); fs += maxFrame {
		fe := min(len(data), fs+maxFrame)
		e.w.out = append(e.w.out, data[fs:fe]...)
		if fe == len(data) && len(data)&1 != 0 {
			e.w.out = append(e.w.out, 0)
		}
		e.frameEnd(fe-fs, blocks, sizes, last)
	}
}

func (e *lzxEncoder) writeLengths(lens, prev []byte) {
	// Delta symbols, and a pretree over them.
	syms := make([]int, len(lens))
	freq := make([]int, lzxPretreeSyms)
	for i, l := range lens {
		d := (int(prev[i]) - int(l) + 17) % 17
		syms[i] = d
		freq[d]++
	}
	pl := huffLengths(freq, 15)
	for _, l := range pl {
		if l > 15 {
			panic("pretree length over 15")
		}
		e.w.put(uint32(l), 4)
	}
	pc := huffCodes(pl)
	for _, s := range syms {
		e.w.put(pc[s], uint(pl[s]))
	}
	copy(prev, lens)
}

func (e *lzxEncoder) writeBlock(typ, size int, frames [][]token, blocks *[][]byte, sizes *[]int, last *int) {
	mainSize := lzxNumChars + e.slots*8
	mainFreq := make([]int, mainSize)
	lenFreq := make([]int, lzxSecondary)
	alignFreq := make([]int, lzxAlignedSyms)
	mainFreq[0xe8]++ // keep E8 translation on, so encoder and decoder agree
	for _, toks := range frames {
		for _, t := range toks {
			if t.lit >= 0 {
				mainFreq[t.lit]++
				continue
			}
			lh := min(t.length-2, 7)
			mainFreq[256+t.slot*8+lh]++
			if lh == 7 {
				lenFreq[t.length-9]++
			}
			if typ == blockAligned && t.slot >= 3 && lzxExtraBits[t.slot] >= 3 {
				alignFreq[t.extra&7]++
			}
		}
	}
	e.w.put(uint32(typ), 3)
	e.w.put(uint32(size)>>8, 16)
	e.w.put(uint32(size)&0xff, 8)
	var alens []byte
	if typ == blockAligned {
		alens = huffLengths(alignFreq, 7)
		for _, l := range alens {
			if l > 7 {
				panic("aligned length over 7")
			}
			e.w.put(uint32(l), 3)
		}
	}
	mlens := huffLengths(mainFreq, 16)
	e.writeLengths(mlens[:256], e.prevMain[:256])
	e.writeLengths(mlens[256:], e.prevMain[256:mainSize])
	llens := make([]byte, lzxSecondary)
	used := 0
	for _, f := range lenFreq {
		if f > 0 {
			used++
		}
	}
	if used > 0 {
		llens = huffLengths(lenFreq, 16)
	}
	e.writeLengths(llens, e.prevLen)
	mc, lc := huffCodes(mlens), huffCodes(llens)
	var ac []uint32
	if alens != nil {
		ac = huffCodes(alens)
	}
	for _, toks := range frames {
		n := 0
		for _, t := range toks {
			if t.lit >= 0 {
				e.w.put(mc[t.lit], uint(mlens[t.lit]))
				n++
				continue
			}
			lh := min(t.length-2, 7)
			m := 256 + t.slot*8 + lh
			e.w.put(mc[m], uint(mlens[m]))
			if lh == 7 {
				e.w.put(lc[t.length-9], uint(llens[t.length-9]))
			}
			if t.slot >= 3 {
				eb := uint(lzxExtraBits[t.slot])
				switch {
				case typ == blockAligned && eb >= 3:
					if eb > 3 {
						e.w.put(t.extra>>3, eb-3)
					}
					e.w.put(ac[t.extra&7], uint(alens[t.extra&7]))
				default:
					e.w.put(t.extra, eb)
				}
			}
			n += t.length
		}
		e.frameEnd(n, blocks, sizes, last)
	}
}

// writeCab builds a one-folder cabinet from compressed blocks, with files
// laid end to end in the folder.
func writeCab(comp Compression, blocks [][]byte, sizes []int, names []string, fileSizes []int) []byte {
	c := pkgtest.Cab{SetID: 0x1234, Sum: checksum}
	f := pkgtest.CabFolder{Compression: uint16(comp)}
	for i, b := range blocks {
		f.Blocks = append(f.Blocks, pkgtest.CabBlock{Data: b, Size: sizes[i]})
	}
	c.Folders = []pkgtest.CabFolder{f}
	off := 0
	for i, n := range names {
		c.Files = append(c.Files, pkgtest.CabFile{Name: n, Offset: uint32(off), Size: uint32(fileSizes[i])})
		off += fileSizes[i]
	}
	return c.Bytes()
}

// mszipCab compresses data into a one-folder MSZIP cabinet of one file:
// blocks of 32 KiB, each "CK" and a deflate stream with the block before
// as its dictionary (MS-MCI).
func mszipCab(name string, data []byte) []byte {
	var blocks [][]byte
	var sizes []int
	var prev []byte
	for off := 0; off < len(data); off += maxFrame {
		chunk := data[off:min(off+maxFrame, len(data))]
		b := bytes.NewBufferString("CK")
		w, err := flate.NewWriterDict(b, flate.BestSpeed, prev)
		if err != nil {
			panic(err)
		}
		w.Write(chunk)
		w.Close()
		blocks, sizes, prev = append(blocks, b.Bytes()), append(sizes, len(chunk)), chunk
	}
	return writeCab(MSZIP, blocks, sizes, []string{name}, []int{len(data)})
}

// lzxCab compresses files into a one-folder LZX cabinet.
func lzxCab(wbits int, intel int32, types []int, framesPerBlock int, names []string, files [][]byte) []byte {
	var all []byte
	var sizes []int
	for _, f := range files {
		all = append(all, f...)
		sizes = append(sizes, len(f))
	}
	enc := newLZXEncoder(wbits, intel, types, framesPerBlock)
	blocks, bsizes := enc.encode(all)
	return writeCab(LZX|Compression(wbits)<<8, blocks, bsizes, names, sizes)
}
