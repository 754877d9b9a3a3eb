package api

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/netstrata/netstrata/internal/telemetry"
)

type metrics struct {
	requests *prometheus.CounterVec   // route, code
	duration *prometheus.HistogramVec // route
	queries  *prometheus.HistogramVec // query name
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	buckets := []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2, 5, 10, 30}
	f := telemetry.NewMetrics(reg, "api")
	m := &metrics{
		requests: f.CounterVec("requests_total", "API requests by route and HTTP status.", "route", "code"),
		duration: f.HistogramVec("request_duration_seconds", "API request latency by route.", buckets, "route"),
		queries:  f.HistogramVec("query_duration_seconds", "ClickHouse query latency by query.", buckets, "query"),
	}
	return m, f.Err()
}
