package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Run is one results upload of a kit's install.cmd.
type Run struct {
	ID       int64
	Host     string // key, lower case
	Kit      string
	Digest   string // SHA-256 of Body
	Received time.Time
	Token    string
	Remote   string
	Event    string
	Status   string
	Detail   string
	Steps    int // the kit's steps (0 unknown)
	Done     int // steps with an outcome
	Failed   int
	Boots    int
	Body     []byte // nil in lists
}

// Outcome is a host's newest result for one KB.
type Outcome struct {
	Host     string
	KB       string
	Outcome  string // installed, already-installed, not-applicable, failed
	Code     int32
	Run      int64
	Received time.Time
	Flag     string // failed, contradicted, ""
}

// AddRun stores a results upload and its outcomes, each replacing the
// host's older outcome for its KB; state, when not "", becomes the host
// row's state. The same body twice is one run (created false).
func (s *Store) AddRun(ctx context.Context, r Run, outcomes []Outcome, state string) (id int64, created bool, err error) {
	err = s.tx(ctx, func(tx *sql.Tx) error {
		if err := s.lockHost(ctx, tx, r.Host); err != nil {
			return err
		}
		err := tx.QueryRowContext(ctx, `INSERT INTO runs (host, kit, digest, received, token, remote, event, status, detail, steps, done, failed, boots, body)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) ON CONFLICT (digest) DO NOTHING RETURNING id`,
			r.Host, r.Kit, r.Digest, ms(r.Received), r.Token, r.Remote, r.Event, r.Status, r.Detail, r.Steps, r.Done, r.Failed, r.Boots, r.Body).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			created = false
			return tx.QueryRowContext(ctx, `SELECT id FROM runs WHERE digest = $1`, r.Digest).Scan(&id)
		}
		if err != nil {
			return err
		}
		created = true
		if len(outcomes) > 0 {
			rows := make([]outcomeRow, len(outcomes))
			for i, o := range outcomes {
				rows[i] = outcomeRow{KB: o.KB, Outcome: o.Outcome, Code: int64(o.Code)}
				if o.Outcome == "failed" {
					rows[i].Flag = "failed"
				}
			}
			b, err := json.Marshal(rows)
			if err != nil {
				return err
			}
			if _, err := tx.StmtContext(ctx, s.addOutcomes).ExecContext(ctx, r.Host, id, ms(r.Received), string(b)); err != nil {
				return err
			}
		}
		_, err = s.track(ctx, tx, r.Host, func() (bool, error) {
			if state != "" {
				if _, err := tx.ExecContext(ctx, `UPDATE hosts SET state = $2 WHERE name = $1`, r.Host, state); err != nil {
					return false, err
				}
			}
			_, err := s.recount(ctx, tx, r.Host)
			return true, err
		})
		return err
	})
	return id, created, err
}

type outcomeRow struct {
	KB      string `json:"kb"`
	Outcome string `json:"o"`
	Code    int64  `json:"c"`
	Flag    string `json:"f"`
}

// addOutcomesSQL writes a run's outcomes from one JSON array (as
// addCountsSQL does), each replacing the host's outcome for its KB from
// an older run.
var addOutcomesSQL = map[string]string{
	"sqlite": `INSERT INTO host_outcomes (host, kb, outcome, code, run, received, flag)
		SELECT $1, json_extract(value, '$.kb'), json_extract(value, '$.o'), json_extract(value, '$.c'), $2, $3, json_extract(value, '$.f') FROM json_each($4) WHERE true
		ON CONFLICT (host, kb) DO UPDATE SET outcome = excluded.outcome, code = excluded.code, run = excluded.run,
			received = excluded.received, flag = excluded.flag WHERE host_outcomes.run <= excluded.run`,
	"postgres": `INSERT INTO host_outcomes (host, kb, outcome, code, run, received, flag)
		SELECT $1, x.kb, x.o, x.c, $2, $3, x.f FROM jsonb_to_recordset($4::jsonb) AS x(kb text, o text, c bigint, f text)
		ON CONFLICT (host, kb) DO UPDATE SET outcome = excluded.outcome, code = excluded.code, run = excluded.run,
			received = excluded.received, flag = excluded.flag WHERE host_outcomes.run <= excluded.run`,
}

const runColumns = `id, host, kit, digest, received, token, remote, event, status, detail, steps, done, failed, boots`

// latestRunSQL is every upload's question (a kit's restart sets the
// host's state): prepared once.
const latestRunSQL = `SELECT ` + runColumns + ` FROM runs WHERE host = $1 ORDER BY id DESC LIMIT 1`

func scanRun(r scanner) (Run, error) {
	var x Run
	var received int64
	err := r.Scan(&x.ID, &x.Host, &x.Kit, &x.Digest, &received, &x.Token, &x.Remote, &x.Event, &x.Status, &x.Detail, &x.Steps, &x.Done, &x.Failed, &x.Boots)
	x.Received = fromMS(received)
	return x, err
}

// Runs lists a host's results uploads, newest first, without bodies.
func (s *Store) Runs(ctx context.Context, host string, limit int) ([]Run, error) {
	return collect(ctx, s.db, scanRun, `SELECT `+runColumns+` FROM runs WHERE host = $1 ORDER BY id DESC LIMIT $2`, strings.ToLower(host), limit)
}

// LatestRun is a host's newest results upload; ErrNotFound when none.
func (s *Store) LatestRun(ctx context.Context, host string) (Run, error) {
	r, err := scanRun(s.latestRun.QueryRowContext(ctx, strings.ToLower(host)))
	if errors.Is(err, sql.ErrNoRows) {
		return Run{}, ErrNotFound
	}
	return r, err
}

// RunBody returns one run with its body.
func (s *Store) RunBody(ctx context.Context, id int64) (Run, error) {
	var body []byte
	r, err := scanRun(s.db.QueryRowContext(ctx, `SELECT `+runColumns+` FROM runs WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Run{}, ErrNotFound
	}
	if err != nil {
		return r, err
	}
	err = s.db.QueryRowContext(ctx, `SELECT body FROM runs WHERE id = $1`, id).Scan(&body)
	r.Body = body
	return r, err
}

func scanOutcome(r scanner) (Outcome, error) {
	var o Outcome
	var received, code int64
	err := r.Scan(&o.Host, &o.KB, &o.Outcome, &code, &o.Run, &received, &o.Flag)
	o.Code, o.Received = int32(code), fromMS(received)
	return o, err
}

// Outcomes lists a host's newest outcome per KB, by KB.
func (s *Store) Outcomes(ctx context.Context, host string) ([]Outcome, error) {
	return collect(ctx, s.db, scanOutcome, `SELECT host, kb, outcome, code, run, received, flag FROM host_outcomes WHERE host = $1 ORDER BY kb`, strings.ToLower(host))
}

// KBOutcomes lists the hosts' newest outcomes for one KB (of a group, ""
// every host), by host, at most limit.
func (s *Store) KBOutcomes(ctx context.Context, kb, group string, limit int) ([]Outcome, error) {
	q := `SELECT host, kb, outcome, code, run, received, flag FROM host_outcomes WHERE kb = $1`
	args := []any{strings.ToUpper(kb)}
	if group != "" {
		q += ` AND host IN (SELECT host FROM host_groups WHERE grp = $2)`
		args = append(args, group)
	}
	return collect(ctx, s.db, scanOutcome, q+fmt.Sprintf(` ORDER BY host LIMIT %d`, max(limit, 1)), args...)
}
