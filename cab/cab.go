// Package cab reads Microsoft Cabinet files (MS-CAB), the container of
// Windows update packages: .msu files are cabinets, and so is the update
// cabinet inside them.
//
// It follows archive/zip: NewReader over an io.ReaderAt, files as values,
// and File.Open that streams. Stored, MSZIP and LZX folders are supported;
// Quantum is recognised and refused with a clear error (no update package
// uses it). Spanned sets are refused. Every count and offset is checked
// against the input's size before anything is allocated, so a hostile
// cabinet costs at most the 2 MiB LZX window and some hundred bytes per
// file entry (65,535 at most).
package cab

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kbplan/kbplan/budget"
)

// FormatError reports a malformed cabinet, with the byte offset where the
// problem was found.
type FormatError struct {
	Offset int64
	Msg    string
}

func (e *FormatError) Error() string {
	return fmt.Sprintf("cabinet byte %d: %s", e.Offset, e.Msg)
}

func formatErr(off int64, format string, args ...any) error {
	return &FormatError{Offset: off, Msg: fmt.Sprintf(format, args...)}
}

// ErrSpanned is returned for a cabinet that is part of a spanned set.
var ErrSpanned = errors.New("the cabinet is part of a spanned set (it continues from or into another cabinet); kbplan reads single cabinets only: join the set with the tool that made it")

// Compression is a folder's compression method.
type Compression uint16

// The compression methods of MS-CAB 2.1 (typeCompress, low 4 bits).
const (
	None    Compression = 0
	MSZIP   Compression = 1
	Quantum Compression = 2
	LZX     Compression = 3
)

func (c Compression) String() string {
	switch c & 0x0f {
	case None:
		return "stored"
	case MSZIP:
		return "mszip"
	case Quantum:
		return "quantum"
	case LZX:
		return fmt.Sprintf("lzx:%d", c.window())
	}
	return fmt.Sprintf("unknown(%d)", uint16(c))
}

// window is the LZX window size in bits (15 to 21), from bits 8-12.
func (c Compression) window() int { return int(c>>8) & 0x1f }

// Folder is one compressed stream; files are slices of its output.
type Folder struct {
	Compression Compression
	dataOffset  int64 // first CFDATA block
	blocks      int   // number of CFDATA blocks
	maxSize     int64 // the most it can decompress to: blocks × 32 KiB
	index       int   // in Reader.Folders
	headerAt    int64 // where its CFFOLDER entry is, for errors
	files       []*File
}

// File is one file in a cabinet.
type File struct {
	Name     string // as stored, with \ separators, decoded to UTF-8
	Size     int64
	Modified time.Time // local time as stored; the cabinet carries no zone
	Attrs    uint16    // MS-CAB attribs: 0x01 read-only, 0x02 hidden, 0x04 system, 0x20 archive, 0x40 exec, 0x80 UTF-8 name
	Folder   *Folder
	Offset   int64 // uncompressed offset in the folder
	entryAt  int64 // where its CFFILE entry is, for errors
	r        *Reader
}

// Reader is an open cabinet.
type Reader struct {
	Files   []*File
	Folders []*Folder
	// HeaderReserve is the per-cabinet reserved area; Authenticode keeps the
	// signature's offset and size there.
	HeaderReserve []byte
	// ReserveOffset is where HeaderReserve starts in the file.
	ReserveOffset int64
	// Size is the cabinet size the header claims (cbCabinet).
	Size int64
	// SetID and Index identify the cabinet in a set.
	SetID, Index uint16
	// Budget, when set, bounds what reading the cabinet may inflate: every
	// data block decoded counts its uncompressed size, skipped or not, and
	// its context stops the decoders when cancelled.
	Budget      *budget.Budget
	r           io.ReaderAt
	size        int64
	dataReserve int // cbCFData
	fs          fsState
}

// MaxFiles and MaxFolders are what the 16-bit counts allow; they bound
// every allocation NewReader makes.
const (
	headerSize    = 36
	folderEntry   = 8
	fileEntryMin  = 16 + 1 // fixed part plus at least a NUL
	dataEntry     = 8
	maxName       = 256 // CAB_MAX_NAME including the NUL, MS-CAB 2.3
	maxFrame      = 32768
	flagPrev      = 0x0001
	flagNext      = 0x0002
	flagReserve   = 0x0004
	attrUTF8      = 0x80
	folderPrev    = 0xfffd
	folderNext    = 0xfffe
	folderPrevNxt = 0xffff
)

// NewReader reads a cabinet's directory from r, which holds size bytes.
func NewReader(r io.ReaderAt, size int64) (*Reader, error) {
	var h [headerSize]byte
	if size < headerSize {
		return nil, formatErr(0, "%d bytes are too few for a cabinet header (36); this is not a cabinet", size)
	}
	if _, err := r.ReadAt(h[:], 0); err != nil {
		return nil, fmt.Errorf("cabinet header: %w", err)
	}
	if string(h[0:4]) != "MSCF" {
		return nil, formatErr(0, "signature %q is not \"MSCF\": this is not a cabinet (an .msu, .cab or update package starts with MSCF)", h[0:4])
	}
	le := binary.LittleEndian
	c := &Reader{r: r, size: size}
	c.Size = int64(le.Uint32(h[8:]))
	filesAt := int64(le.Uint32(h[16:]))
	if h[25] != 1 {
		return nil, formatErr(25, "format version %d.%d is not 1.3", h[25], h[24])
	}
	nFolders, nFiles := int(le.Uint16(h[26:])), int(le.Uint16(h[28:]))
	flags := le.Uint16(h[30:])
	c.SetID, c.Index = le.Uint16(h[32:]), le.Uint16(h[34:])
	if c.Size > size {
		return nil, formatErr(8, "the header says the cabinet has %d bytes but the file has %d: it is truncated; download it again", c.Size, size)
	}
	if flags&(flagPrev|flagNext) != 0 {
		return nil, ErrSpanned
	}
	if nFolders == 0 {
		return nil, formatErr(26, "the cabinet has no folders")
	}
	if nFiles == 0 {
		return nil, formatErr(28, "the cabinet has no files")
	}
	off := int64(headerSize)
	folderReserve := 0
	if flags&flagReserve != 0 {
		var rs [4]byte
		if _, err := r.ReadAt(rs[:], off); err != nil {
			return nil, formatErr(off, "reserve sizes cut short: %v", err)
		}
		hres := int64(le.Uint16(rs[0:]))
		folderReserve, c.dataReserve = int(rs[2]), int(rs[3])
		off += 4
		if off+hres > size {
			return nil, formatErr(off, "the header reserve (%d bytes) runs past the end of the file", hres)
		}
		c.HeaderReserve = make([]byte, hres) // at most 64 KiB, and within the file
		c.ReserveOffset = off
		if _, err := r.ReadAt(c.HeaderReserve, off); err != nil {
			return nil, formatErr(off, "header reserve: %v", err)
		}
		off += hres
	}
	entry := int64(folderEntry + folderReserve)
	if off+int64(nFolders)*entry > size {
		return nil, formatErr(off, "%d folder entries of %d bytes cannot fit in a %d-byte file", nFolders, entry, size)
	}
	if filesAt < off || filesAt+int64(nFiles)*fileEntryMin > size {
		return nil, formatErr(16, "%d file entries at offset %d cannot fit in a %d-byte file", nFiles, filesAt, size)
	}
	buf := make([]byte, entry)
	c.Folders = make([]*Folder, nFolders)
	for i := range c.Folders {
		if _, err := r.ReadAt(buf, off); err != nil {
			return nil, formatErr(off, "folder %d: %v", i, err)
		}
		f := &Folder{
			dataOffset:  int64(le.Uint32(buf[0:])),
			blocks:      int(le.Uint16(buf[4:])),
			Compression: Compression(le.Uint16(buf[6:])),
			index:       i,
			headerAt:    off,
		}
		f.maxSize = int64(f.blocks) * maxFrame
		if f.dataOffset < headerSize || f.dataOffset+int64(f.blocks)*int64(dataEntry+c.dataReserve) > size {
			return nil, formatErr(off, "folder %d: %d data blocks at offset %d cannot fit in a %d-byte file", i, f.blocks, f.dataOffset, size)
		}
		switch f.Compression & 0x0f {
		case None, MSZIP, Quantum:
		case LZX:
			if w := f.Compression.window(); w < 15 || w > 21 {
				return nil, formatErr(off+6, "folder %d: LZX window of 2^%d bytes is outside 2^15..2^21", i, w)
			}
		default:
			return nil, formatErr(off+6, "folder %d: unknown compression type %d", i, f.Compression&0x0f)
		}
		c.Folders[i] = f
		off += entry
	}
	// The file table follows the folder table. A cabinet whose coffFiles
	// points elsewhere shows different files to different tools (libmspack
	// reads on from the folders, Windows follows coffFiles): refuse it.
	if filesAt != off {
		return nil, formatErr(16, "the file table is at offset %d but the folder table ends at %d: tools would disagree on which files the cabinet holds; refusing it", filesAt, off)
	}
	// File entries: 16 fixed bytes and a NUL-terminated name.
	var fixed [16]byte
	name := make([]byte, maxName)
	off = filesAt
	c.Files = make([]*File, 0, nFiles)
	for i := 0; i < nFiles; i++ {
		if _, err := r.ReadAt(fixed[:], off); err != nil {
			return nil, formatErr(off, "file entry %d cut short: %v", i, err)
		}
		n, err := r.ReadAt(name, off+16)
		if err != nil && err != io.EOF {
			return nil, formatErr(off+16, "file entry %d name: %v", i, err)
		}
		end := -1
		for j, b := range name[:n] {
			if b == 0 {
				end = j
				break
			}
		}
		if end < 0 {
			return nil, formatErr(off+16, "file entry %d: the name has no terminating NUL within %d bytes", i, maxName)
		}
		if end == 0 {
			return nil, formatErr(off+16, "file entry %d has an empty name", i)
		}
		fi := int(le.Uint16(fixed[8:]))
		attrs := le.Uint16(fixed[14:])
		f := &File{
			Size:     int64(le.Uint32(fixed[0:])),
			Offset:   int64(le.Uint32(fixed[4:])),
			Modified: dosTime(le.Uint16(fixed[10:]), le.Uint16(fixed[12:])),
			Attrs:    attrs,
			Name:     decodeName(name[:end], attrs&attrUTF8 != 0),
			entryAt:  off,
			r:        c,
		}
		switch {
		case fi == folderPrev || fi == folderNext || fi == folderPrevNxt:
			return nil, ErrSpanned
		case fi >= nFolders:
			return nil, formatErr(off+8, "file %q is in folder %d but the cabinet has %d", f.Name, fi, nFolders)
		}
		f.Folder = c.Folders[fi]
		if f.Offset+f.Size > f.Folder.maxSize {
			return nil, formatErr(off, "file %q (%d bytes at %d) ends past what folder %d's %d data blocks can hold", f.Name, f.Size, f.Offset, fi, f.Folder.blocks)
		}
		f.Folder.files = append(f.Folder.files, f)
		c.Files = append(c.Files, f)
		off += 16 + int64(end) + 1
	}
	return c, nil
}

// dosTime converts an MS-DOS date and time; invalid fields give the zero time.
func dosTime(d, t uint16) time.Time {
	if d == 0 {
		return time.Time{}
	}
	return time.Date(int(d>>9)+1980, time.Month(d>>5&0xf), int(d&0x1f),
		int(t>>11), int(t>>5&0x3f), int(t&0x1f)*2, 0, time.UTC)
}

// decodeName makes a stored name UTF-8. Names without the UTF-8 attribute
// are read as ISO-8859-1, as cabextract does; invalid UTF-8 bytes become
// U+FFFD one by one.
func decodeName(b []byte, isUTF8 bool) string {
	var s strings.Builder
	if !isUTF8 {
		for _, c := range b {
			s.WriteRune(rune(c))
		}
		return s.String()
	}
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		s.WriteRune(r)
		b = b[n:]
	}
	return s.String()
}

// Path is the file's relative output path with / separators, made safe the
// way cabextract makes it: leading separators are dropped, ".." components
// become "xx", and a name of nothing but separators becomes "x".
func (f *File) Path() string {
	parts := strings.FieldsFunc(f.Name, func(r rune) bool { return r == '\\' || r == '/' })
	if len(parts) == 0 {
		return "x"
	}
	for i, p := range parts {
		if p == ".." {
			parts[i] = "xx"
		}
	}
	return strings.Join(parts, "/")
}

// Open returns a reader of the file's content. Each call decompresses the
// folder from its start up to the file (counted against Budget); to read
// every file, Walk, or the cabinet as an fs.FS, decodes each folder once.
// Close the reader when done: a long folder's decoder runs ahead of it on
// a goroutine of its own until then.
func (f *File) Open() (io.ReadCloser, error) {
	d, err := f.r.folderReader(f.Folder)
	if err != nil {
		return nil, err
	}
	if err := skip(d, f.Offset); err != nil {
		d.close()
		return nil, f.r.dataErr(f, err)
	}
	return &openReader{fileReader{f: f, src: d}}, nil
}

// openReader is File.Open's reader: closing it stops its folder's decoder.
type openReader struct{ fileReader }

func (o *openReader) Close() error {
	o.src.close()
	return nil
}

// chunker is a folder's decompressed stream that can hand out its own
// buffers, so that extraction and skipping copy nothing twice.
type chunker interface {
	io.Reader
	// chunk returns the next at most max bytes, valid until the next call.
	chunk(max int) ([]byte, error)
	// close ends the stream: a decoder running ahead stops, and later
	// reads fail with errClosed.
	close()
}

var errClosed = errors.New("cab: read after close")

// skip discards n bytes of a folder stream.
func skip(d chunker, n int64) error {
	for n > 0 {
		b, err := d.chunk(int(min(n, 1<<20)))
		n -= int64(len(b))
		if err == io.EOF && n > 0 {
			return io.ErrUnexpectedEOF
		}
		if err != nil && err != io.EOF {
			return err
		}
		if err == io.EOF {
			break
		}
	}
	return nil
}

// fileReader reads one file's bytes from its folder's stream.
type fileReader struct {
	f   *File
	src chunker
	n   int64 // bytes read so far
}

func (fr *fileReader) fail(err error) error {
	if err == io.EOF {
		if fr.n < fr.f.Size {
			return fr.f.r.dataErr(fr.f, io.ErrUnexpectedEOF)
		}
		return io.EOF
	}
	return fr.f.r.dataErr(fr.f, err)
}

func (fr *fileReader) Read(p []byte) (int, error) {
	left := fr.f.Size - fr.n
	if left <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > left {
		p = p[:left]
	}
	n, err := fr.src.Read(p)
	fr.n += int64(n)
	if err != nil {
		return n, fr.fail(err)
	}
	return n, nil
}

// WriteTo writes the rest of the file to w straight from the decoder's
// buffers (io.Copy uses it).
func (fr *fileReader) WriteTo(w io.Writer) (int64, error) {
	var total int64
	for fr.n < fr.f.Size {
		b, err := fr.src.chunk(int(min(fr.f.Size-fr.n, 1<<20)))
		if len(b) > 0 {
			fr.n += int64(len(b))
			m, werr := w.Write(b)
			total += int64(m)
			if werr != nil {
				return total, werr
			}
		}
		if err != nil {
			if err = fr.fail(err); err == io.EOF {
				err = nil
			}
			return total, err
		}
	}
	return total, nil
}

func (c *Reader) dataErr(f *File, err error) error {
	var fe *FormatError
	if errors.As(err, &fe) {
		return fmt.Errorf("%s: %w", f.Name, err)
	}
	return fmt.Errorf("%s (folder %d, %s): %w", f.Name, f.Folder.index, f.Folder.Compression, err)
}

// Walk decompresses each folder once and calls fn for every file in
// folder order, with a reader of its content valid only during the call.
// fn may read the content partly or not at all. A folder that cannot be
// decompressed is skipped and its error returned at the end, joined with
// the others; an error from fn stops the walk.
func (c *Reader) Walk(fn func(f *File, r io.Reader) error) error {
	var errs []error
	for _, fo := range c.Folders {
		if len(fo.files) == 0 {
			continue
		}
		if err := c.walkFolder(fo, fn); err != nil {
			var stop stopError
			if errors.As(err, &stop) {
				return errors.Join(append(errs, stop.err)...)
			}
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// stopError carries an error from Walk's callback.
type stopError struct{ err error }

func (e stopError) Error() string { return e.err.Error() }

func (c *Reader) walkFolder(fo *Folder, fn func(f *File, r io.Reader) error) error {
	files := sortedByOffset(fo.files)
	d, err := c.folderReader(fo)
	if err != nil {
		return err
	}
	defer d.close()
	pos := int64(0)
	var prev *File
	for _, f := range files {
		if f.Offset < pos {
			// Overlapping files would mean decoding the folder again for
			// each: a folder is decoded once, so they are refused.
			return formatErr(f.entryAt, "%s (bytes %d to %d of folder %d) overlaps %s (to %d): kbplan decodes each folder once and refuses overlapping files; cabextract reads them", f.Name, f.Offset, f.Offset+f.Size, fo.index, prev.Name, pos)
		}
		if err := skip(d, f.Offset-pos); err != nil {
			return c.dataErr(f, err)
		}
		fr := &fileReader{f: f, src: d}
		if err := fn(f, fr); err != nil {
			return stopError{err}
		}
		// Whatever fn left unread still has to pass through.
		if err := skip(d, f.Size-fr.n); err != nil {
			return c.dataErr(f, err)
		}
		pos, prev = f.Offset+f.Size, f
	}
	return nil
}

func sortedByOffset(files []*File) []*File {
	out := slices.Clone(files)
	slices.SortStableFunc(out, func(a, b *File) int { return cmp.Compare(a.Offset, b.Offset) })
	return out
}
