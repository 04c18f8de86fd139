package fleet

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kbplan/kbplan/internal/pkgtest"
	"github.com/kbplan/kbplan/store"
	"github.com/kbplan/kbplan/store/storetest"
)

const (
	samples = "../inventory/systeminfo/testdata/vanilla/"
	bundles = "../testdata/bundles/"
)

var dialects = []string{"sqlite", "postgres"}

// testServer is a fleet server over a fresh store, with an admin token, an
// enrollment token and two web users.
type testServer struct {
	*httptest.Server
	fleet  *Fleet
	admin  string
	enroll string
}

// newTestFleet is a fleet over a fresh store of a dialect, its clock fixed
// at 2026-11-25 noon UTC.
func newTestFleet(t testing.TB, dialect string) *Fleet {
	t.Helper()
	f, err := New(storetest.Open(t, dialect), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	f.Now = func() time.Time { return time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC) }
	return f
}

func newTestServer(t *testing.T, dialect string) *testServer {
	t.Helper()
	f := newTestFleet(t, dialect)
	st := f.Store
	ctx := context.Background()
	admin := NewToken()
	if _, err := EnsureAdminToken(ctx, st, t.TempDir(), admin, false); err != nil {
		t.Fatal(err)
	}
	ts := &testServer{Server: httptest.NewServer(NewServer(f)), fleet: f, admin: admin}
	t.Cleanup(ts.Close)
	var tok TokenJSON
	if code := ts.do(t, "POST", "/api/v1/tokens", admin, "application/json", []byte(`{"name":"site A"}`), &tok); code != http.StatusCreated {
		t.Fatalf("token: %d", code)
	}
	ts.enroll = tok.Token
	for _, u := range []struct{ name, role string }{{"ann", RoleViewer}, {"root", RoleAdmin}} {
		if err := AddUser(ctx, st, u.name, u.role, "correct horse battery"); err != nil {
			t.Fatal(err)
		}
	}
	return ts
}

// do sends a request with a bearer token ("" for none) and decodes a JSON
// answer into out (when not nil).
func (ts *testServer) do(t *testing.T, method, path, token, ctype string, body []byte, out any) int {
	t.Helper()
	req, _ := http.NewRequest(method, ts.URL+path, bytes.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %v\n%s", method, path, err, b)
		}
	}
	return resp.StatusCode
}

// csv gets a CSV export with a bearer token and parses it.
func (ts *testServer) csv(t *testing.T, path, token string) ([][]string, error) {
	t.Helper()
	req, _ := http.NewRequest("GET", ts.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	return csv.NewReader(resp.Body).ReadAll()
}

func read(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// zipBomb is a zip whose one member unpacks to far more than MaxUnpacked.
func zipBomb(t *testing.T) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.Create("kbplan-bundle.txt")
	zero := make([]byte, 1<<20)
	for i := 0; i < MaxUnpacked>>20+8; i++ {
		w.Write(zero)
	}
	zw.Close()
	return buf.Bytes()
}

// overlapping is n one-byte files at the last byte of a bomb of blocks
// blocks.
func overlapping(name string, n, blocks int) []pkgtest.BombFile {
	var fs []pkgtest.BombFile
	for i := range n {
		fs = append(fs, pkgtest.BombFile{Name: fmt.Sprintf("%s%d", name, i), Offset: uint32(blocks*32768 - 1), Size: 1})
	}
	fs[0].Name = name
	return fs
}

// dirFiles reads a folder's files.
func dirFiles(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, e := range es {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = b
	}
	return out
}

func TestIngest(t *testing.T) {
	for _, d := range dialects {
		t.Run(d, func(t *testing.T) {
			ts := newTestServer(t, d)
			sysinfo := read(t, samples+"08-systeminfo-2008sp2-x64-standard-en-utf16le.txt")
			bundleDir := bundles + "ws2008-6003-reboot-pending"
			sqlHost := []byte("Host Name:                 X'); DROP TABLE hosts; --\r\nOS Name:                   Microsoft Windows Server 2008 Standard\r\nOS Version:                6.0.6002 Service Pack 2 Build 6002\r\nSystem Type:               x64-based PC\r\n")
			tests := []struct {
				name   string
				token  string
				body   []byte
				code   int
				want   string // in the answer
				header string
			}{
				{"systeminfo", ts.enroll, sysinfo, http.StatusCreated, `"created": true`, ""},
				{"the same again: one snapshot", ts.admin, sysinfo, http.StatusOK, `"created": false`, ""},
				{"bundle as a zip with its folder", ts.enroll, pkgtest.ZipDir(t, bundleDir, "kbplan-HOST/"), http.StatusCreated, `"created": true`, ""},
				{"bundle as a cabinet", ts.enroll, pkgtest.CabDir(t, bundles+"ws2008-6003-esu-activated"), http.StatusCreated, `"created": true`, ""},
				{"SQL in the host name is just a name", ts.enroll, sqlHost, http.StatusCreated, `"host": "X'); DROP TABLE hosts; --"`, ""},
				{"no token", "", sysinfo, http.StatusUnauthorized, "a valid token is required", "Bearer"},
				{"wrong token", "kbp_0000", sysinfo, http.StatusUnauthorized, "a valid token is required", ""},
				{"empty body", ts.enroll, nil, http.StatusBadRequest, "empty upload", ""},
				{"garbage", ts.enroll, bytes.Repeat([]byte{0x00, 0xff, 0x13}, 1000), http.StatusUnprocessableEntity, "upload", ""},
				{"an inventory without a host name", ts.enroll, []byte("Microsoft Windows [Version 6.0.6002]\r\n"), http.StatusUnprocessableEntity, "names no host", ""},
				{"zip bomb", ts.enroll, zipBomb(t), http.StatusUnprocessableEntity, "inflates to more than 64 MiB", ""},
				{"zip without a bundle", ts.enroll, pkgtest.ZipDir(t, "testdata/notabundle", ""), http.StatusUnprocessableEntity, "without kbplan-bundle.txt", ""},
				{"zip slip", ts.enroll, pkgtest.ZipDir(t, bundleDir, "../../"), http.StatusUnprocessableEntity, "leaves the archive", ""},
				{"broken cabinet", ts.enroll, append([]byte("MSCF"), make([]byte, 100)...), http.StatusUnprocessableEntity, "upload", ""},
				// 3.6 MB of MSZIP blocks that inflate to 2 GiB: a bundle
				// file at its end is refused by the budget, 64 files at its
				// last byte by the overlap rule; a bomb nobody reads, beside
				// a valid bundle, costs nothing (its folder is never decoded).
				{"cab bomb read as a bundle file", ts.enroll, pkgtest.CabBomb(65535, []pkgtest.BombFile{{Name: "kbplan-bundle.txt", Offset: 65535*32768 - 1, Size: 1}}, nil), http.StatusUnprocessableEntity, "inflates to more than 64 MiB", ""},
				{"cab bomb of overlapping files", ts.enroll, pkgtest.CabBomb(1024, overlapping("wmic-qfe.txt", 8, 1024), dirFiles(t, bundleDir)), http.StatusUnprocessableEntity, "overlaps", ""},
				{"cab bomb beside a valid bundle, never read", ts.enroll, pkgtest.CabBomb(65535, overlapping("junk.bin", 8, 65535), dirFiles(t, bundles+"ws2008-6003-sha2-inactive")), http.StatusCreated, `"created": true`, ""},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					var got map[string]any
					code := ts.do(t, "POST", "/api/v1/inventories", tt.token, "application/octet-stream", tt.body, &got)
					b, _ := json.Marshal(got)
					if code != tt.code {
						t.Fatalf("%d, want %d: %s", code, tt.code, b)
					}
					js, _ := json.MarshalIndent(got, "", "  ")
					if !strings.Contains(string(js), tt.want) {
						t.Errorf("answer lacks %q: %s", tt.want, js)
					}
				})
			}
			// A multipart form (curl -F, WebClient.UploadFile) is read too.
			var form bytes.Buffer
			mw := multipart.NewWriter(&form)
			fw, _ := mw.CreateFormFile("file", "kbplan-HOST.cab")
			fw.Write(pkgtest.CabDir(t, bundles+"ws2008-6003-sha2-inactive"))
			mw.Close()
			var got Ingested
			if code := ts.do(t, "POST", "/api/v1/inventories", ts.enroll, mw.FormDataContentType(), form.Bytes(), &got); code != http.StatusCreated || !got.Created {
				t.Errorf("multipart: %d %+v", code, got)
			}
			// Too large: the limit answers 413 before reading it all.
			srv := ts.Config.Handler.(*Server)
			srv.MaxUpload = 1 << 20
			if code := ts.do(t, "POST", "/api/v1/inventories", ts.enroll, "", make([]byte, 2<<20), nil); code != http.StatusRequestEntityTooLarge {
				t.Errorf("2 MiB over a 1 MiB limit: %d", code)
			}
			var hosts []HostJSON
			ts.do(t, "GET", "/api/v1/hosts", ts.admin, "", nil, &hosts)
			if len(hosts) != 5 {
				t.Errorf("%d hosts, want 5: %+v", len(hosts), hosts)
			}
		})
	}
}

func TestRolesAndTokens(t *testing.T) {
	ts := newTestServer(t, "sqlite")
	sysinfo := read(t, samples+"08-systeminfo-2008sp2-x64-standard-en-utf16le.txt")
	if code := ts.do(t, "POST", "/api/v1/inventories", ts.enroll, "", sysinfo, nil); code != http.StatusCreated {
		t.Fatal(code)
	}
	tests := []struct {
		method, path, token string
		code                int
	}{
		{"GET", "/api/v1/hosts", "", http.StatusUnauthorized},
		{"GET", "/api/v1/hosts", ts.enroll, http.StatusForbidden}, // collectors upload, nothing more
		{"GET", "/api/v1/hosts", ts.admin, http.StatusOK},
		{"GET", "/api/v1/tokens", ts.enroll, http.StatusForbidden},
		{"POST", "/api/v1/tokens", ts.enroll, http.StatusForbidden},
		{"DELETE", "/api/v1/tokens/admin", ts.admin, http.StatusBadRequest},
		{"DELETE", "/api/v1/tokens/nope", ts.admin, http.StatusNotFound},
		{"GET", "/api/v1/hosts?filter=bogus", ts.admin, http.StatusBadRequest},
		{"GET", "/api/v1/hosts?sort=name%20DESC%3B%20DROP%20TABLE%20hosts", ts.admin, http.StatusBadRequest},
		{"GET", "/api/v1/hosts?limit=-1", ts.admin, http.StatusBadRequest},
		{"GET", "/api/v1/hosts/nobody", ts.admin, http.StatusNotFound},
		{"GET", "/healthz", "", http.StatusOK},
	}
	for _, tt := range tests {
		if code := ts.do(t, tt.method, tt.path, tt.token, "", nil, nil); code != tt.code {
			t.Errorf("%s %s: %d, want %d", tt.method, tt.path, code, tt.code)
		}
	}
	// Deleting a decommissioned host takes its history with it; viewers and
	// collectors may not.
	if code := ts.do(t, "DELETE", "/api/v1/hosts/win-1eyj4cmp38t", ts.enroll, "", nil, nil); code != http.StatusForbidden {
		t.Errorf("enroll deletes: %d", code)
	}
	var del map[string]any
	if code := ts.do(t, "DELETE", "/api/v1/hosts/WIN-1EYJ4CMP38T", ts.admin, "", nil, &del); code != http.StatusOK || del["snapshotsDeleted"] != float64(1) {
		t.Errorf("delete: %d %v", code, del)
	}
	if code := ts.do(t, "GET", "/api/v1/hosts/win-1eyj4cmp38t", ts.admin, "", nil, nil); code != http.StatusNotFound {
		t.Errorf("after delete: %d", code)
	}
	if code := ts.do(t, "DELETE", "/api/v1/hosts/win-1eyj4cmp38t", ts.admin, "", nil, nil); code != http.StatusNotFound {
		t.Errorf("second delete: %d", code)
	}
	// Uploading it again brings it back, as a new host.
	if code := ts.do(t, "POST", "/api/v1/inventories", ts.enroll, "", sysinfo, nil); code != http.StatusCreated {
		t.Errorf("upload after delete: %d", code)
	}
	// Revoking an enrollment token stops it at once.
	var toks []TokenJSON
	ts.do(t, "GET", "/api/v1/tokens", ts.admin, "", nil, &toks)
	var id string
	for _, tk := range toks {
		if tk.Role == RoleEnroll {
			id = tk.ID
		}
		if tk.Token != "" {
			t.Error("the token list shows a token")
		}
	}
	if code := ts.do(t, "DELETE", "/api/v1/tokens/"+id, ts.admin, "", nil, nil); code != http.StatusNoContent {
		t.Fatalf("revoke: %d", code)
	}
	if code := ts.do(t, "POST", "/api/v1/inventories", ts.enroll, "", sysinfo, nil); code != http.StatusUnauthorized {
		t.Errorf("revoked token: %d", code)
	}
	// Tokens are stored hashed.
	tk, err := ts.fleet.Store.TokenByHash(context.Background(), HashToken(ts.admin))
	if err != nil || tk.Hash == ts.admin || strings.Contains(tk.Hash, ts.admin) {
		t.Errorf("admin token row %+v %v", tk, err)
	}
}

func TestReadAPI(t *testing.T) {
	for _, d := range dialects {
		t.Run(d, func(t *testing.T) {
			ts := newTestServer(t, d)
			for _, p := range []string{samples + "08-systeminfo-2008sp2-x64-standard-en-utf16le.txt", "../testdata/analyze/ws2008-6003-x64-no-sha2.txt"} {
				if code := ts.do(t, "POST", "/api/v1/inventories", ts.enroll, "", read(t, p), nil); code != http.StatusCreated {
					t.Fatalf("%s: %d", p, code)
				}
			}
			var hosts []HostJSON
			ts.do(t, "GET", "/api/v1/hosts?sort=build", ts.admin, "", nil, &hosts)
			if len(hosts) != 2 || hosts[0].Build != 6002 || hosts[1].Build != 6003 || hosts[0].Steps == 0 || hosts[1].SHA2 {
				t.Fatalf("hosts %+v", hosts)
			}
			var detail HostDetailJSON
			if code := ts.do(t, "GET", "/api/v1/hosts/"+strings.ToLower(hosts[1].Name), ts.admin, "", nil, &detail); code != http.StatusOK {
				t.Fatal(code)
			}
			if h := detail.History[0]; h.Build == nil || *h.Build != 6003 || h.Steps == nil || *h.Steps != hosts[1].Steps || h.PatchLevel == nil || *h.PatchLevel != "2019-05" {
				t.Errorf("history row %+v", h)
			}
			if detail.Host.Name != hosts[1].Name || len(detail.Assessment.Plan.Steps) != hosts[1].Steps || len(detail.History) != 1 ||
				detail.Assessment.Plan.Steps[0].KB != "KB4474419" || detail.Assessment.Exposure == nil {
				t.Errorf("detail %+v", detail.Host)
			}
			var small HostDetailJSON
			ts.do(t, "GET", "/api/v1/hosts/"+strings.ToLower(hosts[1].Name)+"?exposure=counts", ts.admin, "", nil, &small)
			if e := small.Assessment.Exposure; e == nil || len(e.Open) != 0 || e.Counts.Open != hosts[1].CVEsOpen || e.Counts.OpenCritical != hosts[1].CVEsCritical {
				t.Errorf("exposure=counts: %+v", small.Assessment.Exposure)
			}
			if e := detail.Assessment.Exposure; len(e.Worst(len(e.CVEs))) != e.Counts.Open || e.Counts.Open != hosts[1].CVEsOpen {
				t.Errorf("full exposure: %d listed, counts %+v, row %d", len(e.Worst(len(e.CVEs))), e.Counts, hosts[1].CVEsOpen)
			}
			if code := ts.do(t, "GET", "/api/v1/hosts/"+strings.ToLower(hosts[1].Name)+"?exposure=some", ts.admin, "", nil, nil); code != http.StatusBadRequest {
				t.Errorf("exposure=some: %d", code)
			}
			var ov OverviewJSON
			ts.do(t, "GET", "/api/v1/overview", ts.admin, "", nil, &ov)
			if ov.Hosts != 2 || ov.ByBuild["6002"] != 1 || ov.ByBuild["6003"] != 1 || ov.NoSHA2 != 2 {
				t.Errorf("overview %+v", ov)
			}
			rows, err := ts.csv(t, "/api/v1/hosts.csv?build=6003", ts.admin)
			if err != nil || len(rows) != 2 || strings.Join(rows[0], ",") != strings.Join(CSVColumns, ",") || rows[1][3] != "6003" {
				t.Errorf("csv %v %v", rows, err)
			}
		})
	}
}

// TestReassess: rows assessed with another catalog are redone from their
// snapshots.
func TestReassess(t *testing.T) {
	ts := newTestServer(t, "sqlite")
	ts.do(t, "POST", "/api/v1/inventories", ts.enroll, "", read(t, samples+"08-systeminfo-2008sp2-x64-standard-en-utf16le.txt"), nil)
	ctx := context.Background()
	hs, _, _ := ts.fleet.Store.Hosts(ctx, store.Query{})
	h := hs[0]
	want := h.Steps
	h.Catalog, h.Steps = "an older catalog", 1
	ts.fleet.Store.SetHost(ctx, h)
	n, err := ts.fleet.Reassess(ctx)
	if err != nil || n != 1 {
		t.Fatalf("reassessed %d, %v", n, err)
	}
	if n, _ := ts.fleet.Reassess(ctx); n != 0 {
		t.Errorf("a second pass redid %d", n)
	}
	if got, _ := ts.fleet.Store.Host(ctx, h.Name); got.Steps != want || got.Catalog != ts.fleet.DataVersion() {
		t.Errorf("after reassess: %d steps, catalog %q", got.Steps, got.Catalog)
	}
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// browser is a cookie-keeping client that does not follow redirects.
func browser(t testing.TB) *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func get(t testing.TB, c *http.Client, u string) (int, string, http.Header) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

func login(t testing.TB, c *http.Client, base, user, pass string) int {
	t.Helper()
	_, page, _ := get(t, c, base+"/login")
	m := csrfField.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no csrf field in the login page:\n%s", page)
	}
	resp, err := c.PostForm(base+"/login?next=/hosts", url.Values{"csrf": {m[1]}, "user": {user}, "password": {pass}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestWeb(t *testing.T) {
	ts := newTestServer(t, "sqlite")
	ts.do(t, "POST", "/api/v1/inventories", ts.enroll, "", read(t, "../testdata/analyze/ws2008-6003-x64-no-sha2.txt"), nil)
	c := browser(t)

	// Without a session every page sends the browser to the login form.
	if code, _, h := get(t, c, ts.URL+"/hosts"); code != http.StatusSeeOther || !strings.HasPrefix(h.Get("Location"), "/login") {
		t.Errorf("no session: %d %s", code, h.Get("Location"))
	}
	if code := login(t, c, ts.URL, "ann", "wrong password!"); code != http.StatusUnauthorized {
		t.Errorf("wrong password: %d", code)
	}
	// A login post without the form's token is refused (login CSRF).
	resp, _ := browser(t).PostForm(ts.URL+"/login", url.Values{"user": {"ann"}, "password": {"correct horse battery"}})
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("login without csrf: %d", resp.StatusCode)
	}
	if code := login(t, c, ts.URL, "ann", "correct horse battery"); code != http.StatusSeeOther {
		t.Fatalf("login: %d", code)
	}
	u, _ := url.Parse(ts.URL)
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == sessionCookie && ck.Value == "" {
			t.Error("empty session cookie")
		}
	}
	pages := []struct {
		path  string
		wants []string
	}{
		{"/", []string{"Fleet overview", "<svg", "without SHA-2 support", "6003"}},
		{"/hosts?filter=no-sha2&sort=build&desc=1", []string{"SQL-NOSHA2", "no SHA-2", `aria-sort="descending"`}},
		{"/hosts/sql-nosha2", []string{"KB4474419", "Findings", "History", "Worst open CVEs"}},
		{"/export", []string{"/api/v1/hosts.csv"}},
	}
	for _, p := range pages {
		code, body, h := get(t, c, ts.URL+p.path)
		if code != http.StatusOK {
			t.Errorf("%s: %d\n%s", p.path, code, body)
			continue
		}
		for _, w := range p.wants {
			if !strings.Contains(body, w) {
				t.Errorf("%s lacks %q", p.path, w)
			}
		}
		if !strings.Contains(h.Get("Content-Security-Policy"), "default-src 'self'") || h.Get("X-Frame-Options") != "DENY" {
			t.Errorf("%s: security headers %v", p.path, h)
		}
	}
	// The viewer's session reads the API but may not write.
	if code, _, _ := get(t, c, ts.URL+"/api/v1/hosts"); code != http.StatusOK {
		t.Errorf("viewer reads the API: %d", code)
	}
	req, _ := http.NewRequest("POST", ts.URL+"/api/v1/inventories", strings.NewReader("x"))
	resp, _ = c.Do(req)
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("viewer writes: %d", resp.StatusCode)
	}
	// An admin session needs the CSRF token to write.
	a := browser(t)
	login(t, a, ts.URL, "root", "correct horse battery")
	req, _ = http.NewRequest("POST", ts.URL+"/api/v1/tokens", strings.NewReader(`{"name":"x"}`))
	resp, _ = a.Do(req)
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("admin session without CSRF: %d", resp.StatusCode)
	}
	// Logout needs the CSRF token, then the session is gone.
	_, page, _ := get(t, c, ts.URL+"/")
	m := csrfField.FindStringSubmatch(page)
	resp, _ = c.PostForm(ts.URL+"/logout", url.Values{"csrf": {"bogus"}})
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("logout without the right csrf: %d", resp.StatusCode)
	}
	resp, _ = c.PostForm(ts.URL+"/logout", url.Values{"csrf": {m[1]}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Errorf("logout: %d", resp.StatusCode)
	}
	if code, _, _ := get(t, c, ts.URL+"/"); code != http.StatusSeeOther {
		t.Errorf("after logout: %d", code)
	}
	// Metrics count requests by route pattern.
	code, body, _ := get(t, c, ts.URL+"/metrics")
	if code != http.StatusOK || !strings.Contains(body, `kbplan_ingests_total{result="created"} 1`) || !strings.Contains(body, `route="GET /hosts/{name}"`) ||
		!strings.Contains(body, "kbplan_fleet_hosts 1") {
		t.Errorf("metrics %d:\n%s", code, body)
	}
}

func TestLoginRedirectStaysOnSite(t *testing.T) {
	ts := newTestServer(t, "sqlite")
	for _, next := range []string{"//evil.example/", "https://evil.example/", `/\evil.example`, "/\t/evil.example", "/\r\nSet-Cookie: x=1", "/%2F%2Fevil.example", "/\x00", "javascript:alert(1)"} {
		c := browser(t)
		_, page, _ := get(t, c, ts.URL+"/login")
		m := csrfField.FindStringSubmatch(page)
		resp, err := c.PostForm(ts.URL+"/login?next="+url.QueryEscape(next), url.Values{"csrf": {m[1]}, "user": {"ann"}, "password": {"correct horse battery"}})
		if err != nil {
			t.Fatal(err)
		}
		if loc := resp.Header.Get("Location"); loc != "/" {
			t.Errorf("next=%s: redirected to %q", next, loc)
		}
	}
}

// TestLoginLimit: five wrong passwords for a user from one address, and
// the sixth try is refused even with the right password; other users, and
// the same user after the window, are not.
func TestLoginLimit(t *testing.T) {
	ts := newTestServer(t, "sqlite")
	c := browser(t)
	for i := 0; i < 5; i++ {
		if code := login(t, c, ts.URL, "ann", "wrong password!"); code != http.StatusUnauthorized {
			t.Fatalf("try %d: %d", i+1, code)
		}
	}
	if code := login(t, c, ts.URL, "ann", "correct horse battery"); code != http.StatusTooManyRequests {
		t.Errorf("sixth try: %d, want 429", code)
	}
	if code := login(t, c, ts.URL, "root", "correct horse battery"); code != http.StatusSeeOther {
		t.Errorf("another user: %d", code)
	}
	srv := ts.Config.Handler.(*Server)
	later := time.Now().Add(loginWindow + time.Minute)
	if ok, _ := srv.logins.reserve("127.0.0.1\x00ann", later); !ok {
		t.Error("still blocked after the window")
	}
}
