// Package fleet is kbplan's fleet server: it takes uploads (collector
// bundles or single inventories), assesses each host with the catalog and
// the CVE index, keeps every snapshot and each host's current summary in a
// store, and serves an HTTP API, CSV/JSON exports, Prometheus metrics and
// a web dashboard.
//
// The servers keep no state of their own: several can share one
// PostgreSQL store.
package fleet

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kbplan/kbplan/assess"
	"github.com/kbplan/kbplan/catalog"
	"github.com/kbplan/kbplan/exposure"
	"github.com/kbplan/kbplan/inventory"
	"github.com/kbplan/kbplan/kit"
	"github.com/kbplan/kbplan/store"
)

// Fleet assesses uploads and keeps them in a store.
type Fleet struct {
	Store   *store.Store
	Catalog *catalog.Catalog
	Index   *exposure.Index
	// ESU is the ESU mode for hosts whose bundle does not say (single
	// inventories); a bundle's licence facts win.
	ESU assess.ESUMode
	// Now is the clock (tests fix it); plans are made as of its date.
	Now func() time.Time
	Log *slog.Logger

	// The planner for the current Catalog and Index, and what it was made
	// for: a new catalog or index gets a new planner, and the old one's memo
	// tables go with it.
	mu          sync.Mutex
	rules       groupRules
	plan        *assess.Planner
	planCatalog *catalog.Catalog
	planIndex   *exposure.Index
}

// planner returns the planner for the fleet's current catalog and index.
func (f *Fleet) planner() *assess.Planner {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.plan == nil || f.planCatalog != f.Catalog || f.planIndex != f.Index {
		f.plan, f.planCatalog, f.planIndex = assess.NewPlanner(f.Catalog), f.Catalog, f.Index
	}
	return f.plan
}

// New returns a fleet over s with the embedded catalog and CVE index.
func New(s *store.Store, log *slog.Logger) (*Fleet, error) {
	c, err := catalog.Default()
	if err != nil {
		return nil, err
	}
	x, err := exposure.Default()
	if err != nil {
		return nil, err
	}
	return &Fleet{Store: s, Catalog: c, Index: x, Now: time.Now, Log: log}, nil
}

// DataVersion names what an assessment rests on: the readers (and Merge),
// the catalog and the CVE index. A change makes Reassess read every host's
// snapshots again and recompute its row.
func (f *Fleet) DataVersion() string {
	return fmt.Sprintf("readers %d, catalog %s, cves %s/%d", inventory.ReadersVersion, f.Catalog.Version, f.Index.Name, len(f.Index.CVEs))
}

// Assess assesses a host as of now, with its exposure; countsOnly leaves
// the CVE lists out (a summary row needs the counts only).
func (f *Fleet) Assess(h inventory.Host, countsOnly bool) assess.Assessment {
	o := assess.Options{AsOf: catalog.DateOf(f.Now().UTC()), ESU: f.ESU, ESUFromFacts: true,
		Exposure: assess.ExposureOptions{Index: f.Index, CountsOnly: countsOnly}}
	return f.planner().Assess(h, o)
}

// Key is a host's key in the store: its name in lower case (Windows
// compares computer names without case).
func Key(name string) string { return strings.ToLower(strings.TrimSpace(name)) }

// Row is the store's summary of an assessment.
func (f *Fleet) Row(a assess.Assessment, received time.Time) store.Host {
	h := a.Host
	r := store.Host{Name: Key(h.Hostname), Display: h.Hostname, Updated: received, Assessed: f.Now().UTC(), Catalog: f.DataVersion(),
		Product: h.OS.Product, Architecture: h.OS.Architecture, InScope: a.InScope,
		Steps: a.Summary.Steps, Findings: len(a.Findings), Reboots: a.Summary.Reboots, Critical: a.Summary.Critical,
		SHA2: a.Summary.SHA2, ESUPrepared: a.Summary.ESUPrepared, SSUCurrent: a.Summary.SSUCurrent,
		RebootPending: a.Summary.RebootPending,
		CVEsOpen:      a.Summary.CVEsOpen, CVEsCritical: a.Summary.CVEsCritical, CVEsExploited: a.Summary.CVEsExploited}
	if v := h.OS.Version; v != nil {
		r.Build, r.Revision = v.Build, v.Revision
	}
	if !a.PatchLevel.IsZero() {
		r.PatchLevel = a.PatchLevel.YearMonth()
	}
	r.PlanState = string(a.Summary.State)
	r.State = r.PlanState
	r.Updates = f.updates(a)
	return r
}

// updates is an assessment's update profile: the plan's steps (needed),
// its conditional list, and the catalog's updates the host has.
func (f *Fleet) updates(a assess.Assessment) []store.Update {
	if !a.InScope {
		return nil
	}
	out := make([]store.Update, 0, len(a.Plan.Steps)+len(a.Plan.Conditional)+len(a.Host.Hotfixes))
	for _, st := range a.Plan.Steps {
		out = append(out, store.Update{KB: st.KB, State: store.UpdateNeeded})
	}
	for _, st := range a.Plan.Conditional {
		out = append(out, store.Update{KB: st.KB, State: store.UpdateConditional})
	}
	for _, kb := range a.Host.Hotfixes {
		if _, ok := f.Catalog.Get(kb); ok {
			out = append(out, store.Update{KB: kb, State: store.UpdateInstalled})
		}
	}
	return out
}

// State is where a host stands: its plan's state, unless its newest kit
// run, newer than its inventory, waits for a restart.
func State(planState string, run *store.Run, inventory time.Time) string {
	if run != nil && run.Status == kit.StatusRestart && !run.Received.Before(inventory) && planState != string(assess.StateOutOfScope) {
		return string(assess.StateRestart)
	}
	return planState
}

// Ingested is what Ingest made of an upload.
type Ingested struct {
	Host    string `json:"host"`
	ID      int64  `json:"id"`
	Created bool   `json:"created"` // false: the same upload was there already
}

// Origin is who sent an upload: the token (its id and bounds; zero for
// kbplan fleet import and the admin), the client's address, and the
// groups the upload puts its host in (the collector's --group).
type Origin struct {
	Token  store.Token
	Remote string
	Groups []string
}

// ScopeError is an upload its token may not write: a 403.
type ScopeError struct{ Err error }

func (e *ScopeError) Error() string { return e.Err.Error() }

// Ingest reads, assesses and stores one upload from the local machine
// (kbplan fleet import): IngestFrom with no token.
func (f *Fleet) Ingest(ctx context.Context, name string, body []byte) (Ingested, error) {
	return f.IngestFrom(ctx, Origin{}, name, body)
}

// IngestFrom reads, assesses and stores one upload. An upload kbplan
// cannot read is an *UploadError; one its token may not write a
// *ScopeError.
func (f *Fleet) IngestFrom(ctx context.Context, o Origin, name string, body []byte) (Ingested, error) {
	h, err := Decode(ctx, name, body)
	if err != nil {
		return Ingested{}, err
	}
	if strings.TrimSpace(h.Hostname) == "" {
		return Ingested{}, uploadErr("%s: the inventory names no host (systeminfo's Host Name, the bundle's host line): the fleet files snapshots by host name; upload systeminfo or a collector bundle", name)
	}
	if len(h.Hostname) > 255 {
		return Ingested{}, uploadErr("%s: host name of %d bytes: not a Windows computer name", name, len(h.Hostname))
	}
	if err := f.inScope(ctx, o.Token, h.Hostname); err != nil {
		return Ingested{}, err
	}
	inv, err := json.Marshal(h)
	if err != nil {
		return Ingested{}, err
	}
	sum := sha256.Sum256(body)
	received := f.Now().UTC()
	// The host's state is this upload merged with its newest upload of
	// every other format: a wmic qfe list never erases what systeminfo said.
	whole, _, err := f.whole(ctx, Key(h.Hostname), &h)
	if err != nil {
		return Ingested{}, err
	}
	a := f.Assess(whole, true)
	snap := store.Snapshot{Host: Key(h.Hostname), Digest: hex.EncodeToString(sum[:]), Received: received, Format: h.Format, Size: int64(len(body)), Body: body,
		Token: o.Token.ID, Remote: o.Remote, Inventory: inv, Readers: readers}
	row := f.Row(a, received)
	row.Site = o.Token.Site
	if row.Groups, err = f.groupsFor(ctx, h.Hostname, o.Groups); err != nil {
		return Ingested{}, err
	}
	if run, err := f.Store.LatestRun(ctx, row.Name); err == nil {
		row.State = State(row.PlanState, &run, received)
	} else if !errors.Is(err, store.ErrNotFound) {
		return Ingested{}, err
	}
	id, created, err := f.Store.AddSnapshot(ctx, snap, row)
	if err != nil {
		return Ingested{}, err
	}
	return Ingested{Host: h.Hostname, ID: id, Created: created}, nil
}

// Current assesses a host's state again from its snapshots (whole): the
// full assessment, with plan, findings and exposure, is never stored, only
// its summary row.
func (f *Fleet) Current(ctx context.Context, name string, countsOnly bool) (store.Host, assess.Assessment, error) {
	row, err := f.Store.Host(ctx, name)
	if err != nil {
		return row, assess.Assessment{}, err
	}
	h, _, err := f.whole(ctx, row.Name, nil)
	if err != nil {
		return row, assess.Assessment{}, err
	}
	return row, f.Assess(h, countsOnly), nil
}

// maxKinds bounds how many of a host's snapshots whole reads: one per
// format, newest first, among its newest uploads.
const maxKinds = 200

// whole is a host's current state: the merge of its newest snapshot of
// each format, newest first so that the newest input's values win where
// inputs disagree (inventory.Merge: the first input carrying a field wins),
// and the hotfix lists united. extra, when not nil, is an upload not stored
// yet; it counts as the newest. It returns the newest stored snapshot too.
func (f *Fleet) whole(ctx context.Context, key string, extra *inventory.Host) (inventory.Host, store.Snapshot, error) {
	hist, err := f.Store.History(ctx, key, maxKinds)
	if err != nil {
		return inventory.Host{}, store.Snapshot{}, err
	}
	var parts []inventory.Host
	seen := map[string]bool{}
	if extra != nil {
		parts = append(parts, *extra)
		seen[extra.Format] = true
	}
	var newest store.Snapshot
	if len(hist) > 0 {
		newest = hist[0]
	}
	for _, sn := range hist {
		if seen[sn.Format] {
			continue
		}
		seen[sn.Format] = true
		h, err := f.snapshotHost(ctx, sn.ID)
		if err != nil {
			if f.Log != nil {
				f.Log.Warn("snapshot no longer reads; left out of the host's state", "host", key, "snapshot", sn.ID, "err", err)
			}
			continue
		}
		parts = append(parts, h)
	}
	if len(parts) == 0 {
		return inventory.Host{}, newest, fmt.Errorf("%s: no snapshot of this host reads any more", key)
	}
	return inventory.Merge(parts...), newest, nil
}

// readers is the version of the readers a stored inventory was read with.
var readers = strconv.Itoa(inventory.ReadersVersion)

// snapshotHost is a stored snapshot's host: as read at ingest, or, when
// the readers changed since (or it predates schema 3), read from its body
// again and stored so.
func (f *Fleet) snapshotHost(ctx context.Context, id int64) (inventory.Host, error) {
	inv, ver, err := f.Store.SnapshotInventory(ctx, id)
	if err != nil {
		return inventory.Host{}, err
	}
	var h inventory.Host
	if ver == readers && len(inv) > 0 && json.Unmarshal(inv, &h) == nil {
		return h, nil
	}
	full, err := f.Store.Snapshot(ctx, id)
	if err != nil {
		return inventory.Host{}, err
	}
	h, err = Decode(ctx, fmt.Sprintf("snapshot %d", id), full.Body)
	if err != nil {
		return h, err
	}
	if b, err := json.Marshal(h); err == nil {
		if err := f.Store.SetSnapshotInventory(ctx, id, b, readers); err != nil && f.Log != nil {
			f.Log.Warn("storing a snapshot's inventory", "snapshot", id, "err", err)
		}
	}
	return h, nil
}

// inScope checks that tok may write the host: its name matches the
// token's pattern, and an existing host belongs to the token's site.
func (f *Fleet) inScope(ctx context.Context, tok store.Token, hostname string) error {
	if tok.Hosts != "" {
		if ok, _ := path.Match(strings.ToLower(tok.Hosts), strings.ToLower(hostname)); !ok {
			return &ScopeError{fmt.Errorf("token %s may write hosts matching %q only, not %q", tok.ID, tok.Hosts, hostname)}
		}
	}
	if tok.Site == "" {
		return nil
	}
	old, err := f.Store.Host(ctx, hostname)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil
	case err != nil:
		return err
	case old.Site != tok.Site:
		site := old.Site
		if site == "" {
			site = "no site"
		}
		return &ScopeError{fmt.Errorf("token %s writes hosts of site %q; %s belongs to %s", tok.ID, tok.Site, hostname, site)}
	}
	return nil
}

// Reassess recomputes the rows assessed with other data than this
// server's (an upgrade brought a new catalog or CVE index) from their
// snapshots. It returns how many rows it rewrote.
func (f *Fleet) Reassess(ctx context.Context) (int, error) {
	version := f.DataVersion()
	n := 0
	err := f.Store.EachHost(ctx, func(old store.Host) error {
		if old.Catalog == version {
			return nil
		}
		h, snap, err := f.whole(ctx, old.Name, nil)
		if err != nil {
			f.Log.Warn("host no longer reads; row kept", "host", old.Name, "err", err)
			return nil
		}
		row := f.Row(f.Assess(h, true), snap.Received)
		row.Snapshot = snap.ID
		if run, err := f.Store.LatestRun(ctx, old.Name); err == nil {
			row.State = State(row.PlanState, &run, snap.Received)
		}
		if err := f.Store.SetHost(ctx, row); err != nil {
			return err
		}
		n++
		return nil
	})
	return n, err
}

// Roles a token or a user can have.
const (
	RoleAdmin  = "admin"  // everything
	RoleEnroll = "enroll" // upload inventories only (collector tokens)
	RoleViewer = "viewer" // read only (web users)
)

func canRead(role string) bool  { return slices.Contains([]string{RoleAdmin, RoleViewer}, role) }
func canWrite(role string) bool { return slices.Contains([]string{RoleAdmin, RoleEnroll}, role) }
