// Command loadgen drives kbplan serve's upload API for bench/fleet.sh:
// every request uploads the template inventory under a fresh host name,
// so that none is a duplicate.
//
//	loadgen -url http://127.0.0.1:8080 -token T -template host.txt -mode max -c 16 -d 10s
//	loadgen ... -mode rate -rate 500 -d 10s
//	loadgen ... -kind results -template wine-failed.txt -name VM -hosts 1000
//
// -kind results uploads a kit's results document instead, for the hosts
// PREFIX-1 to PREFIX-HOSTS in turn (those an inventory run with the same
// prefix made), each body made distinct by a "loadgen: N" header line
// (the results reader ignores header keys it does not know).
//
// max: C workers upload back to back (throughput). rate: requests start
// at a fixed rate whatever the answers do (open loop), so that latency
// percentiles include queueing.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	url := flag.String("url", "http://127.0.0.1:8080", "server")
	token := flag.String("token", "", "bearer token")
	tmpl := flag.String("template", "", "inventory whose host name is replaced")
	name := flag.String("name", "SQL-NOSHA2", "the host name in the template")
	mode := flag.String("mode", "max", "max or rate")
	conc := flag.Int("c", 16, "workers (max)")
	rate := flag.Int("rate", 500, "requests per second (rate)")
	dur := flag.Duration("d", 10*time.Second, "duration")
	prefix := flag.String("prefix", "LOAD", "host name prefix")
	kind := flag.String("kind", "inventories", "inventories or results")
	hosts := flag.Int64("hosts", 1000, "results: the hosts PREFIX-1 to PREFIX-HOSTS, in turn")
	flag.Parse()
	path := "/api/v1/inventories"
	if *kind == "results" {
		path = "/api/v1/results"
	} else if *kind != "inventories" {
		fmt.Fprintln(os.Stderr, "loadgen: -kind inventories or results")
		os.Exit(2)
	}
	body, err := os.ReadFile(*tmpl)
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(2)
	}
	if !bytes.Contains(body, []byte(*name)) {
		fmt.Fprintf(os.Stderr, "loadgen: %s does not contain %s\n", *tmpl, *name)
		os.Exit(2)
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1024, MaxConnsPerHost: 0}, Timeout: 30 * time.Second}
	var seq atomic.Int64
	var mu sync.Mutex
	var lat []time.Duration
	codes := map[int]int{}
	one := func() {
		n := seq.Add(1)
		var b []byte
		if *kind == "results" {
			b = bytes.Replace(body, []byte("host: "+*name), []byte(fmt.Sprintf("host: %s-%d", *prefix, (n-1)%*hosts+1)), 1)
			b = bytes.Replace(b, []byte("\r\n"), []byte(fmt.Sprintf("\r\nloadgen: %d\r\n", n)), 1)
		} else {
			b = bytes.Replace(body, []byte(*name), []byte(fmt.Sprintf("%s-%d", *prefix, n)), 1)
		}
		req, _ := http.NewRequest("POST", *url+path, bytes.NewReader(b))
		req.Header.Set("Authorization", "Bearer "+*token)
		start := time.Now()
		resp, err := client.Do(req)
		code := -1
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			code = resp.StatusCode
		}
		d := time.Since(start)
		mu.Lock()
		lat = append(lat, d)
		codes[code]++
		mu.Unlock()
	}
	start := time.Now()
	end := start.Add(*dur)
	var wg sync.WaitGroup
	switch *mode {
	case "max":
		for w := 0; w < *conc; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for time.Now().Before(end) {
					one()
				}
			}()
		}
	case "rate":
		interval := time.Second / time.Duration(*rate)
		for next := start; next.Before(end); next = next.Add(interval) {
			time.Sleep(time.Until(next))
			wg.Add(1)
			go func() { defer wg.Done(); one() }()
		}
	default:
		fmt.Fprintln(os.Stderr, "loadgen: -mode max or rate")
		os.Exit(2)
	}
	wg.Wait()
	elapsed := time.Since(start)
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	pct := func(p float64) time.Duration {
		if len(lat) == 0 {
			return 0
		}
		return lat[min(len(lat)-1, int(p*float64(len(lat))))]
	}
	var cs []string
	for c, n := range codes {
		cs = append(cs, fmt.Sprintf("%d×%d", n, c))
	}
	sort.Strings(cs)
	fmt.Printf("%s %s: %d requests in %.1f s = %.0f/s; latency p50 %.1f ms, p99 %.1f ms, max %.1f ms; answers %s\n",
		*kind, *mode, len(lat), elapsed.Seconds(), float64(len(lat))/elapsed.Seconds(),
		ms(pct(.5)), ms(pct(.99)), ms(pct(1)), strings.Join(cs, " "))
	if codes[201] != len(lat) {
		os.Exit(1)
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
