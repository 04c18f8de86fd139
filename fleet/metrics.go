package fleet

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/kbplan/kbplan/store"
)

// metrics are the server's Prometheus metrics, on a registry of its own.
type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	ingests  *prometheus.CounterVec
	ingestS  prometheus.Histogram
}

func newMetrics(s *store.Store) *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "kbplan_http_requests_total", Help: "HTTP requests by route and status code."}, []string{"route", "code"})
	m.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "kbplan_http_request_duration_seconds", Help: "HTTP request latency by route.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5}}, []string{"route"})
	m.ingests = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "kbplan_ingests_total", Help: "Uploads by result: created, duplicate, unreadable, too-large, bad-request, error."}, []string{"result"})
	m.ingestS = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "kbplan_ingest_duration_seconds", Help: "Time to read, assess and store one upload.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1}})
	hosts := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "kbplan_fleet_hosts", Help: "Hosts in the fleet."}, func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		h, _, err := s.Counts(ctx)
		if err != nil {
			return -1
		}
		return float64(h)
	})
	m.reg.MustRegister(m.requests, m.latency, m.ingests, m.ingestS, hosts,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

func (m *metrics) ingest(result string, start time.Time) {
	m.ingests.WithLabelValues(result).Inc()
	m.ingestS.Observe(time.Since(start).Seconds())
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
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
		h.ServeHTTP(sw, r)
		m.requests.WithLabelValues(route, strconv.Itoa(sw.code)).Inc()
		m.latency.WithLabelValues(route).Observe(time.Since(start).Seconds())
	})
}
