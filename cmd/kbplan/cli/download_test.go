package cli

import (
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kbplan/kbplan/internal/pkgtest"
	"github.com/kbplan/kbplan/report"
)

// TestDownloadURLs: the bare host's plan has a Microsoft URL for most
// steps, each from the catalog's files list; the others are named.
func TestDownloadURLs(t *testing.T) {
	stdout, stderr, code := run(t, "", "download", "--as-of", "2026-11-25", "--urls", "--host", "../../../inventory/systeminfo/testdata/vanilla/08-systeminfo-2008sp2-x64-standard-en-utf16le.txt")
	urls := strings.Fields(stdout)
	if code != ExitFindings || len(urls) < 90 || !strings.Contains(stderr, "URLs for ") || !strings.Contains(stderr, "Search.aspx?q=") {
		t.Fatalf("exit %d, %d URLs\n%s", code, len(urls), stderr)
	}
	for _, u := range urls {
		if !strings.HasPrefix(u, "https://catalog.s.download.windowsupdate.com/") && !strings.HasPrefix(u, "http://download.windowsupdate.com/") &&
			!strings.HasPrefix(u, "https://www.download.windowsupdate.com/") && !strings.HasPrefix(u, "http://www.download.windowsupdate.com/") {
			t.Errorf("not a Microsoft URL: %s", u)
		}
	}
	if _, _, code := run(t, "", "download", "--urls"); code != ExitUsage {
		t.Errorf("no source: exit %d", code)
	}
}

// TestDownloadPlan: a saved plan whose files a loopback server serves
// (signed fixtures named the Microsoft way with their real SHA-1), one
// dropped halfway: download fetches and verifies them, resuming the
// dropped one, a second run asks for nothing, and a file whose bytes are
// not its name's digest is deleted. (Identification by digest in a kit is
// kit's TestIdentifyByHash: the fixtures' digests are no catalog file's.)
func TestDownloadPlan(t *testing.T) {
	pkgtest.Need(t)
	dir := t.TempDir()
	ca := pkgtest.CA(t, dir)
	applies := "Windows Vista SP2;Windows Server 2008 SP2;"
	files := map[string][]byte{}
	var steps []report.StepJSON
	for i, s := range []pkgtest.Spec{{KB: "KB4474419", Arch: "amd64", Applicability: applies, Sign: "dual"}, {KB: "KB4536953", Arch: "amd64", Applicability: applies, Sign: "sha256", Restart: "possible"}} {
		b, err := os.ReadFile(pkgtest.Build(t, dir, s))
		if err != nil {
			t.Fatal(err)
		}
		sum := sha1.Sum(b)
		name := fmt.Sprintf("windows6.0-%s-x64_%s.msu", strings.ToLower(s.KB), hex.EncodeToString(sum[:]))
		files[name] = b
		steps = append(steps, report.StepJSON{N: i + 1, KB: s.KB, File: &report.StepFileJSON{Name: name, SHA1: hex.EncodeToString(sum[:])}})
	}
	var mu sync.Mutex
	requests := 0
	dropped := false
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, "/")
		mu.Lock()
		requests++
		drop := !dropped && strings.Contains(name, "kb4474419")
		dropped = dropped || drop
		mu.Unlock()
		b, ok := files[name]
		if !ok {
			http.NotFound(w, r)
			return
		}
		if drop {
			w.Header().Set("Content-Length", fmt.Sprint(len(b)))
			w.Write(b[:len(b)/2])
			w.(http.Flusher).Flush()
			c, _, _ := w.(http.Hijacker).Hijack()
			c.Close()
			return
		}
		http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(b))
	}))
	defer srv.Close()
	for i := range steps {
		steps[i].File.URL = srv.URL + "/" + steps[i].File.Name
	}
	arch := "x64"
	plan := []report.AssessmentJSON{{Host: report.HostJSON{OS: report.OSJSON{Architecture: &arch}}, Plan: report.PlanJSON{Steps: steps}}}
	pf := filepath.Join(dir, "plan.json")
	b, _ := json.Marshal(plan)
	os.WriteFile(pf, b, 0o644)
	out := filepath.Join(dir, "updates")
	stdout, stderr, code := run(t, "", "download", "--plan", pf, "--out", out, "--roots", ca)
	if code != ExitOK || !strings.Contains(stdout, "2 of 2 files") {
		t.Fatalf("download: exit %d\n%s%s", code, stdout, stderr)
	}
	before := requests
	stdout, _, code = run(t, "", "download", "--plan", pf, "--out", out, "--roots", ca)
	if code != ExitOK || requests != before || !strings.Contains(stdout, "2 were there already") {
		t.Errorf("second run: exit %d, %d new requests: %s", code, requests-before, stdout)
	}
	// A file whose bytes are not its name's digest is not kept.
	for name, b := range files {
		bad := bytes.Clone(b)
		bad[len(bad)/2] ^= 1
		files[name] = bad
		os.Remove(filepath.Join(out, name))
		break
	}
	_, stderr, code = run(t, "", "download", "--plan", pf, "--out", out, "--roots", ca)
	if code != ExitFindings || !strings.Contains(stderr, "is not the file's: deleted") {
		t.Errorf("a wrong file: exit %d\n%s", code, stderr)
	}
}
