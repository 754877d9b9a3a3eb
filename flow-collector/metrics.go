package flowcollector

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/netstrata/netstrata/internal/telemetry"
)

// metrics are the collector's own counters; kernel-side drops and buffer
// sizes are registered per socket in listener.go.
type metrics struct {
	datagrams       *prometheus.CounterVec
	flows           *prometheus.CounterVec
	decodeErrors    *prometheus.CounterVec
	unknownTemplate *prometheus.CounterVec
	sequenceLost    *prometheus.CounterVec
	nonRFCNumbering *prometheus.GaugeVec
	samplingRate    *prometheus.GaugeVec
	clockSkew       *prometheus.GaugeVec
	dropped         *prometheus.CounterVec
	pending         *prometheus.CounterVec
	receiveBuffer   *prometheus.GaugeVec
	kernelDrops     *prometheus.GaugeVec

	templatesRefused *prometheus.CounterVec
	templatesEvicted *prometheus.CounterVec
	templates        prometheus.Gauge
	templateBytes    prometheus.Gauge
	exportersEvicted *prometheus.CounterVec
	exporters        prometheus.Gauge
	recordsRefused   *prometheus.CounterVec
	recordsDropped   *prometheus.CounterVec
	fieldsZeroed     *prometheus.CounterVec
	biflowReverse    *prometheus.CounterVec
}

func newMetrics() *metrics {
	n := func(s string) string { return telemetry.Name("flow", s) }
	m := &metrics{
		datagrams: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: n("datagrams_total"), Help: "Datagrams received, per exporter and protocol.",
		}, []string{"exporter", "protocol"}),
		flows: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: n("flows_total"), Help: "Flow records (or sFlow flow samples) published, per exporter and protocol.",
		}, []string{"exporter", "protocol"}),
		decodeErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: n("decode_errors_total"), Help: "Datagrams (or parts) that could not be decoded, by kind.",
		}, []string{"exporter", "kind"}),
		unknownTemplate: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: n("unknown_template_sets_total"), Help: "Data sets that arrived before their template.",
		}, []string{"exporter"}),
		sequenceLost: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: n("sequence_lost_total"), Help: "Export units lost according to sequence numbers (v5: flows; IPFIX: data records; v9: export packets; sFlow: datagrams), read the way the exporter numbers them (see sequence_non_rfc_domains).",
		}, []string{"exporter"}),
		nonRFCNumbering: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: n("sequence_non_rfc_domains"), Help: "Observation domains (v9 source IDs, sFlow sub-agents) whose sequence numbers the exporter consistently numbers other than its RFC says, e.g. counting its own message's records (softflowd's IPFIX); losses are counted their way.",
		}, []string{"exporter"}),
		clockSkew: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: n("exporter_clock_skew_seconds"), Help: "Receive time minus the exporter's export time, smoothed: positive when the exporter's clock is behind. Past flow_collector.clock_skew_threshold flows are placed by it (or at receive time) and a warning is logged.",
		}, []string{"exporter"}),
		samplingRate: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: n("sampling_rate"), Help: "Sampling rate of the exporter's latest flow.",
		}, []string{"exporter"}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: n("dropped_datagrams_total"), Help: "Datagrams dropped before decoding, by reason (exporter_not_allowed: outside exporter_networks; exporter_limit: max_exporters reached, none idle enough to evict).",
		}, []string{"reason"}),
		pending: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: n("pending_sets_total"), Help: "Data sets waiting for their template, by outcome (buffered, decoded, expired, overflow).",
		}, []string{"outcome"}),
		receiveBuffer: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: n("socket_receive_buffer_bytes"), Help: "Kernel receive buffer granted to each socket.",
		}, []string{"listen", "socket"}),
		kernelDrops: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: n("kernel_drops"), Help: "Datagrams the kernel dropped on the listening sockets (buffer full), from /proc/net/udp.",
		}, []string{"listen"}),
		exportersEvicted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: n("exporters_evicted_total"), Help: "Exporters forgotten, by reason (idle: silent for exporter_idle_timeout; room: least recently seen, for a new one).",
		}, []string{"reason"}),
		exporters: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: n("exporters"), Help: "Exporters tracked (bounded by max_exporters).",
		}),
		recordsRefused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: n("records_refused_total"), Help: "Flow records, samples or sampling announcements refused, by reason (sampling_rate, announced_sampling_rate, counter_overflow).",
		}, []string{"reason"}),
		recordsDropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: n("records_dropped_total"), Help: "Flow records and sFlow flow samples decoded but not published, per exporter and reason (sampling_rate, counter_overflow: refused, see records_refused_total; truncated: a data record cut short by the end of its set).",
		}, []string{"exporter", "reason"}),
		fieldsZeroed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: n("fields_zeroed_total"), Help: "Optional fields whose value was out of range (a VLAN above 4095, a 3-byte port…): stored as unknown (0) and the flow kept, per exporter and field (the flow column).",
		}, []string{"exporter", "field"}),
		biflowReverse: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: n("biflow_reverse_flows_total"), Help: "Reverse directions of IPFIX biflow records (RFC 5103) published as flows of their own, endpoints swapped (also counted in flows_total).",
		}, []string{"exporter"}),
	}
	m.templatesRefused, m.templatesEvicted, m.templates, m.templateBytes = budgetMetrics(n)
	return m
}

func (m *metrics) register(reg prometheus.Registerer) error {
	return telemetry.Register(reg, &m.datagrams, &m.flows, &m.decodeErrors, &m.unknownTemplate,
		&m.sequenceLost, &m.nonRFCNumbering, &m.clockSkew, &m.samplingRate, &m.dropped, &m.pending, &m.receiveBuffer, &m.kernelDrops,
		&m.templatesRefused, &m.templatesEvicted, &m.templates, &m.templateBytes,
		&m.exportersEvicted, &m.exporters, &m.recordsRefused, &m.recordsDropped, &m.fieldsZeroed, &m.biflowReverse)
}
