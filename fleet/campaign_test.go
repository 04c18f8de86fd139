package fleet

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kbplan/kbplan/kit"
)

// wineResults are the results documents install.cmd sent from Wine
// (kit's TestWineReport -update writes them): at its restart after
// KB4474419, and when KB4534303 failed with 0x800F0922.
const (
	wineRestart = "../kit/testdata/results/wine-restart.txt"
	wineFailed  = "../kit/testdata/results/wine-failed.txt"
)

// campaignHost is the Wine host of the results documents, and the
// inventory of a host of that name: SQL-NOSHA2's systeminfo, renamed.
func campaignHost(t *testing.T) (string, []byte) {
	t.Helper()
	res, err := kit.ParseResult(wineFailed, bytes.NewReader(read(t, wineFailed)))
	if err != nil {
		t.Fatal(err)
	}
	inv := bytes.Replace(read(t, "../testdata/analyze/ws2008-6003-x64-no-sha2.txt"), []byte("SQL-NOSHA2"), []byte(res.Host), 1)
	return res.Host, inv
}

// clock makes a fleet's clock settable from the test.
func clock(f *Fleet, at time.Time) *atomic.Int64 {
	var now atomic.Int64
	now.Store(at.UnixMilli())
	f.Now = func() time.Time { return time.UnixMilli(now.Load()).UTC() }
	return &now
}

// TestCampaignAPI runs a patch campaign through the API on both
// databases: hosts in two groups (by upload, by rule, by hand), the
// by-update view and its filter, a kit's results from Wine (restart,
// then a failure), the host's state, and a later inventory that
// contradicts an install the kit reported.
func TestCampaignAPI(t *testing.T) {
	for _, d := range dialects {
		t.Run(d, func(t *testing.T) {
			ts := newTestServer(t, d)
			now := clock(ts.fleet, time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC))
			host, inv := campaignHost(t)
			key := Key(host)
			// A rule first: DMZ-* hosts join dmz at their upload.
			if code := ts.do(t, "PUT", "/api/v1/groups/dmz", ts.admin, "application/json", []byte(`{"rule":"dmz-*"}`), nil); code != http.StatusOK {
				t.Fatalf("group rule: %d", code)
			}
			if code := ts.do(t, "POST", "/api/v1/inventories?group=plant-a", ts.enroll, "", inv, nil); code != http.StatusCreated {
				t.Fatalf("upload with a group: %d", code)
			}
			dmz := bytes.Replace(read(t, "../testdata/analyze/ws2008-6003-x64-no-sha2.txt"), []byte("SQL-NOSHA2"), []byte("DMZ-SQL02"), 1)
			var got Ingested
			if code := ts.do(t, "POST", "/api/v1/inventories", ts.enroll, "", dmz, &got); code != http.StatusCreated || !strings.HasPrefix(got.Host, "DMZ-") {
				t.Fatalf("upload of a DMZ host: %d %+v", code, got)
			}
			var groups []GroupJSON
			ts.do(t, "GET", "/api/v1/groups", ts.admin, "", nil, &groups)
			if len(groups) != 2 || groups[0].Name != "dmz" || groups[0].Hosts != 1 || groups[1].Name != "plant-a" || groups[1].Hosts != 1 {
				t.Fatalf("groups %+v", groups)
			}
			// By update: each group sees its own host.
			var all, plant, dmzUpdates []UpdateJSON
			ts.do(t, "GET", "/api/v1/updates", ts.admin, "", nil, &all)
			ts.do(t, "GET", "/api/v1/updates?group=plant-a", ts.admin, "", nil, &plant)
			ts.do(t, "GET", "/api/v1/updates?group=dmz", ts.admin, "", nil, &dmzUpdates)
			if u := findUpdate(all, "KB4534303"); u.Needed != 2 || u.Title == "" {
				t.Errorf("KB4534303, every host: %+v", u)
			}
			if u := findUpdate(plant, "KB4534303"); u.Needed != 1 {
				t.Errorf("KB4534303, plant-a: %+v", u)
			}
			if u := findUpdate(dmzUpdates, "KB4474419"); u.Needed != 1 {
				t.Errorf("KB4474419, dmz: %+v", u)
			}
			if code := ts.do(t, "GET", "/api/v1/updates?group=a/b", ts.admin, "", nil, nil); code != http.StatusBadRequest {
				t.Errorf("a bad group name: %d", code)
			}
			// The kit restarts after KB4474419: the host waits for a restart.
			now.Add(time.Hour.Milliseconds())
			var res ResultIngested
			if code := ts.do(t, "POST", "/api/v1/results", ts.enroll, "text/plain", read(t, wineRestart), &res); code != http.StatusCreated || res.Status != kit.StatusRestart || !res.Known {
				t.Fatalf("restart results: %d %+v", code, res)
			}
			var h HostDetailJSON
			ts.do(t, "GET", "/api/v1/hosts/"+key+"?exposure=counts", ts.admin, "", nil, &h)
			if h.Host.State != "restart" {
				t.Errorf("after the restart report: state %q", h.Host.State)
			}
			var ov OverviewJSON
			ts.do(t, "GET", "/api/v1/overview?group=plant-a", ts.admin, "", nil, &ov)
			if ov.ByState["restart"] != 1 || ov.Hosts != 1 || ov.ByGroup["dmz"]["behind"] != 1 {
				t.Errorf("overview of plant-a: %+v", ov)
			}
			// Then KB4534303 fails: the host is behind again, with a failure.
			now.Add(time.Hour.Milliseconds())
			if code := ts.do(t, "POST", "/api/v1/results", ts.enroll, "text/plain", read(t, wineFailed), &res); code != http.StatusCreated || res.Status != kit.StatusFailed {
				t.Fatalf("failed results: %d %+v", code, res)
			}
			if code := ts.do(t, "POST", "/api/v1/results", ts.enroll, "text/plain", read(t, wineFailed), &res); code != http.StatusOK || res.Created {
				t.Errorf("the same results again: %d %+v", code, res)
			}
			ts.do(t, "GET", "/api/v1/hosts/"+key+"?exposure=counts", ts.admin, "", nil, &h)
			if h.Host.State != "behind" {
				t.Errorf("after the failure: state %q", h.Host.State)
			}
			var detail UpdateDetailJSON
			if code := ts.do(t, "GET", "/api/v1/updates/kb4534303?group=plant-a", ts.admin, "", nil, &detail); code != http.StatusOK {
				t.Fatalf("update detail: %d", code)
			}
			if detail.Update.Failed != 1 || len(detail.Outcomes) != 1 || detail.Outcomes[0].Code != "0x800F0922" || !strings.Contains(detail.Outcomes[0].Meaning, "CBS_E_INSTALLERS_FAILED") ||
				detail.Step == nil || detail.Step.Why == "" || len(detail.Step.Evidence) == 0 || len(detail.Hosts["needed"]) != 1 {
				t.Errorf("KB4534303 in plant-a: %+v", detail)
			}
			var runs HostRunsJSON
			ts.do(t, "GET", "/api/v1/hosts/"+key+"/runs", ts.admin, "", nil, &runs)
			if len(runs.Runs) != 2 || runs.Runs[0].Status != kit.StatusFailed || runs.Runs[0].Token == "" || len(runs.Outcomes) != 3 {
				t.Errorf("runs %+v", runs)
			}
			// The next inventory is the same as before: the kit said
			// KB4474419 and KB4536953 installed, and they are missing.
			now.Add(time.Hour.Milliseconds())
			again := append(append([]byte(nil), inv...), "\r\n"...)
			if code := ts.do(t, "POST", "/api/v1/inventories", ts.enroll, "", again, nil); code != http.StatusCreated {
				t.Fatalf("the next inventory: %d", code)
			}
			ts.do(t, "GET", "/api/v1/hosts/"+key+"?exposure=counts", ts.admin, "", nil, &h)
			if h.Host.Contradicted != 2 {
				t.Errorf("contradicted %d, want 2 (KB4474419, KB4536953)", h.Host.Contradicted)
			}
			ts.do(t, "GET", "/api/v1/updates?group=plant-a", ts.admin, "", nil, &plant)
			if u := findUpdate(plant, "KB4474419"); u.Contradicted != 1 {
				t.Errorf("KB4474419 after the inventory: %+v", u)
			}
			// The CSV export, filtered.
			rows, err := ts.csv(t, "/api/v1/updates.csv?group=plant-a", ts.admin)
			if err != nil || len(rows) < 2 || strings.Join(rows[0], ",") != strings.Join(UpdateCSVColumns, ",") {
				t.Errorf("updates.csv: %v %v", rows, err)
			}
			// Hosts by group and state.
			var hosts []HostJSON
			ts.do(t, "GET", "/api/v1/hosts?group=dmz", ts.admin, "", nil, &hosts)
			if len(hosts) != 1 || !strings.HasPrefix(hosts[0].Name, "DMZ-") {
				t.Errorf("hosts of dmz: %+v", hosts)
			}
			ts.do(t, "GET", "/api/v1/hosts?state=behind&filter=contradicted", ts.admin, "", nil, &hosts)
			if len(hosts) != 1 || hosts[0].Name != host {
				t.Errorf("behind and contradicted: %+v", hosts)
			}
			if code := ts.do(t, "GET", "/api/v1/hosts?state=bogus", ts.admin, "", nil, nil); code != http.StatusBadRequest {
				t.Errorf("state=bogus: %d", code)
			}
			// Group membership by hand, and out again.
			if code := ts.do(t, "POST", "/api/v1/groups/plant-a/hosts", ts.admin, "application/json", []byte(`{"hosts":["`+got.Host+`"]}`), nil); code != http.StatusOK {
				t.Errorf("group add: %d", code)
			}
			ts.do(t, "GET", "/api/v1/updates?group=plant-a", ts.admin, "", nil, &plant)
			if u := findUpdate(plant, "KB4534303"); u.Needed != 2 {
				t.Errorf("after adding the DMZ host to plant-a: %+v", u)
			}
			if code := ts.do(t, "DELETE", "/api/v1/groups/plant-a/hosts/"+got.Host, ts.admin, "", nil, nil); code != http.StatusNoContent {
				t.Errorf("group remove: %d", code)
			}
			// Who did what: the uploads and the changes.
			var audit []AuditJSON
			ts.do(t, "GET", "/api/v1/audit", ts.admin, "", nil, &audit)
			var actions []string
			for _, e := range audit {
				actions = append(actions, e.Action)
			}
			for _, want := range []string{"group-set", "group-add", "group-remove", "token-add", "upload-inventory", "upload-results"} {
				if !strings.Contains(strings.Join(actions, " "), want) {
					t.Errorf("audit lacks %s: %v", want, actions)
				}
			}
			if code := ts.do(t, "GET", "/api/v1/audit", ts.enroll, "", nil, nil); code != http.StatusForbidden {
				t.Errorf("audit with an enrollment token: %d", code)
			}
			// Metrics by group and state.
			resp, err := http.Get(ts.URL + "/metrics")
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			for _, want := range []string{`kbplan_fleet_hosts_by_state{group="",state="behind"} 2`, `kbplan_fleet_hosts_by_state{group="plant-a",state="behind"} 1`,
				`kbplan_fleet_hosts_by_state{group="dmz",state="behind"} 1`, `kbplan_results_total{result="created"} 2`} {
				if !strings.Contains(string(body), want) {
					t.Errorf("metrics lack %s", want)
				}
			}
		})
	}
}

func findUpdate(us []UpdateJSON, kb string) UpdateJSON {
	for _, u := range us {
		if u.KB == kb {
			return u
		}
	}
	return UpdateJSON{}
}

// TestResultUploadsBounded: results uploads are bounded and checked as
// inventory uploads are.
func TestResultUploadsBounded(t *testing.T) {
	ts := newTestServer(t, "sqlite")
	host, inv := campaignHost(t)
	ts.do(t, "POST", "/api/v1/inventories", ts.enroll, "", inv, nil)
	big := append([]byte(kit.ResultMagic+"\r\n[install.log]\r\n"), bytes.Repeat([]byte("x\r\n"), kit.MaxResult/3+10)...)
	var scoped TokenJSON
	ts.do(t, "POST", "/api/v1/tokens", ts.admin, "application/json", []byte(`{"name":"other hosts","hosts":"OTHER-*"}`), &scoped)
	cases := []struct {
		name, token string
		body        []byte
		code        int
		want        string
	}{
		{"too large", ts.enroll, big, http.StatusRequestEntityTooLarge, "results over 2 MiB"},
		{"empty", ts.enroll, nil, http.StatusBadRequest, "empty upload"},
		{"not results", ts.enroll, inv, http.StatusUnprocessableEntity, "not a kbplan results document"},
		{"a poisoned state", ts.enroll, []byte(kit.ResultMagic + "\r\nhost: " + host + "\r\n[install.state]\r\nkit=ab\r\nnext=1 & del *\r\n"), http.StatusUnprocessableEntity, "is not a line install.cmd writes"},
		{"out of the token's scope", scoped.Token, read(t, wineFailed), http.StatusForbidden, "may write hosts matching"},
		{"no token", "", read(t, wineFailed), http.StatusUnauthorized, "a valid token is required"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var e apiError
			if code := ts.do(t, "POST", "/api/v1/results", c.token, "text/plain", c.body, &e); code != c.code || !strings.Contains(e.Error, c.want) {
				t.Errorf("%d %q, want %d and %q", code, e.Error, c.code, c.want)
			}
		})
	}
	var runs HostRunsJSON
	ts.do(t, "GET", "/api/v1/hosts/"+Key(host)+"/runs", ts.admin, "", nil, &runs)
	if len(runs.Runs) != 0 {
		t.Errorf("a refused upload was kept: %+v", runs)
	}
}

// FuzzResultUpload sends any bytes through IngestResult into a real
// store: an error or a stored run, never a panic.
func FuzzResultUpload(f *testing.F) {
	for _, p := range []string{wineRestart, wineFailed} {
		b, err := readFile(p)
		if err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(kit.ResultMagic + "\r\nhost: X\r\n[install.state]\r\nkit=ab\r\ndone=1 KB1 failed 0x80092004\r\n"))
	fl := newTestFleet(f, "sqlite")
	f.Fuzz(func(t *testing.T, body []byte) {
		res, err := fl.IngestResult(t.Context(), Origin{}, "fuzz", body)
		if err != nil {
			var ue *UploadError
			if !asUploadError(err, &ue) {
				t.Fatalf("not an upload error: %v", err)
			}
			return
		}
		if res.ID == 0 || res.Host == "" {
			t.Fatalf("stored without an id or host: %+v", res)
		}
	})
}

func readFile(p string) ([]byte, error) { return os.ReadFile(p) }

func asUploadError(err error, ue **UploadError) bool { return errors.As(err, ue) }

// TestAuditAnswers: a bad parameter of the audit record is the client's
// error (400), a store that fails is the server's (500), on the API and
// its CSV export alike.
func TestAuditAnswers(t *testing.T) {
	ts := newTestServer(t, "sqlite")
	for _, tc := range []struct {
		path string
		code int
	}{
		{"/api/v1/audit?limit=0", http.StatusBadRequest},
		{"/api/v1/audit.csv?limit=x", http.StatusBadRequest},
		{"/api/v1/audit?before=yesterday", http.StatusBadRequest},
		{"/api/v1/audit?limit=5", http.StatusOK},
		{"/api/v1/audit.csv", http.StatusOK},
	} {
		if code := ts.do(t, "GET", tc.path, ts.admin, "", nil, nil); code != tc.code {
			t.Errorf("%s: %d, want %d", tc.path, code, tc.code)
		}
	}
	// The audit read fails.
	ts.fleet.Store.DB().Exec(`DROP TABLE audit`)
	for _, p := range []string{"/api/v1/audit", "/api/v1/audit.csv"} {
		if code := ts.do(t, "GET", p, ts.admin, "", nil, nil); code != http.StatusInternalServerError {
			t.Errorf("%s with the audit table gone: %d, want 500", p, code)
		}
	}
}
