package fleet

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	vm "github.com/VictoriaMetrics/metrics"

	"github.com/kbplan/kbplan/store"
)

// metrics are the server's Prometheus metrics, in a set of their own.
//
// github.com/VictoriaMetrics/metrics writes the Prometheus text format
// with no package initialisation to speak of: client_golang and the
// protobuf runtime it pulls in cost every kbplan command ~1.3 ms at start
// (GODEBUG=inittrace=1), which pushed `kbplan identify` past its 5 ms goal
// (BENCHMARKS.md).
type metrics struct {
	set   *vm.Set
	store *store.Store
}

var latencyBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5}

func newMetrics(s *store.Store) *metrics {
	m := &metrics{set: vm.NewSet(), store: s}
	m.set.NewGauge("kbplan_fleet_hosts", func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		h, _, err := s.Counts(ctx)
		if err != nil {
			return -1
		}
		return float64(h)
	})
	return m
}

func (m *metrics) handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		m.set.WritePrometheus(w)
		m.writeStates(w)
		vm.WriteProcessMetrics(w)
	})
}

// writeStates writes the hosts by state, for the whole fleet (group="")
// and for each group: labels the set cannot know in advance.
func (m *metrics) writeStates(w io.Writer) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	all, err := m.store.StateCounts(ctx)
	if err != nil {
		return
	}
	groups, err := m.store.GroupStates(ctx)
	if err != nil {
		return
	}
	fmt.Fprintln(w, "# HELP kbplan_fleet_hosts_by_state Hosts by state (current, behind, restart, cannot-update, out-of-scope): every host (group=\"\") and each group.")
	fmt.Fprintln(w, "# TYPE kbplan_fleet_hosts_by_state gauge")
	for _, c := range all {
		fmt.Fprintf(w, "kbplan_fleet_hosts_by_state{group=\"\",state=\"%s\"} %d\n", label(c.Key), c.N)
	}
	for _, g := range groups {
		fmt.Fprintf(w, "kbplan_fleet_hosts_by_state{group=\"%s\",state=\"%s\"} %d\n", label(g.Group), label(g.State), g.N)
	}
}

// label escapes a Prometheus label value: backslash, quote, newline.
func label(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s)
}

// ingest counts an upload by result (created, duplicate, unreadable,
// too-large, bad-request, error) and times it.
func (m *metrics) ingest(result string, start time.Time) {
	m.set.GetOrCreateCounter(fmt.Sprintf(`kbplan_ingests_total{result=%q}`, result)).Inc()
	m.set.GetOrCreatePrometheusHistogramExt("kbplan_ingest_duration_seconds", latencyBuckets).UpdateDuration(start)
}

// result counts a results upload by result, as ingest does.
func (m *metrics) result(result string, start time.Time) {
	m.set.GetOrCreateCounter(fmt.Sprintf(`kbplan_results_total{result=%q}`, result)).Inc()
	m.set.GetOrCreatePrometheusHistogramExt("kbplan_result_duration_seconds", latencyBuckets).UpdateDuration(start)
}

type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	w.code = code
	w.ResponseWriter.WriteHeader(code)
}

// instrument counts and times a route (by its pattern, never the raw
// path: host names would make unbounded label values).
func (m *metrics) instrument(route string, h http.Handler) http.Handler {
	latency := m.set.GetOrCreatePrometheusHistogramExt(fmt.Sprintf(`kbplan_http_request_duration_seconds{route=%q}`, route), latencyBuckets)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
		h.ServeHTTP(sw, r)
		m.set.GetOrCreateCounter(fmt.Sprintf(`kbplan_http_requests_total{route=%q,code="%s"}`, route, strconv.Itoa(sw.code))).Inc()
		latency.UpdateDuration(start)
	})
}
