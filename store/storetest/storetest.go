// Package storetest opens throwaway stores for tests: SQLite in a temporary
// folder, PostgreSQL in a schema of its own.
package storetest

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/kbplan/kbplan/store"
)

// PostgresURL is the test database: KBPLAN_TEST_POSTGRES, or the machine's
// PostgreSQL (trust auth, database test, user postgres).
func PostgresURL() string {
	if u := os.Getenv("KBPLAN_TEST_POSTGRES"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
}

// Open opens a fresh store of the given dialect for a test: SQLite in
// a temporary folder, or PostgreSQL in a schema of its own, dropped at the
// end. Without a reachable PostgreSQL the test skips, unless
// KBPLAN_REQUIRE_POSTGRES is set (.ci/run sets it).
func Open(t testing.TB, dialect string) *store.Store {
	t.Helper()
	ctx := context.Background()
	if dialect == "sqlite" {
		s, err := store.Open(ctx, "", t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	base := PostgresURL()
	admin, err := sql.Open("pgx", base)
	if err == nil {
		err = admin.PingContext(ctx)
	}
	if err != nil {
		if os.Getenv("KBPLAN_REQUIRE_POSTGRES") != "" {
			t.Fatalf("PostgreSQL at %s: %v (KBPLAN_REQUIRE_POSTGRES is set)", "the test database", err)
		}
		t.Skipf("no PostgreSQL at %s: %v", "the test database", err)
	}
	schema := fmt.Sprintf("kbplan_test_%d", rand.Uint64()%1e12)
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	sep := "?"
	for _, c := range base {
		if c == '?' {
			sep = "&"
		}
	}
	s, err := store.Open(ctx, base+sep+"search_path="+schema, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.Close()
		admin.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
		admin.Close()
	})
	return s
}
