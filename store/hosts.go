package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Snapshot is one upload as received.
type Snapshot struct {
	ID       int64
	Host     string // the host's key (lower case)
	Digest   string // SHA-256 of Body, hex
	Received time.Time
	Format   string
	Size     int64
	Body     []byte // nil in History
	// The assessment summary when it arrived (schema 2); nil for older
	// snapshots.
	Build, Revision, Steps *int
	PatchLevel             *string
	// Who sent it (schema 3): the token's id and the client's address;
	// "" for older snapshots.
	Token, Remote string
	// Inventory is the host as read at ingest (JSON), and Readers the
	// inventory.ReadersVersion that read it: reading the body again is
	// needed only when the readers changed. Only AddSnapshot and
	// SnapshotInventory use them.
	Inventory []byte
	Readers   string
}

// Host is one host's current row: its newest snapshot, assessed.
type Host struct {
	Name          string // key, lower case
	Display       string
	Snapshot      int64
	Updated       time.Time // when its newest snapshot arrived
	Assessed      time.Time
	Catalog       string // catalog version it was assessed with
	Product       string
	Architecture  string
	Build         int
	Revision      int
	PatchLevel    string // YYYY-MM, "" when none
	Steps         int
	Reboots       int
	Findings      int
	Critical      int
	SHA2          bool
	SSUCurrent    bool
	ESUPrepared   bool
	RebootPending bool
	CVEsOpen      int
	CVEsCritical  int
	CVEsExploited int
	InScope       bool
	// Site is set by the first enrollment token that wrote the host
	// (schema 3); "" when none was bound to one.
	Site string
	// State is where the host stands (schema 4; package fleet decides:
	// current, behind, restart, cannot-update, out-of-scope), PlanState
	// the assessment's own, before kit runs are considered.
	State, PlanState string
	// Contradicted counts the installs a kit run reported that a later
	// inventory lacks.
	Contradicted int
	// Updates is the host's update profile (schema 4): written with the
	// row; read back as ProfileID only.
	Updates   []Update
	ProfileID int64
	// Groups are groups the host joins with this write (an upload's
	// --group, a group's rule); it leaves none.
	Groups []string
}

// Update is one update in a host's profile.
type Update struct {
	KB    string
	State string // UpdateNeeded, UpdateConditional, UpdateInstalled
}

// Update states in a profile.
const (
	UpdateNeeded      = "needed"      // a step of the host's plan
	UpdateConditional = "conditional" // needed if a component the inventory does not show is there
	UpdateInstalled   = "installed"
)

const hostColumns = `name, display, snapshot, updated, assessed, catalog, product, architecture, build, revision, patch_level,
	steps, reboots, findings, critical, sha2, ssu_current, esu_prepared, reboot_pending, cves_open, cves_critical, cves_exploited, in_scope, site,
	state, plan_state, profile, contradicted`

func hostArgs(h Host) []any {
	return []any{h.Name, h.Display, h.Snapshot, ms(h.Updated), ms(h.Assessed), h.Catalog, h.Product, h.Architecture, h.Build, h.Revision, h.PatchLevel,
		h.Steps, h.Reboots, h.Findings, h.Critical, b2i(h.SHA2), b2i(h.SSUCurrent), b2i(h.ESUPrepared), b2i(h.RebootPending),
		h.CVEsOpen, h.CVEsCritical, h.CVEsExploited, b2i(h.InScope), h.Site, h.State, h.PlanState, h.ProfileID, h.Contradicted}
}

type scanner interface{ Scan(...any) error }

func scanHost(r scanner) (Host, error) {
	var h Host
	var updated, assessed int64
	var sha2, ssu, esu, pending, scope int
	err := r.Scan(&h.Name, &h.Display, &h.Snapshot, &updated, &assessed, &h.Catalog, &h.Product, &h.Architecture, &h.Build, &h.Revision, &h.PatchLevel,
		&h.Steps, &h.Reboots, &h.Findings, &h.Critical, &sha2, &ssu, &esu, &pending, &h.CVEsOpen, &h.CVEsCritical, &h.CVEsExploited, &scope, &h.Site,
		&h.State, &h.PlanState, &h.ProfileID, &h.Contradicted)
	h.Updated, h.Assessed = fromMS(updated), fromMS(assessed)
	h.SHA2, h.SSUCurrent, h.ESUPrepared, h.RebootPending, h.InScope = sha2 == 1, ssu == 1, esu == 1, pending == 1, scope == 1
	return h, err
}

// upsertHostSQL writes h unless the row holds a newer snapshot already
// (uploads may commit out of order on several servers).
const upsertHostSQL = `INSERT INTO hosts (` + hostColumns + `) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28)
ON CONFLICT (name) DO UPDATE SET display = excluded.display, snapshot = excluded.snapshot, updated = excluded.updated, assessed = excluded.assessed,
	catalog = excluded.catalog, product = excluded.product, architecture = excluded.architecture, build = excluded.build, revision = excluded.revision,
	patch_level = excluded.patch_level, steps = excluded.steps, reboots = excluded.reboots, findings = excluded.findings, critical = excluded.critical,
	sha2 = excluded.sha2, ssu_current = excluded.ssu_current, esu_prepared = excluded.esu_prepared, reboot_pending = excluded.reboot_pending,
	cves_open = excluded.cves_open, cves_critical = excluded.cves_critical, cves_exploited = excluded.cves_exploited, in_scope = excluded.in_scope,
	site = CASE WHEN hosts.site = '' THEN excluded.site ELSE hosts.site END,
	state = excluded.state, plan_state = excluded.plan_state, profile = excluded.profile, contradicted = excluded.contradicted
WHERE hosts.snapshot <= excluded.snapshot
RETURNING profile`

const (
	insertSnapshotSQL = `INSERT INTO snapshots (host, digest, received, format, size, body, build, revision, patch_level, steps, token, remote, inventory, readers)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) ON CONFLICT (digest) DO NOTHING RETURNING id`
	findSnapshotSQL = `SELECT id FROM snapshots WHERE digest = $1`
)

// AddSnapshot stores a snapshot and, when it is new, makes h (its
// assessment) the host's row if no newer snapshot is there. The same body
// twice is one snapshot: created is false and id is the first one's.
func (s *Store) AddSnapshot(ctx context.Context, snap Snapshot, h Host) (id int64, created bool, err error) {
	h.Updates = normalize(h.Updates)
	err = s.batched(ctx, func(tx *sql.Tx) error {
		err := tx.StmtContext(ctx, s.insertSnapshot).QueryRowContext(ctx, snapshotArgs(snap, h)...).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			created = false
			return tx.StmtContext(ctx, s.findSnapshot).QueryRowContext(ctx, snap.Digest).Scan(&id)
		}
		if err != nil {
			return err
		}
		created = true
		h.Snapshot = id
		return s.writeHost(ctx, tx, h)
	})
	return id, created, err
}

// snapshotArgs are insertSnapshotSQL's arguments: the snapshot, and the
// summary of h it arrived with.
func snapshotArgs(snap Snapshot, h Host) []any {
	var rev any
	if h.Revision >= 0 {
		rev = h.Revision
	}
	var level any
	if h.PatchLevel != "" {
		level = h.PatchLevel
	}
	var tok, remote, readers any
	if snap.Token != "" {
		tok = snap.Token
	}
	if snap.Remote != "" {
		remote = snap.Remote
	}
	if snap.Readers != "" {
		readers = snap.Readers
	}
	return []any{snap.Host, snap.Digest, ms(snap.Received), snap.Format, snap.Size, snap.Body, h.Build, rev, level, h.Steps, tok, remote, snap.Inventory, readers}
}

// SnapshotInventory returns a snapshot's inventory as read at ingest and
// the readers' version; nil when it was stored without one.
func (s *Store) SnapshotInventory(ctx context.Context, id int64) ([]byte, string, error) {
	var inv []byte
	var readers sql.NullString
	err := s.db.QueryRowContext(ctx, `SELECT inventory, readers FROM snapshots WHERE id = $1`, id).Scan(&inv, &readers)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, "", ErrNotFound
	}
	return inv, readers.String, err
}

// SetSnapshotInventory stores a snapshot's inventory as read again (new
// readers).
func (s *Store) SetSnapshotInventory(ctx context.Context, id int64, inv []byte, readers string) error {
	_, err := s.db.ExecContext(ctx, `UPDATE snapshots SET inventory = $1, readers = $2 WHERE id = $3`, inv, readers, id)
	return err
}

// SetHost rewrites a host's row (a new assessment of the same snapshot,
// after a catalog change), unless a newer snapshot arrived meanwhile.
func (s *Store) SetHost(ctx context.Context, h Host) error {
	h.Updates = normalize(h.Updates)
	return s.tx(ctx, func(tx *sql.Tx) error { return s.writeHost(ctx, tx, h) })
}

// Host returns one host by name (any case).
func (s *Store) Host(ctx context.Context, name string) (Host, error) {
	h, err := scanHost(s.db.QueryRowContext(ctx, `SELECT `+hostColumns+` FROM hosts WHERE name = $1`, strings.ToLower(name)))
	if errors.Is(err, sql.ErrNoRows) {
		return Host{}, ErrNotFound
	}
	return h, err
}

// Query selects hosts for the list and the API.
type Query struct {
	Search string    // part of the name
	Build  int       // 0: any
	Filter string    // "", "no-sha2", "ssu-old", "esu-unprepared", "reboot-pending", "exposed", "out-of-scope", "stale", "contradicted"
	Group  string    // "": every host
	State  string    // "": any; else a host state (package fleet's States)
	Now    time.Time // for "stale"; zero is time.Now()
	Sort   string    // a column of SortColumns; "" is name
	Desc   bool
	Limit  int // 0: all
	Offset int
}

// SortColumns are the columns hosts can be sorted by.
var SortColumns = map[string]string{
	"name": "name", "build": "build", "revision": "revision", "patchLevel": "patch_level", "steps": "steps",
	"findings": "findings", "critical": "critical", "cvesOpen": "cves_open", "updated": "updated",
}

var filters = map[string]string{
	"no-sha2":        "in_scope = 1 AND sha2 = 0",
	"ssu-old":        "in_scope = 1 AND ssu_current = 0",
	"esu-unprepared": "in_scope = 1 AND esu_prepared = 0",
	"reboot-pending": "reboot_pending = 1",
	"exposed":        "cves_open > 0",
	"out-of-scope":   "in_scope = 0",
	"exploited":      "cves_exploited > 0",
	"critical-cves":  "cves_critical > 0",
	"contradicted":   "contradicted > 0",
}

// QueryError is a Query the store refuses (an unknown filter or sort): the
// caller's mistake, not the database's.
type QueryError struct{ msg string }

func (e *QueryError) Error() string { return e.msg }

func sortNames() []string {
	var out []string
	for k := range SortColumns {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// StaleAfter is how long a host may go without an upload before the fleet
// calls it stale: collectors that run weekly or monthly have stopped. It
// counts in whole UTC days (staleBefore).
const StaleAfter = 30 * 24 * time.Hour

// Filters lists the Query.Filter names.
func Filters() []string {
	return []string{"no-sha2", "ssu-old", "esu-unprepared", "reboot-pending", "exposed", "exploited", "critical-cves", "contradicted", "out-of-scope", "stale"}
}

func (q Query) where() (string, []any, error) {
	var conds []string
	var args []any
	if q.Search != "" {
		args = append(args, "%"+escapeLike(strings.ToLower(q.Search))+"%")
		conds = append(conds, fmt.Sprintf(`name LIKE $%d ESCAPE '\'`, len(args)))
	}
	if q.Build != 0 {
		args = append(args, q.Build)
		conds = append(conds, fmt.Sprintf("build = $%d", len(args)))
	}
	if q.Group != "" {
		args = append(args, q.Group)
		conds = append(conds, fmt.Sprintf("name IN (SELECT host FROM host_groups WHERE grp = $%d)", len(args)))
	}
	if q.State != "" {
		args = append(args, q.State)
		conds = append(conds, fmt.Sprintf("state = $%d", len(args)))
	}
	if q.Filter == "stale" {
		now := q.Now
		if now.IsZero() {
			now = time.Now()
		}
		args = append(args, staleBefore(now))
		conds = append(conds, fmt.Sprintf("updated < $%d", len(args)))
	} else if q.Filter != "" {
		c, ok := filters[q.Filter]
		if !ok {
			return "", nil, &QueryError{fmt.Sprintf("filter %q: expected one of %s", q.Filter, strings.Join(Filters(), ", "))}
		}
		conds = append(conds, c)
	}
	if len(conds) == 0 {
		return "", args, nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args, nil
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// Hosts lists hosts; total is the count before Limit and Offset.
func (s *Store) Hosts(ctx context.Context, q Query) (hosts []Host, total int, err error) {
	where, args, err := q.where()
	if err != nil {
		return nil, 0, err
	}
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM hosts`+where, args...).Scan(&total); err != nil {
		return nil, 0, err
	}
	col := "name"
	if q.Sort != "" {
		c, ok := SortColumns[q.Sort]
		if !ok {
			return nil, 0, &QueryError{fmt.Sprintf("sort %q: expected one of %s", q.Sort, strings.Join(sortNames(), ", "))}
		}
		col = c
	}
	order := col
	if q.Desc {
		order += " DESC"
	}
	if col != "name" {
		order += ", name"
	}
	query := `SELECT ` + hostColumns + ` FROM hosts` + where + ` ORDER BY ` + order
	if q.Limit > 0 {
		query += fmt.Sprintf(" LIMIT %d OFFSET %d", q.Limit, max(q.Offset, 0))
	}
	hosts, err = collect(ctx, s.db, scanHost, query, args...)
	return hosts, total, err
}

// EachHost calls fn for every host, in name order, without holding them
// all (recomputation after a catalog change).
func (s *Store) EachHost(ctx context.Context, fn func(Host) error) error {
	after := ""
	for {
		// A batch is read whole before fn runs: fn may write to the store.
		batch, err := collect(ctx, s.db, scanHost, `SELECT `+hostColumns+` FROM hosts WHERE name > $1 ORDER BY name LIMIT 500`, after)
		if err != nil {
			return err
		}
		for _, h := range batch {
			if err := fn(h); err != nil {
				return err
			}
		}
		if len(batch) < 500 {
			return nil
		}
		after = batch[len(batch)-1].Name
	}
}

// Snapshot returns one snapshot with its body.
func (s *Store) Snapshot(ctx context.Context, id int64) (Snapshot, error) {
	var sn Snapshot
	var received int64
	err := s.db.QueryRowContext(ctx, `SELECT id, host, digest, received, format, size, body FROM snapshots WHERE id = $1`, id).
		Scan(&sn.ID, &sn.Host, &sn.Digest, &received, &sn.Format, &sn.Size, &sn.Body)
	if errors.Is(err, sql.ErrNoRows) {
		return Snapshot{}, ErrNotFound
	}
	sn.Received = fromMS(received)
	return sn, err
}

// History lists a host's snapshots, newest first, without bodies.
func (s *Store) History(ctx context.Context, host string, limit int) ([]Snapshot, error) {
	rows, err := s.history.QueryContext(ctx, strings.ToLower(host), limit)
	return scanAll(rows, err, scanHistory)
}

// historySQL is read by every upload (a host's state merges its newest
// snapshot of each kind): prepared once.
const historySQL = `SELECT id, host, digest, received, format, size, build, revision, patch_level, steps, token, remote
	FROM snapshots WHERE host = $1 ORDER BY id DESC LIMIT $2`

func scanHistory(r scanner) (Snapshot, error) {
	var sn Snapshot
	var received int64
	var build, rev, steps sql.NullInt64
	var level, tok, remote sql.NullString
	err := r.Scan(&sn.ID, &sn.Host, &sn.Digest, &received, &sn.Format, &sn.Size, &build, &rev, &level, &steps, &tok, &remote)
	sn.Received = fromMS(received)
	sn.Token, sn.Remote = tok.String, remote.String
	sn.Build, sn.Revision, sn.Steps = nullInt(build), nullInt(rev), nullInt(steps)
	if level.Valid {
		sn.PatchLevel = &level.String
	}
	return sn, err
}

func nullInt(v sql.NullInt64) *int {
	if !v.Valid {
		return nil
	}
	n := int(v.Int64)
	return &n
}

// Counts are the store's sizes (/metrics).
func (s *Store) Counts(ctx context.Context) (hosts, snapshots int, err error) {
	if err = s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM hosts`).Scan(&hosts); err != nil {
		return
	}
	err = s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM snapshots`).Scan(&snapshots)
	return
}

// DeleteHost removes a host and all its snapshots (a decommissioned
// machine); it returns how many snapshots went.
func (s *Store) DeleteHost(ctx context.Context, name string) (int64, error) {
	key := strings.ToLower(name)
	var n int64
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if err := s.lockHost(ctx, tx, key); err != nil {
			return err
		}
		before, profile, ok, err := s.rowKey(ctx, tx, key)
		if err != nil {
			return err
		}
		if !ok {
			return ErrNotFound
		}
		// Out of the counts of every group it is in, before it leaves them.
		if err := s.logMove(ctx, tx, key, profile, 0); err != nil {
			return err
		}
		if err := s.logKeys(ctx, tx, key, before, true, summaryKey{}, false); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM hosts WHERE name = $1`, key); err != nil {
			return err
		}
		for _, q := range []string{`DELETE FROM host_groups WHERE host = $1`, `DELETE FROM host_outcomes WHERE host = $1`, `DELETE FROM runs WHERE host = $1`} {
			if _, err := tx.ExecContext(ctx, q, key); err != nil {
				return err
			}
		}
		r, err := tx.ExecContext(ctx, `DELETE FROM snapshots WHERE host = $1`, key)
		if err != nil {
			return err
		}
		n, _ = r.RowsAffected()
		return nil
	})
	return n, err
}
