package storetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/kbplan/kbplan/store"
)

// Populate fills a fresh store for benchmarks, in a few statements rather
// than one upload per host: hosts HOST-1 to HOST-n, each in one of
// profiles update profiles over updates KBs (KB1000001 on), every tenth
// host in group "plant-a", with the profile counts the store keeps at
// write time (kb_counts, summary). TestPopulateMatches checks that the result is what the
// store's own writes would make.
func Populate(tb testing.TB, s *store.Store, hosts, updates, profiles int) {
	tb.Helper()
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(uint64(hosts), uint64(profiles)))
	tx, err := s.DB().BeginTx(ctx, nil)
	if err != nil {
		tb.Fatal(err)
	}
	exec := func(q string, args ...any) {
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			tx.Rollback()
			tb.Fatalf("%v\n%.200s", err, q)
		}
	}
	// A profile: a patch level (the first `level` updates installed), then
	// needed, some conditional, and a few skipped (superseded).
	entries := make([][]store.Update, profiles+1)
	for p := 1; p <= profiles; p++ {
		exec(`INSERT INTO profiles (id, digest, created) VALUES ($1, $2, 0)`, p, fmt.Sprintf("bench-%d", p))
		level := rng.IntN(updates)
		var rows []string
		for k := 0; k < updates; k++ {
			state := store.UpdateNeeded
			switch r := rng.IntN(10); {
			case k < level && r < 9:
				state = store.UpdateInstalled
			case r == 0:
				state = store.UpdateConditional
			case r == 1:
				continue
			}
			rows = append(rows, fmt.Sprintf("(%d, 'KB%d', '%s')", p, 1000001+k, state))
			entries[p] = append(entries[p], store.Update{KB: fmt.Sprintf("KB%d", 1000001+k), State: state})
		}
		exec(`INSERT INTO profile_updates (profile, kb, state) VALUES ` + strings.Join(rows, ", "))
	}
	body := `X'78'` // one byte, "x"
	if s.Dialect == "postgres" {
		body = `'\x78'`
	}
	type summaryKey struct {
		state, level string
		flags        int
	}
	states := []string{"behind", "restart", "cannot-update", "current", "behind"}
	summary := map[[2]any]int{}
	count := map[string]map[string]*[3]int{"": {}, "plant-a": {}}
	add := func(group string, p int) {
		for _, u := range entries[p] {
			c := count[group][u.KB]
			if c == nil {
				c = &[3]int{}
				count[group][u.KB] = c
			}
			c[map[string]int{store.UpdateNeeded: 0, store.UpdateConditional: 1, store.UpdateInstalled: 2}[u.State]]++
		}
	}
	exec(`INSERT INTO groups (name, created) VALUES ('plant-a', 0)`)
	for lo := 1; lo <= hosts; lo += 500 {
		var hs, gs, ss []string
		for i := lo; i < lo+500 && i <= hosts; i++ {
			p := rng.IntN(profiles) + 1
			name := fmt.Sprintf("host-%d", i)
			ss = append(ss, fmt.Sprintf("(%d, '%s', 'bench-%d', 0, 'systeminfo', 1, %s)", i, name, i, body))
			// Hosts at 60 patch levels, in every state, some with SHA-2.
			level := fmt.Sprintf("%d-%02d", 2015+i%60/12, i%12+1)
			state := states[i%len(states)]
			sha2 := i % 3 / 2
			hs = append(hs, fmt.Sprintf("('%s', '%s', %d, 0, 0, 'bench', 'Windows Server 2008', 'x64', 6003, 1, '%s', 100, 1, 3, 1, %d, 0, 0, 0, 10, 2, 1, 1, '', '%s', '%s', %d, 0)",
				name, strings.ToUpper(name), i, level, sha2, state, state, p))
			k := summaryKey{state, level, 1 | 2*sha2 | 32 | 64 | 128}
			summary[[2]any{"", k}]++
			if i%10 == 0 {
				summary[[2]any{"plant-a", k}]++
			}
			add("", p)
			if i%10 == 0 {
				gs = append(gs, fmt.Sprintf("('%s', 'plant-a')", name))
				add("plant-a", p)
			}
		}
		exec(`INSERT INTO snapshots (id, host, digest, received, format, size, body) VALUES ` + strings.Join(ss, ", "))
		exec(`INSERT INTO hosts (name, display, snapshot, updated, assessed, catalog, product, architecture, build, revision, patch_level,
			steps, reboots, findings, critical, sha2, ssu_current, esu_prepared, reboot_pending, cves_open, cves_critical, cves_exploited, in_scope, site,
			state, plan_state, profile, contradicted) VALUES ` + strings.Join(hs, ", "))
		if len(gs) > 0 {
			exec(`INSERT INTO host_groups (host, grp) VALUES ` + strings.Join(gs, ", "))
		}
	}
	for g, byKB := range count {
		for kb, c := range byKB {
			exec(`INSERT INTO kb_counts (grp, kb, needed, conditional, installed) VALUES ($1, $2, $3, $4, $5)`, g, kb, c[0], c[1], c[2])
		}
	}
	for k, n := range summary {
		sk := k[1].(summaryKey)
		exec(`INSERT INTO summary (grp, state, build, patch_level, day, flags, n, cves_open, cves_critical, cves_exploited) VALUES ($1, $2, 6003, $3, 0, $4, $5, $6, $7, $8)`,
			k[0], sk.state, sk.level, sk.flags, n, 10*n, 2*n, n)
	}
	if s.Dialect == "postgres" {
		exec(`SELECT setval(pg_get_serial_sequence('profiles', 'id'), $1)`, profiles)
		exec(`SELECT setval(pg_get_serial_sequence('snapshots', 'id'), $1)`, hosts)
	}
	if err := tx.Commit(); err != nil {
		tb.Fatal(err)
	}
}
