package telemetry

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics makes a component's collectors, each registered as it is made,
// named netstrata_<subsystem>_<name>. When the registry already holds
// one of the same description (a component built twice in one process,
// two producers), the registered one is returned, so that every instance
// counts into the series /metrics shows. The first registration error
// is kept for Err: a constructor makes all its collectors, then checks
// once.
type Metrics struct {
	reg       prometheus.Registerer
	subsystem string
	err       error
}

// NewMetrics is the factory of one subsystem's metrics on reg.
func NewMetrics(reg prometheus.Registerer, subsystem string) *Metrics {
	return &Metrics{reg: reg, subsystem: subsystem}
}

// Err is the first error a registration met, or nil.
func (m *Metrics) Err() error { return m.err }

// Counter is a registered counter.
func (m *Metrics) Counter(name, help string) prometheus.Counter {
	return register(m, prometheus.NewCounter(prometheus.CounterOpts{Name: Name(m.subsystem, name), Help: help}))
}

// CounterVec is a registered counter with labels.
func (m *Metrics) CounterVec(name, help string, labels ...string) *prometheus.CounterVec {
	return register(m, prometheus.NewCounterVec(prometheus.CounterOpts{Name: Name(m.subsystem, name), Help: help}, labels))
}

// Gauge is a registered gauge.
func (m *Metrics) Gauge(name, help string) prometheus.Gauge {
	return register(m, prometheus.NewGauge(prometheus.GaugeOpts{Name: Name(m.subsystem, name), Help: help}))
}

// GaugeVec is a registered gauge with labels.
func (m *Metrics) GaugeVec(name, help string, labels ...string) *prometheus.GaugeVec {
	return register(m, prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: Name(m.subsystem, name), Help: help}, labels))
}

// GaugeFunc is a registered gauge whose value f reads at scrape time.
func (m *Metrics) GaugeFunc(name, help string, f func() float64) prometheus.GaugeFunc {
	return register(m, prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: Name(m.subsystem, name), Help: help}, f))
}

// Histogram is a registered histogram (nil buckets: Prometheus' default).
func (m *Metrics) Histogram(name, help string, buckets []float64) prometheus.Histogram {
	return register(m, prometheus.NewHistogram(prometheus.HistogramOpts{Name: Name(m.subsystem, name), Help: help, Buckets: buckets}))
}

// HistogramVec is a registered histogram with labels.
func (m *Metrics) HistogramVec(name, help string, buckets []float64, labels ...string) *prometheus.HistogramVec {
	return register(m, prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: Name(m.subsystem, name), Help: help, Buckets: buckets}, labels))
}

// register registers c, or hands back the collector already registered
// in its place.
func register[C prometheus.Collector](m *Metrics, c C) C {
	err := m.reg.Register(c)
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if existing, ok := are.ExistingCollector.(C); ok {
			return existing
		}
		err = fmt.Errorf("%T is registered where a %T is asked for", are.ExistingCollector, c)
	}
	if err != nil && m.err == nil {
		m.err = fmt.Errorf("register metrics: %w", err)
	}
	return c
}
