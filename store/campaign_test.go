package store_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kbplan/kbplan/store"
	"github.com/kbplan/kbplan/store/storetest"
)

// recount is the by-update view computed from the base tables (hosts,
// their profiles, group memberships, outcomes), the slow way.
func recount(t *testing.T, s *store.Store, group string) map[string]store.UpdateCount {
	t.Helper()
	q := `SELECT u.kb, u.state, COUNT(*) FROM hosts h JOIN profile_updates u ON u.profile = h.profile`
	args := []any{}
	if group != "" {
		q += ` WHERE h.name IN (SELECT host FROM host_groups WHERE grp = $1)`
		args = append(args, group)
	}
	rows, err := s.DB().Query(q+` GROUP BY u.kb, u.state`, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]store.UpdateCount{}
	installed := map[string]int{}
	for rows.Next() {
		var kb, state string
		var n int
		rows.Scan(&kb, &state, &n)
		u := out[kb]
		u.KB = kb
		switch state {
		case store.UpdateNeeded:
			u.Needed = n
		case store.UpdateConditional:
			u.Conditional = n
		case store.UpdateInstalled:
			installed[kb] = n
			continue
		}
		out[kb] = u
	}
	for kb, n := range installed {
		if u, ok := out[kb]; ok {
			u.Installed = n
			out[kb] = u
		}
	}
	fq := `SELECT kb, flag, COUNT(*) FROM host_outcomes WHERE flag IN ('failed', 'contradicted')`
	if group != "" {
		fq += ` AND host IN (SELECT host FROM host_groups WHERE grp = $1)`
	}
	frows, err := s.DB().Query(fq+` GROUP BY kb, flag`, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer frows.Close()
	for frows.Next() {
		var kb, flag string
		var n int
		frows.Scan(&kb, &flag, &n)
		u, ok := out[kb]
		if !ok {
			u = store.UpdateCount{KB: kb, Installed: installed[kb]}
		}
		if flag == "failed" {
			u.Failed = n
		} else {
			u.Contradicted = n
		}
		out[kb] = u
	}
	return out
}

var kbs = []string{"KB4474419", "KB4536953", "KB4534303", "KB4507423", "KB2894847", "KB967723", "KB958644"}

// randomProfile is one of four profiles: hosts share them, as hosts
// patched alike do.
func randomProfile(rng *rand.Rand) []store.Update {
	return profilePool[rng.IntN(len(profilePool))]
}

var profilePool = func() [][]store.Update {
	rng := rand.New(rand.NewPCG(1, 1))
	var out [][]store.Update
	for range 4 {
		out = append(out, makeProfile(rng))
	}
	return out
}()

func makeProfile(rng *rand.Rand) []store.Update {
	var us []store.Update
	for _, kb := range kbs {
		switch rng.IntN(4) {
		case 0:
			us = append(us, store.Update{KB: kb, State: store.UpdateNeeded})
		case 1:
			us = append(us, store.Update{KB: kb, State: store.UpdateConditional})
		case 2:
			us = append(us, store.Update{KB: kb, State: store.UpdateInstalled})
		}
	}
	return us
}

// TestUpdateCountsStayExact runs random writes (new snapshots, stale
// rewrites, group joins and leaves, rules' joins before a host exists,
// deletions, kit runs) and checks after each that the by-update view
// the store keeps at write time equals the recount from base tables,
// for every group and the whole fleet.
func TestUpdateCountsStayExact(t *testing.T) {
	for _, d := range dialects {
		t.Run(d, func(t *testing.T) {
			ctx := context.Background()
			s := storetest.Open(t, d)
			rng := rand.New(rand.NewPCG(4, 19))
			t0 := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
			groups := []string{"plant-a", "dmz"}
			hosts := []string{"h1", "h2", "h3", "h4", "h5", "h6"}
			lastSnap := map[string]int64{}
			for step := 0; step < 150; step++ {
				h := hosts[rng.IntN(len(hosts))]
				at := t0.Add(time.Duration(step) * time.Minute)
				var what string
				switch op := rng.IntN(10); {
				case op < 4:
					r := row(h, 6003, "2020-01")
					r.Updated = at
					r.Updates = randomProfile(rng)
					if rng.IntN(3) == 0 {
						r.Groups = []string{groups[rng.IntN(2)]}
					}
					id, _, err := s.AddSnapshot(ctx, snap(h, fmt.Sprint("body", step), at), r)
					if err != nil {
						t.Fatal(err)
					}
					lastSnap[h] = id
					what = "snapshot"
				case op == 4:
					// A late rewrite of an older snapshot changes nothing.
					r := row(h, 6003, "2019-01")
					r.Snapshot = lastSnap[h] - 1
					r.Updates = randomProfile(rng)
					if err := s.SetHost(ctx, r); err != nil {
						t.Fatal(err)
					}
					what = "stale rewrite"
				case op == 5:
					if _, err := s.JoinGroup(ctx, groups[rng.IntN(2)], h, "later-host"); err != nil {
						t.Fatal(err)
					}
					what = "join"
				case op == 6:
					if _, err := s.LeaveGroup(ctx, groups[rng.IntN(2)], h); err != nil {
						t.Fatal(err)
					}
					what = "leave"
				case op == 7:
					if _, err := s.DeleteHost(ctx, h); err != nil && err != store.ErrNotFound {
						t.Fatal(err)
					}
					delete(lastSnap, h)
					what = "delete"
				default:
					var outs []store.Outcome
					for _, kb := range kbs[:3] {
						outs = append(outs, store.Outcome{KB: kb, Outcome: []string{"installed", "failed", "already-installed"}[rng.IntN(3)]})
					}
					run := store.Run{Host: h, Kit: "k", Digest: fmt.Sprint("run", step), Received: at, Status: "finished", Body: []byte("x")}
					if _, _, err := s.AddRun(ctx, run, outs, ""); err != nil {
						t.Fatal(err)
					}
					what = "run"
				}
				for _, g := range append([]string{""}, groups...) {
					got, err := s.UpdateCounts(ctx, g)
					if err != nil {
						t.Fatal(err)
					}
					want := recount(t, s, g)
					gotMap := map[string]store.UpdateCount{}
					for _, u := range got {
						gotMap[u.KB] = u
					}
					for kb, u := range want {
						if u.Needed+u.Conditional+u.Failed+u.Contradicted == 0 {
							delete(want, kb)
						}
					}
					if fmt.Sprint(sorted(gotMap)) != fmt.Sprint(sorted(want)) {
						t.Fatalf("step %d (%s on %s), group %q:\nkept     %v\nrecounted %v", step, what, h, g, sorted(gotMap), sorted(want))
					}
					sameOverview(t, s, g, fmt.Sprintf("step %d (%s on %s)", step, what, h))
				}
			}
		})
	}
}

func sorted(m map[string]store.UpdateCount) []store.UpdateCount {
	out := make([]store.UpdateCount, 0, len(m))
	for _, u := range m {
		out = append(out, u)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].KB < out[j].KB })
	return out
}

// TestKitOutcomes: a run's outcomes become the host's; a failure lasts
// until an inventory shows the update installed; an install reported
// before an inventory that lacks it is a contradiction, counted on the
// host row; a restart state set by a run is kept on the row.
func TestKitOutcomes(t *testing.T) {
	for _, d := range dialects {
		t.Run(d, func(t *testing.T) {
			ctx := context.Background()
			s := storetest.Open(t, d)
			t0 := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
			r := row("sql01", 6003, "2019-05")
			r.Updated, r.State = t0, "behind"
			r.Updates = []store.Update{{KB: "KB4474419", State: store.UpdateNeeded}, {KB: "KB4534303", State: store.UpdateNeeded}, {KB: "KB4536953", State: store.UpdateNeeded}}
			if _, _, err := s.AddSnapshot(ctx, snap("sql01", "inv1", t0), r); err != nil {
				t.Fatal(err)
			}
			run := store.Run{Host: "sql01", Kit: "k1", Digest: "r1", Received: t0.Add(time.Hour), Token: "tok", Remote: "10.0.0.5", Status: "restart", Steps: 3, Done: 3, Failed: 1, Body: []byte("doc")}
			outs := []store.Outcome{{KB: "KB4474419", Outcome: "installed", Code: 3010}, {KB: "KB4536953", Outcome: "installed"}, {KB: "KB4534303", Outcome: "failed", Code: -2146498270}}
			id, created, err := s.AddRun(ctx, run, outs, "restart")
			if err != nil || !created {
				t.Fatal(err, created)
			}
			if again, created, err := s.AddRun(ctx, run, outs, "restart"); err != nil || created || again != id {
				t.Errorf("the same run twice: %d %v %v", again, created, err)
			}
			h, _ := s.Host(ctx, "sql01")
			if h.State != "restart" || h.Contradicted != 0 {
				t.Errorf("after the run: %+v", h)
			}
			counts, _ := s.UpdateCounts(ctx, "")
			if c := find(counts, "KB4534303"); c.Failed != 1 || c.Needed != 1 {
				t.Errorf("KB4534303: %+v", c)
			}
			// The next inventory: KB4474419 is there, KB4536953 is not (the
			// kit said installed), KB4534303 still missing (failed).
			r2 := row("sql01", 6003, "2019-05")
			r2.Updated, r2.State = t0.Add(2*time.Hour), "behind"
			r2.Updates = []store.Update{{KB: "KB4474419", State: store.UpdateInstalled}, {KB: "KB4534303", State: store.UpdateNeeded}, {KB: "KB4536953", State: store.UpdateNeeded}}
			if _, _, err := s.AddSnapshot(ctx, snap("sql01", "inv2", t0.Add(2*time.Hour)), r2); err != nil {
				t.Fatal(err)
			}
			h, _ = s.Host(ctx, "sql01")
			if h.Contradicted != 1 || h.State != "behind" {
				t.Errorf("after the inventory: contradicted %d, state %q", h.Contradicted, h.State)
			}
			outcomes, _ := s.Outcomes(ctx, "sql01")
			flags := map[string]string{}
			for _, o := range outcomes {
				flags[o.KB] = o.Flag
			}
			if flags["KB4536953"] != "contradicted" || flags["KB4534303"] != "failed" || flags["KB4474419"] != "" {
				t.Errorf("flags %v", flags)
			}
			hs, err := s.HostsWith(ctx, "kb4536953", "contradicted", "", 10, 1)
			if err != nil || len(hs) != 1 || hs[0].Name != "sql01" {
				t.Errorf("hosts contradicting KB4536953: %v %v", hs, err)
			}
			if u, err := s.UpdateCount(ctx, "kb4536953", ""); err != nil || u.Contradicted != 1 || u.Needed != 1 {
				t.Errorf("KB4536953: %+v %v", u, err)
			}
			if _, err := s.HostsWith(ctx, "KB1", "bogus", "", 10, 0); err == nil {
				t.Error("a bogus state was accepted")
			}
			// An inventory that shows the failed update installed ends the failure.
			r3 := r2
			r3.Updated = t0.Add(3 * time.Hour)
			r3.Updates = []store.Update{{KB: "KB4474419", State: store.UpdateInstalled}, {KB: "KB4534303", State: store.UpdateInstalled}, {KB: "KB4536953", State: store.UpdateInstalled}}
			s.AddSnapshot(ctx, snap("sql01", "inv3", t0.Add(3*time.Hour)), r3)
			h, _ = s.Host(ctx, "sql01")
			counts, _ = s.UpdateCounts(ctx, "")
			if h.Contradicted != 0 || len(counts) != 0 {
				t.Errorf("all installed: contradicted %d, view %+v", h.Contradicted, counts)
			}
			runs, _ := s.Runs(ctx, "sql01", 10)
			if len(runs) != 1 || runs[0].Token != "tok" || runs[0].Failed != 1 {
				t.Errorf("runs %+v", runs)
			}
			// The audit record holds the uploads and the changes.
			s.AddAudit(ctx, store.AuditEntry{At: t0.Add(4 * time.Hour), Actor: "root", Action: "group-add", Target: "plant-a", Detail: "sql01", Remote: "127.0.0.1"})
			es, err := s.Audit(ctx, time.Time{}, 10)
			if err != nil {
				t.Fatal(err)
			}
			var actions []string
			for _, e := range es {
				actions = append(actions, e.Action+" "+e.Target)
			}
			if got := strings.Join(actions, ", "); got != "group-add plant-a, upload-inventory sql01, upload-inventory sql01, upload-results sql01, upload-inventory sql01" {
				t.Errorf("audit: %s", got)
			}
		})
	}
}

func find(us []store.UpdateCount, kb string) store.UpdateCount {
	for _, u := range us {
		if u.KB == kb {
			return u
		}
	}
	return store.UpdateCount{}
}

// TestPopulateMatches: the benchmark fleet storetest.Populate writes has
// the profile counts the store's own writes would keep.
func TestPopulateMatches(t *testing.T) {
	for _, d := range dialects {
		s := storetest.Open(t, d)
		storetest.Populate(t, s, 2000, 40, 30)
		populated(t, s)
	}
}

// sameOverview checks the overview from the summary against the scan of
// every host row.
func sameOverview(t *testing.T, s *store.Store, group, when string) {
	t.Helper()
	now := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	got, err := s.Overview(context.Background(), now, group)
	if err != nil {
		t.Fatal(err)
	}
	want, err := s.ScanOverview(context.Background(), now, group)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", want) {
		t.Fatalf("%s, group %q: overview from the summary\n%+v\nfrom the hosts\n%+v", when, group, got, want)
	}
}

func populated(t *testing.T, s *store.Store) {
	for _, g := range []string{"", "plant-a"} {
		sameOverview(t, s, g, "populated")
		got, err := s.UpdateCounts(context.Background(), g)
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]store.UpdateCount{}
		for _, u := range got {
			m[u.KB] = u
		}
		want := recount(t, s, g)
		if fmt.Sprint(sorted(m)) != fmt.Sprint(sorted(want)) {
			t.Errorf("group %q: kept %v\nrecounted %v", g, sorted(m), sorted(want))
		}
	}
}

// BenchmarkUpdateCounts is the by-update view of 100,000 hosts over 400
// updates, with 2,000 and 20,000 distinct profiles: the view reads the
// counts kept at write time, so neither the hosts nor the profiles should
// change its cost.
func BenchmarkUpdateCounts(b *testing.B) {
	for _, c := range []struct {
		name     string
		profiles int
	}{{"profiles=2000", 2000}, {"profiles=20000", 20000}} {
		b.Run(c.name, func(b *testing.B) {
			s := storetest.Open(b, "sqlite")
			storetest.Populate(b, s, 100000, 400, c.profiles)
			ctx := context.Background()
			for _, g := range []string{"", "plant-a"} {
				b.Run("group="+g, func(b *testing.B) {
					for b.Loop() {
						us, err := s.UpdateCounts(ctx, g)
						if err != nil || len(us) != 400 {
							b.Fatal(len(us), err)
						}
					}
				})
			}
		})
	}
}

// TestFoldConcurrent: uploads, group changes and folds at once (on
// PostgreSQL, as several servers would) leave the by-update counts equal
// to the recount.
func TestFoldConcurrent(t *testing.T) {
	for _, d := range dialects {
		t.Run(d, func(t *testing.T) {
			ctx := context.Background()
			s := storetest.Open(t, d)
			t0 := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
			var wg sync.WaitGroup
			errs := make(chan error, 100)
			for w := 0; w < 6; w++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					rng := rand.New(rand.NewPCG(uint64(w), 3))
					for i := 0; i < 40; i++ {
						h := fmt.Sprintf("h%d", rng.IntN(10))
						var err error
						switch rng.IntN(4) {
						case 0:
							err = s.Fold(ctx)
						case 1:
							_, err = s.JoinGroup(ctx, "plant-a", h)
						default:
							r := row(h, 6003, "2020-01")
							r.Updates = randomProfile(rng)
							_, _, err = s.AddSnapshot(ctx, snap(h, fmt.Sprint(w, "-", i), t0.Add(time.Duration(i)*time.Second)), r)
						}
						if err != nil {
							errs <- err
							return
						}
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			populated(t, s)
		})
	}
}

// TestMigrateToSummary: a store of schema 4 with hosts of every flag is
// summarised by schema 5's migration (SQL computing each host's summary
// key) exactly as the store's writes (Go computing it) would: the overview
// from the summary is the scan's, and stays so when the hosts are written
// again (each write takes away the key it reads back from the row).
func TestMigrateToSummary(t *testing.T) {
	for _, d := range dialects {
		t.Run(d, func(t *testing.T) {
			ctx := context.Background()
			dsn, dir := "", t.TempDir()
			if d == "postgres" {
				dsn = storetest.PostgresDSN(t)
			}
			s, err := store.Open(ctx, dsn, dir)
			if err != nil {
				t.Fatal(err)
			}
			t0 := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
			write := func(round int) {
				for i := range 40 {
					h := row(fmt.Sprintf("host-%02d", i), 6002+i%2, []string{"", "2019-06", "2020-01"}[i%3])
					h.InScope, h.SHA2, h.SSUCurrent, h.ESUPrepared, h.RebootPending = i%7 != 0, i&1 != 0, i&2 != 0, i&4 != 0, (i+round)&8 != 0
					h.CVEsOpen, h.CVEsCritical, h.CVEsExploited = (i+round)%5, i%3*round, i%4/3
					h.State = []string{"current", "behind", "restart", "cannot-update"}[(i+round)%4]
					h.Updated = t0.AddDate(0, 0, -i*round)
					if i%3 == 0 {
						h.Groups = []string{"plant-a"}
					}
					if _, _, err := s.AddSnapshot(ctx, snap(h.Name, fmt.Sprintf("%s round %d", h.Name, round), h.Updated), h); err != nil {
						t.Fatal(err)
					}
				}
			}
			write(1)
			// Back to schema 4: no summary, as a store made before it.
			for _, stmt := range []string{`DROP TABLE summary_log`, `DROP TABLE summary`, `DROP INDEX hosts_scope_level`, `DROP INDEX hosts_updated`,
				`DELETE FROM schema_migrations WHERE version = 5`} {
				if _, err := s.DB().ExecContext(ctx, stmt); err != nil {
					t.Fatal(err)
				}
			}
			s.Close()
			if s, err = store.Open(ctx, dsn, dir); err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			for _, g := range []string{"", "plant-a"} {
				sameOverview(t, s, g, "migrated")
			}
			write(2)
			for _, g := range []string{"", "plant-a"} {
				sameOverview(t, s, g, "migrated, then written")
			}
		})
	}
}
