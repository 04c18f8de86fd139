package store

import (
	"context"
	"sort"
	"strconv"
	"time"
)

// Overview is the fleet (or one group) at a glance, from the summary kept
// at write time (schema 5): a few rows per group, whatever the fleet's
// size, and two index lookups.
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
	if err := s.Fold(ctx); err != nil {
		return o, err
	}
	type row struct {
		state, level              string
		build, flags, n           int
		day                       int64
		open, critical, exploited int
	}
	rows, err := collect(ctx, s.db, func(r scanner) (row, error) {
		var x row
		err := r.Scan(&x.state, &x.build, &x.level, &x.day, &x.flags, &x.n, &x.open, &x.critical, &x.exploited)
		return x, err
	}, `SELECT state, build, patch_level, day, flags, n, cves_open, cves_critical, cves_exploited FROM summary WHERE grp = $1 AND n > 0`, group)
	if err != nil {
		return o, err
	}
	builds, levels, states := map[int]int{}, map[string]int{}, map[string]int{}
	silent := staleBefore(now)
	for _, x := range rows {
		on := func(f int) bool { return x.flags&f != 0 }
		add := func(to *int, ok bool) {
			if ok {
				*to += x.n
			}
		}
		scope := on(flagInScope)
		add(&o.Hosts, true)
		add(&o.InScope, scope)
		add(&o.NoSHA2, scope && !on(flagSHA2))
		add(&o.SSUOld, scope && !on(flagSSUCurrent))
		add(&o.ESUUnprepared, scope && !on(flagESUPrepared))
		add(&o.RebootPending, on(flagRebootPending))
		add(&o.Exposed, on(flagExposed))
		add(&o.Critical, on(flagCritical))
		add(&o.Exploited, on(flagExploited))
		add(&o.Contradicted, on(flagContradicted))
		add(&o.Stale, x.day < dayOf(silent))
		o.CVEsOpen, o.CVEsCritical, o.CVEsExploited = o.CVEsOpen+x.open, o.CVEsCritical+x.critical, o.CVEsExploited+x.exploited
		builds[x.build] += x.n
		levels[x.level] += x.n
		states[x.state] += x.n
	}
	o.ByBuild = sortedCounts(builds, func(a, b int) bool { return a < b }, strconv.Itoa)
	o.ByPatchLevel = sortedCounts(levels, func(a, b string) bool { return a < b }, func(k string) string { return k })
	o.ByState = sortedCounts(states, func(a, b string) bool { return a < b }, func(k string) string { return k })
	// The one answer a summary cannot keep: the hosts at the oldest patch
	// levels (an index walk of in_scope, patch_level, name).
	cond, gargs := ` WHERE in_scope = 1`, []any{}
	if group != "" {
		// EXISTS, not IN: the walk stops at 10 members, each checked by
		// the membership's key, with no set of the group built first.
		cond, gargs = ` WHERE in_scope = 1 AND EXISTS (SELECT 1 FROM host_groups m WHERE m.host = hosts.name AND m.grp = $1)`, []any{group}
	}
	o.Oldest, err = collect(ctx, s.db, scanHost, `SELECT `+hostColumns+` FROM hosts`+cond+` ORDER BY patch_level, name LIMIT 10`, gargs...)
	return o, err
}

// staleBefore is the start (UTC midnight, Unix milliseconds) of the day
// from which on a host is not silent: hosts whose newest upload is on an
// earlier day are stale. Whole days, so that the summary's upload days
// count them exactly.
func staleBefore(now time.Time) int64 {
	return dayOf(ms(now.Add(-StaleAfter))) * 86400000
}

// sortedCounts turns a map of counts into buckets in key order.
func sortedCounts[K comparable](m map[K]int, less func(a, b K) bool, name func(K) string) []Count {
	keys := make([]K, 0, len(m))
	for k, n := range m {
		if n != 0 {
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(i, j int) bool { return less(keys[i], keys[j]) })
	out := make([]Count, len(keys))
	for i, k := range keys {
		out[i] = Count{Key: name(k), N: m[k]}
	}
	return out
}

// GroupState is how many hosts of a group are in a state.
type GroupState struct {
	Group, State string
	N            int
}

// GroupStates counts each group's hosts by state (from the summary).
func (s *Store) GroupStates(ctx context.Context) ([]GroupState, error) {
	if err := s.Fold(ctx); err != nil {
		return nil, err
	}
	return collect(ctx, s.db, func(r scanner) (GroupState, error) {
		var g GroupState
		err := r.Scan(&g.Group, &g.State, &g.N)
		return g, err
	}, `SELECT grp, state, SUM(n) FROM summary WHERE grp <> '' GROUP BY grp, state HAVING SUM(n) > 0 ORDER BY grp, state`)
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

// StateCounts counts every host by state (from the summary).
func (s *Store) StateCounts(ctx context.Context) ([]Count, error) {
	if err := s.Fold(ctx); err != nil {
		return nil, err
	}
	return s.counts(ctx, `SELECT state, SUM(n) FROM summary WHERE grp = '' GROUP BY state HAVING SUM(n) > 0 ORDER BY state`)
}
