// Package telemetry gives every component its logger, its Prometheus
// registry and its health state, and serves /metrics and /healthz.
package telemetry

import (
	"errors"
	"fmt"
	"log/slog"
	"reflect"

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

// Register registers collectors. Each argument is a collector, or a
// pointer to a variable holding one: when a collector of that name is
// already registered (a process that builds two Kafka producers, a test
// that builds a component twice), the variable is set to the registered
// one, so that both instances count into the series /metrics shows. A
// plain collector that is already registered is tolerated but its counts
// are lost: pass a pointer.
func Register(reg prometheus.Registerer, cs ...any) error {
	for _, x := range cs {
		slot := reflect.ValueOf(x) // a collector, not settable
		if _, plain := x.(prometheus.Collector); !plain && slot.Kind() == reflect.Pointer {
			slot = slot.Elem() // the variable holding one
		}
		c, ok := slot.Interface().(prometheus.Collector)
		if !ok {
			return fmt.Errorf("register metrics: %T is not a collector or a pointer to one", x)
		}
		err := reg.Register(c)
		var are prometheus.AlreadyRegisteredError
		switch {
		case err == nil:
		case !errors.As(err, &are):
			return fmt.Errorf("register metrics: %w", err)
		case slot.CanSet():
			existing := reflect.ValueOf(are.ExistingCollector)
			if !existing.Type().AssignableTo(slot.Type()) {
				return fmt.Errorf("register metrics: %T is registered where a %s is asked for", are.ExistingCollector, slot.Type())
			}
			slot.Set(existing)
		}
	}
	return nil
}
