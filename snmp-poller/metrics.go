package snmppoller

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/netstrata/netstrata/internal/telemetry"
)

// metrics are the poller's Prometheus series. Per-target series are
// deleted when a target is removed, so the label set follows the fleet.
type metrics struct {
	polls       *prometheus.CounterVec // target
	failures    *prometheus.CounterVec // target (timeouts included)
	timeouts    *prometheus.CounterVec // target
	interfaces  *prometheus.GaugeVec   // target: interfaces in the last poll
	duration    prometheus.Histogram
	lag         prometheus.Histogram
	skipped     *prometheus.CounterVec // target
	records     prometheus.Counter
	flagged     *prometheus.CounterVec // flag: reset, wrap, over_speed
	badValues   *prometheus.CounterVec // kind
	targets     prometheus.Gauge
	marshalErrs prometheus.Counter
}

func newMetrics() *metrics {
	name := func(n string) string { return telemetry.Name("snmp", n) }
	return &metrics{
		polls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: name("polls_total"), Help: "Polls attempted, per target.",
		}, []string{"target"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: name("poll_failures_total"), Help: "Polls that failed (timeouts included), per target.",
		}, []string{"target"}),
		timeouts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: name("poll_timeouts_total"), Help: "Polls that timed out, per target.",
		}, []string{"target"}),
		interfaces: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: name("interfaces"), Help: "Interfaces read in the target's last successful poll.",
		}, []string{"target"}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: name("poll_duration_seconds"), Help: "Duration of a whole poll of one target.",
			Buckets: prometheus.ExponentialBuckets(0.002, 2.5, 12),
		}),
		lag: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: name("poll_lag_seconds"), Help: "How late a poll started after its slot (workers all busy).",
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 10),
		}),
		skipped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: name("poll_slots_skipped_total"), Help: "Poll slots missed because the previous poll of the target ran past them, per target.",
		}, []string{"target"}),
		records: prometheus.NewCounter(prometheus.CounterOpts{
			Name: name("interfaces_polled_total"), Help: "Interface records published.",
		}),
		flagged: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: name("records_flagged_total"), Help: "Records whose rate is not valid, by reason.",
		}, []string{"flag"}),
		badValues: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: name("bad_values_total"), Help: "Varbinds or target entries that could not be used, by kind.",
		}, []string{"kind"}),
		targets: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: name("targets"), Help: "Targets being polled.",
		}),
		marshalErrs: prometheus.NewCounter(prometheus.CounterOpts{
			Name: name("marshal_errors_total"), Help: "Records that could not be marshalled (should stay 0).",
		}),
	}
}

func (m *metrics) register(reg prometheus.Registerer) error {
	return telemetry.Register(reg, m.polls, m.failures, m.timeouts, m.interfaces, m.duration,
		m.lag, m.skipped, m.records, m.flagged, m.badValues, m.targets, m.marshalErrs)
}

// forget drops a removed target's series.
func (m *metrics) forget(target string) {
	for _, v := range []*prometheus.CounterVec{m.polls, m.failures, m.timeouts, m.skipped} {
		v.DeleteLabelValues(target)
	}
	m.interfaces.DeleteLabelValues(target)
}
