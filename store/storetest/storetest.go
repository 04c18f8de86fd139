// Package storetest opens throwaway stores for tests: SQLite in a temporary
// folder, PostgreSQL in a schema of its own.
package storetest

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
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
	s, err := store.Open(ctx, PostgresDSN(t), "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// PostgresDSN makes a schema of its own for a test (dropped at the end)
// and returns a URL that uses it, for a kbplan server run as a process.
func PostgresDSN(t testing.TB) string {
	t.Helper()
	ctx := context.Background()
	base := PostgresURL()
	admin, err := sql.Open("pgx", base)
	if err == nil {
		err = admin.PingContext(ctx)
	}
	if err != nil {
		if os.Getenv("KBPLAN_REQUIRE_POSTGRES") != "" {
			t.Fatalf("PostgreSQL: %v (KBPLAN_REQUIRE_POSTGRES is set)", err)
		}
		t.Skipf("no PostgreSQL: %v", err)
	}
	schema := fmt.Sprintf("kbplan_test_%d", rand.Uint64()%1e12)
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		admin.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
		admin.Close()
	})
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	return base + sep + "search_path=" + schema
}
