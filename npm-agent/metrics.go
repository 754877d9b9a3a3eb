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
	f := telemetry.NewMetrics(r.Registry, "npm")
	m := &metrics{
		published:      f.CounterVec("records_total", "Records published, by topic.", "topic"),
		errors:         f.CounterVec("errors_total", "Failures by kind (iterator, decode, ringbuf, owners, counters, marshal).", "kind"),
		closes:         f.Counter("close_events_total", "Socket close events received from the kernel."),
		closesDropped:  f.Counter("close_events_dropped_total", "Close events dropped because too many were pending."),
		ownerRuns:      f.Counter("owner_scans_total", "Runs of the task_file iterator that finds socket owners."),
		untracked:      f.Counter("sockets_untracked_total", "Socket samples ignored because npm_agent.max_sockets were already tracked."),
		sampled:        f.Gauge("sockets_sampled", "TCP sockets read by the last iterator pass."),
		liveSockets:    f.Gauge("sockets_tracked", "Sockets the agent tracks."),
		mapEntries:     f.Gauge("bpf_map_entries", "Sockets with BPF socket storage (created minus freed at close)."),
		mapCapacity:    f.Gauge("bpf_map_capacity", "Sockets the agent tracks at most (npm_agent.max_sockets)."),
		mapFull:        f.Gauge("bpf_map_full", "1 when more sockets have storage than the agent tracks (npm_agent.max_sockets)."),
		ringbufLost:    f.Gauge("ringbuf_lost_events", "Close events the kernel could not queue because the ring buffer was full (since start)."),
		collectSeconds: f.Histogram("collect_seconds", "Time of one collection (iterator pass, and publishing when due).", prometheus.ExponentialBuckets(0.0005, 2, 14)),
		bpfFeature:     f.GaugeVec("bpf_feature", "1 when the probe at start found the feature usable (privileges, BTF, map types, each program's hook), else 0.", "feature"),
		strategy:       f.GaugeVec("strategy", "1 for the strategy that walks the sockets, 0 for the others (npm_agent.strategy).", "strategy"),
		fallbacks:      f.Counter("strategy_fallbacks_total", "Moves to the next strategy after the kernel refused the running one's walk."),
		netnsWalked:    f.Gauge("netns_walked", "Network namespaces walked by the last pass (tcp_iter)."),
		netnsFailed:    f.Counter("netns_failed_total", "Network namespaces that vanished or could not be entered during a pass (tcp_iter)."),
	}
	if err := f.Err(); err != nil {
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
