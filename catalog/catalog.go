// Package catalog holds kbplan's fact base for Windows Server 2008 SP2 and
// Windows Vista SP2: every update (monthly rollups, security-only updates,
// previews, servicing stacks, SHA-2 support, ESU preparation, standalone,
// IE and .NET updates), its supersedence, prerequisites and channel, and the
// lifecycle dates. Every row names its source.
//
// The data lives in updates.csv and lifecycle.csv, embedded in the binary
// and parsed on first use. updates.csv is generated (go generate) from the
// curated table and MSRC data in internal/gen/data plus manual.csv; see README.md.
package catalog

//go:generate go run ./internal/gen -data internal/gen/data -out updates.csv -files files.csv

import (
	_ "embed"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/kbplan/kbplan/winver"
)

//go:embed updates.csv
var updatesCSV string

//go:embed lifecycle.csv
var lifecycleCSV string

// Kind is the kind of an update.
type Kind string

// The kinds of update kbplan knows.
const (
	ServicePack   Kind = "service-pack"
	SSU           Kind = "ssu"
	SHA2          Kind = "sha2"
	ESUPrep       Kind = "esu-prep"
	Rollup        Kind = "rollup"
	PreviewRollup Kind = "preview-rollup"
	SecurityOnly  Kind = "security-only"
	IE            Kind = "ie"
	DotNet        Kind = "dotnet"
	Standalone    Kind = "standalone"
)

var kinds = []Kind{ServicePack, SSU, SHA2, ESUPrep, Rollup, PreviewRollup, SecurityOnly, IE, DotNet, Standalone}

// Monthly reports whether the kind is one of the monthly OS updates.
func (k Kind) Monthly() bool { return k == Rollup || k == SecurityOnly || k == PreviewRollup }

// Channel says who can get an update.
type Channel string

// The channels, from the lifecycle dates (lifecycle.csv): public until
// extended support ended (2020-01-14), ESU years 1–3 until 2023-01-10, the
// Azure-only fourth year until 2024-01-09, custom agreements after that.
const (
	Public   Channel = "public"
	ESU      Channel = "esu"
	AzureESU Channel = "azure-esu"
	Custom   Channel = "custom"
)

var channels = []Channel{Public, ESU, AzureESU, Custom}

// Update is one row of the catalog.
type Update struct {
	KB            string
	Kind          Kind
	Title         string
	Released      Date
	Channel       Channel
	Products      []string // "server2008", "vista"
	Architectures []string // "x86", "x64", "ia64"; empty when no source states them
	Build         int      // the OS build after installing it (6002, 6003), 0 when not stated
	Revision      string   // the ntoskrnl/OS version it produces, "" when no source gives it
	RaisesBuild   int      // the build this update raised the OS to, for the one that did
	Supersedes    []string
	Prerequisites []string // each: this KB or any KB that supersedes it
	Reboot        *bool    // nil: no source states it
	SHA2Only      *bool
	// Components are what the update applies to: empty for the OS itself,
	// else a host needs one of them (IE 9, .NET 3.5, ...).
	Components []Component
	// Family names a cumulative family (FamilyIECumulative): a member
	// replaces every older member for the components they share.
	Family string
	// Roles are the parts this update plays in every plan (RoleSHA2, ...).
	Roles  []Role
	Source string
	// Sources are the families of the entries in Source, in order:
	// "msrc" (through wesng), "updatevista", "wsusoffline" (the
	// Windows-Update-derived lists), "microsoft" (its pages and docs),
	// "other". The curated table's own entry names no family: its row's
	// sources are listed beside it.
	Sources []string
	Notes   string
	// Files are Microsoft's package files of the update (files.csv).
	Files []File
	Line  int // line in the catalog file, for messages
	Index int // position in Catalog.Updates
}

// ForOS reports whether the update is for the OS itself rather than for a
// component a host may lack.
func (u *Update) ForOS() bool { return len(u.Components) == 0 || slices.Contains(u.Components, OS) }

// HasRole reports whether the update plays a role.
func (u *Update) HasRole(r Role) bool { return slices.Contains(u.Roles, r) }

// AppliesTo reports whether the update applies to a product ("server2008"
// or "vista") and architecture. An update without stated architectures
// applies to every architecture of its products.
func (u *Update) AppliesTo(product, arch string) bool {
	if !slices.Contains(u.Products, product) {
		return false
	}
	return arch == "" || len(u.Architectures) == 0 || slices.Contains(u.Architectures, arch)
}

// Milestone is one lifecycle date.
type Milestone struct {
	Product string // "server2008", "vista"
	Event   string // "extended-end", "esu-end", ...
	Date    Date
	Source  string
}

// Catalog is a loaded, indexed catalog.
type Catalog struct {
	Name         string // "embedded" or the file it was loaded from
	Version      string // digest of the catalog's data: the fleet reassesses hosts when it changes
	Updates      []*Update
	Lifecycle    []Milestone
	byKB         map[string]*Update
	byRole       map[Role]*Update
	supersededBy map[string][]string
	closure      map[string][]string
	closureIdx   [][]int
	newestOnce   sync.Once
	newest       Date
	revisionOnce sync.Once
	revision     winver.Version
}

// Get returns the update with the given KB id ("KB4489887").
func (c *Catalog) Get(kb string) (*Update, bool) {
	u, ok := c.byKB[strings.ToUpper(strings.TrimSpace(kb))]
	return u, ok
}

// SupersededBy returns the updates that directly supersede kb.
func (c *Catalog) SupersededBy(kb string) []string { return c.supersededBy[kb] }

// Covers reports whether kb, or an update that supersedes it (directly or
// through a chain), is in installed. It returns the installed KB that
// covers it: kb itself first, then the nearest superseder.
func (c *Catalog) Covers(installed map[string]bool, kb string) (string, bool) {
	if installed[kb] {
		return kb, true
	}
	for _, s := range c.Superseders(kb) {
		if installed[s] {
			return s, true
		}
	}
	return "", false
}

// Superseders returns every update that supersedes kb, directly or through
// a chain, nearest first. It is computed when the catalog is loaded.
func (c *Catalog) Superseders(kb string) []string { return c.closure[kb] }

// SupersederIndexes is Superseders as positions in Updates, for callers
// that keep per-update state in slices.
func (c *Catalog) SupersederIndexes(i int) []int { return c.closureIdx[i] }

// MaxClosure bounds the supersedence closure (every update's superseders,
// direct or through a chain): the embedded catalog's has about 18,000
// entries; a hostile file with one long chain would need its length squared.
const MaxClosure = 2_000_000

// buildClosure computes every update's superseders, nearest first. It
// fails when the closure would exceed MaxClosure entries.
func (c *Catalog) buildClosure() error {
	c.closure = make(map[string][]string, len(c.supersededBy))
	total := 0
	seen := map[string]bool{}
	var queue []string
	for kb := range c.supersededBy {
		clear(seen)
		seen[kb] = true
		queue = append(queue[:0], kb)
		var out []string
		for i := 0; i < len(queue); i++ {
			for _, s := range c.supersededBy[queue[i]] {
				if !seen[s] {
					seen[s] = true
					out = append(out, s)
					queue = append(queue, s)
				}
			}
		}
		if total += len(out); total > MaxClosure {
			return fmt.Errorf("its supersedence chains are too long (more than %d superseder links in all; the embedded catalog has about 18,000): this is not an update catalog", MaxClosure)
		}
		c.closure[kb] = out
	}
	c.closureIdx = make([][]int, len(c.Updates))
	for i, u := range c.Updates {
		for _, s := range c.closure[u.KB] {
			if v, ok := c.byKB[s]; ok {
				c.closureIdx[i] = append(c.closureIdx[i], v.Index)
			}
		}
	}
	return nil
}

// Milestone returns a lifecycle date.
func (c *Catalog) Milestone(product, event string) (Milestone, bool) {
	for _, m := range c.Lifecycle {
		if m.Product == product && m.Event == event {
			return m, true
		}
	}
	return Milestone{}, false
}

var defaultCatalog = sync.OnceValues(func() (*Catalog, error) {
	return Parse("embedded", strings.NewReader(updatesCSV), strings.NewReader(lifecycleCSV))
})

// Fresh parses the embedded catalog anew: a copy of its own, for a caller
// that adds to it (AddFiles) without touching the one Default shares.
func Fresh() (*Catalog, error) {
	return Parse("embedded", strings.NewReader(updatesCSV), strings.NewReader(lifecycleCSV))
}

// Default returns the embedded catalog, parsed on first use. An error
// means the binary was built with a broken catalog; the tests prevent that.
func Default() (*Catalog, error) { return defaultCatalog() }

func (c *Catalog) index() {
	c.byKB = make(map[string]*Update, len(c.Updates))
	c.supersededBy = map[string][]string{}
	c.byRole = map[Role]*Update{}
	for i, u := range c.Updates {
		u.Index = i
		c.byKB[u.KB] = u
		for _, r := range u.Roles {
			if _, dup := c.byRole[r]; !dup {
				c.byRole[r] = u
			}
		}
	}
	for _, u := range c.Updates {
		for _, s := range u.Supersedes {
			c.supersededBy[s] = append(c.supersededBy[s], u.KB)
		}
	}
}

func (u *Update) String() string { return fmt.Sprintf("%s (%s, %s)", u.KB, u.Kind, u.Released) }
