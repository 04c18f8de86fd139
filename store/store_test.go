package store_test

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kbplan/kbplan/store"
	"github.com/kbplan/kbplan/store/storetest"
)

var dialects = []string{"sqlite", "postgres"}

func snap(host, body string, at time.Time) store.Snapshot {
	sum := sha256.Sum256([]byte(body))
	return store.Snapshot{Host: host, Digest: hex.EncodeToString(sum[:]), Received: at, Format: "systeminfo", Size: int64(len(body)), Body: []byte(body)}
}

func row(name string, build int, level string) store.Host {
	return store.Host{Name: name, Display: name, Product: "Windows Server 2008", Architecture: "x64", Build: build, PatchLevel: level,
		InScope: true, Steps: 3, Findings: 2, Catalog: "c1", Updated: time.Unix(1, 0), Assessed: time.Unix(1, 0)}
}

func TestStore(t *testing.T) {
	for _, d := range dialects {
		t.Run(d, func(t *testing.T) {
			ctx := context.Background()
			s := storetest.Open(t, d)
			t0 := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

			// A new snapshot makes the host's row; the same body again is
			// the same snapshot and changes nothing.
			id1, created, err := s.AddSnapshot(ctx, snap("app01", "one", t0), row("app01", 6002, "2019-01"))
			if err != nil || !created {
				t.Fatalf("add: %v %v", created, err)
			}
			again, created, err := s.AddSnapshot(ctx, snap("app01", "one", t0.Add(time.Hour)), row("app01", 6003, "2020-01"))
			if err != nil || created || again != id1 {
				t.Fatalf("duplicate: id %d created %v err %v, want %d false", again, created, err, id1)
			}
			h, err := s.Host(ctx, "APP01")
			if err != nil || h.Build != 6002 || h.Snapshot != id1 {
				t.Fatalf("host %+v %v", h, err)
			}

			// A newer snapshot replaces the row; an older assessment written
			// late (SetHost of snapshot 1) does not.
			id2, _, err := s.AddSnapshot(ctx, snap("app01", "two", t0.Add(2*time.Hour)), row("app01", 6003, "2020-01"))
			if err != nil || id2 <= id1 {
				t.Fatal(id2, err)
			}
			old := row("app01", 6002, "2019-01")
			old.Snapshot = id1
			if err := s.SetHost(ctx, old); err != nil {
				t.Fatal(err)
			}
			if h, _ := s.Host(ctx, "app01"); h.Build != 6003 || h.Snapshot != id2 || h.PatchLevel != "2020-01" {
				t.Errorf("after a stale write: %+v", h)
			}
			hist, err := s.History(ctx, "app01", 10)
			if err != nil || len(hist) != 2 || hist[0].ID != id2 || hist[1].Body != nil || !hist[1].Received.Equal(t0) {
				t.Errorf("history %+v %v", hist, err)
			}
			sn, err := s.Snapshot(ctx, id1)
			if err != nil || string(sn.Body) != "one" {
				t.Errorf("snapshot %+v %v", sn, err)
			}
			if _, err := s.Snapshot(ctx, 999999); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("missing snapshot: %v", err)
			}
			if _, err := s.Host(ctx, "nobody"); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("missing host: %v", err)
			}
		})
	}
}

func TestQueryAndOverview(t *testing.T) {
	for _, d := range dialects {
		t.Run(d, func(t *testing.T) {
			ctx := context.Background()
			s := storetest.Open(t, d)
			add := func(h store.Host) {
				t.Helper()
				if _, _, err := s.AddSnapshot(ctx, snap(h.Name, h.Name, time.Unix(2, 0)), h); err != nil {
					t.Fatal(err)
				}
			}
			a := row("web-01", 6003, "2020-01")
			a.SHA2, a.SSUCurrent, a.ESUPrepared, a.CVEsOpen, a.CVEsCritical = true, true, true, 0, 0
			b := row("web-02", 6002, "2019-01")
			b.RebootPending, b.CVEsOpen, b.CVEsCritical, b.CVEsExploited, b.Steps = true, 40, 7, 3, 5
			c := row("sql_100%", 6002, "")
			c.CVEsOpen = 10
			o := row("win7", 7601, "")
			o.InScope = false
			for _, h := range []store.Host{a, b, c, o} {
				add(h)
			}
			tests := []struct {
				q    store.Query
				want string
			}{
				{store.Query{}, "sql_100% web-01 web-02 win7"},
				{store.Query{Search: "WEB"}, "web-01 web-02"},
				{store.Query{Search: "_"}, "sql_100%"},   // LIKE wildcards are literal
				{store.Query{Search: "0%"}, "sql_100%"},  // so is %
				{store.Query{Search: "' OR 1=1 --"}, ""}, // and SQL is just text
				{store.Query{Build: 6002}, "sql_100% web-02"},
				{store.Query{Filter: "no-sha2"}, "sql_100% web-02"},
				{store.Query{Filter: "reboot-pending"}, "web-02"},
				{store.Query{Filter: "exposed", Sort: "cvesOpen", Desc: true}, "web-02 sql_100%"},
				{store.Query{Filter: "out-of-scope"}, "win7"},
				{store.Query{Sort: "build", Limit: 2}, "sql_100% web-02"},
				{store.Query{Sort: "build", Limit: 2, Offset: 2}, "web-01 win7"},
				// Silence counts in whole UTC days: an upload of day 0 is
				// stale from day 31 on.
				{store.Query{Filter: "stale", Now: time.Unix(1, 0).Add(store.StaleAfter + 23*time.Hour)}, ""},
				{store.Query{Filter: "stale", Now: time.Unix(0, 0).Add(store.StaleAfter + 24*time.Hour)}, "sql_100% web-01 web-02 win7"},
			}
			for _, tt := range tests {
				hs, total, err := s.Hosts(ctx, tt.q)
				if err != nil {
					t.Fatalf("%+v: %v", tt.q, err)
				}
				got := ""
				for i, h := range hs {
					if i > 0 {
						got += " "
					}
					got += h.Name
				}
				if got != tt.want {
					t.Errorf("%+v: %q, want %q", tt.q, got, tt.want)
				}
				if tt.q.Limit == 0 && total != len(hs) {
					t.Errorf("%+v: total %d, %d rows", tt.q, total, len(hs))
				}
			}
			if _, _, err := s.Hosts(ctx, store.Query{Filter: "bogus"}); err == nil {
				t.Error("bad filter accepted")
			}
			if _, _, err := s.Hosts(ctx, store.Query{Sort: "name; DROP TABLE hosts"}); err == nil {
				t.Error("bad sort accepted")
			}
			ov, err := s.Overview(ctx, time.Unix(2, 0).Add(store.StaleAfter+25*time.Hour), "")
			if err != nil {
				t.Fatal(err)
			}
			got := fmt.Sprintf("%d %d stale:%d sha2:%d ssu:%d esu:%d reboot:%d exposed:%d cves:%d/%d/%d builds:%v levels:%v",
				ov.Hosts, ov.InScope, ov.Stale, ov.NoSHA2, ov.SSUOld, ov.ESUUnprepared, ov.RebootPending, ov.Exposed, ov.CVEsOpen, ov.CVEsCritical, ov.CVEsExploited, ov.ByBuild, ov.ByPatchLevel)
			want := "4 3 stale:4 sha2:2 ssu:2 esu:2 reboot:1 exposed:2 cves:50/7/3 builds:[{6002 2} {6003 1} {7601 1}] levels:[{ 2} {2019-01 1} {2020-01 1}]"
			if got != want {
				t.Errorf("overview\n%s\nwant\n%s", got, want)
			}
			n := 0
			if err := s.EachHost(ctx, func(store.Host) error { n++; return nil }); err != nil || n != 4 {
				t.Errorf("EachHost: %d %v", n, err)
			}
		})
	}
}

func TestAuthRows(t *testing.T) {
	for _, d := range dialects {
		t.Run(d, func(t *testing.T) {
			ctx := context.Background()
			s := storetest.Open(t, d)
			now := time.Now()
			if err := s.AddToken(ctx, store.Token{ID: "t1", Name: "site A", Role: "enroll", Hash: "h1", Created: now}); err != nil {
				t.Fatal(err)
			}
			if tk, err := s.TokenByHash(ctx, "h1"); err != nil || tk.ID != "t1" || tk.Role != "enroll" {
				t.Fatalf("%+v %v", tk, err)
			}
			if err := s.RevokeToken(ctx, "t1", now); err != nil {
				t.Fatal(err)
			}
			if _, err := s.TokenByHash(ctx, "h1"); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("revoked token still valid: %v", err)
			}
			if err := s.RevokeToken(ctx, "t1", now); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("second revoke: %v", err)
			}
			// The admin token is replaced in place.
			s.PutToken(ctx, store.Token{ID: "admin", Name: "admin", Role: "admin", Hash: "a1", Created: now})
			s.PutToken(ctx, store.Token{ID: "admin", Name: "admin", Role: "admin", Hash: "a2", Created: now})
			if _, err := s.TokenByHash(ctx, "a1"); !errors.Is(err, store.ErrNotFound) {
				t.Error("the old admin token still works")
			}
			tks, _ := s.Tokens(ctx)
			if len(tks) != 2 || tks[0].ID != "admin" || tks[0].Revoked != nil || tks[1].Revoked == nil {
				t.Errorf("tokens %+v", tks)
			}

			s.PutUser(ctx, store.User{Name: "ann", Role: "viewer", Password: "x", Created: now})
			if err := s.AddSession(ctx, store.Session{Hash: "s1", User: "ann", CSRF: "c", Expires: now.Add(time.Hour)}); err != nil {
				t.Fatal(err)
			}
			se, role, err := s.Session(ctx, "s1", now)
			if err != nil || se.User != "ann" || role != "viewer" || se.CSRF != "c" {
				t.Errorf("session %+v %s %v", se, role, err)
			}
			if _, _, err := s.Session(ctx, "s1", now.Add(2*time.Hour)); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("expired session: %v", err)
			}
			s.DeleteSession(ctx, "s1", now)
			if _, _, err := s.Session(ctx, "s1", now); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("deleted session: %v", err)
			}
		})
	}
}

// TestConcurrentIngest: parallel writers on one store lose nothing and
// duplicate nothing (SQLite's single writer, PostgreSQL's row locks).
func TestConcurrentIngest(t *testing.T) {
	for _, d := range dialects {
		t.Run(d, func(t *testing.T) {
			ctx := context.Background()
			s := storetest.Open(t, d)
			var wg sync.WaitGroup
			errs := make(chan error, 400)
			for w := 0; w < 8; w++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; i < 50; i++ {
						// Every writer sends the same 50 bodies.
						body := fmt.Sprintf("host%d-%d", i%20, i)
						_, _, err := s.AddSnapshot(ctx, snap(fmt.Sprintf("host%d", i%20), body, time.Now()), row(fmt.Sprintf("host%d", i%20), 6002, ""))
						errs <- err
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Fatal(err)
				}
			}
			hosts, snaps, err := s.Counts(ctx)
			if err != nil || hosts != 20 || snaps != 50 {
				t.Errorf("hosts %d snapshots %d (%v), want 20 and 50", hosts, snaps, err)
			}
		})
	}
}

func TestOpenErrors(t *testing.T) {
	ctx := context.Background()
	if _, err := store.Open(ctx, "mysql://x", ""); err == nil || !strings.Contains(err.Error(), "expected postgres://") {
		t.Errorf("mysql: %v", err)
	}
	if _, err := store.Open(ctx, "postgres://u:secret@127.0.0.1:1/x?connect_timeout=1", ""); err == nil || strings.Contains(err.Error(), "secret") {
		t.Errorf("unreachable: %v (must fail, without the password)", err)
	}
}

// TestSchemaNewer: a database migrated by a newer kbplan is refused, not
// written with an older schema's idea of it.
func TestSchemaNewer(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	s, err := store.Open(ctx, "", dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.PutUser(ctx, store.User{Name: "probe", Role: "viewer", Password: "x", Created: time.Now()}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "kbplan.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO schema_migrations (version, applied) VALUES (99, 0)`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if _, err := store.Open(ctx, "", dir); err == nil || !strings.Contains(err.Error(), "schema 99, newer than this kbplan knows") {
		t.Errorf("newer schema: %v", err)
	}
	// Opening twice applies nothing twice.
	os.Remove(filepath.Join(dir, "kbplan.db"))
	for i := 0; i < 2; i++ {
		s, err := store.Open(ctx, "", dir)
		if err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
		s.Close()
	}
}

// TestMigrateFromSchema1: a database made by schema 1, with data, is
// upgraded in place; its old snapshots keep working, with no summary.
func TestMigrateFromSchema1(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "kbplan.db"))
	if err != nil {
		t.Fatal(err)
	}
	schema1, err := os.ReadFile("migrations/sqlite/0001_init.sql")
	if err != nil {
		t.Fatal(err)
	}
	for _, stmt := range []string{string(schema1),
		`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied BIGINT NOT NULL)`,
		`INSERT INTO schema_migrations VALUES (1, 0)`,
		`INSERT INTO snapshots (host, digest, received, format, size, body) VALUES ('old', 'd1', 0, 'systeminfo', 1, x'00')`} {
		if _, err := db.Exec(stmt); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	s, err := store.Open(ctx, "", dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	hist, err := s.History(ctx, "old", 10)
	if err != nil || len(hist) != 1 || hist[0].Build != nil || hist[0].PatchLevel != nil {
		t.Fatalf("old snapshot after the upgrade: %+v %v", hist, err)
	}
	if _, _, err := s.AddSnapshot(ctx, snap("old", "new body", time.Now()), row("old", 6003, "2020-01")); err != nil {
		t.Fatal(err)
	}
	if hist, _ := s.History(ctx, "old", 10); len(hist) != 2 || hist[0].Build == nil || *hist[0].Build != 6003 {
		t.Errorf("new snapshot: %+v", hist)
	}
}

// TestGroupCommit: uploads that arrive while one is written are written
// together, in one transaction, each as it would be alone; one that fails
// in a shared transaction fails alone (the others are written again, each
// in its own), and nothing of it stays; a profile one upload of the
// rolled-back transaction made and another found is made again, not
// pointed at (the profile cache is forgotten with the rollback). SQLite
// only: PostgreSQL writes each upload in its own transaction.
func TestGroupCommit(t *testing.T) {
	for _, d := range []string{"sqlite"} {
		t.Run(d, func(t *testing.T) {
			ctx := context.Background()
			s := storetest.Open(t, d)
			var profile []store.Update // new in each round
			upload := func(host string, fail bool) func() error {
				return func() error {
					h := row(host, 6002, "")
					h.Updates = profile
					if !fail {
						_, _, err := s.AddSnapshot(ctx, snap(host, "body of "+host, time.Now()), h)
						return err
					}
					return s.Batched(ctx, func(tx *sql.Tx) error {
						if _, err := tx.Exec(`INSERT INTO groups (name, rule, created) VALUES ($1, '', 0)`, "written-then-failed"); err != nil {
							return err
						}
						return errors.New("this upload fails")
					})
				}
			}
			// Which uploads are sent together, and whether the shared
			// transaction rolls back.
			for round, c := range []struct {
				hosts    []string
				failing  int // index into hosts, -1: none
				rollback bool
			}{
				{[]string{"a1", "a2", "a3", "a4"}, -1, false},
				{[]string{"b1", "b2", "bad", "b3"}, 2, true},
			} {
				profile = []store.Update{{KB: "KB4474419", State: store.UpdateNeeded}, {KB: fmt.Sprintf("KB%d", 5000000+round), State: store.UpdateNeeded}}
				n0, failed0 := s.SharedBatches()
				release := s.HoldWriter()
				t.Cleanup(release) // before the store's close (cleanups run last first)
				errs := make([]chan error, len(c.hosts))
				for i, h := range c.hosts {
					errs[i] = make(chan error, 1)
					go func() { errs[i] <- upload(h, i == c.failing)() }()
					// One after another: the queue keeps their order.
					for deadline := time.Now().Add(10 * time.Second); s.Queued() < i+1; time.Sleep(time.Millisecond) {
						if time.Now().After(deadline) {
							t.Fatalf("round %d: upload %d never queued", round, i)
						}
					}
				}
				release()
				for i, h := range c.hosts {
					err := <-errs[i]
					if (err != nil) != (i == c.failing) {
						t.Errorf("round %d, %s: error %v", round, h, err)
					}
					if i == c.failing {
						continue
					}
					got, err := s.Host(ctx, h)
					if err != nil || got.Snapshot == 0 {
						t.Errorf("round %d, %s: row %+v, %v", round, h, got, err)
					}
					var kbs int
					if err := s.DB().QueryRow(`SELECT COUNT(*) FROM hosts h JOIN profile_updates u ON u.profile = h.profile WHERE h.name = $1`, h).Scan(&kbs); err != nil || kbs != len(profile) {
						t.Errorf("round %d, %s: %d updates through its profile (%v), want %d", round, h, kbs, err, len(profile))
					}
				}
				n, failed := s.SharedBatches()
				if n-n0 != 1 || (failed-failed0 == 1) != c.rollback {
					t.Errorf("round %d: %d shared transactions, %d rolled back; want 1 and %v", round, n-n0, failed-failed0, c.rollback)
				}
			}
			var stray int
			if err := s.DB().QueryRow(`SELECT COUNT(*) FROM groups WHERE name = 'written-then-failed'`).Scan(&stray); err != nil || stray != 0 {
				t.Errorf("the failed upload's write stayed: %d rows (%v)", stray, err)
			}
		})
	}
}

// TestUploadsAtClose: uploads sent while the store closes are written or
// refused with an error, none waits forever.
func TestUploadsAtClose(t *testing.T) {
	for range 20 {
		s := storetest.Open(t, "sqlite")
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Go(func() {
				h := fmt.Sprintf("close%d", i)
				s.AddSnapshot(context.Background(), snap(h, "body of "+h, time.Now()), row(h, 6002, ""))
			})
		}
		s.Close()
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Fatal("an upload sent as the store closed never returned")
		}
	}
}

// TestProfileNormalized: an upload's and a rewrite's updates, in any order
// and with a KB twice, make the same profile as the sorted list with one
// state per KB (needed over conditional over installed).
func TestProfileNormalized(t *testing.T) {
	for _, d := range dialects {
		t.Run(d, func(t *testing.T) {
			ctx := context.Background()
			s := storetest.Open(t, d)
			sorted := []store.Update{{KB: "KB4474419", State: store.UpdateNeeded}, {KB: "KB4534303", State: store.UpdateConditional}}
			messy := []store.Update{{KB: "KB4534303", State: store.UpdateInstalled}, {KB: "KB4534303", State: store.UpdateConditional},
				{KB: "KB4474419", State: store.UpdateInstalled}, {KB: "KB4474419", State: store.UpdateNeeded}}
			profileOf := func(host string) (id int64, rows []string) {
				if err := s.DB().QueryRow(`SELECT profile FROM hosts WHERE name = $1`, host).Scan(&id); err != nil {
					t.Fatal(err)
				}
				r, err := s.DB().Query(`SELECT kb, state FROM profile_updates WHERE profile = $1 ORDER BY kb`, id)
				if err != nil {
					t.Fatal(err)
				}
				defer r.Close()
				for r.Next() {
					var kb, st string
					r.Scan(&kb, &st)
					rows = append(rows, kb+" "+st)
				}
				return id, rows
			}
			for i, w := range []func(h store.Host) error{
				func(h store.Host) error {
					_, _, err := s.AddSnapshot(ctx, snap(h.Name, "body of "+h.Name, time.Now()), h)
					return err
				},
				func(h store.Host) error {
					id, _, err := s.AddSnapshot(ctx, snap(h.Name, "first body of "+h.Name, time.Now()), row(h.Name, 6002, ""))
					if err != nil {
						return err
					}
					h.Snapshot = id // the same snapshot, assessed again
					return s.SetHost(ctx, h)
				},
			} {
				a, b := fmt.Sprintf("sorted%d", i), fmt.Sprintf("messy%d", i)
				ha, hb := row(a, 6002, ""), row(b, 6002, "")
				ha.Updates, hb.Updates = sorted, messy
				if err := w(ha); err != nil {
					t.Fatal(err)
				}
				if err := w(hb); err != nil {
					t.Fatal(err)
				}
				ida, rowsA := profileOf(a)
				idb, rowsB := profileOf(b)
				if ida != idb || !slices.Equal(rowsA, rowsB) || len(rowsA) != 2 {
					t.Errorf("write %d: profiles %d %v and %d %v, want one, of the two sorted updates", i, ida, rowsA, idb, rowsB)
				}
			}
		})
	}
}
