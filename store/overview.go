package store

import (
	"context"
	"strings"
	"time"
)

// Overview is the fleet (or one group) at a glance, computed in the
// database (grouped scans of hosts, whatever the fleet's size).
type Overview struct {
	Group         string // "": every host
	Hosts         int
	InScope       int
	NoSHA2        int
	SSUOld        int
	ESUUnprepared int
	RebootPending int
	Exposed       int // hosts with an open CVE
	Critical      int // hosts with an open critical CVE
	Exploited     int // hosts with an open CVE known to be exploited
	Contradicted  int // hosts whose kit reported an install a later inventory lacks
	CVEsOpen      int // sum over hosts
	CVEsCritical  int
	CVEsExploited int
	Stale         int     // no upload for StaleAfter
	ByBuild       []Count // build number as Key, ascending
	ByPatchLevel  []Count // YYYY-MM as Key ("" = none), ascending
	ByState       []Count // host state as Key
	Oldest        []Host  // the in-scope hosts at the oldest patch levels, at most 10
}

// Count is one bucket.
type Count struct {
	Key string
	N   int
}

// Overview computes the fleet overview as of now.
func (s *Store) Overview(ctx context.Context, now time.Time, group string) (Overview, error) {
	o := Overview{Group: group}
	where, args := "", []any{ms(now.Add(-StaleAfter))}
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

// GroupState is how many hosts of a group are in a state.
type GroupState struct {
	Group, State string
	N            int
}

// GroupStates counts each group's hosts by state.
func (s *Store) GroupStates(ctx context.Context) ([]GroupState, error) {
	return collect(ctx, s.db, func(r scanner) (GroupState, error) {
		var g GroupState
		err := r.Scan(&g.Group, &g.State, &g.N)
		return g, err
	}, `SELECT m.grp, h.state, COUNT(*) FROM host_groups m JOIN hosts h ON h.name = m.host GROUP BY m.grp, h.state ORDER BY m.grp, h.state`)
}

func (s *Store) counts(ctx context.Context, q string, args ...any) ([]Count, error) {
	return collect(ctx, s.db, func(r scanner) (Count, error) {
		var c Count
		err := r.Scan(&c.Key, &c.N)
		return c, err
	}, q, args...)
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

// StateCounts counts every host by state.
func (s *Store) StateCounts(ctx context.Context) ([]Count, error) {
	return s.counts(ctx, `SELECT state, COUNT(*) FROM hosts GROUP BY state ORDER BY state`)
}
