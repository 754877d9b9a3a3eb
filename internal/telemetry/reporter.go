// Package telemetry gives every component its logger, its Prometheus
// registry and its health state, and serves /metrics and /healthz.
package telemetry

import (
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Reporter is what a component reports through: structured logs, metrics
// and health. One Reporter per process; Component derives a child.
type Reporter struct {
	Log      *slog.Logger
	Registry prometheus.Registerer
	Gatherer prometheus.Gatherer
	Health   *Health
	prefix   string
}

// NewReporter builds a Reporter with a fresh registry holding the Go and
// process collectors.
func NewReporter(log *slog.Logger) *Reporter {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return &Reporter{Log: log, Registry: reg, Gatherer: reg, Health: NewHealth()}
}

// Component returns a child Reporter whose logs carry component=name and
// whose health checks are named "name/check".
func (r *Reporter) Component(name string) *Reporter {
	c := *r
	c.Log = r.Log.With("component", name)
	c.prefix = name + "/"
	return &c
}

// SetHealth records the state of one check of this component; err nil is
// healthy. State changes are logged once, not on every call.
func (r *Reporter) SetHealth(check string, err error) {
	if r.Health.Set(r.prefix+check, err) {
		if err != nil {
			r.Log.Warn("unhealthy", "check", check, "error", err)
		} else {
			r.Log.Info("healthy", "check", check)
		}
	}
}

// SetNote records a healthy check of this component with a detail that
// /healthz shows (which strategy runs, which layer is off and why).
func (r *Reporter) SetNote(check, detail string) { r.Health.Note(r.prefix+check, detail) }

// Name is the metric name netstrata_<sub>_<name>, so that every metric of
// the project sorts together.
func Name(subsystem, name string) string {
	return "netstrata_" + subsystem + "_" + name
}
