package cli

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/kbplan/kbplan/fleet"
	"github.com/kbplan/kbplan/internal/pkgtest"
	"github.com/kbplan/kbplan/inventory/input"
	"github.com/kbplan/kbplan/report"
	"github.com/kbplan/kbplan/store"
	"github.com/kbplan/kbplan/store/storetest"
)

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// kbplanBinary builds kbplan once for the tests that run it as a process.
func kbplanBinary(t *testing.T) string {
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "kbplan-bin-")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "kbplan")
		out, err := exec.Command("go", "build", "-o", binPath, "github.com/kbplan/kbplan/cmd/kbplan").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// server is a kbplan serve process.
type server struct {
	cmd    *exec.Cmd
	url    string
	stderr *bytes.Buffer
	mu     *sync.Mutex
	done   chan error
}

// startServer runs kbplan serve on a free port and waits until it
// listens.
func startServer(t *testing.T, args ...string) *server {
	t.Helper()
	cmd := exec.Command(kbplanBinary(t), append([]string{"serve", "--listen", "127.0.0.1:0"}, args...)...)
	cmd.Env = append(os.Environ(), "KBPLAN_ADMIN_TOKEN=test-admin-token-0123456789")
	pipe, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &server{cmd: cmd, stderr: &bytes.Buffer{}, mu: &sync.Mutex{}, done: make(chan error, 1)}
	urlc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pipe)
		for sc.Scan() {
			line := sc.Text()
			s.mu.Lock()
			s.stderr.WriteString(line + "\n")
			s.mu.Unlock()
			var rec struct{ Msg, URL string }
			if json.Unmarshal([]byte(line), &rec) == nil && rec.URL != "" {
				urlc <- rec.URL
			}
		}
		s.done <- cmd.Wait()
	}()
	select {
	case s.url = <-urlc:
	case err := <-s.done:
		t.Fatalf("kbplan serve exited: %v\n%s", err, s.log())
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("kbplan serve did not start:\n%s", s.log())
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-s.done
	})
	return s
}

func (s *server) log() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stderr.String()
}

// upload posts body with the admin token.
func (s *server) upload(body []byte) (int, string, error) {
	req, _ := http.NewRequest("POST", s.url+"/api/v1/inventories", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer test-admin-token-0123456789")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), nil
}

// systeminfoFor is the test host's systeminfo under another host name.
func systeminfoFor(t *testing.T, name string) []byte {
	b, err := os.ReadFile(hosts + "ws2008-6003-x64-no-sha2.txt")
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Replace(b, []byte("SQL-NOSHA2"), []byte(name), 1)
}

// TestServeCrash kills the server (SIGKILL) in the middle of a burst of
// uploads, starts it again on the same database, and checks that every
// upload it had answered 201 is there.
func TestServeCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			args := []string{"--data", t.TempDir()}
			if db == "postgres" {
				args = append(args, "--db", storetest.PostgresDSN(t))
			}
			s := startServer(t, args...)
			var mu sync.Mutex
			acked := map[string]bool{}
			var wg sync.WaitGroup
			stop := make(chan struct{})
			for w := 0; w < 8; w++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; ; i++ {
						select {
						case <-stop:
							return
						default:
						}
						name := fmt.Sprintf("CRASH-%d-%d", w, i)
						code, _, err := s.upload(systeminfoFor(t, name))
						if err != nil {
							return // the server is gone
						}
						if code == http.StatusCreated {
							mu.Lock()
							acked[name] = true
							mu.Unlock()
						}
					}
				}()
			}
			time.Sleep(700 * time.Millisecond)
			s.cmd.Process.Signal(syscall.SIGKILL)
			<-s.done
			s.done <- nil // for the cleanup
			close(stop)
			wg.Wait()
			if len(acked) == 0 {
				t.Fatalf("no upload was answered before the kill:\n%s", s.log())
			}
			s2 := startServer(t, args...)
			req, _ := http.NewRequest("GET", s2.url+"/api/v1/hosts?q=crash-", nil)
			req.Header.Set("Authorization", "Bearer test-admin-token-0123456789")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var rows []struct {
				Hostname string `json:"hostname"`
			}
			json.NewDecoder(resp.Body).Decode(&rows)
			resp.Body.Close()
			have := map[string]bool{}
			for _, r := range rows {
				have[r.Hostname] = true
			}
			lost := 0
			for name := range acked {
				if !have[name] {
					lost++
					t.Errorf("%s was answered 201 and is gone after the crash", name)
				}
			}
			t.Logf("%s: %d uploads acknowledged before SIGKILL, %d hosts after restart, %d lost", db, len(acked), len(rows), lost)
		})
	}
}

// TestServeShutdown: SIGTERM stops the server cleanly (exit 0).
func TestServeShutdown(t *testing.T) {
	dir := t.TempDir()
	s := startServer(t, "--data", dir)
	if code, body, err := s.upload(systeminfoFor(t, "GRACEFUL")); err != nil || code != http.StatusCreated {
		t.Fatalf("%d %s %v", code, body, err)
	}
	if resp, err := http.Get(s.url + "/healthz"); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("healthz: %v %v", resp, err)
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-s.done:
		s.done <- err
		if err != nil {
			t.Errorf("exit after SIGTERM: %v\n%s", err, s.log())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no exit after SIGTERM")
	}
	for _, want := range []string{`"msg":"shutting down: finishing requests in flight"`, `"msg":"stopped"`, `"admin_token":"KBPLAN_ADMIN_TOKEN"`} {
		if !strings.Contains(s.log(), want) {
			t.Errorf("log lacks %s:\n%s", want, s.log())
		}
	}
	// Without KBPLAN_ADMIN_TOKEN a first start writes the token file, 0600.
	cmd := exec.Command(kbplanBinary(t), "serve", "--listen", "127.0.0.1:70000", "--data", filepath.Join(dir, "fresh"))
	cmd.Env = os.Environ()
	out, _ := cmd.CombinedOutput() // an invalid port: it stops after making the token
	st, err := os.Stat(filepath.Join(dir, "fresh", "admin-token"))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("admin-token: %v %v\n%s", st, err, out)
	}
}

func TestFleetImportAndUser(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in")
	os.MkdirAll(in, 0o755)
	os.WriteFile(filepath.Join(in, "a.txt"), systeminfoFor(t, "IMPORT-A"), 0o644)
	os.WriteFile(filepath.Join(in, "bad.txt"), []byte("not an inventory\n"), 0o644)
	os.MkdirAll(filepath.Join(in, "not-a-bundle"), 0o755)
	copyDir(t, "../../../testdata/bundles/ws2008-6003-reboot-pending", filepath.Join(in, "bundle"))
	data := filepath.Join(dir, "data")
	stdout, stderr, code := run(t, "", "fleet", "import", "--data", data, in)
	if code != ExitUsage || !strings.Contains(stdout, "IMPORT-A\tsnapshot") || !strings.Contains(stderr, "bad.txt") ||
		!strings.Contains(stderr, "imported 2 new snapshots, 0 already there, 1 unreadable") {
		t.Fatalf("import: %d\n%s\n%s", code, stdout, stderr)
	}
	// Again: the same files, and the same bundle folder, are the same snapshots.
	_, stderr, _ = run(t, "", "fleet", "import", "--data", data, in)
	if !strings.Contains(stderr, "imported 0 new snapshots, 2 already there") {
		t.Errorf("second import: %s", stderr)
	}
	if _, stderr, code := run(t, "short\n", "fleet", "user", "add", "ann", "--data", data); code != ExitUsage || !strings.Contains(stderr, "12 to 72") {
		t.Errorf("short password: %d %s", code, stderr)
	}
	if out, stderr, code := run(t, "correct horse battery\n", "fleet", "user", "add", "ann", "--role", "viewer", "--data", data); code != ExitOK || !strings.Contains(out, "user ann (viewer) saved") {
		t.Errorf("user add: %d %s %s", code, out, stderr)
	}
	// Users, offline: list, remove (offboarding), and a removed user is gone.
	if out, _, code := run(t, "", "fleet", "user", "list", "--data", data); code != ExitOK || !strings.HasPrefix(out, "ann\tviewer\t") {
		t.Errorf("user list: %d %q", code, out)
	}
	if out, _, code := run(t, "", "fleet", "user", "remove", "ann", "--data", data); code != ExitOK || !strings.Contains(out, "removed") {
		t.Errorf("user remove: %d %q", code, out)
	}
	if out, _, _ := run(t, "", "fleet", "user", "list", "--data", data); strings.Contains(out, "ann") {
		t.Errorf("after remove: %q", out)
	}
	if _, stderr, code := run(t, "", "fleet", "user", "remove", "ann", "--data", data); code != ExitUsage || !strings.Contains(stderr, "not found") {
		t.Errorf("removing a missing user: %d %s", code, stderr)
	}
	if _, _, code := run(t, "", "fleet", "user", "list", "extra", "--data", data); code != ExitUsage {
		t.Errorf("user list extra: %d", code)
	}
	run(t, "correct horse battery\n", "fleet", "user", "add", "ann", "--role", "viewer", "--data", data)
	// Tokens, offline: add prints it once; list never shows it; revoke.
	tok, stderr, code := run(t, "", "fleet", "token", "add", "plant A", "--data", data)
	if code != ExitOK || !strings.HasPrefix(tok, "kbp_") || !strings.Contains(stderr, "shown only now") {
		t.Fatalf("token add: %d %q %s", code, tok, stderr)
	}
	list, _, _ := run(t, "", "fleet", "token", "list", "--data", data)
	id, _, _ := strings.Cut(list, "\t")
	if !strings.Contains(list, "enroll\tplant A") || strings.Contains(list, strings.TrimSpace(tok)) {
		t.Errorf("token list: %s", list)
	}
	if out, _, code := run(t, "", "fleet", "token", "revoke", id, "--data", data); code != ExitOK || !strings.Contains(out, "revoked") {
		t.Errorf("revoke: %d %s", code, out)
	}
	if _, stderr, code := run(t, "", "fleet", "token", "revoke", id, "--data", data); code != ExitUsage || !strings.Contains(stderr, "not found") {
		t.Errorf("second revoke: %d %s", code, stderr)
	}
	if _, _, code := run(t, "", "fleet", "token", "add", "--data", data); code != ExitUsage {
		t.Errorf("token add without a name: %d", code)
	}
	if _, stderr, code := run(t, "", "serve", "--db", "mysql://x", "--data", data); code != ExitUsage || !strings.Contains(stderr, "expected postgres://") {
		t.Errorf("serve --db mysql: %d %s", code, stderr)
	}
}

func copyDir(t *testing.T, from, to string) {
	os.MkdirAll(to, 0o755)
	entries, err := os.ReadDir(from)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, _ := os.ReadFile(filepath.Join(from, e.Name()))
		os.WriteFile(filepath.Join(to, e.Name()), b, 0o644)
	}
}

// TestServeTLS: --tls-cert/--tls-key serve HTTPS, with HSTS and Secure
// cookies.
func TestServeTLS(t *testing.T) {
	dir := t.TempDir()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"}, NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().Add(time.Hour), IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(key)
	certFile, keyFile := filepath.Join(dir, "c.pem"), filepath.Join(dir, "k.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
	s := startServer(t, "--data", dir, "--tls-cert", certFile, "--tls-key", keyFile)
	if !strings.HasPrefix(s.url, "https://") {
		t.Fatalf("url %s", s.url)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := c.Get(s.url + "/login")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Header.Get("Strict-Transport-Security"), "max-age=") {
		t.Errorf("%d, HSTS %q", resp.StatusCode, resp.Header.Get("Strict-Transport-Security"))
	}
	for _, ck := range resp.Cookies() {
		if !ck.Secure || !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode {
			t.Errorf("cookie %s: Secure %v HttpOnly %v SameSite %v", ck.Name, ck.Secure, ck.HttpOnly, ck.SameSite)
		}
	}
	// Plain HTTP to the TLS port gets Go's 400, never the API.
	if resp, err := http.Get(strings.Replace(s.url, "https://", "http://", 1) + "/healthz"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Error("plain HTTP answered on the TLS port")
		}
	}
	if _, stderr, code := run(t, "", "serve", "--tls-cert", certFile); code != ExitUsage || !strings.Contains(stderr, "go together") {
		t.Errorf("--tls-cert alone: %d %s", code, stderr)
	}
}

// TestServeAdminTokenShared: a second server on the same database, with a
// data folder of its own and no KBPLAN_ADMIN_TOKEN, refuses to replace the
// admin token; --reset-admin-token replaces it.
func TestServeAdminTokenShared(t *testing.T) {
	dsn := storetest.PostgresDSN(t)
	first, second := t.TempDir(), t.TempDir()
	serve := func(data string, extra ...string) (string, int) {
		cmd := exec.Command(kbplanBinary(t), append([]string{"serve", "--listen", "127.0.0.1:70000", "--db", dsn, "--data", data}, extra...)...)
		cmd.Env = os.Environ()
		out, _ := cmd.CombinedOutput()
		return string(out), cmd.ProcessState.ExitCode()
	}
	serve(first) // makes the token, then cannot listen on port 70000
	tok, err := os.ReadFile(filepath.Join(first, "admin-token"))
	if err != nil {
		t.Fatal(err)
	}
	if out, code := serve(second); code != ExitUsage || !strings.Contains(out, "already has an admin token") {
		t.Errorf("second server: %d %s", code, out)
	}
	if _, err := os.Stat(filepath.Join(second, "admin-token")); err == nil {
		t.Error("the refused server wrote a token")
	}
	serve(second, "--reset-admin-token")
	tok2, err := os.ReadFile(filepath.Join(second, "admin-token"))
	if err != nil || string(tok2) == string(tok) {
		t.Errorf("--reset-admin-token: %v", err)
	}
}

// TestServeSharedDatabase: two servers on one PostgreSQL database are one
// fleet: an upload to either is read from the other, a token made on one
// works on the other, a web session made on one is valid on the other.
func TestServeSharedDatabase(t *testing.T) {
	dsn := storetest.PostgresDSN(t)
	a := startServer(t, "--db", dsn, "--data", t.TempDir())
	b := startServer(t, "--db", dsn, "--data", t.TempDir())
	if code, body, err := a.upload(systeminfoFor(t, "SHARED-1")); err != nil || code != http.StatusCreated {
		t.Fatalf("upload to a: %d %s %v", code, body, err)
	}
	get := func(s *server, path, token string) (int, string) {
		req, _ := http.NewRequest("GET", s.url+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	if code, body := get(b, "/api/v1/hosts/shared-1", "test-admin-token-0123456789"); code != http.StatusOK || !strings.Contains(body, `"hostname": "SHARED-1"`) {
		t.Errorf("b reads a's upload: %d %.200s", code, body)
	}
	req, _ := http.NewRequest("POST", a.url+"/api/v1/tokens", strings.NewReader(`{"name":"site B"}`))
	req.Header.Set("Authorization", "Bearer test-admin-token-0123456789")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var tok struct{ Token string }
	json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	up, _ := http.NewRequest("POST", b.url+"/api/v1/inventories", bytes.NewReader(systeminfoFor(t, "SHARED-2")))
	up.Header.Set("Authorization", "Bearer "+tok.Token)
	resp, err = http.DefaultClient.Do(up)
	if err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("b takes a's enrollment token: %v %v", resp, err)
	}
	resp.Body.Close()
	if code, body := get(a, "/api/v1/overview", "test-admin-token-0123456789"); code != http.StatusOK || !strings.Contains(body, `"hosts": 2`) {
		t.Errorf("a's overview: %d %s", code, body)
	}
	// A session made on a is valid on b (cookies are not per port).
	if _, stderr, code := run(t, "correct horse battery\n", "fleet", "user", "add", "ann", "--db", dsn); code != ExitOK {
		t.Fatalf("user add: %s", stderr)
	}
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err = c.Get(a.url + "/login")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindSubmatch(page)
	if m == nil {
		t.Fatal("no csrf field")
	}
	resp, err = c.PostForm(a.url+"/login", url.Values{"csrf": {string(m[1])}, "user": {"ann"}, "password": {"correct horse battery"}})
	if err != nil || resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login on a: %v %v", resp, err)
	}
	resp.Body.Close()
	resp, err = c.Get(b.url + "/hosts")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Errorf("b with a's session: %v %v", resp, err)
	}
	resp.Body.Close()
}

// TestSameHostsEverywhere: the same tree of inputs (a file, a subfolder of
// one host's files, a zipped bundle, a bundle cabinet) gives the same hosts
// to identify, analyze and fleet import, and its archives to the upload
// decoder.
func TestSameHostsEverywhere(t *testing.T) {
	dir := t.TempDir()
	tree := filepath.Join(dir, "tree")
	os.MkdirAll(filepath.Join(tree, "srv-med-01"), 0o755)
	copyFile := func(from, to string) {
		b, err := os.ReadFile(from)
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(to, b, 0o644)
	}
	copyFile("../../../testdata/hosts/systeminfo-ws2008sp2-x64-csv.txt", filepath.Join(tree, "plant.txt"))
	copyFile("../../../testdata/hosts/systeminfo-ws2008sp2-x86-ru-cp866.txt", filepath.Join(tree, "srv-med-01", "systeminfo.txt"))
	copyFile("../../../testdata/hosts/wmic-qfe-list-full-utf16le-bom.txt", filepath.Join(tree, "srv-med-01", "qfe.txt"))
	zipBody := pkgtest.ZipDir(t, "../../../testdata/bundles/ws2008-6003-reboot-pending", "")
	os.WriteFile(filepath.Join(tree, "pending.zip"), zipBody, 0o644)
	cabBody := pkgtest.CabDir(t, "../../../testdata/bundles/ws2008-6003-sha2-inactive")
	os.WriteFile(filepath.Join(tree, "sha2.cab"), cabBody, 0o644)
	want := map[string]int{"PLANT-HMI-02": 6002, "SRV-MED-01": 6003, "APP-PENDING": 6003, "DB-SHA2-OFF": 6003}

	hosts := func(what, out string) map[string]int {
		got := map[string]int{}
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			var h report.HostJSON
			if err := json.Unmarshal([]byte(line), &h); err != nil {
				t.Fatalf("%s: %v: %s", what, err, line)
			}
			got[strings.ToUpper(*h.Hostname)] = *h.OS.Build
		}
		return got
	}
	out, errOut, code := run(t, "", "identify", "--json", tree)
	if code != ExitOK || !reflect.DeepEqual(hosts("identify", out), want) {
		t.Errorf("identify: exit %d %s\n%v, want %v", code, errOut, hosts("identify", out), want)
	}
	out, errOut, code = run(t, "", "analyze", "--jsonl", "--as-of", asOf, tree)
	got := map[string]int{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var a report.AssessmentJSON
		if err := json.Unmarshal([]byte(line), &a); err != nil {
			t.Fatal(err)
		}
		got[strings.ToUpper(*a.Host.Hostname)] = *a.Host.OS.Build
	}
	if code != ExitFindings || !reflect.DeepEqual(got, want) {
		t.Errorf("analyze: exit %d %s\n%v, want %v", code, errOut, got, want)
	}
	data := filepath.Join(dir, "data")
	if _, errOut, code := run(t, "", "fleet", "import", "--data", data, tree); code != ExitOK {
		t.Fatalf("fleet import: exit %d %s", code, errOut)
	}
	st, err := store.Open(context.Background(), "", data)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rows, _, err := st.Hosts(context.Background(), store.Query{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	got = map[string]int{}
	for _, r := range rows {
		got[strings.ToUpper(r.Display)] = r.Build
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("fleet import: %v, want %v", got, want)
	}
	for name, body := range map[string][]byte{"APP-PENDING": zipBody, "DB-SHA2-OFF": cabBody} {
		h, err := fleet.Decode(context.Background(), "upload", body)
		if err != nil || strings.ToUpper(h.Hostname) != name || h.OS.Version.Build != want[name] {
			t.Errorf("upload of %s: %s %v %v", name, h.Hostname, h.OS.Version, err)
		}
	}
}

// TestFleetCampaignCLI: the offline side of a campaign: inventories
// imported into a group, a kit folder brought back after install.cmd ran
// imported as its results, groups by hand and by rule, tokens and users
// listed as JSON, a password reset, and each change in the audit record.
func TestFleetCampaignCLI(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	in := filepath.Join(dir, "in")
	os.MkdirAll(in, 0o755)
	os.WriteFile(filepath.Join(in, "vm.txt"), systeminfoFor(t, "VM"), 0o644)
	os.WriteFile(filepath.Join(in, "dmz.txt"), systeminfoFor(t, "DMZ-WEB01"), 0o644)
	if _, stderr, code := run(t, "", "fleet", "import", "--data", data, "--group", "plant-a", in); code != ExitOK || !strings.Contains(stderr, "imported 2 new snapshots") {
		t.Fatalf("import with a group: %d %s", code, stderr)
	}
	kits := filepath.Join(dir, "kits")
	copyDir(t, "../../../kit/testdata/results/wine-kit", filepath.Join(kits, "vm"))
	out, stderr, code := run(t, "", "fleet", "import", "--data", data, kits)
	if code != ExitOK || !strings.Contains(out, "kit 9af2cefa3121b703: failed") || !strings.Contains(stderr, "imported 1 new kit results") {
		t.Fatalf("import of a kit folder: %d\n%s\n%s", code, out, stderr)
	}
	if out, _, code := run(t, "", "fleet", "group", "rule", "dmz", "DMZ-*", "--data", data); code != ExitOK || !strings.Contains(out, "1 hosts joined") {
		t.Errorf("group rule: %d %s", code, out)
	}
	if _, stderr, code := run(t, "", "fleet", "group", "rule", "bad/name", "x", "--data", data); code != ExitUsage || !strings.Contains(stderr, "no control characters or /") {
		t.Errorf("a bad group name: %d %s", code, stderr)
	}
	var groups []fleet.GroupJSON
	out, _, _ = run(t, "", "fleet", "group", "list", "--json", "--data", data)
	if err := json.Unmarshal([]byte(out), &groups); err != nil || len(groups) != 2 || groups[0].Name != "dmz" || groups[0].Rule != "DMZ-*" || groups[1].Hosts != 2 {
		t.Errorf("group list --json: %v %s", err, out)
	}
	if out, _, code := run(t, "", "fleet", "group", "remove", "plant-a", "dmz-web01", "--data", data); code != ExitOK || !strings.Contains(out, "1 hosts left") {
		t.Errorf("group remove: %d %s", code, out)
	}
	run(t, "", "fleet", "token", "add", "kit reports", "--hosts", "VM", "--data", data)
	var toks []fleet.TokenJSON
	out, _, _ = run(t, "", "fleet", "token", "list", "--json", "--data", data)
	if err := json.Unmarshal([]byte(out), &toks); err != nil || len(toks) != 1 || toks[0].Hosts != "VM" || toks[0].Token != "" {
		t.Errorf("token list --json: %v %s", err, out)
	}
	run(t, "correct horse battery\n", "fleet", "user", "add", "ann", "--data", data)
	if _, stderr, code := run(t, "correct horse battery\n", "fleet", "user", "add", "ann", "--data", data); code != ExitUsage || !strings.Contains(stderr, "fleet user reset ann") {
		t.Errorf("adding an existing user: %d %s", code, stderr)
	}
	if out, _, code := run(t, "another horse battery\n", "fleet", "user", "reset", "ann", "--data", data); code != ExitOK || !strings.Contains(out, "sessions ended") {
		t.Errorf("user reset: %d %s", code, out)
	}
	if _, stderr, code := run(t, "another horse battery\n", "fleet", "user", "reset", "bob", "--data", data); code != ExitUsage || !strings.Contains(stderr, "fleet user add makes one") {
		t.Errorf("resetting a missing user: %d %s", code, stderr)
	}
	var users []fleet.UserJSON
	out, _, _ = run(t, "", "fleet", "user", "list", "--json", "--data", data)
	if err := json.Unmarshal([]byte(out), &users); err != nil || len(users) != 1 || users[0].Role != "viewer" {
		t.Errorf("user list --json: %v %s", err, out)
	}
	st, err := store.Open(context.Background(), "", data)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	es, err := st.Audit(context.Background(), time.Time{}, 100)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range es {
		if strings.HasPrefix(e.Actor, "local") {
			actions = append(actions, e.Action)
		}
	}
	for _, want := range []string{"import", "group-set", "group-remove", "token-add", "user-add", "user-reset", "upload-results", "upload-inventory"} {
		if !slices.Contains(actions, want) {
			t.Errorf("audit lacks %s: %v", want, actions)
		}
	}
}

// TestImportBundleBounded: a bundle folder holding a file far past what a
// bundle may hold is refused having read only that much of it, not the
// whole file (here a sparse GiB).
func TestImportBundleBounded(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "bundle")
	copyDir(t, "../../../testdata/bundles/ws2008-6003-reboot-pending", dir)
	f, err := os.Create(filepath.Join(dir, "zz-huge.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(1 << 30); err != nil {
		t.Skip(err)
	}
	f.Close()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err = importBody(input.Job{Listed: true}, dir)
	runtime.ReadMemStats(&after)
	if err == nil || !strings.Contains(err.Error(), "bundle larger than") {
		t.Errorf("error %v, want the bundle refused as too large", err)
	}
	if read := after.TotalAlloc - before.TotalAlloc; read > 3*fleet.MaxUnpacked {
		t.Errorf("%d MiB allocated to refuse it: the file was read whole", read>>20)
	}
}
