package download

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// server serves files by name, with faults a test turns on per file.
type server struct {
	*httptest.Server
	files    map[string][]byte
	mu       sync.Mutex
	requests map[string]int
	ranges   map[string]int
	fault    map[string]string // "drop-once", "503-twice", "wrong-byte", "no-range", "404"
}

func newServer(t *testing.T, files map[string][]byte) *server {
	s := &server{files: files, requests: map[string]int{}, ranges: map[string]int{}, fault: map[string]string{}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

func (s *server) serve(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(r.URL.Path, "/")
	s.mu.Lock()
	s.requests[name]++
	n := s.requests[name]
	if r.Header.Get("Range") != "" {
		s.ranges[name]++
	}
	fault := s.fault[name]
	s.mu.Unlock()
	body, ok := s.files[name]
	switch {
	case !ok || fault == "404":
		http.NotFound(w, r)
		return
	case fault == "503-twice" && n <= 2:
		http.Error(w, "busy", http.StatusServiceUnavailable)
		return
	case fault == "drop-once" && n == 1:
		// Half the body, then the connection dies.
		w.Header().Set("Content-Length", fmt.Sprint(len(body)))
		w.WriteHeader(http.StatusOK)
		w.Write(body[:len(body)/2])
		w.(http.Flusher).Flush()
		conn, _, _ := w.(http.Hijacker).Hijack()
		conn.Close()
		return
	case fault == "wrong-byte":
		bad := bytes.Clone(body)
		bad[len(bad)/3] ^= 0x01
		w.Write(bad)
		return
	case fault == "no-range":
		w.Write(body) // 200 and the whole file, whatever Range asked
		return
	}
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(body))
}

func (s *server) count(name string) (int, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests[name], s.ranges[name]
}

// fixture makes n files of size bytes, named as Windows Update names them:
// windows6.0-kbNNNNNNN-x64_SHA1.msu.
func fixture(n, size int) (map[string][]byte, []Item) {
	files := map[string][]byte{}
	var items []Item
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range n {
		b := make([]byte, size)
		for j := range b {
			b[j] = byte(rng.Uint32())
		}
		sum := sha1.Sum(b)
		name := fmt.Sprintf("windows6.0-kb%07d-x64_%s.msu", 4000000+i, hex.EncodeToString(sum[:]))
		files[name] = b
		items = append(items, Item{Name: name, SHA1: hex.EncodeToString(sum[:]), KB: fmt.Sprintf("KB%d", 4000000+i)})
	}
	return files, items
}

func fast() Options { return Options{Jobs: 3, Retries: 4, Backoff: time.Millisecond} }

func TestFetch(t *testing.T) {
	files, items := fixture(6, 256<<10)
	s := newServer(t, files)
	for i := range items {
		items[i].URL = s.URL + "/" + items[i].Name
	}
	faults := []string{"", "drop-once", "503-twice", "wrong-byte", "no-range", "404"}
	for i, f := range faults {
		s.fault[items[i].Name] = f
	}
	dir := t.TempDir()
	// A partial file beside the "no-range" one: the server sends the whole
	// file, which must replace it, not follow it.
	os.WriteFile(filepath.Join(dir, items[4].Name+".part"), []byte("stale partial bytes"), 0o644)
	var progress atomic.Int32
	o := fast()
	o.Progress = func(done, total int, r Result) { progress.Add(1) }
	rs := Fetch(context.Background(), items, dir, o)
	for i, r := range rs {
		switch faults[i] {
		case "wrong-byte":
			if !errors.Is(r.Err, ErrDigest) {
				t.Errorf("wrong byte: %v", r.Err)
			}
			if _, err := os.Stat(filepath.Join(dir, items[i].Name)); err == nil {
				t.Error("a file with the wrong digest was kept")
			}
			if _, err := os.Stat(filepath.Join(dir, items[i].Name+".part")); err == nil {
				t.Error("the wrong download's partial file was kept")
			}
		case "404":
			if r.Err == nil || !strings.Contains(r.Err.Error(), "404") {
				t.Errorf("404: %v", r.Err)
			}
			if n, _ := s.count(items[i].Name); n != 1 {
				t.Errorf("a 404 was asked %d times, want once", n)
			}
		default:
			got, err := os.ReadFile(filepath.Join(dir, items[i].Name))
			if r.Err != nil || err != nil || !bytes.Equal(got, files[items[i].Name]) {
				t.Errorf("%s (%s): %v %v", items[i].Name, faults[i], r.Err, err)
			}
		}
	}
	if n, ranged := s.count(items[1].Name); n != 2 || ranged != 1 {
		t.Errorf("after a drop: %d requests, %d with Range; want a resume (2, 1)", n, ranged)
	}
	if n, _ := s.count(items[2].Name); n != 3 {
		t.Errorf("503 twice: %d requests, want 3", n)
	}
	if int(progress.Load()) != len(items) {
		t.Errorf("progress called %d times", progress.Load())
	}
	// A second run asks nothing for the files that are there and right.
	before := map[string]int{}
	for _, it := range items {
		before[it.Name], _ = s.count(it.Name)
	}
	rs = Fetch(context.Background(), items, dir, fast())
	for i, r := range rs {
		n, _ := s.count(items[i].Name)
		if faults[i] != "wrong-byte" && faults[i] != "404" && (!r.Present || n != before[items[i].Name]) {
			t.Errorf("second run, %s: present %v, %d new requests", faults[i], r.Present, n-before[items[i].Name])
		}
	}
}

func TestRefusesPaths(t *testing.T) {
	for _, name := range []string{"../x.msu", `a\b.msu`, "", "..", "C:x.msu"} {
		rs := Fetch(context.Background(), []Item{{Name: name, URL: "http://127.0.0.1:1/x", SHA1: "00"}}, t.TempDir(), fast())
		if rs[0].Err == nil {
			t.Errorf("%q accepted", name)
		}
	}
}

func TestCancelled(t *testing.T) {
	files, items := fixture(1, 1024)
	s := newServer(t, files)
	items[0].URL = s.URL + "/" + items[0].Name
	s.fault[items[0].Name] = "503-twice"
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	rs := Fetch(ctx, items, t.TempDir(), Options{Backoff: time.Hour})
	if rs[0].Err == nil {
		t.Error("a cancelled download succeeded")
	}
}

// BenchmarkFetch: 200 files of 1 MiB from a loopback server.
func BenchmarkFetch(b *testing.B) {
	files, items := fixture(200, 1<<20)
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body := files[strings.TrimPrefix(r.URL.Path, "/")]
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
	}))
	defer s.Close()
	for i := range items {
		items[i].URL = s.URL + "/" + items[i].Name
	}
	b.SetBytes(200 << 20)
	for b.Loop() {
		dir := b.TempDir()
		for _, r := range Fetch(context.Background(), items, dir, Options{Jobs: 4}) {
			if r.Err != nil {
				b.Fatal(r.Err)
			}
		}
	}
}
