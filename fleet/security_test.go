package fleet

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/kbplan/kbplan/internal/pkgtest"
)

// TestTokenScope: a token bound to a site and a host-name pattern writes
// only those hosts; each snapshot records its token and address.
func TestTokenScope(t *testing.T) {
	for _, d := range dialects {
		t.Run(d, func(t *testing.T) {
			ts := newTestServer(t, d)
			tok := func(body string) string {
				var j TokenJSON
				if code := ts.do(t, "POST", "/api/v1/tokens", ts.admin, "application/json", []byte(body), &j); code != http.StatusCreated {
					t.Fatalf("token %s: %d", body, code)
				}
				return j.Token
			}
			plantA := tok(`{"name":"plant A","site":"plant-a","hosts":"win-*"}`)
			plantB := tok(`{"name":"plant B","site":"plant-b"}`)
			servers := tok(`{"name":"servers","hosts":"SRV-*"}`)
			sysinfo := read(t, samples+"08-systeminfo-2008sp2-x64-standard-en-utf16le.txt") // WIN-1EYJ4CMP38T
			tests := []struct {
				name  string
				token string
				body  []byte
				code  int
				want  string
			}{
				{"in scope: created, and the host joins plant-a", plantA, sysinfo, http.StatusCreated, `"created":true`},
				{"another site's token may not rewrite it", plantB, append(bytes.Clone(sysinfo), "\r\n"...), http.StatusForbidden, `belongs to`},
				{"a pattern that does not match", servers, append(bytes.Clone(sysinfo), "\r\n\r\n"...), http.StatusForbidden, `matching \"SRV-*\" only`},
				{"an unbound token may", ts.enroll, append(bytes.Clone(sysinfo), " "...), http.StatusCreated, `"created":true`},
			}
			for _, tc := range tests {
				var got map[string]any
				code := ts.do(t, "POST", "/api/v1/inventories", tc.token, "application/octet-stream", tc.body, &got)
				b := fmt.Sprint(got)
				if js, _ := jsonString(got); code != tc.code || !strings.Contains(js, tc.want) {
					t.Errorf("%s: %d %s, want %d with %s", tc.name, code, b, tc.code, tc.want)
				}
			}
			var d HostDetailJSON
			if code := ts.do(t, "GET", "/api/v1/hosts/WIN-1EYJ4CMP38T", ts.admin, "", nil, &d); code != http.StatusOK {
				t.Fatalf("host: %d", code)
			}
			if d.Host.Site != "plant-a" || len(d.History) != 2 || d.History[1].Token == "" || d.History[1].Remote != "127.0.0.1" {
				t.Errorf("site %q, history %+v", d.Host.Site, d.History)
			}
			if code := ts.do(t, "POST", "/api/v1/tokens", ts.admin, "application/json", []byte(`{"name":"x","hosts":"[a-"}`), nil); code != http.StatusBadRequest {
				t.Errorf("a broken pattern: %d", code)
			}
		})
	}
}

// TestLoginRace: parallel wrong guesses are each counted before bcrypt
// runs, so no more than the limit reach it.
func TestLoginRace(t *testing.T) {
	ts := newTestServer(t, "sqlite")
	var wg sync.WaitGroup
	codes := make(chan int, 40)
	for range 40 {
		c := browser(t)
		_, page, _ := get(t, c, ts.URL+"/login")
		csrf := csrfField.FindStringSubmatch(page)[1]
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := c.PostForm(ts.URL+"/login", url.Values{"csrf": {csrf}, "user": {"ann"}, "password": {"wrong password!"}})
			if err != nil {
				codes <- 0
				return
			}
			resp.Body.Close()
			codes <- resp.StatusCode
		}()
	}
	wg.Wait()
	close(codes)
	n := map[int]int{}
	for c := range codes {
		n[c]++
	}
	if n[http.StatusUnauthorized] > loginFailures || n[http.StatusUnauthorized]+n[http.StatusTooManyRequests]+n[http.StatusServiceUnavailable] != 40 {
		t.Errorf("answers %v: at most %d may reach bcrypt", n, loginFailures)
	}
}

// TestTrustedProxy: behind a trusted proxy the limiter keys on the
// client in X-Forwarded-For; from anyone else the header is ignored.
func TestTrustedProxy(t *testing.T) {
	for _, trusted := range []bool{true, false} {
		t.Run(fmt.Sprint("trusted=", trusted), func(t *testing.T) {
			ts := newTestServer(t, "sqlite")
			srv := ts.Config.Handler.(*Server)
			if trusted {
				srv.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
			}
			try := func(client, pass string) int {
				c := browser(t)
				_, page, _ := get(t, c, ts.URL+"/login")
				req, _ := http.NewRequest("POST", ts.URL+"/login", strings.NewReader(url.Values{"csrf": {csrfField.FindStringSubmatch(page)[1]}, "user": {"ann"}, "password": {pass}}.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.Header.Set("X-Forwarded-For", "198.51.100.7, "+client)
				resp, err := c.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				return resp.StatusCode
			}
			for range loginFailures {
				try("203.0.113.5", "wrong password!")
			}
			if code := try("203.0.113.5", "correct horse battery"); code != http.StatusTooManyRequests {
				t.Errorf("the guessing client: %d, want 429", code)
			}
			want := http.StatusSeeOther // another client behind the proxy logs in
			if !trusted {
				want = http.StatusTooManyRequests // all one address: the header is not believed
			}
			if code := try("203.0.113.6", "correct horse battery"); code != want {
				t.Errorf("another client: %d, want %d", code, want)
			}
		})
	}
}

// TestSessionEndsWithPassword: a new password (or a removed user) ends
// the user's sessions.
func TestSessionEndsWithPassword(t *testing.T) {
	ts := newTestServer(t, "sqlite")
	c := browser(t)
	if code := login(t, c, ts.URL, "ann", "correct horse battery"); code != http.StatusSeeOther {
		t.Fatalf("login: %d", code)
	}
	if code, _, _ := get(t, c, ts.URL+"/hosts"); code != http.StatusOK {
		t.Fatalf("logged in: %d", code)
	}
	if err := AddUser(t.Context(), ts.fleet.Store, "ann", RoleViewer, "another horse battery"); err != nil {
		t.Fatal(err)
	}
	if code, _, _ := get(t, c, ts.URL+"/hosts"); code == http.StatusOK {
		t.Error("the session outlived the password")
	}
	login(t, c, ts.URL, "root", "correct horse battery")
	if err := ts.fleet.Store.DeleteUser(t.Context(), "root"); err != nil {
		t.Fatal(err)
	}
	if code, _, _ := get(t, c, ts.URL+"/hosts"); code == http.StatusOK {
		t.Error("the session outlived the user")
	}
}

// TestAdmission: beyond the bound of uploads read at once, 503 with
// Retry-After, and the body is not read.
func TestAdmission(t *testing.T) {
	ts := newTestServer(t, "sqlite")
	srv := ts.Config.Handler.(*Server)
	srv.AdmitWait = 0
	for range cap(srv.ingests) {
		srv.ingests <- struct{}{}
	}
	req := httptest.NewRequest("POST", "/api/v1/inventories", strings.NewReader("Host Name: X\r\n"))
	req.Header.Set("Authorization", "Bearer "+ts.enroll)
	w := httptest.NewRecorder()
	srv.ServeHTTP(w, req)
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") == "" {
		t.Errorf("%d %v", w.Code, w.Header())
	}
	for range cap(srv.ingests) {
		<-srv.ingests
	}
}

// TestPageViewsDecodeNothing: a host page reads the inventory stored at
// ingest, not the upload: with the upload's bytes destroyed, the page
// still shows the host; only new readers read the body again.
func TestPageViewsDecodeNothing(t *testing.T) {
	for _, d := range dialects {
		t.Run(d, func(t *testing.T) {
			ts := newTestServer(t, d)
			body := pkgtest.CabDir(t, bundles+"ws2008-6003-reboot-pending")
			if code := ts.do(t, "POST", "/api/v1/inventories", ts.enroll, "application/octet-stream", body, nil); code != http.StatusCreated {
				t.Fatalf("upload: %d", code)
			}
			db := ts.fleet.Store.DB()
			if _, err := db.Exec(`UPDATE snapshots SET body = $1`, []byte("MSCF garbage")); err != nil {
				t.Fatal(err)
			}
			var got HostDetailJSON
			if code := ts.do(t, "GET", "/api/v1/hosts/APP-PENDING", ts.admin, "", nil, &got); code != http.StatusOK || got.Assessment.Host.OS.Build == nil {
				t.Fatalf("page view after the body was destroyed: %d %+v", code, got.Assessment.Host.OS)
			}
			// Readers of another version must read the body: now it fails.
			if _, err := db.Exec(`UPDATE snapshots SET readers = '0'`); err != nil {
				t.Fatal(err)
			}
			if code := ts.do(t, "GET", "/api/v1/hosts/APP-PENDING", ts.admin, "", nil, nil); code == http.StatusOK {
				t.Error("a stale inventory was used")
			}
		})
	}
}

func jsonString(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}

// TestAdminToken: weak tokens are refused; a token that differs from the
// database's replaces it only with reset.
func TestAdminToken(t *testing.T) {
	for _, weak := range []string{"short", strings.Repeat("a", 40), "password1234password1234"} {
		if err := strongToken(weak); err == nil {
			t.Errorf("%q accepted", weak)
		}
	}
	if err := strongToken(NewToken()); err != nil {
		t.Errorf("a kbplan token refused: %v", err)
	}
	f := newTestFleet(t, "sqlite")
	ctx := t.Context()
	dir := t.TempDir()
	if _, err := EnsureAdminToken(ctx, f.Store, dir, "", false); err != nil {
		t.Fatal(err)
	}
	if _, err := EnsureAdminToken(ctx, f.Store, dir, "", false); err != nil {
		t.Errorf("the same folder again: %v", err)
	}
	other := NewToken()
	if _, err := EnsureAdminToken(ctx, f.Store, t.TempDir(), other, false); err == nil || !strings.Contains(err.Error(), "differs from the one in the database") {
		t.Errorf("another token without reset: %v", err)
	}
	if _, err := EnsureAdminToken(ctx, f.Store, dir, other, true); err != nil {
		t.Errorf("with reset: %v", err)
	}
	if _, err := EnsureAdminToken(ctx, f.Store, dir, "", false); err == nil {
		t.Error("the data folder's old token took the database's back")
	}
}
