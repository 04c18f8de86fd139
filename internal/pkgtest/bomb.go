package pkgtest

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
)

// BombFile is a file of a cabinet bomb: its name, offset and size in the
// bomb's folder.
type BombFile struct {
	Name         string
	Offset, Size uint32
}

// CabBomb builds a cabinet of one MSZIP folder of blocks data blocks, each
// 32768 zero bytes deflated to a few bytes (blocks = 65535 inflates to
// 2 GiB from about 3.6 MB), holding files at the offsets given. extra,
// when not nil, is a second folder's file set (stored, uncompressed):
// name to content, for a bomb riding beside a valid bundle.
func CabBomb(blocks int, files []BombFile, extra map[string][]byte) []byte {
	var zeros bytes.Buffer
	zw, _ := flate.NewWriter(&zeros, flate.BestCompression)
	zw.Write(make([]byte, 32768))
	zw.Close()
	block := append([]byte("CK"), zeros.Bytes()...)

	le := binary.LittleEndian
	var names []string
	for n := range extra {
		names = append(names, n)
	}
	folders := 1
	if len(extra) > 0 {
		folders = 2
	}
	var h []byte
	h = append(h, "MSCF"...)
	h = le.AppendUint32(h, 0)
	h = le.AppendUint32(h, 0) // cbCabinet, set below
	h = le.AppendUint32(h, 0)
	h = le.AppendUint32(h, 0) // coffFiles, set below
	h = le.AppendUint32(h, 0)
	h = append(h, 3, 1)
	h = le.AppendUint16(h, uint16(folders))
	h = le.AppendUint16(h, uint16(len(files)+len(names)))
	h = le.AppendUint16(h, 0)
	h = le.AppendUint16(h, 0x4242)
	h = le.AppendUint16(h, 0)
	folderAt := len(h)
	h = le.AppendUint32(h, 0)
	h = le.AppendUint16(h, uint16(blocks))
	h = le.AppendUint16(h, 1) // MSZIP
	if folders == 2 {
		h = le.AppendUint32(h, 0)
		h = le.AppendUint16(h, uint16(len(names)))
		h = le.AppendUint16(h, 0) // stored
	}
	le.PutUint32(h[16:], uint32(len(h)))
	file := func(name string, off, size uint32, folder uint16) {
		h = le.AppendUint32(h, size)
		h = le.AppendUint32(h, off)
		h = le.AppendUint16(h, folder)
		h = le.AppendUint16(h, 0x5a8c)
		h = le.AppendUint16(h, 0x6000)
		h = le.AppendUint16(h, 0x20)
		h = append(h, name...)
		h = append(h, 0)
	}
	for _, f := range files {
		file(f.Name, f.Offset, f.Size, 0)
	}
	off := uint32(0)
	for _, n := range names {
		file(n, off, uint32(len(extra[n])), 1)
		off += uint32(len(extra[n]))
	}
	le.PutUint32(h[folderAt:], uint32(len(h)))
	for i := 0; i < blocks; i++ {
		h = le.AppendUint32(h, 0) // no checksum
		h = le.AppendUint16(h, uint16(len(block)))
		h = le.AppendUint16(h, 32768)
		h = append(h, block...)
	}
	if folders == 2 {
		le.PutUint32(h[folderAt+8:], uint32(len(h)))
		var all []byte
		for _, n := range names {
			all = append(all, extra[n]...)
		}
		for len(all) > 0 {
			n := min(len(all), 32768)
			h = le.AppendUint32(h, 0)
			h = le.AppendUint16(h, uint16(n))
			h = le.AppendUint16(h, uint16(n))
			h = append(h, all[:n]...)
			all = all[n:]
		}
	}
	le.PutUint32(h[8:], uint32(len(h)))
	return h
}
