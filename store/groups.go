package store

import (
	"context"
	"database/sql"
	"slices"
	"sort"
	"strings"
	"time"
)

// Group is a set of hosts (a site, a plant floor, the DMZ): named by an
// upload, by kbplan fleet group add, or by a host-name rule.
type Group struct {
	Name    string
	Rule    string // host-name pattern (path.Match, case-insensitive); "" none
	Created time.Time
	Hosts   int
}

// Groups lists the groups with their sizes (hosts of the fleet in each,
// from the summary), by name.
func (s *Store) Groups(ctx context.Context) ([]Group, error) {
	if err := s.Fold(ctx); err != nil {
		return nil, err
	}
	return collect(ctx, s.db, func(r scanner) (Group, error) {
		var g Group
		var created int64
		err := r.Scan(&g.Name, &g.Rule, &created, &g.Hosts)
		g.Created = fromMS(created)
		return g, err
	}, `SELECT g.name, g.rule, g.created, COALESCE((SELECT SUM(n) FROM summary m WHERE m.grp = g.name), 0) FROM groups g ORDER BY g.name`)
}

// PutGroup makes a group, or sets its rule.
func (s *Store) PutGroup(ctx context.Context, name, rule string) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO groups (name, created, rule) VALUES ($1, $2, $3) ON CONFLICT (name) DO UPDATE SET rule = excluded.rule`,
		name, ms(time.Now()), rule)
	return err
}

// DeleteGroup removes a group; its hosts stay.
func (s *Store) DeleteGroup(ctx context.Context, name string) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		r, err := tx.ExecContext(ctx, `DELETE FROM groups WHERE name = $1`, name)
		if err != nil {
			return err
		}
		if n, _ := r.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		for _, q := range []string{`DELETE FROM host_groups WHERE grp = $1`, `DELETE FROM kb_counts WHERE grp = $1`, `DELETE FROM count_log WHERE grp = $1`,
			`DELETE FROM summary WHERE grp = $1`, `DELETE FROM summary_log WHERE grp = $1`} {
			if _, err := tx.ExecContext(ctx, q, name); err != nil {
				return err
			}
		}
		return nil
	})
}

// JoinGroup puts hosts (names, any case) in a group, making the group if
// needed; it returns how many joined (were not in it yet). A name with no
// host row joins too: its first upload counts it.
func (s *Store) JoinGroup(ctx context.Context, group string, hosts ...string) (int, error) {
	return s.eachHost(ctx, hosts, func(tx *sql.Tx, key string) (bool, error) {
		return s.joined(ctx, tx, group, key)
	})
}

// eachHost runs fn for each of hosts (lower case, in lock order, each
// locked) in one transaction; it returns how many fn reported true for.
func (s *Store) eachHost(ctx context.Context, hosts []string, fn func(tx *sql.Tx, key string) (bool, error)) (int, error) {
	hosts = lockOrder(hosts)
	n := 0
	err := s.tx(ctx, func(tx *sql.Tx) error {
		n = 0
		for _, key := range hosts {
			if err := s.lockHost(ctx, tx, key); err != nil {
				return err
			}
			ok, err := fn(tx, key)
			if err != nil {
				return err
			}
			if ok {
				n++
			}
		}
		return nil
	})
	return n, err
}

// joined adds one membership (making the group if needed) and counts the
// host in the group as its row is now.
func (s *Store) joined(ctx context.Context, tx *sql.Tx, group, host string) (bool, error) {
	if _, err := tx.ExecContext(ctx, `INSERT INTO groups (name, created) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING`, group, ms(time.Now())); err != nil {
		return false, err
	}
	r, err := tx.ExecContext(ctx, `INSERT INTO host_groups (host, grp) VALUES ($1, $2) ON CONFLICT (host, grp) DO NOTHING`, host, group)
	if err != nil {
		return false, err
	}
	if n, _ := r.RowsAffected(); n == 0 {
		return false, nil
	}
	return true, s.membership(ctx, tx, group, host, 1)
}

// membership logs, for Fold, a host joining (n 1) or leaving (n -1) one
// group: its summary key and its update profile as its row is now. A
// name with no row yet logs nothing: its first write counts it.
func (s *Store) membership(ctx context.Context, tx *sql.Tx, group, host string, n int) error {
	k, profile, ok, err := s.rowKey(ctx, tx, host)
	if err != nil || !ok {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO summary_log (grp, state, build, patch_level, day, flags, n, cves_open, cves_critical, cves_exploited)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`, group, k.State, k.Build, k.PatchLevel, k.Day, k.Flags, n, n*k.CVEsOpen, n*k.CVEsCritical, n*k.CVEsExploited); err != nil {
		return err
	}
	if profile == 0 {
		return nil
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO count_log (grp, profile, n) VALUES ($1, $2, $3)`, group, profile, n)
	return err
}

// LeaveGroup takes hosts out of a group; it returns how many left.
func (s *Store) LeaveGroup(ctx context.Context, group string, hosts ...string) (int, error) {
	return s.eachHost(ctx, hosts, func(tx *sql.Tx, key string) (bool, error) {
		r, err := tx.ExecContext(ctx, `DELETE FROM host_groups WHERE host = $1 AND grp = $2`, key, group)
		if err != nil {
			return false, err
		}
		if c, _ := r.RowsAffected(); c == 0 {
			return false, nil
		}
		return true, s.membership(ctx, tx, group, key, -1)
	})
}

// HostGroups lists a host's groups.
func (s *Store) HostGroups(ctx context.Context, host string) ([]string, error) {
	return collect(ctx, s.db, func(r scanner) (string, error) {
		var g string
		err := r.Scan(&g)
		return g, err
	}, `SELECT grp FROM host_groups WHERE host = $1 ORDER BY grp`, strings.ToLower(host))
}

// lockOrder is hosts in lower case, sorted, once each: the order every
// transaction takes host locks in (lockHost), so that two cannot wait on
// each other.
func lockOrder(hosts []string) []string {
	out := make([]string, len(hosts))
	for i, h := range hosts {
		out[i] = strings.ToLower(h)
	}
	sort.Strings(out)
	return slices.Compact(out)
}
