package alerting

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/netstrata/netstrata/internal/telemetry"
)

// metrics are the component's own.
type metrics struct {
	evaluations   prometheus.Counter
	evalSeconds   prometheus.Histogram
	queries       *prometheus.CounterVec
	querySeconds  *prometheus.HistogramVec
	queryErrors   *prometheus.CounterVec
	truncated     *prometheus.CounterVec
	active        *prometheus.GaugeVec
	transitions   *prometheus.CounterVec
	verdictErrors prometheus.Counter
	unconfirmed   prometheus.Counter
	historyErrors prometheus.Counter
	leader        prometheus.Gauge
	sent          *prometheus.CounterVec
	failures      *prometheus.CounterVec
	dropped       *prometheus.CounterVec
	queued        *prometheus.GaugeVec
	warn          *telemetry.RateLimited
}

func name(n string) string { return telemetry.Name("alerting", n) }

func newMetrics(r *telemetry.Reporter) (*metrics, error) {
	m := &metrics{
		evaluations: prometheus.NewCounter(prometheus.CounterOpts{Name: name("evaluations_total"), Help: "Evaluations of every rule by the active instance."}),
		evalSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{Name: name("evaluation_seconds"), Help: "Duration of one evaluation of every rule.",
			Buckets: prometheus.ExponentialBuckets(0.01, 2, 14)}),
		queries: prometheus.NewCounterVec(prometheus.CounterOpts{Name: name("queries_total"), Help: "ClickHouse queries of the rules, by kind."}, []string{"kind"}),
		querySeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: name("query_seconds"), Help: "Duration of the rules' ClickHouse queries, by kind.",
			Buckets: prometheus.ExponentialBuckets(0.005, 2, 14)}, []string{"kind"}),
		queryErrors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: name("query_errors_total"), Help: "Rule evaluations that failed (their alerts keep their state), by rule."}, []string{"rule"}),
		truncated: prometheus.NewCounterVec(prometheus.CounterOpts{Name: name("series_truncated_total"),
			Help: "Evaluations of a rule that returned more series than max_series_per_rule (the rest were left out), by rule."}, []string{"rule"}),
		active:        prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name("alerts"), Help: "Alerts by rule and state (pending, firing)."}, []string{"rule", "state"}),
		transitions:   prometheus.NewCounterVec(prometheus.CounterOpts{Name: name("transitions_total"), Help: "Alerts that fired or resolved, by rule and status."}, []string{"rule", "status"}),
		verdictErrors: prometheus.NewCounter(prometheus.CounterOpts{Name: name("verdict_errors_total"), Help: "Firing alerts sent without a verdict because the API did not answer."}),
		unconfirmed: prometheus.NewCounter(prometheus.CounterOpts{Name: name("spikes_unconfirmed_total"),
			Help: "Traffic spike candidates the investigation did not confirm (kept pending)."}),
		historyErrors: prometheus.NewCounter(prometheus.CounterOpts{Name: name("history_errors_total"), Help: "Transitions that could not be written to the alert history."}),
		leader:        prometheus.NewGauge(prometheus.GaugeOpts{Name: name("active"), Help: "1 when this replica is the active one (evaluates and notifies)."}),
		sent:          prometheus.NewCounterVec(prometheus.CounterOpts{Name: name("notifications_sent_total"), Help: "Notifications delivered, by receiver."}, []string{"receiver"}),
		failures:      prometheus.NewCounterVec(prometheus.CounterOpts{Name: name("notification_failures_total"), Help: "Delivery attempts that failed (and will be retried), by receiver."}, []string{"receiver"}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{Name: name("notifications_dropped_total"),
			Help: "Notifications given up, by receiver and reason: retry_budget (undelivered for delivery.retry_for), queue_full."}, []string{"receiver", "reason"}),
		queued: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name("queue_length"), Help: "Notifications waiting, by receiver."}, []string{"receiver"}),
		warn:   telemetry.NewRateLimited(r.Log, time.Minute),
	}
	err := telemetry.Register(r.Registry, &m.evaluations, &m.evalSeconds, &m.queries, &m.querySeconds, &m.queryErrors, &m.truncated,
		&m.active, &m.transitions, &m.verdictErrors, &m.unconfirmed, &m.historyErrors, &m.leader, &m.sent, &m.failures, &m.dropped, &m.queued)
	return m, err
}

// observeQuery counts one rule query.
func (m *metrics) observeQuery(kind string, took time.Duration) {
	m.queries.WithLabelValues(kind).Inc()
	m.querySeconds.WithLabelValues(kind).Observe(took.Seconds())
}
