package pkgtest

import "encoding/binary"

// Cab is a cabinet to write byte by byte, for the cases no tool makes
// (bombs, overlapping files, LZX from the test encoder). The layout is
// Microsoft's [MS-CAB] (CFHEADER, CFFOLDER, CFFILE, CFDATA).
type Cab struct {
	SetID   uint16
	Folders []CabFolder
	Files   []CabFile
	// Sum is the CFDATA checksum function (cab's checksum); nil writes
	// blocks without a checksum.
	Sum func(p []byte, seed uint32) uint32
}

// CabFolder is a folder: its compression (typeCompress) and data blocks.
type CabFolder struct {
	Compression uint16
	Blocks      []CabBlock
}

// CabBlock is one CFDATA block: its compressed bytes and the size they
// expand to.
type CabBlock struct {
	Data []byte
	Size int
}

// CabFile is a file at an offset and size in its folder's uncompressed
// bytes.
type CabFile struct {
	Name         string
	Folder       uint16
	Offset, Size uint32
}

// Bytes writes the cabinet.
func (c Cab) Bytes() []byte {
	le := binary.LittleEndian
	var h []byte
	h = append(h, "MSCF"...)
	h = le.AppendUint32(h, 0)
	h = le.AppendUint32(h, 0) // cbCabinet, set below
	h = le.AppendUint32(h, 0)
	h = le.AppendUint32(h, 0) // coffFiles, set below
	h = le.AppendUint32(h, 0)
	h = append(h, 3, 1)
	h = le.AppendUint16(h, uint16(len(c.Folders)))
	h = le.AppendUint16(h, uint16(len(c.Files)))
	h = le.AppendUint16(h, 0) // flags: no reserve, no linked cabinets
	h = le.AppendUint16(h, c.SetID)
	h = le.AppendUint16(h, 0)
	folderAt := len(h)
	for _, f := range c.Folders {
		h = le.AppendUint32(h, 0) // coffCabStart, set below
		h = le.AppendUint16(h, uint16(len(f.Blocks)))
		h = le.AppendUint16(h, f.Compression)
	}
	le.PutUint32(h[16:], uint32(len(h)))
	for _, f := range c.Files {
		h = le.AppendUint32(h, f.Size)
		h = le.AppendUint32(h, f.Offset)
		h = le.AppendUint16(h, f.Folder)
		h = le.AppendUint16(h, 0x5a8c) // 2025-04-12
		h = le.AppendUint16(h, 0x6000) // 12:00:00
		h = le.AppendUint16(h, 0x20)   // archive
		h = append(h, f.Name...)
		h = append(h, 0)
	}
	for i, f := range c.Folders {
		le.PutUint32(h[folderAt+8*i:], uint32(len(h)))
		for _, b := range f.Blocks {
			var d [8]byte
			le.PutUint16(d[4:], uint16(len(b.Data)))
			le.PutUint16(d[6:], uint16(b.Size))
			if c.Sum != nil {
				le.PutUint32(d[0:], c.Sum(d[4:8], c.Sum(b.Data, 0)))
			}
			h = append(h, d[:]...)
			h = append(h, b.Data...)
		}
	}
	le.PutUint32(h[8:], uint32(len(h)))
	return h
}
