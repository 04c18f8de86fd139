package fleet

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/kbplan/kbplan/store"
	"github.com/kbplan/kbplan/store/storetest"
)

func benchFleet(b *testing.B, dialect string) *Fleet {
	st := storetest.Open(b, dialect)
	f, err := New(st, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		b.Fatal(err)
	}
	return f
}

// BenchmarkIngest: one upload read, assessed and stored, in process
// (no HTTP), each a distinct host.
func BenchmarkIngest(b *testing.B) {
	for _, d := range dialects {
		b.Run(d, func(b *testing.B) {
			f := benchFleet(b, d)
			tmpl, err := os.ReadFile("../testdata/analyze/ws2008-6003-x64-no-sha2.txt")
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				body := bytes.Replace(tmpl, []byte("SQL-NOSHA2"), []byte(fmt.Sprintf("BENCH-%d", i)), 1)
				if _, err := f.Ingest(ctx, "bench", body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// fill stores n host rows (tiny snapshots): a fleet's worth for the
// read benchmarks.
func fill(b *testing.B, f *Fleet, n int) {
	ctx := context.Background()
	levels := []string{"", "2019-01", "2019-06", "2020-01", "2021-03", "2023-01"}
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("host-%06d", i)
		h := store.Host{Name: name, Display: name, Product: "Windows Server 2008", Architecture: "x64", Build: 6001 + i%3, Revision: i % 500,
			PatchLevel: levels[i%len(levels)], Steps: i % 40, Findings: i % 9, InScope: true, SHA2: i%4 != 0, SSUCurrent: i%5 != 0,
			RebootPending: i%17 == 0, CVEsOpen: i % 300, CVEsCritical: i % 30, Catalog: f.DataVersion(), Updated: time.Now(), Assessed: time.Now()}
		snap := store.Snapshot{Host: name, Digest: fmt.Sprintf("%064d", i), Received: time.Now(), Format: "systeminfo", Size: 1, Body: []byte("x")}
		if _, _, err := f.Store.AddSnapshot(ctx, snap, h); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOverviewPage: the dashboard's overview page over 100,000
// hosts, through HTTP with a session, as a browser asks for it.
func BenchmarkOverviewPage(b *testing.B) {
	for _, d := range dialects {
		b.Run(d, func(b *testing.B) {
			f := benchFleet(b, d)
			fill(b, f, 100_000)
			if err := AddUser(context.Background(), f.Store, "ann", RoleViewer, "correct horse battery"); err != nil {
				b.Fatal(err)
			}
			ts := httptest.NewServer(NewServer(f))
			defer ts.Close()
			c := browser(b)
			if code := login(b, c, ts.URL, "ann", "correct horse battery"); code != http.StatusSeeOther {
				b.Fatal(code)
			}
			for _, page := range []string{"/", "/hosts?filter=no-sha2&sort=cvesOpen&desc=1"} {
				b.Run(page, func(b *testing.B) {
					for i := 0; i < b.N; i++ {
						code, body, _ := get(b, c, ts.URL+page)
						if code != http.StatusOK || !bytes.Contains([]byte(body), []byte("kbplan fleet")) {
							b.Fatalf("%d", code)
						}
					}
				})
			}
		})
	}
}

// BenchmarkUpdatesPage is the by-update page (HTML, with a session), its
// JSON, and one update's page (the counts of hosts in each state and the
// first 100 of each) over 100,000 hosts and 400 updates (2,000 profiles),
// on both databases, every host and one group.
func BenchmarkUpdatesPage(b *testing.B) {
	for _, d := range dialects {
		b.Run(d, func(b *testing.B) {
			f := benchFleet(b, d)
			storetest.Populate(b, f.Store, 100000, 400, 2000)
			ctx := context.Background()
			// As a database in use would be: PostgreSQL's autovacuum
			// analyzes new tables; SQLite's planner needs no statistics here.
			if d == "postgres" {
				if _, err := f.Store.DB().ExecContext(ctx, "ANALYZE"); err != nil {
					b.Fatal(err)
				}
			}
			srv, tok := sessionServer(b, f)
			for _, path := range []string{"/updates", "/updates?group=plant-a", "/api/v1/updates", "/updates/KB1000400", "/updates/KB1000400?group=plant-a"} {
				b.Run(path, func(b *testing.B) { getPages(b, srv, tok, path, "KB1000400") })
			}
		})
	}
}

// BenchmarkOverviewMillion is the overview page (HTML, with a session)
// and its JSON over 1,000,000 hosts (storetest.Populate: 60 patch levels,
// every state, a group of 100,000), on both databases.
func BenchmarkOverviewMillion(b *testing.B) {
	for _, d := range dialects {
		b.Run(d, func(b *testing.B) {
			f := benchFleet(b, d)
			storetest.Populate(b, f.Store, 1_000_000, 400, 2000)
			ctx := context.Background()
			if d == "postgres" {
				if _, err := f.Store.DB().ExecContext(ctx, "ANALYZE"); err != nil {
					b.Fatal(err)
				}
			}
			srv, tok := sessionServer(b, f)
			for _, path := range []string{"/", "/?group=plant-a", "/api/v1/overview"} {
				b.Run(path, func(b *testing.B) { getPages(b, srv, tok, path, "00") })
			}
		})
	}
}

// sessionServer is a server over f with an admin's web session.
func sessionServer(b *testing.B, f *Fleet) (*Server, string) {
	ctx := context.Background()
	if err := AddUser(ctx, f.Store, "root", RoleAdmin, "correct horse battery"); err != nil {
		b.Fatal(err)
	}
	tok := NewToken()
	if err := f.Store.AddSession(ctx, store.Session{Hash: HashToken(tok), User: "root", CSRF: NewToken(), Expires: time.Now().Add(time.Hour)}); err != nil {
		b.Fatal(err)
	}
	return NewServer(f), tok
}

// getPages asks for path with the session until the benchmark ends; each
// answer must be 200 and hold want.
func getPages(b *testing.B, srv *Server, tok, path, want string) {
	for b.Loop() {
		req := httptest.NewRequest("GET", path, nil)
		req.AddCookie(&http.Cookie{Name: sessionCookie, Value: tok})
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, req)
		if w.Code != http.StatusOK || !bytes.Contains(w.Body.Bytes(), []byte(want)) {
			b.Fatalf("%s: %d %.300s", path, w.Code, w.Body.String())
		}
	}
}
