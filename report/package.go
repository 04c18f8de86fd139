package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/kbplan/kbplan/assess"
	"github.com/kbplan/kbplan/authenticode"
	"github.com/kbplan/kbplan/msu"
)

// PackageJSON is `kbplan inspect --json` and one element of
// `kbplan verify --json` (docs/json.md).
type PackageJSON struct {
	File          string                   `json:"file"`
	Size          int64                    `json:"size"`
	SHA256        string                   `json:"sha256"`
	SHA1          string                   `json:"sha1,omitempty"` // kbplan kit: the file's SHA-1, against Microsoft's names
	Format        string                   `json:"format"`         // "msu" or "cab"
	KB            *string                  `json:"kb"`
	KBSource      string                   `json:"kbSource,omitempty"`
	Architecture  *string                  `json:"architecture"`
	Language      *string                  `json:"language"`
	Applicability []string                 `json:"applicability"`
	Properties    map[string]string        `json:"properties"`
	Updates       []PackageUpdateJSON      `json:"updates"`
	Files         []msu.File               `json:"files"`
	Signed        bool                     `json:"signed"`
	Genuine       bool                     `json:"genuine"` // signed, and every signature valid and chained to a trusted root
	Signatures    []authenticode.Signature `json:"signatures"`
	SignatureErr  string                   `json:"signatureError,omitempty"`
	Host          *string                  `json:"host,omitempty"`
	Verdict       *assess.PackageVerdict   `json:"verdict,omitempty"`
}

// PackageUpdateJSON is one update cabinet of a package.
type PackageUpdateJSON struct {
	Name        string       `json:"name"`
	Identity    msu.Identity `json:"identity"`
	KB          *string      `json:"kb"`
	ReleaseType string       `json:"releaseType"`
	Restart     string       `json:"restart"`
	Files       []msu.File   `json:"files"`
}

// Package builds the JSON form.
func Package(file string, size int64, sha string, p *msu.Package, sigs []authenticode.Signature, sigErr error) PackageJSON {
	j := PackageJSON{File: file, Size: size, SHA256: sha, Format: p.Format, KB: str(p.KB), KBSource: p.KBSource,
		Architecture: str(p.Architecture), Language: str(p.Language), Applicability: nonNil(p.Applicability),
		Properties: p.Properties, Files: p.Files, Signatures: sigs, Updates: []PackageUpdateJSON{}}
	if j.Files == nil {
		j.Files = []msu.File{}
	}
	if j.Signatures == nil {
		j.Signatures = []authenticode.Signature{}
	}
	for _, u := range p.Updates {
		files := u.Files
		if files == nil {
			files = []msu.File{}
		}
		j.Updates = append(j.Updates, PackageUpdateJSON{Name: u.Name, Identity: u.Identity, KB: str(u.KB), ReleaseType: u.ReleaseType, Restart: u.Restart, Files: files})
	}
	j.Signed = len(sigs) > 0
	j.Genuine = authenticode.Genuine(sigs, sigErr)
	if sigErr != nil {
		j.SignatureErr = sigErr.Error()
	}
	return j
}

// WritePackageText renders a package for people.
func WritePackageText(w io.Writer, j PackageJSON, listFiles bool) error {
	var b strings.Builder
	kb := "unknown"
	if j.KB != nil {
		kb = *j.KB
	}
	fmt.Fprintf(&b, "%s: %s %s", j.File, kb, j.Format)
	if j.Architecture != nil {
		fmt.Fprintf(&b, " %s", *j.Architecture)
	}
	fmt.Fprintf(&b, ", %d bytes\n  SHA-256       %s\n", j.Size, j.SHA256)
	if len(j.Applicability) > 0 {
		fmt.Fprintf(&b, "  Applies to    %s\n", strings.Join(j.Applicability, "; "))
	}
	for _, u := range j.Updates {
		fmt.Fprintf(&b, "  Update        %s %s (%s, restart %s)\n", u.Identity.Name, u.Identity.Version, orDash(u.ReleaseType), orDash(u.Restart))
	}
	switch {
	case !j.Signed && j.SignatureErr != "":
		fmt.Fprintf(&b, "  Signature     NONE VALID: %s\n", j.SignatureErr)
	case !j.Signed:
		b.WriteString("  Signature     none: the file is not signed\n")
	}
	for _, s := range j.Signatures {
		fmt.Fprintf(&b, "  Signature     %s\n", strings.ReplaceAll(s.Summary(), "\n", "\n              "))
	}
	if j.Signed {
		verdict := "GENUINE: every signature is valid and chains to a trusted root"
		if !j.Genuine {
			verdict = "NOT GENUINE: see the signatures above"
		}
		fmt.Fprintf(&b, "  Verdict       %s\n", verdict)
	}
	if j.Verdict != nil {
		fmt.Fprintf(&b, "  On %-10s %s\n", *j.Host, j.Verdict.Message)
	}
	if listFiles {
		for _, f := range j.Files {
			fmt.Fprintf(&b, "    %12d  %s\n", f.Size, f.Name)
		}
		for _, u := range j.Updates {
			for _, f := range u.Files {
				fmt.Fprintf(&b, "    %12d  %s\\%s\n", f.Size, u.Name, f.Name)
			}
		}
	}
	err := writeText(w, b.String())
	return err
}
