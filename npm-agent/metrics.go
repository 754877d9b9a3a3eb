package npmagent

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/netstrata/netstrata/bpf"
	"github.com/netstrata/netstrata/internal/telemetry"
)

type metrics struct {
	published      *prometheus.CounterVec
	errors         *prometheus.CounterVec
	closes         prometheus.Counter
	closesDropped  prometheus.Counter
	ownerRuns      prometheus.Counter
	untracked      prometheus.Counter
	sampled        prometheus.Gauge
	liveSockets    prometheus.Gauge
	mapEntries     prometheus.Gauge
	mapCapacity    prometheus.Gauge
	mapFull        prometheus.Gauge
	ringbufLost    prometheus.Gauge
	collectSeconds prometheus.Histogram

	bpfFeature  *prometheus.GaugeVec
	strategy    *prometheus.GaugeVec
	fallbacks   prometheus.Counter
	netnsWalked prometheus.Gauge
	netnsFailed prometheus.Counter
}

func newMetrics(r *telemetry.Reporter) (*metrics, error) {
	n := func(s string) string { return telemetry.Name("npm", s) }
	m := &metrics{
		published: prometheus.NewCounterVec(prometheus.CounterOpts{Name: n("records_total"),
			Help: "Records published, by topic."}, []string{"topic"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: n("errors_total"),
			Help: "Failures by kind (iterator, decode, ringbuf, owners, counters, marshal)."}, []string{"kind"}),
		closes: prometheus.NewCounter(prometheus.CounterOpts{Name: n("close_events_total"),
			Help: "Socket close events received from the kernel."}),
		closesDropped: prometheus.NewCounter(prometheus.CounterOpts{Name: n("close_events_dropped_total"),
			Help: "Close events dropped because too many were pending."}),
		ownerRuns: prometheus.NewCounter(prometheus.CounterOpts{Name: n("owner_scans_total"),
			Help: "Runs of the task_file iterator that finds socket owners."}),
		untracked: prometheus.NewCounter(prometheus.CounterOpts{Name: n("sockets_untracked_total"),
			Help: "Socket samples ignored because npm_agent.max_sockets were already tracked."}),
		sampled: prometheus.NewGauge(prometheus.GaugeOpts{Name: n("sockets_sampled"),
			Help: "TCP sockets read by the last iterator pass."}),
		liveSockets: prometheus.NewGauge(prometheus.GaugeOpts{Name: n("sockets_tracked"),
			Help: "Sockets the agent tracks."}),
		mapEntries: prometheus.NewGauge(prometheus.GaugeOpts{Name: n("bpf_map_entries"),
			Help: "Sockets with BPF socket storage (created minus freed at close)."}),
		mapCapacity: prometheus.NewGauge(prometheus.GaugeOpts{Name: n("bpf_map_capacity"),
			Help: "Sockets the agent tracks at most (npm_agent.max_sockets)."}),
		mapFull: prometheus.NewGauge(prometheus.GaugeOpts{Name: n("bpf_map_full"),
			Help: "1 when more sockets have storage than the agent tracks (npm_agent.max_sockets)."}),
		ringbufLost: prometheus.NewGauge(prometheus.GaugeOpts{Name: n("ringbuf_lost_events"),
			Help: "Close events the kernel could not queue because the ring buffer was full (since start)."}),
		collectSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{Name: n("collect_seconds"),
			Help: "Time of one collection (iterator pass, and publishing when due).", Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14)}),
		bpfFeature: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: n("bpf_feature"),
			Help: "1 when the probe at start found the feature usable (privileges, BTF, map types, each program's hook), else 0."}, []string{"feature"}),
		strategy: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: n("strategy"),
			Help: "1 for the strategy that walks the sockets, 0 for the others (npm_agent.strategy)."}, []string{"strategy"}),
		fallbacks: prometheus.NewCounter(prometheus.CounterOpts{Name: n("strategy_fallbacks_total"),
			Help: "Moves to the next strategy after the kernel refused the running one's walk."}),
		netnsWalked: prometheus.NewGauge(prometheus.GaugeOpts{Name: n("netns_walked"),
			Help: "Network namespaces walked by the last pass (tcp_iter)."}),
		netnsFailed: prometheus.NewCounter(prometheus.CounterOpts{Name: n("netns_failed_total"),
			Help: "Network namespaces that vanished or could not be entered during a pass (tcp_iter)."}),
	}
	if err := telemetry.Register(r.Registry, &m.bpfFeature, &m.strategy, &m.fallbacks, &m.netnsWalked,
		&m.netnsFailed, &m.published, &m.errors, &m.closes, &m.closesDropped, &m.ownerRuns, &m.untracked, &m.sampled,
		&m.liveSockets, &m.mapEntries, &m.mapCapacity, &m.mapFull, &m.ringbufLost, &m.collectSeconds); err != nil {
		return nil, fmt.Errorf("npm metrics: %w", err)
	}
	return m, nil
}

func (m *metrics) setKernelCounters(v [bpf.CounterMax]uint64, capacity uint32) {
	entries := int64(v[bpf.CounterMetaInserted]) - int64(v[bpf.CounterMetaDeleted])
	m.mapEntries.Set(float64(entries))
	full := 0.0
	if entries >= int64(capacity) {
		full = 1
	}
	m.mapFull.Set(full)
	m.ringbufLost.Set(float64(v[bpf.CounterRingbufFull]))
}

// setProbe exports what the probe found and which strategy runs.
func (m *metrics) setProbe(p *Probe, running string) {
	for _, f := range p.Features {
		m.bpfFeature.WithLabelValues(f.Feature).Set(boolGauge(f.OK()))
	}
	for _, s := range strategies {
		m.strategy.WithLabelValues(s.name).Set(boolGauge(s.name == running))
	}
}

func boolGauge(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
