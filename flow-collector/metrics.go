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

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	f := telemetry.NewMetrics(reg, "flow")
	m := &metrics{
		datagrams:        f.CounterVec("datagrams_total", "Datagrams received, per exporter and protocol.", "exporter", "protocol"),
		flows:            f.CounterVec("flows_total", "Flow records (or sFlow flow samples) published, per exporter and protocol.", "exporter", "protocol"),
		decodeErrors:     f.CounterVec("decode_errors_total", "Datagrams (or parts) that could not be decoded, by kind.", "exporter", "kind"),
		unknownTemplate:  f.CounterVec("unknown_template_sets_total", "Data sets that arrived before their template.", "exporter"),
		sequenceLost:     f.CounterVec("sequence_lost_total", "Export units lost according to sequence numbers (v5: flows; IPFIX: data records; v9: export packets; sFlow: datagrams), read the way the exporter numbers them (see sequence_non_rfc_domains).", "exporter"),
		nonRFCNumbering:  f.GaugeVec("sequence_non_rfc_domains", "Observation domains (v9 source IDs, sFlow sub-agents) whose sequence numbers the exporter consistently numbers other than its RFC says, e.g. counting its own message's records (softflowd's IPFIX); losses are counted their way.", "exporter"),
		clockSkew:        f.GaugeVec("exporter_clock_skew_seconds", "Receive time minus the exporter's export time, smoothed: positive when the exporter's clock is behind. Past flow_collector.clock_skew_threshold flows are placed by it (or at receive time) and a warning is logged.", "exporter"),
		samplingRate:     f.GaugeVec("sampling_rate", "Sampling rate of the exporter's latest flow.", "exporter"),
		dropped:          f.CounterVec("dropped_datagrams_total", "Datagrams dropped before decoding, by reason (exporter_not_allowed: outside exporter_networks; exporter_limit: max_exporters reached, none idle enough to evict).", "reason"),
		pending:          f.CounterVec("pending_sets_total", "Data sets waiting for their template, by outcome (buffered, decoded, expired, overflow).", "outcome"),
		receiveBuffer:    f.GaugeVec("socket_receive_buffer_bytes", "Kernel receive buffer granted to each socket.", "listen", "socket"),
		kernelDrops:      f.GaugeVec("kernel_drops", "Datagrams the kernel dropped on the listening sockets (buffer full), from /proc/net/udp.", "listen"),
		exportersEvicted: f.CounterVec("exporters_evicted_total", "Exporters forgotten, by reason (idle: silent for exporter_idle_timeout; room: least recently seen, for a new one).", "reason"),
		exporters:        f.Gauge("exporters", "Exporters tracked (bounded by max_exporters)."),
		recordsRefused:   f.CounterVec("records_refused_total", "Flow records, samples or sampling announcements refused, by reason (sampling_rate, announced_sampling_rate, counter_overflow).", "reason"),
		recordsDropped:   f.CounterVec("records_dropped_total", "Flow records and sFlow flow samples decoded but not published, per exporter and reason (sampling_rate, counter_overflow: refused, see records_refused_total; truncated: a data record cut short by the end of its set).", "exporter", "reason"),
		fieldsZeroed:     f.CounterVec("fields_zeroed_total", "Optional fields whose value was out of range (a VLAN above 4095, a 3-byte port…): stored as unknown (0) and the flow kept, per exporter and field (the flow column).", "exporter", "field"),
		biflowReverse:    f.CounterVec("biflow_reverse_flows_total", "Reverse directions of IPFIX biflow records (RFC 5103) published as flows of their own, endpoints swapped (also counted in flows_total).", "exporter"),
	}
	m.templatesRefused, m.templatesEvicted, m.templates, m.templateBytes = budgetMetrics(f)
	return m, f.Err()
}
