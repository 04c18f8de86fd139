// Package download fetches Microsoft's update files on a connected
// machine, for a kit that is carried to an air-gapped one: in parallel with
// a bound, resuming partial files with HTTP Range, retrying server errors
// and dropped connections with backoff, and keeping a file only when its
// SHA-1 is the one its Windows Update name carries. A file already in the
// folder with the right digest costs no request.
package download

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Item is one file to fetch.
type Item struct {
	Name string // the file name in the folder (Microsoft's)
	URL  string
	SHA1 string // lower-case hex; the file is kept only with this digest
	KB   string // for messages
}

// Result is what became of one item.
type Result struct {
	Item
	Path    string // where the file is, when kept
	Bytes   int64  // bytes received in this run
	Present bool   // it was there already, with the right digest: no request
	Err     error
}

// Options tune a download.
type Options struct {
	Jobs     int           // files at once (default 4)
	Retries  int           // attempts per file after the first (default 5)
	Backoff  time.Duration // first wait between attempts, doubled each time (default 500 ms)
	Client   *http.Client  // default: a client that takes its proxy from the environment
	Progress func(done, total int, r Result)
}

// Fetch downloads items into dir, at most Jobs at once, and returns one
// Result per item, in order.
func Fetch(ctx context.Context, items []Item, dir string, o Options) []Result {
	if o.Jobs <= 0 {
		o.Jobs = 4
	}
	if o.Retries < 0 {
		o.Retries = 0
	} else if o.Retries == 0 {
		o.Retries = 5
	}
	if o.Backoff <= 0 {
		o.Backoff = 500 * time.Millisecond
	}
	if o.Client == nil {
		o.Client = &http.Client{Transport: &http.Transport{Proxy: http.ProxyFromEnvironment, ResponseHeaderTimeout: time.Minute, IdleConnTimeout: time.Minute}}
	}
	out := make([]Result, len(items))
	next := make(chan int)
	var wg sync.WaitGroup
	var mu sync.Mutex
	done := 0
	for range min(o.Jobs, max(len(items), 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				r := fetchOne(ctx, items[i], dir, o)
				out[i] = r
				if o.Progress != nil {
					mu.Lock()
					done++
					o.Progress(done, len(items), r)
					mu.Unlock()
				}
			}
		}()
	}
	for i := range items {
		next <- i
	}
	close(next)
	wg.Wait()
	return out
}

// ErrDigest is a file whose SHA-1 is not the one its name carries.
var ErrDigest = errors.New("the SHA-1 of what the server sent is not the file's: deleted")

func fetchOne(ctx context.Context, it Item, dir string, o Options) Result {
	r := Result{Item: it}
	if err := checkName(it.Name); err != nil {
		r.Err = err
		return r
	}
	final := filepath.Join(dir, it.Name)
	if sum, err := sha1File(final); err == nil && sum == it.SHA1 {
		r.Path, r.Present = final, true
		return r
	}
	part := final + ".part"
	wait := o.Backoff
	for attempt := 0; ; attempt++ {
		n, err := attemptOnce(ctx, it, part, o.Client)
		r.Bytes += n
		if err == nil {
			break
		}
		var perm *permanent
		if errors.As(err, &perm) || attempt >= o.Retries || ctx.Err() != nil {
			r.Err = fmt.Errorf("%s: %w", it.URL, err)
			return r
		}
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			r.Err = ctx.Err()
			return r
		}
		wait = min(2*wait, 30*time.Second)
	}
	sum, err := sha1File(part)
	if err != nil {
		r.Err = err
		return r
	}
	if sum != it.SHA1 {
		os.Remove(part)
		r.Err = fmt.Errorf("%s: %w (got %s, want %s)", it.Name, ErrDigest, sum, it.SHA1)
		return r
	}
	if err := os.Rename(part, final); err != nil {
		r.Err = err
		return r
	}
	r.Path = final
	return r
}

// permanent is an error a retry cannot mend (404, 403, a bad URL).
type permanent struct{ err error }

func (p *permanent) Error() string { return p.err.Error() }
func (p *permanent) Unwrap() error { return p.err }

// attemptOnce fetches the rest of the file into part: from where a
// partial file ends when the server honours Range, else from the start.
func attemptOnce(ctx context.Context, it Item, part string, c *http.Client) (int64, error) {
	have := int64(0)
	if st, err := os.Stat(part); err == nil {
		have = st.Size()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, it.URL, nil)
	if err != nil {
		return 0, &permanent{err}
	}
	if have > 0 {
		req.Header.Set("Range", "bytes="+strconv.FormatInt(have, 10)+"-")
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, err // a refused or dropped connection: retry
	}
	defer resp.Body.Close()
	flags := os.O_CREATE | os.O_WRONLY
	switch {
	case resp.StatusCode == http.StatusPartialContent && have > 0 && strings.HasPrefix(resp.Header.Get("Content-Range"), "bytes "+strconv.FormatInt(have, 10)+"-"):
		flags |= os.O_APPEND
	case resp.StatusCode == http.StatusOK:
		flags |= os.O_TRUNC // no Range support: start again
	case resp.StatusCode == http.StatusRequestedRangeNotSatisfiable:
		os.Remove(part) // the partial file is longer than the file: start again
		return 0, errors.New("416 for the partial file: starting again")
	case resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests:
		return 0, fmt.Errorf("server answered %s", resp.Status)
	default:
		return 0, &permanent{fmt.Errorf("server answered %s", resp.Status)}
	}
	f, err := os.OpenFile(part, flags, 0o644)
	if err != nil {
		return 0, &permanent{err}
	}
	n, err := io.Copy(f, resp.Body)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && resp.ContentLength >= 0 && n < resp.ContentLength {
		err = io.ErrUnexpectedEOF
	}
	return n, err // a body cut short: retry, resuming
}

// checkName refuses a name that is not a plain file name.
func checkName(name string) error {
	if name == "" || name != filepath.Base(name) || strings.ContainsAny(name, `/\:`) || name == "." || name == ".." {
		return &permanent{fmt.Errorf("%q is not a plain file name", name)}
	}
	return nil
}

func sha1File(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	var h hash.Hash = sha1.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
