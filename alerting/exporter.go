package alerting

import (
	"context"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/netstrata/netstrata/internal/schema"
	"github.com/netstrata/netstrata/internal/telemetry"
)

// ExporterConfiguration is the optional Prometheus view of the data, for
// teams whose dashboards live in Prometheus.
type ExporterConfiguration struct {
	// Enable serves, on alerting's /metrics and from the active replica
	// only, each interface's latest rates and each service's session
	// health, refreshed every evaluation.
	Enable bool `yaml:"enable"`
	// MaxSeries bounds each family: the busiest interfaces, the services
	// that sent the most segments.
	MaxSeries int `yaml:"max_series"`
}

var (
	ifLabels  = []string{"device", "if_index", "if_name", "direction"}
	svcLabels = []string{"service", "namespace", "pod", "port"}
	descBps   = prometheus.NewDesc(telemetry.Name("export", "interface_bits_per_second"),
		"Latest SNMP rate of the busiest interfaces (alerting.exporter.max_series).", ifLabels, nil)
	descUtil = prometheus.NewDesc(telemetry.Name("export", "interface_utilization_ratio"),
		"Latest SNMP utilisation (0..1) of the busiest interfaces.", ifLabels, nil)
	descRTT = prometheus.NewDesc(telemetry.Name("export", "service_rtt_p95_seconds"),
		"RTT p95 of each service's sessions over the last 5 minutes (the busiest alerting.exporter.max_series).", svcLabels, nil)
	descJitter = prometheus.NewDesc(telemetry.Name("export", "service_jitter_p95_seconds"),
		"Jitter p95 of each service's sessions over the last 5 minutes.", svcLabels, nil)
	descRetrans = prometheus.NewDesc(telemetry.Name("export", "service_retransmit_ratio"),
		"Retransmitted over sent segments of each service's sessions over the last 5 minutes.", svcLabels, nil)
)

// exporter holds the last snapshot; /metrics reads it, never ClickHouse.
type exporter struct {
	max int
	mu  sync.Mutex
	cur []prometheus.Metric
}

func newExporter(r *telemetry.Reporter, cfg ExporterConfiguration) (*exporter, error) {
	e := &exporter{max: cfg.MaxSeries}
	return e, r.Registry.Register(e)
}

// Describe sends nothing: the series come and go with the data (an
// unchecked collector).
func (e *exporter) Describe(chan<- *prometheus.Desc) {}

func (e *exporter) Collect(ch chan<- prometheus.Metric) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, m := range e.cur {
		ch <- m
	}
}

// clear drops the snapshot (this replica is no longer the active one).
func (e *exporter) clear() {
	e.mu.Lock()
	e.cur = nil
	e.mu.Unlock()
}

// refresh reads a new snapshot: the interfaces' latest valid poll of the
// last 5 minutes and the services' health (shared with the rules' query).
func (e *exporter) refresh(ctx context.Context, db *database, now time.Time) error {
	var out []prometheus.Metric
	sql := `SELECT device, if_index, any(if_name), argMax(in_bps, time) AS i, argMax(out_bps, time) AS o,
			argMax(in_utilization, time), argMax(out_utilization, time)
		FROM ` + schema.TableIfStats + `
		WHERE time >= {from:DateTime64(3)} AND time < {to:DateTime64(3)} AND rate_valid
		GROUP BY device, if_index ORDER BY greatest(i, o) DESC LIMIT ` + strconv.Itoa(e.max)
	args := []any{named("from", chTime(now.Add(-5*time.Minute))), named("to", chTime(now))}
	err := db.query(ctx, "exporter", sql, args, func(rows driver.Rows) error {
		var device, name string
		var idx uint32
		var in, o, inU, oU float64
		if err := rows.Scan(&device, &idx, &name, &in, &o, &inU, &oU); err != nil {
			return err
		}
		i := strconv.FormatUint(uint64(idx), 10)
		out = append(out,
			prometheus.MustNewConstMetric(descBps, prometheus.GaugeValue, in, device, i, name, "in"),
			prometheus.MustNewConstMetric(descBps, prometheus.GaugeValue, o, device, i, name, "out"),
			prometheus.MustNewConstMetric(descUtil, prometheus.GaugeValue, inU, device, i, name, "in"),
			prometheus.MustNewConstMetric(descUtil, prometheus.GaugeValue, oU, device, i, name, "out"))
		return nil
	})
	if err != nil {
		return err
	}
	svcs, err := serviceHealths(ctx, db, 5*time.Minute, now)
	if err != nil {
		return err
	}
	svcs = append([]serviceHealth(nil), svcs...)
	sort.SliceStable(svcs, func(i, j int) bool { return svcs[i].segments > svcs[j].segments })
	for _, h := range svcs[:min(len(svcs), e.max)] {
		l := []string{h.name(), h.namespace, h.pod, strconv.Itoa(int(h.port))}
		out = append(out,
			prometheus.MustNewConstMetric(descRTT, prometheus.GaugeValue, h.rttP95Ms/1000, l...),
			prometheus.MustNewConstMetric(descJitter, prometheus.GaugeValue, h.jitterP95Ms/1000, l...),
			prometheus.MustNewConstMetric(descRetrans, prometheus.GaugeValue, h.retransmitRatio, l...))
	}
	e.mu.Lock()
	e.cur = out
	e.mu.Unlock()
	return nil
}
