// Package msu reads Microsoft Update Standalone packages (.msu) and the
// update cabinets inside them.
//
// An .msu is a cabinet holding (Microsoft KB934307, "Description of the
// Windows Update Standalone Installer"; Microsoft TechNet, "How to know
// whether a fix can be applied to Vista or Server 2008", 2008-08-25):
//   - one or more update cabinets (Windows6.0-KB4474419-v3-x64.cab), each
//     holding update.mum, the CBS package manifest;
//   - a properties file (…-pkgProperties.txt) of Name="value" lines:
//     ApplicabilityInfo, Applies to, KB Article Number, Processor
//     Architecture, Language, Package Type, Product Name, …;
//   - WSUSSCAN.cab, the Windows Update applicability metadata;
//   - an .xml file for pkgmgr/wusa.
//
// Read accepts an .msu, a bare update cabinet, or any other cabinet (then
// with no KB and no updates).
package msu

import (
	"bytes"
	"encoding/binary"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	"github.com/kbplan/kbplan/budget"
	"github.com/kbplan/kbplan/cab"
	"github.com/kbplan/kbplan/internal/lazyre"
	"github.com/kbplan/kbplan/inventory"
)

// Package is what an .msu (or update cabinet) says about itself.
type Package struct {
	Format string // "msu" or "cab"
	// KB is "KB4474419", from the properties file, else update.mum, else
	// the file names; KBSource says which.
	KB       string
	KBSource string
	// Properties are the pkgProperties.txt values, by name.
	Properties map[string]string
	// Applicability is ApplicabilityInfo split at ";" (for example
	// "Windows Vista SP2", "Windows Server 2008 SP2").
	Applicability []string
	// Architecture is "x86", "x64" or "ia64" (from the properties or
	// update.mum); Language "neutral", "ALL" or a culture.
	Architecture string
	Language     string
	// Updates are the update cabinets with their CBS identity.
	Updates []Update
	// Files are the outer cabinet's files.
	Files []File
}

// Update is one update cabinet.
type Update struct {
	Name        string
	Identity    Identity // update.mum's assemblyIdentity
	ReleaseType string   // "Security Update", "Update", "Hotfix", ...
	Restart     string   // "required", "possible", "" when not stated
	KB          string   // package/@identifier
	Files       []File
}

// Identity is a CBS assembly identity.
type Identity struct {
	Name                  string `xml:"name,attr" json:"name"`
	Version               string `xml:"version,attr" json:"version"`
	ProcessorArchitecture string `xml:"processorArchitecture,attr" json:"processorArchitecture"`
	Language              string `xml:"language,attr" json:"language"`
	PublicKeyToken        string `xml:"publicKeyToken,attr" json:"publicKeyToken"`
}

// File is a name and a size.
type File struct {
	Name string `json:"name"`
	Size int64  `json:"size"`
}

// mum is the part of update.mum kbplan reads.
type mum struct {
	Identity Identity `xml:"assemblyIdentity"`
	Package  struct {
		Identifier  string `xml:"identifier,attr"`
		ReleaseType string `xml:"releaseType,attr"`
		Restart     string `xml:"restart,attr"`
	} `xml:"package"`
}

// Limits on what Read decompresses to look inside: metadata files are
// small; an update cabinet is spilled to a temporary file.
const (
	maxMeta     = 4 << 20
	maxInnerMem = 16 << 20
)

var kbName = lazyre.New(`(?i)KB(\d{6,8})`)

// Limit is the default budget of a package of size bytes: what reading
// it may inflate, in both cabinet layers. An .msu's outer cabinet stores
// its update cabinet almost as is, and LZX rarely packs update files more
// than tenfold; a bomb inflates a thousandfold.
func Limit(size int64) int64 { return 64<<20 + 32*size }

// Read reads a package from r (size bytes). b bounds the decompression;
// nil means Limit(size).
func Read(r io.ReaderAt, size int64, b *budget.Budget) (*Package, error) {
	if b == nil {
		b = budget.New(nil, "the package", Limit(size))
	}
	c, err := cab.NewReader(r, size)
	if err != nil {
		return nil, err
	}
	c.Budget = b
	p := &Package{Format: "cab", Properties: map[string]string{}}
	for _, f := range c.Files {
		p.Files = append(p.Files, File{Name: f.Name, Size: f.Size})
	}
	if find(c, "update.mum") != nil {
		u, err := readUpdate("", c)
		if err != nil {
			return nil, err
		}
		p.Updates = append(p.Updates, *u)
		p.finish()
		return p, nil
	}
	p.Format = "msu"
	// One pass over the outer cabinet: its files usually share one folder,
	// so opening them one by one would decompress the update cabinet again
	// for every file after it. The pass stops after the last file of
	// interest, and does not start when there is none.
	wanted := 0
	for _, f := range c.Files {
		if kind(f) != "" {
			wanted++
		}
	}
	errDone := errors.New("done")
	if wanted > 0 {
		err = c.Walk(func(f *cab.File, r io.Reader) error {
			k := kind(f)
			if k != "" {
				wanted--
			}
			switch k {
			case "properties":
				b, err := small(f, r)
				if err != nil {
					return err
				}
				p.Properties = parseProperties(b)
			case "update":
				u, err := readInner(f, r, b)
				if err != nil {
					return fmt.Errorf("%s: %w", f.Name, err)
				}
				p.Updates = append(p.Updates, *u)
			}
			if wanted == 0 {
				return errDone
			}
			return nil
		})
	}
	if err != nil && !errors.Is(err, errDone) {
		return nil, err
	}
	if len(p.Updates) == 0 && len(p.Properties) == 0 {
		// A cabinet, but no update package: its files and signature still
		// tell something.
		p.Format = "cab"
	}
	p.finish()
	return p, nil
}

func find(c *cab.Reader, base string) *cab.File {
	for _, f := range c.Files {
		if strings.EqualFold(path.Base(strings.ReplaceAll(f.Name, `\`, "/")), base) {
			return f
		}
	}
	return nil
}

// small reads a metadata file from r (or opens it when r is nil),
// refusing one larger than maxMeta.
func small(f *cab.File, r io.Reader) ([]byte, error) {
	if f.Size > maxMeta {
		return nil, fmt.Errorf("%s: %d bytes is too large for a metadata file (at most %d)", f.Name, f.Size, maxMeta)
	}
	if r == nil {
		rc, err := f.Open()
		if err != nil {
			return nil, err
		}
		defer rc.Close()
		r = rc
	}
	return io.ReadAll(r)
}

// readInner reads an update cabinet inside an .msu from rc: in memory when
// small, else through a temporary file that is removed afterwards. Its
// header is checked first (a cabinet no larger than the member),
// so nothing that is not one reaches the disk; what is spilled was already
// counted against b by the outer cabinet's decoder.
func readInner(f *cab.File, rc io.Reader, b *budget.Budget) (*Update, error) {
	var head [36]byte
	if _, err := io.ReadFull(rc, head[:]); err != nil {
		return nil, fmt.Errorf("not an update cabinet: %w", err)
	}
	// A signed cabinet's signature follows the cbCabinet bytes, so the
	// header may claim less than the member holds, never more.
	if claim := int64(binary.LittleEndian.Uint32(head[8:])); string(head[:4]) != "MSCF" || claim > f.Size || claim < 36 {
		return nil, fmt.Errorf("not an update cabinet of %d bytes (it starts %q and claims %d bytes)", f.Size, head[:4], claim)
	}
	rest := io.MultiReader(bytes.NewReader(head[:]), rc)
	var ra io.ReaderAt
	if f.Size <= maxInnerMem {
		data, err := io.ReadAll(rest)
		if err != nil {
			return nil, err
		}
		ra = bytes.NewReader(data)
	} else {
		tmp, err := os.CreateTemp("", "kbplan-msu-*.cab")
		if err != nil {
			return nil, err
		}
		defer os.Remove(tmp.Name())
		defer tmp.Close()
		if _, err := io.Copy(tmp, rest); err != nil {
			return nil, err
		}
		ra = tmp
	}
	c, err := cab.NewReader(ra, f.Size)
	if err != nil {
		return nil, err
	}
	c.Budget = b
	return readUpdate(f.Name, c)
}

func readUpdate(name string, c *cab.Reader) (*Update, error) {
	u := &Update{Name: name}
	for _, f := range c.Files {
		u.Files = append(u.Files, File{Name: f.Name, Size: f.Size})
	}
	mf := find(c, "update.mum")
	if mf == nil {
		return u, nil
	}
	b, err := small(mf, nil)
	if err != nil {
		return nil, err
	}
	var m mum
	if err := xml.Unmarshal(bytes.TrimPrefix(b, []byte("\xef\xbb\xbf")), &m); err != nil {
		return nil, fmt.Errorf("update.mum: %w (expected a CBS assembly manifest)", err)
	}
	u.Identity, u.ReleaseType, u.Restart = m.Identity, m.Package.ReleaseType, m.Package.Restart
	if kb, ok := inventory.NormalizeKB(m.Package.Identifier); ok {
		u.KB = kb
	}
	return u, nil
}

// parseProperties reads Name="value" lines (UTF-16 or UTF-8).
func parseProperties(b []byte) map[string]string {
	enc, bom := inventory.DetectEncoding(b)
	text, _ := io.ReadAll(inventory.Decoder(bytes.NewReader(b[bom:]), enc))
	out := map[string]string{}
	for _, line := range strings.Split(string(text), "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), "=")
		if !ok {
			continue
		}
		out[strings.TrimSpace(k)] = strings.Trim(strings.TrimSpace(v), `"`)
	}
	return out
}

var archNames = map[string]string{"x86": "x86", "amd64": "x64", "x64": "x64", "ia64": "ia64", "wow64": "x64"}

func (p *Package) finish() {
	if kb, ok := inventory.NormalizeKB(p.Properties["KB Article Number"]); ok {
		p.KB, p.KBSource = kb, "pkgProperties.txt KB Article Number"
	}
	for _, u := range p.Updates {
		if p.KB == "" && u.KB != "" {
			p.KB, p.KBSource = u.KB, "update.mum package identifier"
		}
		if p.KB == "" {
			if m := kbName.FindStringSubmatch(u.Identity.Name); m != nil {
				p.KB, p.KBSource = "KB"+m[1], "update.mum assembly name"
			}
		}
	}
	p.Architecture = archNames[strings.ToLower(p.Properties["Processor Architecture"])]
	p.Language = p.Properties["Language"]
	for _, u := range p.Updates {
		if p.Architecture == "" {
			p.Architecture = archNames[strings.ToLower(u.Identity.ProcessorArchitecture)]
		}
		if p.Language == "" {
			p.Language = u.Identity.Language
		}
	}
	for _, a := range strings.Split(p.Properties["ApplicabilityInfo"], ";") {
		if a = strings.TrimSpace(a); a != "" {
			p.Applicability = append(p.Applicability, a)
		}
	}
}

// kind says what a file of an .msu is to kbplan: "properties", "update"
// (an update cabinet), or "" (WSUSSCAN.cab, the .xml, anything else).
func kind(f *cab.File) string {
	name := strings.ToLower(path.Base(strings.ReplaceAll(f.Name, `\`, "/")))
	switch {
	case strings.HasSuffix(name, "-pkgproperties.txt"):
		return "properties"
	case strings.HasSuffix(name, ".cab") && name != "wsusscan.cab":
		return "update"
	}
	return ""
}
