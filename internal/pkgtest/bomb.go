package pkgtest

import (
	"bytes"
	"compress/flate"
	"maps"
	"slices"
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

	c := Cab{SetID: 0x4242}
	bomb := CabFolder{Compression: 1} // MSZIP
	for range blocks {
		bomb.Blocks = append(bomb.Blocks, CabBlock{Data: block, Size: 32768})
	}
	c.Folders = append(c.Folders, bomb)
	for _, f := range files {
		c.Files = append(c.Files, CabFile{Name: f.Name, Offset: f.Offset, Size: f.Size})
	}
	if len(extra) > 0 {
		stored := CabFolder{} // no compression
		var all []byte
		for _, n := range slices.Sorted(maps.Keys(extra)) {
			c.Files = append(c.Files, CabFile{Name: n, Folder: 1, Offset: uint32(len(all)), Size: uint32(len(extra[n]))})
			all = append(all, extra[n]...)
		}
		for len(all) > 0 {
			n := min(len(all), 32768)
			stored.Blocks = append(stored.Blocks, CabBlock{Data: all[:n], Size: n})
			all = all[n:]
		}
		c.Folders = append(c.Folders, stored)
	}
	return c.Bytes()
}
