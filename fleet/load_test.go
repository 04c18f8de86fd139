package fleet

import (
	"bytes"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestLoad runs uploads and reads together on loopback for a bounded
// time, on both databases: every upload answered 201, every read 200,
// and the fleet holds exactly the hosts that were answered. (Throughput
// is measured by bench/fleet.sh, not asserted here.)
func TestLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	for _, d := range dialects {
		t.Run(d, func(t *testing.T) {
			ts := newTestServer(t, d)
			tmpl := read(t, "../testdata/analyze/ws2008-6003-x64-no-sha2.txt")
			var created, reads, bad atomic.Int64
			deadline := time.Now().Add(2 * time.Second)
			var wg sync.WaitGroup
			for w := 0; w < 8; w++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; time.Now().Before(deadline); i++ {
						if w == 0 && i%5 == 0 {
							if code := ts.do(t, "GET", "/api/v1/hosts?limit=50&sort=cvesOpen&desc=1", ts.admin, "", nil, nil); code != http.StatusOK {
								bad.Add(1)
							}
							reads.Add(1)
							continue
						}
						body := bytes.Replace(tmpl, []byte("SQL-NOSHA2"), []byte(fmt.Sprintf("LOAD-%d-%d", w, i)), 1)
						if code := ts.do(t, "POST", "/api/v1/inventories", ts.enroll, "", body, nil); code != http.StatusCreated {
							bad.Add(1)
						} else {
							created.Add(1)
						}
					}
				}()
			}
			wg.Wait()
			var ov OverviewJSON
			ts.do(t, "GET", "/api/v1/overview", ts.admin, "", nil, &ov)
			if bad.Load() != 0 || int64(ov.Hosts) != created.Load() || created.Load() == 0 {
				t.Errorf("%d uploads answered 201, %d reads, %d unexpected answers, %d hosts stored", created.Load(), reads.Load(), bad.Load(), ov.Hosts)
			}
			t.Logf("%s: %d uploads and %d reads in 2 s", d, created.Load(), reads.Load())
			// Then kit results for those hosts, back to back: every one
			// answered 201, every one stored as a run.
			doc := read(t, wineFailed)
			var results atomic.Int64
			deadline = time.Now().Add(time.Second)
			for w := 0; w < 8; w++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; time.Now().Before(deadline); i++ {
						b := bytes.Replace(doc, []byte("host: VM"), []byte(fmt.Sprintf("host: LOAD-%d-%d\r\nloadgen: %d", w, i%4+1, i)), 1)
						if code := ts.do(t, "POST", "/api/v1/results", ts.enroll, "text/plain", b, nil); code != http.StatusCreated {
							bad.Add(1)
						} else {
							results.Add(1)
						}
					}
				}()
			}
			wg.Wait()
			var runs int64
			ts.fleet.Store.DB().QueryRow(`SELECT COUNT(*) FROM runs`).Scan(&runs)
			if bad.Load() != 0 || runs != results.Load() || runs == 0 {
				t.Errorf("%d results answered 201, %d runs stored, %d unexpected answers", results.Load(), runs, bad.Load())
			}
			t.Logf("%s: %d results uploads in 1 s", d, results.Load())
		})
	}
}
