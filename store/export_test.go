package store

import (
	"context"
	"database/sql"
	"strings"
	"sync"
	"time"
)

// ScanOverview is the overview by scans of hosts (schema 4's way): the
// reference the summary is checked against.
func (s *Store) ScanOverview(ctx context.Context, now time.Time, group string) (Overview, error) {
	return s.scanOverview(ctx, now, group)
}

func (s *Store) scanOverview(ctx context.Context, now time.Time, group string) (Overview, error) {
	o := Overview{Group: group}
	where, args := "", []any{staleBefore(now)}
	if group != "" {
		where = ` WHERE name IN (SELECT host FROM host_groups WHERE grp = $2)`
		args = append(args, group)
	}
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*),
		COALESCE(SUM(in_scope), 0),
		COALESCE(SUM(CASE WHEN in_scope = 1 AND sha2 = 0 THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN in_scope = 1 AND ssu_current = 0 THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN in_scope = 1 AND esu_prepared = 0 THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(reboot_pending), 0),
		COALESCE(SUM(CASE WHEN cves_open > 0 THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN cves_critical > 0 THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN cves_exploited > 0 THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN contradicted > 0 THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(cves_open), 0), COALESCE(SUM(cves_critical), 0), COALESCE(SUM(cves_exploited), 0),
		COALESCE(SUM(CASE WHEN updated < $1 THEN 1 ELSE 0 END), 0)
		FROM hosts`+where, args...).Scan(&o.Hosts, &o.InScope, &o.NoSHA2, &o.SSUOld, &o.ESUUnprepared, &o.RebootPending,
		&o.Exposed, &o.Critical, &o.Exploited, &o.Contradicted, &o.CVEsOpen, &o.CVEsCritical, &o.CVEsExploited, &o.Stale)
	if err != nil {
		return o, err
	}
	gargs := args[1:]
	gwhere := strings.ReplaceAll(where, "$2", "$1")
	if o.ByBuild, err = s.counts(ctx, `SELECT CAST(build AS TEXT), COUNT(*) FROM hosts`+gwhere+` GROUP BY build ORDER BY build`, gargs...); err != nil {
		return o, err
	}
	if o.ByPatchLevel, err = s.counts(ctx, `SELECT patch_level, COUNT(*) FROM hosts`+gwhere+` GROUP BY patch_level ORDER BY patch_level`, gargs...); err != nil {
		return o, err
	}
	if o.ByState, err = s.counts(ctx, `SELECT state, COUNT(*) FROM hosts`+gwhere+` GROUP BY state ORDER BY state`, gargs...); err != nil {
		return o, err
	}
	cond := " WHERE in_scope = 1"
	if gwhere != "" {
		cond = gwhere + " AND in_scope = 1"
	}
	o.Oldest, err = collect(ctx, s.db, scanHost, `SELECT `+hostColumns+` FROM hosts`+cond+` ORDER BY patch_level, name LIMIT 10`, gargs...)
	return o, err
}

// Batched runs fn as an upload's writes are run: in a transaction it may
// share with other uploads'.
func (s *Store) Batched(ctx context.Context, fn func(*sql.Tx) error) error { return s.batched(ctx, fn) }

// HoldWriter keeps the upload writer busy until release is called: the
// uploads sent meanwhile queue (Queued) and are written together. Call
// release more than once at will; a test that fails before it releases
// must still release, or closing the store waits for the writer forever.
func (s *Store) HoldWriter() (release func()) {
	hold, started := make(chan struct{}), make(chan struct{})
	go s.batched(context.Background(), func(*sql.Tx) error { close(started); <-hold; return nil })
	<-started
	var once sync.Once
	return func() { once.Do(func() { close(hold) }) }
}

// Queued is how many uploads wait for the writer (SQLite).
func (s *Store) Queued() int { return len(s.writes) }

// SharedBatches is how many transactions wrote more than one upload, and
// how many of those rolled back.
func (s *Store) SharedBatches() (n, failed int64) { return s.sharedN.Load(), s.sharedFailed.Load() }
