// Package store keeps the fleet: every uploaded snapshot, each host's
// current assessment summary, tokens, users and sessions, in embedded
// SQLite (the default, one file in the data folder) or in PostgreSQL,
// which several stateless kbplan servers can share.
//
// The store knows nothing of assessments: package fleet turns them into
// the plain rows here. Both databases run the same SQL ($N placeholders,
// ON CONFLICT, RETURNING); only the schema files differ.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
	_ "modernc.org/sqlite"             // database/sql driver "sqlite", pure Go
)

//go:embed migrations
var migrations embed.FS

// ErrNotFound is returned for a host, snapshot, token or user that is not
// there.
var ErrNotFound = errors.New("not found")

// Store is an open fleet database.
type Store struct {
	db      *sql.DB
	Dialect string // "sqlite" or "postgres"
	Where   string // the file or the server, for messages (no password)
	// The upload path's statements, prepared once (SQLite would otherwise
	// compile them on every upload).
	insertSnapshot, findSnapshot, upsertHost, findProfile, flagOutcomes, countContradicted, setContradicted, addCounts, addProfile, logMoveStmt, latestRun, history, hostKey, logSummary, addSummary, addOutcomes *sql.Stmt
	profiles                                                                                                                                                                                                      profileCache
	// The uploads' group commit (batch.go).
	writes                chan writeReq
	quit, writerDone      chan struct{}
	closing               sync.Once
	sharedN, sharedFailed atomic.Int64 // transactions of more than one upload, and those rolled back
}

// Open opens (creating and migrating) the store: dsn "" is SQLite in
// dataDir/kbplan.db; "postgres://..." or "postgresql://..." is PostgreSQL.
func Open(ctx context.Context, dsn, dataDir string) (*Store, error) {
	s := &Store{}
	var err error
	switch {
	case dsn == "":
		if err := os.MkdirAll(dataDir, 0o700); err != nil {
			return nil, fmt.Errorf("data folder %s: %w", dataDir, err)
		}
		path := filepath.Join(dataDir, "kbplan.db")
		// WAL: readers never wait for the writer. synchronous=NORMAL in WAL
		// mode loses nothing when the process dies (kill -9), only on a
		// power cut. BEGIN IMMEDIATE: a writer takes the lock up front
		// instead of failing to upgrade a read lock.
		q := url.Values{"_txlock": {"immediate"}}
		for _, p := range []string{"journal_mode(WAL)", "synchronous(NORMAL)", "busy_timeout(10000)", "foreign_keys(1)"} {
			q.Add("_pragma", p)
		}
		s.db, err = sql.Open("sqlite", "file:"+path+"?"+q.Encode())
		s.Dialect, s.Where = "sqlite", path
		if err == nil {
			// As many kept idle as may be open: database/sql keeps 2 by
			// default, and under load the others were closed and opened
			// again, each new one running the pragmas and preparing every
			// statement anew (12 % of the server's CPU, perf, ingest at
			// its most).
			s.db.SetMaxOpenConns(8)
			s.db.SetMaxIdleConns(8)
		}
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		s.db, err = sql.Open("pgx", dsn)
		s.Dialect, s.Where = "postgres", redact(dsn)
		if err == nil {
			s.db.SetMaxOpenConns(32)
			s.db.SetMaxIdleConns(32)
		}
	default:
		return nil, fmt.Errorf("--db %q: expected postgres://user@host:port/database (or nothing, for SQLite in the data folder)", redact(dsn))
	}
	if err != nil {
		return nil, err
	}
	if err := s.db.PingContext(ctx); err != nil {
		s.db.Close()
		return nil, fmt.Errorf("%s: %w", s.Where, err)
	}
	if err := s.migrate(ctx); err != nil {
		s.db.Close()
		return nil, fmt.Errorf("%s: migrating: %w", s.Where, err)
	}
	for _, p := range []struct {
		to   **sql.Stmt
		text string
	}{{&s.insertSnapshot, insertSnapshotSQL}, {&s.findSnapshot, findSnapshotSQL}, {&s.upsertHost, upsertHostSQL},
		{&s.findProfile, findProfileSQL}, {&s.flagOutcomes, flagOutcomesSQL},
		{&s.countContradicted, countContradictedSQL}, {&s.setContradicted, setContradictedSQL},
		{&s.addCounts, addCountsSQL[s.Dialect]}, {&s.addProfile, addProfileSQL[s.Dialect]}, {&s.logMoveStmt, logMoveSQL}, {&s.latestRun, latestRunSQL}, {&s.history, historySQL},
		{&s.hostKey, hostKeySQL}, {&s.logSummary, logSummarySQL}, {&s.addSummary, addSummarySQL[s.Dialect]}, {&s.addOutcomes, addOutcomesSQL[s.Dialect]}} {
		if *p.to, err = s.db.PrepareContext(ctx, p.text); err != nil {
			s.db.Close()
			return nil, fmt.Errorf("%s: %w", s.Where, err)
		}
	}
	s.startWriter()
	return s, nil
}

// redact drops the password from a database URL.
func redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "(unparsable URL)"
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}

// Close writes the uploads already queued and closes the database.
func (s *Store) Close() error {
	if s.quit != nil {
		s.closing.Do(func() { close(s.quit) })
		<-s.writerDone
	}
	return s.db.Close()
}

// Ping checks the database answers (/healthz).
func (s *Store) Ping(ctx context.Context) error { return s.db.PingContext(ctx) }

// Schema is the newest migration this kbplan knows.
func Schema() int {
	n := 0
	for _, m := range migrationList("sqlite") {
		n = max(n, m.version)
	}
	return n
}

type migration struct {
	version int
	name    string
}

func migrationList(dialect string) []migration {
	entries, _ := fs.ReadDir(migrations, "migrations/"+dialect)
	var out []migration
	for _, e := range entries {
		v, err := strconv.Atoi(strings.SplitN(e.Name(), "_", 2)[0])
		if err == nil {
			out = append(out, migration{v, e.Name()})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	return out
}

// migrate applies the embedded migrations not applied yet, each in its own
// transaction. On PostgreSQL an advisory lock keeps servers that start
// together from applying one twice.
func (s *Store) migrate(ctx context.Context) error {
	if _, err := s.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied BIGINT NOT NULL)`); err != nil {
		return err
	}
	for _, m := range migrationList(s.Dialect) {
		b, err := migrations.ReadFile("migrations/" + s.Dialect + "/" + m.name)
		if err != nil {
			return err
		}
		err = s.tx(ctx, func(tx *sql.Tx) error {
			if s.Dialect == "postgres" {
				if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(7317)`); err != nil {
					return err
				}
			}
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE version = $1`, m.version).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return nil
			}
			for _, stmt := range statements(string(b)) {
				if _, err := tx.ExecContext(ctx, stmt); err != nil {
					return fmt.Errorf("%s: %w", m.name, err)
				}
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied) VALUES ($1, $2)`, m.version, ms(time.Now()))
			return err
		})
		if err != nil {
			return err
		}
	}
	var newest int
	if err := s.db.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&newest); err != nil {
		return err
	}
	if newest > Schema() {
		return fmt.Errorf("the database is at schema %d, newer than this kbplan knows (%d): run a newer kbplan", newest, Schema())
	}
	return nil
}

// statements splits a migration file at semicolons that end a line, and
// drops comment-only parts.
func statements(sqlText string) []string {
	var out []string
	var cur strings.Builder
	for _, line := range strings.Split(sqlText, "\n") {
		if i := strings.Index(line, "--"); i >= 0 {
			line = line[:i]
		}
		cur.WriteString(line)
		cur.WriteByte('\n')
		if strings.HasSuffix(strings.TrimSpace(line), ";") {
			if st := strings.TrimSpace(cur.String()); st != ";" {
				out = append(out, st)
			}
			cur.Reset()
		}
	}
	if st := strings.TrimSpace(cur.String()); st != "" {
		out = append(out, st)
	}
	return out
}

// A transaction that does not commit forgets the profile cache: what it
// taught the cache may be its own profiles, never committed.
func (s *Store) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err = fn(tx); err != nil {
		tx.Rollback()
	} else {
		err = tx.Commit()
	}
	if err != nil {
		s.profiles.forget()
	}
	return err
}

func ms(t time.Time) int64 { return t.UnixMilli() }

func fromMS(v int64) time.Time { return time.UnixMilli(v).UTC() }

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// collect runs a query and scans every row with scan.
func collect[T any](ctx context.Context, db *sql.DB, scan func(scanner) (T, error), query string, args ...any) ([]T, error) {
	rows, err := db.QueryContext(ctx, query, args...)
	return scanAll(rows, err, scan)
}

// scanAll scans every row of a query's answer (rows, err) with scan.
func scanAll[T any](rows *sql.Rows, err error, scan func(scanner) (T, error)) ([]T, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// DB is the database handle, for tests and maintenance.
func (s *Store) DB() *sql.DB { return s.db }
