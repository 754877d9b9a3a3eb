package alerting

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/netstrata/netstrata/internal/telemetry"
)

// metrics are the component's own (netstrata_alerting_*).
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
	pauses        prometheus.Counter
	sent          *prometheus.CounterVec
	failures      *prometheus.CounterVec
	dropped       *prometheus.CounterVec
	queued        *prometheus.GaugeVec
	warn          *telemetry.RateLimited
}

func newMetrics(r *telemetry.Reporter) (*metrics, error) {
	f := telemetry.NewMetrics(r.Registry, "alerting")
	m := &metrics{
		evaluations: f.Counter("evaluations_total", "Evaluations of every rule by the active instance."),
		evalSeconds: f.Histogram("evaluation_seconds", "Duration of one evaluation of every rule.", prometheus.ExponentialBuckets(0.01, 2, 14)),
		queries:     f.CounterVec("queries_total", "ClickHouse queries of the rules, by kind.", "kind"),
		querySeconds: f.HistogramVec("query_seconds", "Duration of the rules' ClickHouse queries, by kind.",
			prometheus.ExponentialBuckets(0.005, 2, 14), "kind"),
		queryErrors: f.CounterVec("query_errors_total", "Rule evaluations that failed (their alerts keep their state), by rule.", "rule"),
		truncated: f.CounterVec("series_truncated_total",
			"Evaluations of a rule that returned more series than max_series_per_rule (the rest were left out), by rule.", "rule"),
		active:        f.GaugeVec("alerts", "Alerts by rule and state (pending, firing).", "rule", "state"),
		transitions:   f.CounterVec("transitions_total", "Alerts that fired or resolved, by rule and status.", "rule", "status"),
		verdictErrors: f.Counter("verdict_errors_total", "Firing alerts sent without a verdict because the API did not answer."),
		unconfirmed:   f.Counter("spikes_unconfirmed_total", "Traffic spike candidates the investigation did not confirm (kept pending)."),
		historyErrors: f.Counter("history_errors_total", "Rows that could not be written to ClickHouse: transitions (alerts), pending alerts (alert_pending), webhook delivery marks (alert_deliveries)."),
		leader:        f.Gauge("active", "1 when this replica is the active one (evaluates and notifies)."),
		pauses:        f.Counter("pauses_total", "Times this process was found paused (stopped) long enough to have lost the active role."),
		sent:          f.CounterVec("notifications_sent_total", "Notifications delivered, by receiver.", "receiver"),
		failures:      f.CounterVec("notification_failures_total", "Delivery attempts that failed (and will be retried), by receiver.", "receiver"),
		dropped: f.CounterVec("notifications_dropped_total",
			"Notifications given up, by receiver and reason: retry_budget (undelivered for delivery.retry_for), queue_full, role_lost (after a pause; the new active replica sends them).", "receiver", "reason"),
		queued: f.GaugeVec("queue_length", "Notifications waiting, by receiver.", "receiver"),
		warn:   telemetry.NewRateLimited(r.Log, time.Minute),
	}
	return m, f.Err()
}

// observeQuery counts one rule query.
func (m *metrics) observeQuery(kind string, took time.Duration) {
	m.queries.WithLabelValues(kind).Inc()
	m.querySeconds.WithLabelValues(kind).Observe(took.Seconds())
}
