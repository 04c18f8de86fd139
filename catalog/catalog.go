// Package catalog holds kbplan's fact base for Windows Server 2008 SP2 and
// Windows Vista SP2: every update (monthly rollups, security-only updates,
// previews, servicing stacks, SHA-2 support, ESU preparation, standalone,
// IE and .NET updates), its supersedence, prerequisites and channel, and the
// lifecycle dates. Every row names its source.
//
// The data lives in updates.csv, lifecycle.csv and files.csv. updates.csv
// and files.csv are generated (go generate) from the curated table and MSRC
// data in internal/gen/data plus manual.csv; see README.md. A second
// generator compiles the three, with the catalog's indexes and supersedence
// closure, into Go tables (zcatalog.go) that the binary carries as
// initialised data: the embedded catalog loads without parsing or graph
// building, whatever its number of rows. A catalog file of one's own
// (Load) takes the parsing path; TestCompiledAgrees checks both give the
// same catalog.
package catalog

//go:generate go run ./internal/gen -data internal/gen/data -out updates.csv -files files.csv
//go:generate go run ./internal/compile -updates updates.csv -lifecycle lifecycle.csv -files files.csv -out zcatalog.go

import (
	"cmp"
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

// Catalog is a loaded, indexed catalog. Its indexes are slices, not maps,
// so that the compiled catalog (zcatalog.go) is initialised data.
type Catalog struct {
	Name      string // "embedded" or the file it was loaded from
	Version   string // digest of the catalog's data: the fleet reassesses hosts when it changes
	Updates   []*Update
	Lifecycle []Milestone
	// kbs is every KB the catalog names, its rows' and those only their
	// Supersedes name, sorted by number.
	kbs []kbEntry
	// roles are the updates that play each role, in Roles order.
	roles []roleEntry
	// closureIdx is Superseders as positions in Updates, per row.
	closureIdx [][]int32
	newest     Date           // NewestMonthly
	revision   winver.Version // NewestRevision
}

// kbEntry is one KB the catalog names.
type kbEntry struct {
	num          uint32
	row          int32    // position in Updates; -1 for a KB without a row
	supersededBy []string // the rows that supersede it directly
	superseders  []string // directly or through a chain, nearest first
}

type roleEntry struct {
	role Role
	row  int32
}

// kbNumber is the number of a KB id in canonical form ("KB4489887").
func kbNumber(kb string) (uint32, bool) {
	if !isKB(kb) {
		return 0, false
	}
	n := uint32(0)
	for i := 2; i < len(kb); i++ {
		n = n*10 + uint32(kb[i]-'0')
	}
	return n, true
}

// entry finds the KB's entry, or nil.
func (c *Catalog) entry(kb string) *kbEntry {
	n, ok := kbNumber(kb)
	if !ok {
		return nil
	}
	i, found := slices.BinarySearchFunc(c.kbs, n, func(e kbEntry, n uint32) int { return cmp.Compare(e.num, n) })
	if !found {
		return nil
	}
	return &c.kbs[i]
}

// row returns the row of a KB id in canonical form, or nil.
func (c *Catalog) row(kb string) *Update {
	if e := c.entry(kb); e != nil && e.row >= 0 {
		return c.Updates[e.row]
	}
	return nil
}

// Get returns the update with the given KB id ("KB4489887").
func (c *Catalog) Get(kb string) (*Update, bool) {
	u := c.row(strings.ToUpper(strings.TrimSpace(kb)))
	return u, u != nil
}

// SupersededBy returns the updates that directly supersede kb.
func (c *Catalog) SupersededBy(kb string) []string {
	if e := c.entry(kb); e != nil {
		return e.supersededBy
	}
	return nil
}

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
// a chain, nearest first. It is computed when the catalog is parsed, or
// compiled with it.
func (c *Catalog) Superseders(kb string) []string {
	if e := c.entry(kb); e != nil {
		return e.superseders
	}
	return nil
}

// SupersederIndexes is Superseders as positions in Updates, for callers
// that keep per-update state in slices.
func (c *Catalog) SupersederIndexes(i int) []int32 { return c.closureIdx[i] }

// MaxClosure bounds the supersedence closure (every update's superseders,
// direct or through a chain): the embedded catalog's has about 18,000
// entries; a hostile file with one long chain would need its length squared.
const MaxClosure = 2_000_000

// buildClosure computes every KB's superseders, nearest first. It fails
// when the closure would exceed MaxClosure entries.
func (c *Catalog) buildClosure() error {
	total := 0
	seen := make([]bool, len(c.Updates))
	var queue []int32
	// push queues the rows in by not seen yet; every KB a supersededBy
	// list names is a row.
	push := func(by []string) {
		for _, s := range by {
			if r := c.row(s).Index; !seen[r] {
				seen[r] = true
				queue = append(queue, int32(r))
			}
		}
	}
	for k := range c.kbs {
		e := &c.kbs[k]
		clear(seen)
		if e.row >= 0 {
			seen[e.row] = true
		}
		queue = queue[:0]
		push(e.supersededBy)
		for i := 0; i < len(queue); i++ {
			push(c.entry(c.Updates[queue[i]].KB).supersededBy)
			if total+len(queue) > MaxClosure {
				return fmt.Errorf("its supersedence chains are too long (more than %d superseder links in all; the embedded catalog has about 18,000): this is not an update catalog", MaxClosure)
			}
		}
		if len(queue) == 0 {
			continue
		}
		total += len(queue)
		e.superseders = make([]string, len(queue))
		for i, r := range queue {
			e.superseders[i] = c.Updates[r].KB
		}
		if e.row >= 0 {
			c.closureIdx[e.row] = slices.Clone(queue)
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

// compiled is the catalog compiled at build time (zcatalog.go), nil in a
// build without it.
var compiled *Catalog

var parsedCatalog = sync.OnceValues(func() (*Catalog, error) {
	return Parse("embedded", strings.NewReader(updatesCSV), strings.NewReader(lifecycleCSV))
})

// Fresh returns a copy of the embedded catalog with rows of its own, for a
// caller that adds to them (AddFiles) without touching the ones Default
// shares.
func Fresh() (*Catalog, error) {
	c, err := Default()
	if err != nil {
		return nil, err
	}
	cp := *c
	rows := make([]Update, len(c.Updates))
	cp.Updates = make([]*Update, len(c.Updates))
	for i, u := range c.Updates {
		rows[i] = *u
		rows[i].Files = slices.Clip(rows[i].Files)
		cp.Updates[i] = &rows[i]
	}
	return &cp, nil
}

// Default returns the embedded catalog: the compiled one, else (a build
// without zcatalog.go) the CSV files parsed on first use. An error means
// the binary was built with a broken catalog; the tests prevent that.
func Default() (*Catalog, error) {
	if compiled != nil {
		return compiled, nil
	}
	return parsedCatalog()
}

// index builds the lookup tables of parsed rows.
func (c *Catalog) index() {
	by := map[uint32]*kbEntry{}
	get := func(kb string) *kbEntry {
		n, _ := kbNumber(kb)
		e := by[n]
		if e == nil {
			e = &kbEntry{num: n, row: -1}
			by[n] = e
		}
		return e
	}
	for i, u := range c.Updates {
		u.Index = i
		get(u.KB).row = int32(i)
	}
	for _, u := range c.Updates {
		for _, s := range u.Supersedes {
			e := get(s)
			e.supersededBy = append(e.supersededBy, u.KB)
		}
	}
	c.kbs = make([]kbEntry, 0, len(by))
	for _, e := range by {
		c.kbs = append(c.kbs, *e)
	}
	slices.SortFunc(c.kbs, func(a, b kbEntry) int { return cmp.Compare(a.num, b.num) })
	c.roles = nil
	for _, r := range Roles {
		for _, u := range c.Updates {
			if u.HasRole(r) {
				c.roles = append(c.roles, roleEntry{r, int32(u.Index)})
				break
			}
		}
	}
	c.closureIdx = make([][]int32, len(c.Updates))
	for _, u := range c.Updates {
		if u.Kind.Monthly() && u.Released.Compare(c.newest) > 0 {
			c.newest = u.Released
		}
		if r, err := winver.Parse(u.Revision); err == nil && r.Compare(c.revision) > 0 {
			c.revision = r
		}
	}
	c.newest.Day = 0
}

func (u *Update) String() string { return fmt.Sprintf("%s (%s, %s)", u.KB, u.Kind, u.Released) }
