package store

import (
	"context"
	"fmt"
	"time"
)

// AuditEntry is one thing someone did: a change (audit table), an
// inventory upload (snapshots) or a results upload (runs).
type AuditEntry struct {
	At     time.Time
	Actor  string // user, token id, or "local" (kbplan fleet on the server)
	Action string // upload-inventory, upload-results, import, token-add, token-revoke, user-add, user-reset, user-remove, group-*, host-delete
	Target string
	Detail string
	Remote string
}

// AddAudit records a change.
func (s *Store) AddAudit(ctx context.Context, e AuditEntry) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO audit (at, actor, action, target, detail, remote) VALUES ($1, $2, $3, $4, $5, $6)`,
		ms(e.At), e.Actor, e.Action, e.Target, e.Detail, e.Remote)
	return err
}

// Audit lists what was done, newest first: changes and uploads, before
// the time before (zero: now), at most limit.
func (s *Store) Audit(ctx context.Context, before time.Time, limit int) ([]AuditEntry, error) {
	if before.IsZero() {
		before = time.Now().Add(time.Minute)
	}
	b := ms(before)
	n := max(limit, 1)
	q := fmt.Sprintf(`SELECT at, actor, action, target, detail, remote FROM (
		SELECT * FROM (SELECT at, actor, action, target, detail, remote FROM audit WHERE at < $1 ORDER BY at DESC LIMIT %[1]d) a
		UNION ALL
		SELECT * FROM (SELECT received AS at, COALESCE(NULLIF(token, ''), 'local') AS actor, 'upload-inventory' AS action, host AS target,
			format || ', ' || CAST(size AS TEXT) || ' bytes' AS detail, COALESCE(remote, '') AS remote
			FROM snapshots WHERE received < $1 ORDER BY id DESC LIMIT %[1]d) s
		UNION ALL
		SELECT * FROM (SELECT received AS at, COALESCE(NULLIF(token, ''), 'local') AS actor, 'upload-results' AS action, host AS target,
			'kit ' || kit || ': ' || status AS detail, remote FROM runs WHERE received < $1 ORDER BY id DESC LIMIT %[1]d) r
	) x ORDER BY at DESC LIMIT %[1]d`, n)
	return collect(ctx, s.db, func(r scanner) (AuditEntry, error) {
		var e AuditEntry
		var at int64
		err := r.Scan(&at, &e.Actor, &e.Action, &e.Target, &e.Detail, &e.Remote)
		e.At = fromMS(at)
		return e, err
	}, q, b)
}
