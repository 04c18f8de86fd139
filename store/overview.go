package store

import (
	"context"
	"time"
)

// Overview is the fleet at a glance, computed in the database (three
// grouped scans of hosts, whatever the fleet's size).
type Overview struct {
	Hosts         int
	InScope       int
	NoSHA2        int
	SSUOld        int
	ESUUnprepared int
	RebootPending int
	Exposed       int // hosts with an open CVE
	CVEsOpen      int // sum over hosts
	CVEsCritical  int
	CVEsExploited int
	Stale         int     // no upload for StaleAfter
	ByBuild       []Count // build number as Key, ascending
	ByPatchLevel  []Count // YYYY-MM as Key ("" = none), ascending
}

// Count is one bucket.
type Count struct {
	Key string
	N   int
}

// Overview computes the fleet overview as of now.
func (s *Store) Overview(ctx context.Context, now time.Time) (Overview, error) {
	var o Overview
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*),
		COALESCE(SUM(in_scope), 0),
		COALESCE(SUM(CASE WHEN in_scope = 1 AND sha2 = 0 THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN in_scope = 1 AND ssu_current = 0 THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN in_scope = 1 AND esu_prepared = 0 THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(reboot_pending), 0),
		COALESCE(SUM(CASE WHEN cves_open > 0 THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(cves_open), 0), COALESCE(SUM(cves_critical), 0), COALESCE(SUM(cves_exploited), 0),
		COALESCE(SUM(CASE WHEN updated < $1 THEN 1 ELSE 0 END), 0)
		FROM hosts`, ms(now.Add(-StaleAfter))).Scan(&o.Hosts, &o.InScope, &o.NoSHA2, &o.SSUOld, &o.ESUUnprepared, &o.RebootPending,
		&o.Exposed, &o.CVEsOpen, &o.CVEsCritical, &o.CVEsExploited, &o.Stale)
	if err != nil {
		return o, err
	}
	if o.ByBuild, err = s.counts(ctx, `SELECT CAST(build AS TEXT), COUNT(*) FROM hosts GROUP BY build ORDER BY build`); err != nil {
		return o, err
	}
	o.ByPatchLevel, err = s.counts(ctx, `SELECT patch_level, COUNT(*) FROM hosts GROUP BY patch_level ORDER BY patch_level`)
	return o, err
}

func (s *Store) counts(ctx context.Context, q string) ([]Count, error) {
	return collect(ctx, s.db, func(r scanner) (Count, error) {
		var c Count
		err := r.Scan(&c.Key, &c.N)
		return c, err
	}, q)
}

// Builds lists the builds in the fleet, ascending (the host list's
// build filter; the index on build answers it).
func (s *Store) Builds(ctx context.Context) ([]int, error) {
	return collect(ctx, s.db, func(r scanner) (int, error) {
		var b int
		err := r.Scan(&b)
		return b, err
	}, `SELECT DISTINCT build FROM hosts ORDER BY build`)
}
