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

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	f := telemetry.NewMetrics(reg, "snmp")
	m := &metrics{
		polls:       f.CounterVec("polls_total", "Polls attempted, per target.", "target"),
		failures:    f.CounterVec("poll_failures_total", "Polls that failed (timeouts included), per target.", "target"),
		timeouts:    f.CounterVec("poll_timeouts_total", "Polls that timed out, per target.", "target"),
		interfaces:  f.GaugeVec("interfaces", "Interfaces read in the target's last successful poll.", "target"),
		duration:    f.Histogram("poll_duration_seconds", "Duration of a whole poll of one target.", prometheus.ExponentialBuckets(0.002, 2.5, 12)),
		lag:         f.Histogram("poll_lag_seconds", "How late a poll started after its slot (workers all busy).", prometheus.ExponentialBuckets(0.001, 4, 10)),
		skipped:     f.CounterVec("poll_slots_skipped_total", "Poll slots missed because the previous poll of the target ran past them, per target.", "target"),
		records:     f.Counter("interfaces_polled_total", "Interface records published."),
		flagged:     f.CounterVec("records_flagged_total", "Records whose rate is not valid, by reason.", "flag"),
		badValues:   f.CounterVec("bad_values_total", "Varbinds or target entries that could not be used, by kind.", "kind"),
		targets:     f.Gauge("targets", "Targets being polled."),
		marshalErrs: f.Counter("marshal_errors_total", "Records that could not be marshalled (should stay 0)."),
	}
	return m, f.Err()
}

// forget drops a removed target's series.
func (m *metrics) forget(target string) {
	for _, v := range []*prometheus.CounterVec{m.polls, m.failures, m.timeouts, m.skipped} {
		v.DeleteLabelValues(target)
	}
	m.interfaces.DeleteLabelValues(target)
}
