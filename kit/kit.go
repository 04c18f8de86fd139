// Package kit turns a host's plan and a folder of update packages into an
// offline kit: each plan step matched to a package by the KB and
// architecture the package itself declares (never by its file name),
// checked (genuine, and installable on the host as it will be at that
// step), in plan order, with the restarts and what is missing.
//
// Build is pure: package facts come from package msu and authenticode, the
// plan from assess; the caller copies files and writes the manifest.
package kit

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/kbplan/kbplan/assess"
	"github.com/kbplan/kbplan/catalog"
)

// Version is the manifest format version (docs/kit.md).
const Version = 1

// Package is one file found in the packages folder, already inspected.
type Package struct {
	Path       string // as found
	Name       string // base name
	Size       int64
	SHA256     string
	SHA1       string // "" when not computed
	Format     string // "msu" or "cab"
	Facts      assess.PackageFacts
	Signatures []Signature
}

// Signature is the manifest's summary of one signature.
type Signature struct {
	DigestAlgorithm string     `json:"digestAlgorithm"`
	Signer          string     `json:"signer"`
	Timestamp       *time.Time `json:"timestamp"`
	Valid           bool       `json:"valid"`
}

// Step is one install step of the kit.
type Step struct {
	Order       int         `json:"order"`
	KB          string      `json:"kb"`
	Kind        string      `json:"kind"`
	Title       string      `json:"title"`
	File        string      `json:"file"`   // relative to the kit: packages/NAME
	Source      string      `json:"source"` // the package's name where it was found
	Size        int64       `json:"size"`
	SHA256      string      `json:"sha256"`
	Installer   string      `json:"installer"` // "wusa" for .msu, "pkgmgr" for an expanded .cab
	Signatures  []Signature `json:"signatures"`
	RebootAfter bool        `json:"rebootAfter"`
	Verdict     string      `json:"verdict"`
	Why         string      `json:"why"`
	// Microsoft names the catalog file whose SHA-1 the package has,
	// whatever it is called here: it is that file, byte for byte.
	Microsoft *MicrosoftFile `json:"microsoftFile,omitempty"`
	source    string         // the package file to copy
	planIndex int            // its step in the plan
}

// MicrosoftFile is the Microsoft file a package was recognised as.
type MicrosoftFile struct {
	Name   string `json:"name"`
	SHA1   string `json:"sha1"`
	Source string `json:"source"`
}

// Missing is a plan step the kit cannot cover.
type Missing struct {
	KB         string `json:"kb"`
	Kind       string `json:"kind"`
	Title      string `json:"title"`
	CatalogURL string `json:"catalogUrl"`
	// File, URL and SHA1 name Microsoft's package for the host, when a
	// source gives it (catalog files.csv): `kbplan download` fetches it.
	File     string   `json:"file,omitempty"`
	URL      string   `json:"url,omitempty"`
	SHA1     string   `json:"sha1,omitempty"`
	Rejected []string `json:"rejected"` // packages for this KB that were not usable, and why
}

// Host is what install.cmd checks before it starts.
type Host struct {
	Hostname     string `json:"hostname"`
	Product      string `json:"product"`
	Build        int    `json:"build"`
	Architecture string `json:"architecture"`
}

// Manifest is kit.json.
type Manifest struct {
	Version  int       `json:"version"`
	ID       string    `json:"id"` // ties install.state to this kit
	Created  string    `json:"created"`
	Host     Host      `json:"host"`
	Strategy string    `json:"strategy"`
	Channel  string    `json:"channel"`
	Steps    []Step    `json:"steps"`
	Missing  []Missing `json:"missing"`
	Reboots  int       `json:"reboots"`
	Complete bool      `json:"complete"`
}

// CatalogURL is the Microsoft Update Catalog search for a KB.
func CatalogURL(kb string) string {
	return "https://www.catalog.update.microsoft.com/Search.aspx?q=" + url.QueryEscape(kb)
}

// Build matches the plan of a to pkgs. created stamps the manifest.
func Build(a assess.Assessment, c *catalog.Catalog, pkgs []Package, created time.Time) Manifest {
	h := a.Host
	m := Manifest{Version: Version, Created: created.UTC().Format(time.RFC3339),
		Strategy: string(a.Plan.Strategy), Channel: string(a.Plan.Channel), Steps: []Step{}, Missing: []Missing{}}
	m.Host = Host{Hostname: h.Hostname, Product: h.OS.Product, Architecture: h.OS.Architecture}
	if h.OS.Version != nil {
		m.Host.Build = h.OS.Version.Build
	}
	byKB := map[string][]Package{}
	for _, p := range pkgs {
		if p.Facts.KB != "" {
			byKB[p.Facts.KB] = append(byKB[p.Facts.KB], p)
		}
	}
	var before []string
	taken := map[string]bool{}
	for planIndex, s := range a.Plan.Steps {
		cands := byKB[s.KB]
		// Deterministic choice among usable copies: an .msu before an
		// expanded cabinet, then by name.
		sort.SliceStable(cands, func(i, j int) bool {
			if (cands[i].Format == "msu") != (cands[j].Format == "msu") {
				return cands[i].Format == "msu"
			}
			return cands[i].Name < cands[j].Name
		})
		var rejected []string
		var chosen *Package
		var verdict assess.PackageVerdict
		for i := range cands {
			p := &cands[i]
			// A file named as Microsoft names its files carries their
			// SHA-1: one whose content has another was renamed or altered.
			if want, ok := catalog.NameSHA1(p.Name); ok && p.SHA1 != "" && want != p.SHA1 {
				rejected = append(rejected, fmt.Sprintf("%s: its name carries the SHA-1 %s, but the file's is %s: it was altered or renamed from another file", p.Name, want, p.SHA1))
				continue
			}
			v := assess.JudgeAfter(h, c, p.Facts, before)
			if v.Verdict == assess.WillInstall {
				chosen, verdict = p, v
				break
			}
			rejected = append(rejected, fmt.Sprintf("%s: %s", p.Name, v.Message))
		}
		if chosen == nil {
			// Later steps are judged without it: a missing SHA-2 update
			// makes the SHA-2-only packages after it fail too.
			miss := Missing{KB: s.KB, Kind: string(s.Kind), Title: s.Title, CatalogURL: CatalogURL(s.KB), Rejected: nonNil(rejected)}
			if f := s.File; f != nil {
				miss.File, miss.URL, miss.SHA1 = f.Name, f.URL, f.SHA1
			}
			m.Missing = append(m.Missing, miss)
			continue
		}
		installer := "wusa"
		if chosen.Format != "msu" {
			installer = "pkgmgr"
		}
		order := len(m.Steps) + 1
		name := kitName(order, s.KB, *chosen, taken)
		m.Steps = append(m.Steps, Step{
			Order: order, KB: s.KB, Kind: string(s.Kind), Title: s.Title,
			File: "packages/" + name, Source: chosen.Name, Size: chosen.Size, SHA256: chosen.SHA256, Installer: installer,
			Signatures: chosen.Signatures, RebootAfter: s.RebootAfter || chosen.Facts.Restart == "required", Verdict: verdict.Verdict, Why: s.Why, source: chosen.Path, planIndex: planIndex,
		})
		if chosen.SHA1 != "" {
			if u, f := c.FileBySHA1(chosen.SHA1); f != nil && u.KB == s.KB {
				m.Steps[len(m.Steps)-1].Microsoft = &MicrosoftFile{Name: f.Name, SHA1: f.SHA1, Source: f.Source}
			}
		}
		before = append(before, s.KB)
	}
	// A restart that the plan puts after a missing step still has to
	// happen: move it to the last step before it.
	for i, s := range a.Plan.Steps {
		if !s.RebootAfter {
			continue
		}
		// (A package whose update.mum requires a restart has one already.)
		for j := len(m.Steps) - 1; j >= 0; j-- {
			if m.Steps[j].planIndex <= i {
				m.Steps[j].RebootAfter = true
				break
			}
		}
	}
	for _, s := range m.Steps {
		if s.RebootAfter {
			m.Reboots++
		}
	}
	m.Complete = len(m.Missing) == 0
	m.ID = manifestID(m)
	return m
}

// kitName is the package's name in the kit: its own name when cmd can
// carry it (letters, digits, '-', '_', '.') and no other step has it
// (Windows compares names without case); otherwise NN-KB-ARCH.EXT.
func kitName(order int, kb string, p Package, taken map[string]bool) string {
	name := p.Name
	if cmdSafe("", name, false) != nil || taken[strings.ToLower(name)] {
		arch := p.Facts.Architecture
		if arch == "" {
			arch = "neutral"
		}
		name = fmt.Sprintf("%02d-%s-%s.%s", order, kb, arch, p.Format)
	}
	taken[strings.ToLower(name)] = true
	return name
}

// manifestID is a short digest of what install.cmd acts on: the host and
// each step's package.
func manifestID(m Manifest) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%s\n%d\n%s\n", m.Created, m.Host.Hostname, m.Host.Build, m.Host.Architecture)
	for _, s := range m.Steps {
		fmt.Fprintf(h, "%d %s %s %s %t\n", s.Order, s.KB, s.File, s.SHA256, s.RebootAfter)
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// Sources returns, per step, the package file to copy into the kit.
func (m Manifest) Sources() map[string]string {
	out := map[string]string{}
	for _, s := range m.Steps {
		out[s.File] = s.source
	}
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// Summary is the text report of a kit.
func (m Manifest) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Kit for %s (%s, build %d, %s): %d steps, %d restarts\n", m.Host.Hostname, m.Host.Product, m.Host.Build, m.Host.Architecture, len(m.Steps), m.Reboots)
	for _, s := range m.Steps {
		r := ""
		if s.RebootAfter {
			r = ", then restart"
		}
		fmt.Fprintf(&b, "  %3d. %-10s %-14s %s%s\n", s.Order, s.KB, s.Kind, s.File, r)
	}
	if len(m.Missing) > 0 {
		fmt.Fprintf(&b, "Missing %d packages (the kit is incomplete):\n", len(m.Missing))
		for _, x := range m.Missing {
			where := x.CatalogURL
			if x.URL != "" {
				where = x.URL
			}
			fmt.Fprintf(&b, "  %-10s %-14s %s\n             %s\n", x.KB, x.Kind, x.Title, where)
			for _, r := range x.Rejected {
				fmt.Fprintf(&b, "             rejected %s\n", r)
			}
		}
	}
	return b.String()
}
