package fleet

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
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
	set *vm.Set
}

var latencyBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5}

func newMetrics(s *store.Store) *metrics {
	m := &metrics{set: vm.NewSet()}
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
		vm.WriteProcessMetrics(w)
	})
}

// ingest counts an upload by result (created, duplicate, unreadable,
// too-large, bad-request, error) and times it.
func (m *metrics) ingest(result string, start time.Time) {
	m.set.GetOrCreateCounter(fmt.Sprintf(`kbplan_ingests_total{result=%q}`, result)).Inc()
	m.set.GetOrCreatePrometheusHistogramExt("kbplan_ingest_duration_seconds", latencyBuckets).UpdateDuration(start)
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
