package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

const (
	findProfileSQL = `SELECT id FROM profiles WHERE digest = $1`
	// logMoveSQL logs a host leaving profile $2 and joining profile $3
	// (0: none), in every group it is in and in '' (every host).
	logMoveSQL = `INSERT INTO count_log (grp, profile, n)
		SELECT g.grp, p.profile, p.n FROM (SELECT '' AS grp UNION ALL SELECT grp FROM host_groups WHERE host = $1) g
		CROSS JOIN (SELECT CAST($2 AS BIGINT) AS profile, -1 AS n UNION ALL SELECT CAST($3 AS BIGINT), 1) p WHERE p.profile <> 0`
	// An inventory settles the host's kit outcomes: a failure it shows
	// installed is over; an install reported before it that it lacks is a
	// contradiction.
	flagOutcomesSQL = `UPDATE host_outcomes SET flag = CASE
		WHEN outcome = 'failed' THEN CASE WHEN kb IN (SELECT kb FROM profile_updates WHERE profile = $3 AND state = 'installed') THEN '' ELSE 'failed' END
		WHEN received < $2 AND kb IN (SELECT kb FROM profile_updates WHERE profile = $3 AND state = 'needed') THEN 'contradicted'
		ELSE '' END
		WHERE host = $1`
	countContradictedSQL = `SELECT COUNT(*) FROM host_outcomes WHERE host = $1 AND flag = 'contradicted'`
	setContradictedSQL   = `UPDATE hosts SET contradicted = $2 WHERE name = $1 AND contradicted <> $2`
)

// writeHost writes h's row in tx unless a newer snapshot's row is there:
// its profile, the row, the profile move in every group it is in (logged
// for Fold), the groups it joins, and its kit outcomes' flags. h.Updates
// is normalized: its callers sort it before the transaction, so that
// SQLite's single writer (batch.go) does not.
func (s *Store) writeHost(ctx context.Context, tx *sql.Tx, h Host) error {
	if err := s.lockHost(ctx, tx, h.Name); err != nil {
		return err
	}
	before, old, exists, err := s.rowKey(ctx, tx, h.Name)
	if err != nil {
		return err
	}
	if h.ProfileID, err = s.ensureProfile(ctx, tx, h.Updates); err != nil {
		return err
	}
	var p int64
	err = tx.StmtContext(ctx, s.upsertHost).QueryRowContext(ctx, hostArgs(h)...).Scan(&p)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		// A newer snapshot's row: it stays.
	case err != nil:
		return err
	default:
		if !exists || old != h.ProfileID {
			if err := s.logMove(ctx, tx, h.Name, old, h.ProfileID); err != nil {
				return err
			}
		}
		r, err := tx.StmtContext(ctx, s.flagOutcomes).ExecContext(ctx, h.Name, ms(h.Updated), h.ProfileID)
		if err != nil {
			return err
		}
		if n, _ := r.RowsAffected(); n > 0 || h.Contradicted != 0 {
			if h.Contradicted, err = s.recount(ctx, tx, h.Name); err != nil {
				return err
			}
		}
		// The row is h now, but for the site, which the first write sets
		// and the summary does not count.
		if err := s.logKeys(ctx, tx, h.Name, before, exists, keyOfHost(h), true); err != nil {
			return err
		}
	}
	// The groups the upload names, joined last: each counts the host as
	// its row is now (a stale write's too).
	for _, g := range h.Groups {
		if _, err := s.joined(ctx, tx, g, h.Name); err != nil {
			return err
		}
	}
	return nil
}

// lockHost serialises, until tx ends, the transactions that read a host's
// profile or groups and log a move: two servers writing one host at once
// on PostgreSQL would otherwise both log a move from the profile each
// read. SQLite has one writer at a time already.
func (s *Store) lockHost(ctx context.Context, tx *sql.Tx, host string) error {
	if s.Dialect != "postgres" {
		return nil
	}
	_, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(7318, hashtext($1))`, host)
	return err
}

// logMove logs a host moving from profile from to profile to (0: none).
func (s *Store) logMove(ctx context.Context, tx *sql.Tx, host string, from, to int64) error {
	if from == to {
		return nil
	}
	_, err := tx.StmtContext(ctx, s.logMoveStmt).ExecContext(ctx, host, from, to)
	return err
}

// delta is a change of the by-update counts: per KB, hosts needing it,
// maybe needing it, having it.
type delta map[string]*[3]int

var stateIndex = map[string]int{UpdateNeeded: 0, UpdateConditional: 1, UpdateInstalled: 2}

// Fold applies the logged profile moves to the by-update counts, each
// (group, profile) once with the net number of hosts that moved, and the
// logged summary keys to the overview's summary. It claims the log rows
// it applies (deleting them in its transaction), so servers folding at
// once on one PostgreSQL apply each row once. Moves logged in a group
// deleted since are dropped.
func (s *Store) Fold(ctx context.Context) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		// The logs are taken out first and the groups read after: a group
		// whose log rows were taken committed with them, so it is among
		// the groups read. Read first, a group made and joined in between
		// (on PostgreSQL each statement sees what had committed when it
		// began) was missing, and the rows logged for it were dropped.
		sums, err := takeSummaryLog(ctx, tx)
		if err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `DELETE FROM count_log RETURNING grp, profile, n`)
		if err != nil {
			return err
		}
		type key struct {
			grp     string
			profile int64
		}
		net := map[key]int{}
		for rows.Next() {
			var k key
			var n int
			if err := rows.Scan(&k.grp, &k.profile, &n); err != nil {
				rows.Close()
				return err
			}
			net[k] += n
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		live, err := s.liveGroups(ctx, tx)
		if err != nil {
			return err
		}
		if err := s.foldSummary(ctx, tx, sums, live); err != nil {
			return err
		}
		byGroup := map[string]delta{}
		for k, n := range net {
			if n == 0 || !live[k.grp] {
				continue
			}
			us, err := s.profileEntries(ctx, tx, k.profile)
			if err != nil {
				return err
			}
			d := byGroup[k.grp]
			if d == nil {
				d = delta{}
				byGroup[k.grp] = d
			}
			for _, u := range us {
				c := d[u.KB]
				if c == nil {
					c = &[3]int{}
					d[u.KB] = c
				}
				c[stateIndex[u.State]] += n
			}
		}
		groups := make([]string, 0, len(byGroup))
		for g := range byGroup {
			groups = append(groups, g)
		}
		sort.Strings(groups) // one lock order for every folder (PostgreSQL)
		for _, g := range groups {
			if err := s.applyCounts(ctx, tx, g, byGroup[g]); err != nil {
				return err
			}
		}
		return nil
	})
}

// liveGroups is the set of groups there are, and ” (every host).
func (s *Store) liveGroups(ctx context.Context, tx *sql.Tx) (map[string]bool, error) {
	rows, err := tx.QueryContext(ctx, `SELECT name FROM groups`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	live := map[string]bool{"": true}
	for rows.Next() {
		var g string
		if err := rows.Scan(&g); err != nil {
			return nil, err
		}
		live[g] = true
	}
	return live, rows.Err()
}

// applyCounts adds d to a group's by-update counts in one statement
// whatever its size: the rows go as one JSON parameter (addCountsSQL),
// since preparing and binding a statement of hundreds of parameters costs
// SQLite more than the writes.
func (s *Store) applyCounts(ctx context.Context, tx *sql.Tx, group string, d delta) error {
	if len(d) == 0 {
		return nil
	}
	kbs := make([]string, 0, len(d))
	for kb := range d {
		kbs = append(kbs, kb)
	}
	sort.Strings(kbs) // one lock order for every writer (PostgreSQL)
	rows := make([]countRow, len(kbs))
	for i, kb := range kbs {
		c := d[kb]
		rows[i] = countRow{kb, c[0], c[1], c[2]}
	}
	b, err := json.Marshal(rows)
	if err != nil {
		return err
	}
	_, err = tx.StmtContext(ctx, s.addCounts).ExecContext(ctx, group, string(b))
	return err
}

type countRow struct {
	KB          string `json:"kb"`
	Needed      int    `json:"n"`
	Conditional int    `json:"c"`
	Installed   int    `json:"i"`
}

// addCountsSQL and addProfileSQL read their rows from one JSON array:
// the one place the two databases need different SQL (SQLite's json_each,
// PostgreSQL's jsonb_to_recordset).
var (
	addCountsSQL = map[string]string{
		"sqlite": `INSERT INTO kb_counts (grp, kb, needed, conditional, installed)
			SELECT $1, json_extract(value, '$.kb'), json_extract(value, '$.n'), json_extract(value, '$.c'), json_extract(value, '$.i') FROM json_each($2) WHERE true
			ON CONFLICT (grp, kb) DO UPDATE SET needed = kb_counts.needed + excluded.needed,
			conditional = kb_counts.conditional + excluded.conditional, installed = kb_counts.installed + excluded.installed`,
		"postgres": `INSERT INTO kb_counts (grp, kb, needed, conditional, installed)
			SELECT $1, x.kb, x.n, x.c, x.i FROM jsonb_to_recordset($2::jsonb) AS x(kb text, n integer, c integer, i integer)
			ON CONFLICT (grp, kb) DO UPDATE SET needed = kb_counts.needed + excluded.needed,
			conditional = kb_counts.conditional + excluded.conditional, installed = kb_counts.installed + excluded.installed`,
	}
	addProfileSQL = map[string]string{
		"sqlite": `INSERT INTO profile_updates (profile, kb, state)
			SELECT $1, json_extract(value, '$.kb'), json_extract(value, '$.s') FROM json_each($2)`,
		"postgres": `INSERT INTO profile_updates (profile, kb, state)
			SELECT $1, x.kb, x.s FROM jsonb_to_recordset($2::jsonb) AS x(kb text, s text)`,
	}
)

// recount sets a host's contradicted count from its outcomes and returns
// it.
func (s *Store) recount(ctx context.Context, tx *sql.Tx, host string) (int, error) {
	var n int
	if err := tx.StmtContext(ctx, s.countContradicted).QueryRowContext(ctx, host).Scan(&n); err != nil {
		return 0, err
	}
	_, err := tx.StmtContext(ctx, s.setContradicted).ExecContext(ctx, host, n)
	return n, err
}

// profileDigest names a profile by its content.
func profileDigest(us []Update) string {
	h := sha256.New()
	b := make([]byte, 0, 64)
	for _, u := range us {
		b = append(append(append(append(b[:0], u.KB...), ' '), u.State...), '\n')
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// ensureProfile returns the id of the profile of us, writing it when new;
// 0 for none (a host with no updates: out of scope).
func (s *Store) ensureProfile(ctx context.Context, tx *sql.Tx, us []Update) (int64, error) {
	if len(us) == 0 {
		return 0, nil
	}
	digest := profileDigest(us)
	if id, ok := s.profiles.id(digest); ok {
		return id, nil
	}
	var id int64
	err := tx.StmtContext(ctx, s.findProfile).QueryRowContext(ctx, digest).Scan(&id)
	if err == nil {
		s.profiles.remember(digest, id)
		return id, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return 0, err
	}
	err = tx.QueryRowContext(ctx, `INSERT INTO profiles (digest, created) VALUES ($1, $2) ON CONFLICT (digest) DO NOTHING RETURNING id`, digest, ms(time.Now())).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		// Another server wrote it meanwhile (PostgreSQL): it is whole, as
		// its transaction committed.
		err = tx.StmtContext(ctx, s.findProfile).QueryRowContext(ctx, digest).Scan(&id)
		return id, err
	}
	if err != nil {
		return 0, err
	}
	type row struct {
		KB    string `json:"kb"`
		State string `json:"s"`
	}
	rows := make([]row, len(us))
	for i, u := range us {
		rows[i] = row{u.KB, u.State}
	}
	b, err := json.Marshal(rows)
	if err != nil {
		return 0, err
	}
	if _, err := tx.StmtContext(ctx, s.addProfile).ExecContext(ctx, id, string(b)); err != nil {
		return 0, err
	}
	// Not cached yet: the transaction may still roll back. The next write
	// finds it committed.
	return id, nil
}

// normalize sorts a profile by KB and keeps one state per KB (needed
// over conditional over installed).
func normalize(us []Update) []Update {
	out := append([]Update(nil), us...)
	slices.SortFunc(out, func(a, b Update) int {
		if c := strings.Compare(a.KB, b.KB); c != 0 {
			return c
		}
		return stateIndex[a.State] - stateIndex[b.State]
	})
	w := 0
	for i, u := range out {
		if i > 0 && u.KB == out[w-1].KB {
			continue
		}
		out[w] = u
		w++
	}
	return out[:w]
}

// profileCache keeps profile ids by digest and profiles' updates by id:
// both never change once written. Bounded: each map is emptied when full.
type profileCache struct {
	mu      sync.Mutex
	ids     map[string]int64
	entries map[int64][]Update
}

const maxCachedProfiles = 20000

func (c *profileCache) id(digest string) (int64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	id, ok := c.ids[digest]
	return id, ok
}

// forget empties the cache after a transaction that did not commit: what
// it read may have been its own profiles, never committed, and SQLite may
// give a rolled-back id to another profile.
func (c *profileCache) forget() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ids, c.entries = nil, nil
}

func (c *profileCache) remember(digest string, id int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ids == nil || len(c.ids) >= maxCachedProfiles {
		c.ids = map[string]int64{}
	}
	c.ids[digest] = id
}

// profileEntries reads a profile's updates, cached.
func (s *Store) profileEntries(ctx context.Context, tx *sql.Tx, id int64) ([]Update, error) {
	if id == 0 {
		return nil, nil
	}
	c := &s.profiles
	c.mu.Lock()
	us, ok := c.entries[id]
	c.mu.Unlock()
	if ok {
		return us, nil
	}
	rows, err := tx.QueryContext(ctx, `SELECT kb, state FROM profile_updates WHERE profile = $1 ORDER BY kb`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var u Update
		if err := rows.Scan(&u.KB, &u.State); err != nil {
			return nil, err
		}
		us = append(us, u)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// A profile of a transaction that rolls back may be cached here: a
	// rollback forgets the cache (Store.tx), since SQLite gives the id
	// again (its AUTOINCREMENT counter rolls back too).
	c.mu.Lock()
	if c.entries == nil || len(c.entries) >= maxCachedProfiles {
		c.entries = map[int64][]Update{}
	}
	c.entries[id] = us
	c.mu.Unlock()
	return us, nil
}

// UpdateCount is one update of the by-update view: how many hosts need
// it, may need it, have it, failed on it, and reported it installed
// while a later inventory lacks it.
type UpdateCount struct {
	KB                                                   string
	Needed, Conditional, Installed, Failed, Contradicted int
}

// UpdateCounts is the by-update view of a group ("" for every host):
// every update some host needs or may need, or failed on, most needed
// first. It folds the moves logged since the last fold, then reads one
// row per KB, whatever the number of hosts.
func (s *Store) UpdateCounts(ctx context.Context, group string) ([]UpdateCount, error) {
	byKB, err := s.updateCounts(ctx, group, "")
	if err != nil {
		return nil, err
	}
	out := make([]UpdateCount, 0, len(byKB))
	for _, u := range byKB {
		if u.Needed+u.Conditional+u.Failed+u.Contradicted > 0 {
			out = append(out, *u)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Needed != out[j].Needed {
			return out[i].Needed > out[j].Needed
		}
		return out[i].KB < out[j].KB
	})
	return out, nil
}

// UpdateCount is one KB's row of the by-update view of a group ("" every
// host), zero when no host needs, may need, has or failed on it.
func (s *Store) UpdateCount(ctx context.Context, kb, group string) (UpdateCount, error) {
	kb = strings.ToUpper(kb)
	byKB, err := s.updateCounts(ctx, group, kb)
	if err != nil {
		return UpdateCount{}, err
	}
	if u := byKB[kb]; u != nil {
		return *u, nil
	}
	return UpdateCount{KB: kb}, nil
}

// updateCounts reads the by-update counts of a group, of one KB or ("")
// of all, after a fold: the kept counts, and the failed and contradicted
// kit outcomes (few: counted where they are).
func (s *Store) updateCounts(ctx context.Context, group, kb string) (map[string]*UpdateCount, error) {
	if err := s.Fold(ctx); err != nil {
		return nil, err
	}
	q, args := `SELECT kb, needed, conditional, installed FROM kb_counts WHERE grp = $1`, []any{group}
	fq, fargs := `SELECT kb, flag, COUNT(*) FROM host_outcomes WHERE flag IN ('failed', 'contradicted')`, []any{}
	if group != "" {
		fargs = append(fargs, group)
		fq += fmt.Sprintf(` AND host IN (SELECT host FROM host_groups WHERE grp = $%d)`, len(fargs))
	}
	if kb != "" {
		args, fargs = append(args, kb), append(fargs, kb)
		q += ` AND kb = $2`
		fq += fmt.Sprintf(` AND kb = $%d`, len(fargs))
	}
	rows, err := collect(ctx, s.db, func(r scanner) (UpdateCount, error) {
		var u UpdateCount
		err := r.Scan(&u.KB, &u.Needed, &u.Conditional, &u.Installed)
		return u, err
	}, q, args...)
	if err != nil {
		return nil, err
	}
	byKB := make(map[string]*UpdateCount, len(rows))
	for i := range rows {
		byKB[rows[i].KB] = &rows[i]
	}
	type flagged struct {
		kb, flag string
		n        int
	}
	flags, err := collect(ctx, s.db, func(r scanner) (flagged, error) {
		var f flagged
		err := r.Scan(&f.kb, &f.flag, &f.n)
		return f, err
	}, fq+` GROUP BY kb, flag`, fargs...)
	if err != nil {
		return nil, err
	}
	for _, f := range flags {
		u := byKB[f.kb]
		if u == nil {
			u = &UpdateCount{KB: f.kb}
			byKB[f.kb] = u
		}
		if f.flag == "failed" {
			u.Failed = f.n
		} else {
			u.Contradicted = f.n
		}
	}
	return byKB, nil
}

// HostsWith lists the hosts of a group ("" every host) whose profile
// holds kb in state (UpdateNeeded, UpdateConditional, UpdateInstalled),
// or, for state "failed" or "contradicted", whose kit outcome for kb is
// so flagged: the first limit by name. total is how many there are
// (UpdateCount): when they are many, the hosts are walked in name order
// until limit match (the "+profile" keeps SQLite off the profile index,
// which would sort all of them first); when few, found by their profiles.
func (s *Store) HostsWith(ctx context.Context, kb, state, group string, limit, total int) ([]Host, error) {
	var cond string
	args := []any{strings.ToUpper(kb), state}
	switch state {
	case UpdateNeeded, UpdateConditional, UpdateInstalled:
		col := "profile"
		if total > 20*limit {
			col = "+profile"
		}
		cond = ` WHERE ` + col + ` IN (SELECT profile FROM profile_updates WHERE kb = $1 AND state = $2)`
	case "failed", "contradicted":
		cond = ` WHERE name IN (SELECT host FROM host_outcomes WHERE kb = $1 AND flag = $2)`
	default:
		return nil, &QueryError{fmt.Sprintf("state %q: expected needed, conditional, installed, failed or contradicted", state)}
	}
	if group != "" {
		args = append(args, group)
		cond += ` AND name IN (SELECT host FROM host_groups WHERE grp = $3)`
	}
	return collect(ctx, s.db, scanHost, `SELECT `+hostColumns+` FROM hosts`+cond+fmt.Sprintf(` ORDER BY name LIMIT %d`, max(limit, 1)), args...)
}
