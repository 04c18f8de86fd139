package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"sort"
)

// summaryKey is a host's place in the overview's summary (schema 5), with
// the CVE counts the overview sums.
type summaryKey struct {
	State                                 string
	Build                                 int
	PatchLevel                            string
	Day                                   int64 // UTC day of the newest upload (dayOf)
	Flags                                 int
	CVEsOpen, CVEsCritical, CVEsExploited int
}

// Summary flags (migrations/*/0005_overview_summary.sql).
const (
	flagInScope = 1 << iota
	flagSHA2
	flagSSUCurrent
	flagESUPrepared
	flagRebootPending
	flagExposed
	flagCritical
	flagExploited
	flagContradicted
)

// dayOf is the UTC day a time in Unix milliseconds falls on.
func dayOf(ms int64) int64 { return ms / 86400000 }

const hostKeySQL = `SELECT state, build, patch_level, updated, in_scope, sha2, ssu_current, esu_prepared, reboot_pending,
	cves_open, cves_critical, cves_exploited, contradicted, profile FROM hosts WHERE name = $1`

// keyOf is a host row's summary key; ok false when there is no row.
func (s *Store) keyOf(ctx context.Context, tx *sql.Tx, host string) (k summaryKey, ok bool, err error) {
	k, _, ok, err = s.rowKey(ctx, tx, host)
	return k, ok, err
}

// rowKey is a host row's summary key and profile.
func (s *Store) rowKey(ctx context.Context, tx *sql.Tx, host string) (k summaryKey, profile int64, ok bool, err error) {
	var h Host
	var scope, sha2, ssu, esu, pending int
	var updated int64
	err = tx.StmtContext(ctx, s.hostKey).QueryRowContext(ctx, host).Scan(&h.State, &h.Build, &h.PatchLevel, &updated, &scope, &sha2, &ssu, &esu, &pending,
		&h.CVEsOpen, &h.CVEsCritical, &h.CVEsExploited, &h.Contradicted, &profile)
	if errors.Is(err, sql.ErrNoRows) {
		return k, 0, false, nil
	}
	h.Updated = fromMS(updated)
	h.InScope, h.SHA2, h.SSUCurrent, h.ESUPrepared, h.RebootPending = scope == 1, sha2 == 1, ssu == 1, esu == 1, pending == 1
	return keyOfHost(h), profile, true, err
}

// keyOfHost is the summary key of a host row's values: the one place
// that says what the overview counts a host as.
func keyOfHost(h Host) summaryKey {
	k := summaryKey{State: h.State, Build: h.Build, PatchLevel: h.PatchLevel, Day: dayOf(ms(h.Updated)),
		CVEsOpen: h.CVEsOpen, CVEsCritical: h.CVEsCritical, CVEsExploited: h.CVEsExploited}
	for _, f := range []struct {
		on   bool
		flag int
	}{{h.InScope, flagInScope}, {h.SHA2, flagSHA2}, {h.SSUCurrent, flagSSUCurrent}, {h.ESUPrepared, flagESUPrepared}, {h.RebootPending, flagRebootPending},
		{h.CVEsOpen > 0, flagExposed}, {h.CVEsCritical > 0, flagCritical}, {h.CVEsExploited > 0, flagExploited}, {h.Contradicted > 0, flagContradicted}} {
		if f.on {
			k.Flags |= f.flag
		}
	}
	return k
}

// track runs a change of a host's row and logs the summary key it left
// and took, in every group it is in and in ” (every host), for Fold.
func (s *Store) track(ctx context.Context, tx *sql.Tx, host string, change func() (bool, error)) (bool, error) {
	before, had, err := s.keyOf(ctx, tx, host)
	if err != nil {
		return false, err
	}
	changed, err := change()
	if err != nil || !changed {
		return changed, err
	}
	after, has, err := s.keyOf(ctx, tx, host)
	if err != nil {
		return changed, err
	}
	return changed, s.logKeys(ctx, tx, host, before, had, after, has)
}

// logKeys logs a host leaving key before (when had) and taking key after
// (when has), in every group it is in and in ”.
func (s *Store) logKeys(ctx context.Context, tx *sql.Tx, host string, before summaryKey, had bool, after summaryKey, has bool) error {
	if had == has && before == after {
		return nil
	}
	for _, x := range []struct {
		k  summaryKey
		ok bool
		n  int
	}{{before, had, -1}, {after, has, 1}} {
		if !x.ok {
			continue
		}
		k := x.k
		if _, err := tx.StmtContext(ctx, s.logSummary).ExecContext(ctx, host, k.State, k.Build, k.PatchLevel, k.Day, k.Flags, x.n,
			x.n*k.CVEsOpen, x.n*k.CVEsCritical, x.n*k.CVEsExploited); err != nil {
			return err
		}
	}
	return nil
}

// logSummarySQL logs a host's key (n 1 or -1, the CVE counts signed) in
// every group it is in and in ”.
const logSummarySQL = `INSERT INTO summary_log (grp, state, build, patch_level, day, flags, n, cves_open, cves_critical, cves_exploited)
	SELECT g.grp, CAST($2 AS TEXT), CAST($3 AS INTEGER), CAST($4 AS TEXT), CAST($5 AS BIGINT), CAST($6 AS INTEGER), CAST($7 AS INTEGER),
		CAST($8 AS BIGINT), CAST($9 AS BIGINT), CAST($10 AS BIGINT)
	FROM (SELECT '' AS grp UNION ALL SELECT grp FROM host_groups WHERE host = $1) g`

// summaryRow is one key's sums in one group.
type summaryRow struct {
	Group      string `json:"g"`
	State      string `json:"s"`
	Build      int    `json:"b"`
	PatchLevel string `json:"p"`
	Day        int64  `json:"d"`
	Flags      int    `json:"f"`
	N          int    `json:"n"`
	Open       int    `json:"o"`
	Critical   int    `json:"c"`
	Exploited  int    `json:"e"`
}

// takeSummaryLog takes summary_log's rows out in tx, summed by group and
// key (Fold's first half for the summary; foldSummary applies them).
func takeSummaryLog(ctx context.Context, tx *sql.Tx) ([]summaryRow, error) {
	rows, err := tx.QueryContext(ctx, `DELETE FROM summary_log RETURNING grp, state, build, patch_level, day, flags, n, cves_open, cves_critical, cves_exploited`)
	if err != nil {
		return nil, err
	}
	type key struct {
		grp, state, level string
		build, flags      int
		day               int64
	}
	sums := map[key]*summaryRow{}
	for rows.Next() {
		var r summaryRow
		if err := rows.Scan(&r.Group, &r.State, &r.Build, &r.PatchLevel, &r.Day, &r.Flags, &r.N, &r.Open, &r.Critical, &r.Exploited); err != nil {
			rows.Close()
			return nil, err
		}
		k := key{r.Group, r.State, r.PatchLevel, r.Build, r.Flags, r.Day}
		if x := sums[k]; x != nil {
			x.N, x.Open, x.Critical, x.Exploited = x.N+r.N, x.Open+r.Open, x.Critical+r.Critical, x.Exploited+r.Exploited
		} else {
			sums[k] = &r
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := make([]summaryRow, 0, len(sums))
	for _, r := range sums {
		out = append(out, *r)
	}
	return out, nil
}

// foldSummary adds the sums taken from summary_log to summary in tx, for
// the groups in live.
func (s *Store) foldSummary(ctx context.Context, tx *sql.Tx, sums []summaryRow, live map[string]bool) error {
	out := sums[:0]
	for _, r := range sums {
		if live[r.Group] && (r.N != 0 || r.Open != 0 || r.Critical != 0 || r.Exploited != 0) {
			out = append(out, r)
		}
	}
	if len(out) == 0 {
		return nil
	}
	// One order for every folder (PostgreSQL's row locks).
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Group != b.Group {
			return a.Group < b.Group
		}
		if a.State != b.State {
			return a.State < b.State
		}
		if a.Build != b.Build {
			return a.Build < b.Build
		}
		if a.PatchLevel != b.PatchLevel {
			return a.PatchLevel < b.PatchLevel
		}
		if a.Day != b.Day {
			return a.Day < b.Day
		}
		return a.Flags < b.Flags
	})
	b, err := json.Marshal(out)
	if err != nil {
		return err
	}
	_, err = tx.StmtContext(ctx, s.addSummary).ExecContext(ctx, string(b))
	return err
}

// addSummarySQL adds rows of sums to summary from one JSON array (as
// addCountsSQL does).
var addSummarySQL = map[string]string{
	"sqlite": `INSERT INTO summary (grp, state, build, patch_level, day, flags, n, cves_open, cves_critical, cves_exploited)
		SELECT json_extract(value, '$.g'), json_extract(value, '$.s'), json_extract(value, '$.b'), json_extract(value, '$.p'), json_extract(value, '$.d'), json_extract(value, '$.f'),
			json_extract(value, '$.n'), json_extract(value, '$.o'), json_extract(value, '$.c'), json_extract(value, '$.e') FROM json_each($1) WHERE true
		ON CONFLICT (grp, state, build, patch_level, day, flags) DO UPDATE SET n = summary.n + excluded.n, cves_open = summary.cves_open + excluded.cves_open,
			cves_critical = summary.cves_critical + excluded.cves_critical, cves_exploited = summary.cves_exploited + excluded.cves_exploited`,
	"postgres": `INSERT INTO summary (grp, state, build, patch_level, day, flags, n, cves_open, cves_critical, cves_exploited)
		SELECT x.g, x.s, x.b, x.p, x.d, x.f, x.n, x.o, x.c, x.e FROM jsonb_to_recordset($1::jsonb) AS x(g text, s text, b integer, p text, d bigint, f integer, n integer, o bigint, c bigint, e bigint)
		ON CONFLICT (grp, state, build, patch_level, day, flags) DO UPDATE SET n = summary.n + excluded.n, cves_open = summary.cves_open + excluded.cves_open,
			cves_critical = summary.cves_critical + excluded.cves_critical, cves_exploited = summary.cves_exploited + excluded.cves_exploited`,
}
