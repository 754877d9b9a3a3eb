// Package apiv1 holds the JSON shapes of netstrata's /api/v1 and the
// syntax of its parameters: what the server (package api) encodes and its
// clients (package api/client, the alerting) decode, without either
// depending on the other.
package apiv1

import "time"

// Prefix is the path every /api/v1 endpoint starts with.
const Prefix = "/api/v1"

// The thresholds of the investigation that its report states.
const (
	SpikeFactor         = 1.5     // a spike bucket exceeds 1.5× the median
	MinSeriesBytesFloor = 1 << 10 // a bucket below 1 KiB is never a spike
	MaxContributors     = 10      // tables list this many
	SignificantShare    = 0.05    // the evidence names shares of this or more
)

// The JSON shapes of the API. Field names are snake_case; times RFC 3339
// UTC; byte and packet counts are sampling-corrected estimates of real
// traffic; RTTs and latencies are microseconds.

// ErrorResponse is the body of every 4xx and 5xx answer.
type ErrorResponse struct {
	Error ErrorBody `json:"error"`
}

// ErrorBody says what went wrong and, for a bad parameter, which one.
type ErrorBody struct {
	Status    int      `json:"status"`
	Message   string   `json:"message"`
	Parameter string   `json:"parameter,omitempty"`
	Valid     []string `json:"valid,omitempty"`
}

// Range is the time range a response covers and the table it was read
// from ("raw" or a rollup).
type Range struct {
	From   time.Time `json:"from"`
	To     time.Time `json:"to"`
	Source string    `json:"source"`
}

// InterfacesResponse lists interfaces with their latest rates.
type InterfacesResponse struct {
	Interfaces []Interface `json:"interfaces"`
}

// Interface is an SNMP interface as of its latest valid poll.
type Interface struct {
	Device      string    `json:"device"` // the configured target: identifies the device
	DeviceIP    string    `json:"device_ip"`
	SysName     string    `json:"sys_name"`
	EngineID    string    `json:"snmp_engine_id"` // hex, "" when unknown
	IfIndex     uint32    `json:"if_index"`
	Name        string    `json:"name"`
	Alias       string    `json:"alias"`
	Description string    `json:"description"`
	SpeedBps    uint64    `json:"speed_bps"`
	OperStatus  string    `json:"oper_status"`
	AdminStatus string    `json:"admin_status"`
	Time        time.Time `json:"time"`
	Rates
}

// SeriesResponse is one interface's rates over time.
type SeriesResponse struct {
	Range
	Device      string        `json:"device"`
	IfIndex     uint32        `json:"if_index"`
	StepSeconds int64         `json:"step_seconds"`
	Points      []SeriesPoint `json:"points"`
}

// SeriesPoint is the average rates within one step; errors and discards
// are counts within the step.
type SeriesPoint struct {
	Time time.Time `json:"time"`
	Rates
}

// Rates are an interface's traffic rates, error and discard counts and
// utilization (0..1) over a poll interval or a step.
type Rates struct {
	InBps          float64 `json:"in_bps"`
	OutBps         float64 `json:"out_bps"`
	InPps          float64 `json:"in_pps"`
	OutPps         float64 `json:"out_pps"`
	InErrors       uint64  `json:"in_errors"`
	OutErrors      uint64  `json:"out_errors"`
	InDiscards     uint64  `json:"in_discards"`
	OutDiscards    uint64  `json:"out_discards"`
	InUtilization  float64 `json:"in_utilization"`
	OutUtilization float64 `json:"out_utilization"`
}

// TopNResponse ranks the values of one dimension, or the pairs of values
// of two, by bytes, one page at a time.
type TopNResponse struct {
	Range
	By         string    `json:"by"`
	Dimensions []string  `json:"dimensions"`
	Rows       []TopNRow `json:"rows"`
	// Other is everything but this page's rows, so that the rows' and
	// its shares add up to 1; Total is every row of the ranking.
	Other      TopNRow `json:"other"`
	Total      TopNRow `json:"total"`
	NextCursor string  `json:"next_cursor,omitempty" doc:"Give it as cursor for the next page of the same ranking (same by and filters; the range is kept); absent on the last page."`
	// Outside is set on an empty answer only.
	Outside *OutsideRange `json:"outside,omitempty" doc:"On an empty answer: how many flows the filters match outside the range, and where."`
}

// TopNRow is one value of the dimension (keys: one per dimension, key:
// them joined by " | "); bps is bytes*8 over the range, share its part of
// the total bytes.
type TopNRow struct {
	Key     string   `json:"key"`
	Keys    []string `json:"keys,omitempty"`
	Bytes   uint64   `json:"bytes"`
	Packets uint64   `json:"packets"`
	Flows   uint64   `json:"flows"`
	Bps     float64  `json:"bps"`
	Share   float64  `json:"share"`
	Hash    uint64   `json:"-"` // the server's: orders equal rows, for the cursor
}

// SocketsResponse lists per-session health seen by the agents.
type SocketsResponse struct {
	Range
	Sort    string    `json:"sort"`
	Session []Session `json:"sessions"`
}

// Session is one TCP connection (or its aggregate over the range).
type Session struct {
	Node             string    `json:"node"`
	Namespace        string    `json:"namespace"`
	Pod              string    `json:"pod"`
	Process          string    `json:"process"`
	PID              uint32    `json:"pid"`
	LocalIP          string    `json:"local_ip"`
	LocalPort        uint16    `json:"local_port"`
	RemoteIP         string    `json:"remote_ip"`
	RemotePort       uint16    `json:"remote_port"`
	Direction        string    `json:"direction"`
	BytesSent        uint64    `json:"bytes_sent"`
	BytesReceived    uint64    `json:"bytes_received"`
	Retransmits      uint64    `json:"retransmits"`
	RTTAvgUs         float64   `json:"rtt_avg_us" doc:"Smoothed RTT, µs: the mean over the socket's intervals when the response's source is the raw sockets table (narrow ranges); the median (t-digest) when it is the sockets_1m rollup (wide ranges), which keeps RTT quantiles only."`
	RTTP50Us         float64   `json:"rtt_p50_us"`
	RTTP95Us         float64   `json:"rtt_p95_us" doc:"Smoothed RTT p95, µs, over the socket's intervals (t-digest merge from sockets_1m over wide ranges)."`
	RTTP99Us         float64   `json:"rtt_p99_us"`
	JitterUs         float64   `json:"jitter_us"`
	ConnectLatencyUs float64   `json:"connect_latency_us"`
	FirstSeen        time.Time `json:"first_seen"`
	LastSeen         time.Time `json:"last_seen"`
}

// TrafficMap is who sends to whom: nodes and directed edges.
type TrafficMap struct {
	Nodes []MapNode `json:"nodes"`
	Edges []MapEdge `json:"edges"`
}

// TrafficMapResponse is a TrafficMap over a range.
type TrafficMapResponse struct {
	Range
	TrafficMap
}

// MapNode is a pod, process, node, service or external IP.
type MapNode struct {
	ID        string `json:"id"`
	Kind      string `json:"kind"` // pod, process, external, service
	Label     string `json:"label"`
	Node      string `json:"node,omitempty"`
	Namespace string `json:"namespace,omitempty"`
	Pod       string `json:"pod,omitempty"`
	Process   string `json:"process,omitempty"`
	IP        string `json:"ip,omitempty"`
	Port      uint16 `json:"port,omitempty"`
}

// MapEdge is traffic from the client side (Source) to the service
// (Target). Connections, RTT and retransmits come from the agents: null
// when the edge is known from flows only.
type MapEdge struct {
	Source      string   `json:"source"`
	Target      string   `json:"target"`
	Port        uint16   `json:"port"`
	Bytes       uint64   `json:"bytes"`
	Connections *uint64  `json:"connections" doc:"Distinct connections seen by the agents; null when the edge is known from flows only."`
	RTTAvgUs    *float64 `json:"rtt_avg_us" doc:"Smoothed RTT, µs: the byte-weighted mean of the median (t-digest) RTT of the sessions on the edge; null when the edge is known from flows only."`
	Retransmits *uint64  `json:"retransmits" doc:"Retransmitted segments seen by the agents; null when the edge is known from flows only."`
}

// ReconciliationResponse compares flow-estimated and SNMP-counted traffic.
type ReconciliationResponse struct {
	Range
	Rows []Reconciliation `json:"rows"`
	// Outside is set on an empty answer only.
	Outside *OutsideRange `json:"outside,omitempty" doc:"On an empty answer: how many flows of the selected exporter interfaces lie outside the range, and where."`
}

// Reconciliation is one exporter interface: flow bytes × sampling rate
// against its SNMP octet counters. A ratio far from 1 flags a wrong or
// missing sampling rate or exporter loss.
type Reconciliation struct {
	Exporter     string  `json:"exporter"`
	Device       string  `json:"device"`
	IfIndex      uint32  `json:"if_index"`
	Interface    string  `json:"interface"`
	Direction    string  `json:"direction" doc:"in or out as SNMP counts it, from the exporter's in/out interfaces and direction field; in+out when the exporter does not tell (same in and out ifIndex, no direction)."`
	SamplingRate uint64  `json:"sampling_rate"`
	FlowBytes    uint64  `json:"flow_bytes"`
	SNMPBytes    uint64  `json:"snmp_bytes"`
	Ratio        float64 `json:"ratio"`  // flow / snmp
	Status       string  `json:"status"` // ok, flows_low, flows_high, no_flows, no_snmp, no_verdict (flows and SNMP disagree but the exporter gives no direction)
	Hint         string  `json:"hint,omitempty"`
}

// Investigation answers "why did traffic here spike?".
type Investigation struct {
	Subject  Subject       `json:"subject"`
	From     time.Time     `json:"from"`
	To       time.Time     `json:"to"`
	Layers   []LayerStatus `json:"layers"`
	Missing  []string      `json:"missing_layers"`
	Spike    *Window       `json:"spike"`
	Baseline *Window       `json:"baseline"`
	// Growth is spike bytes over baseline bytes (0 when no spike).
	Growth         float64          `json:"growth"`
	Contributors   Contributors     `json:"contributors"`
	TrafficMap     TrafficMap       `json:"traffic_map"`
	Health         []SessionHealth  `json:"health"`
	Interfaces     []PathInterface  `json:"interfaces"`
	Reconciliation []Reconciliation `json:"reconciliation"`
	Pods           []PodStatus      `json:"pods"`
	Verdict        Verdict          `json:"verdict"`
	// Sessions is set on request only (sessions=N).
	Sessions *SocketsResponse `json:"sessions,omitempty" doc:"With sessions=N and a node or IP subject: the subject's N largest sessions in the spike window, as /sockets answers for that window (from=spike.start, to=spike.end, limit=N), read at the same time as the contributors rather than in a request after this one."`
	// Series is set on request only (series=chart).
	Series *SeriesResponse `json:"series,omitempty" doc:"With series=chart: the SNMP series over the range of the interface a chart of this answer shows (the subject interface, else the path's interface with the most flow bytes in the spike that SNMP polls), as /interfaces/series answers for it, read at the same time as the reconciliation rather than in a request after this one; absent when no path interface is polled."`
}

// Subject is what was investigated.
type Subject struct {
	Kind    string `json:"kind"` // node, interface, ip
	Node    string `json:"node,omitempty"`
	Device  string `json:"device,omitempty"`
	IfIndex uint32 `json:"if_index,omitempty"`
	IP      string `json:"ip,omitempty"`
	Label   string `json:"label"`
}

// LayerStatus says whether a layer had data for the subject and range.
type LayerStatus struct {
	Layer     string `json:"layer"` // snmp, flows, sockets, pods
	Available bool   `json:"available"`
	Rows      uint64 `json:"rows"`
	Note      string `json:"note,omitempty"`
	// Outside is set on the flows layer when it has no rows in the range.
	Outside *OutsideRange `json:"outside,omitempty" doc:"Flows layer without rows: how many of the subject's flows lie outside the range, and where."`
}

// Window is a time window and the subject's traffic in it.
type Window struct {
	Start       time.Time `json:"start"`
	End         time.Time `json:"end"`
	Bytes       uint64    `json:"bytes"`
	Bps         float64   `json:"bps"`
	Retransmits *uint64   `json:"retransmits" doc:"Retransmitted segments of the subject's sessions in the window; null without agent data."`
	Source      string    `json:"source"` // the layer the series came from; "" when no layer has data
	// Note says how the window was chosen when no spike was found.
	Note string `json:"note,omitempty"`
}

// Contributors account for the change between baseline and spike.
// Senders and receivers split each byte between the endpoint that sent
// it and the one that received it (a pod, else an address), so that the
// shares of each add up to the whole increase.
type Contributors struct {
	Ports     []Contributor `json:"ports"`
	Sessions  []Contributor `json:"sessions"`
	Senders   []Contributor `json:"senders"`
	Receivers []Contributor `json:"receivers"`
	Pods      []Contributor `json:"pods" doc:"With agent data, the subject's own pods by the bytes they sent and received; from flows only, the pods that sent (see senders and receivers)."`
	Processes []Contributor `json:"processes"`
}

// Contributor is one port, session, pod or process and its share of the
// increase (delta / total delta).
type Contributor struct {
	Key           string  `json:"key"`
	Node          string  `json:"node,omitempty"`
	BaselineBytes uint64  `json:"baseline_bytes"`
	SpikeBytes    uint64  `json:"spike_bytes"`
	DeltaBytes    int64   `json:"delta_bytes"`
	Share         float64 `json:"share"`
	Growth        float64 `json:"growth"` // spike / baseline; 0 when new
}

// SessionHealth compares a path's TCP health in the spike to its baseline.
type SessionHealth struct {
	Path     string      `json:"path"` // local side → remote ip:port
	Node     string      `json:"node,omitempty"`
	Pod      string      `json:"pod,omitempty"`
	RemoteIP string      `json:"remote_ip"`
	Port     uint16      `json:"port"`
	Spike    HealthStats `json:"spike"`
	Baseline HealthStats `json:"baseline"`
	// RetransmitGrowth (retransmits) and RTTGrowth (RTT p95) are spike
	// over baseline (0 when the baseline had none).
	RetransmitGrowth float64 `json:"retransmit_growth"`
	RTTGrowth        float64 `json:"rtt_growth"`
	Degraded         bool    `json:"degraded"`
	Reason           string  `json:"reason,omitempty"`
}

// HealthStats is TCP health over one window.
type HealthStats struct {
	Bytes          uint64  `json:"bytes"`
	Segments       uint64  `json:"segments"`
	Retransmits    uint64  `json:"retransmits"`
	RetransmitRate float64 `json:"retransmit_rate"` // retransmits per segment sent
	RTTAvgUs       float64 `json:"rtt_avg_us" doc:"Smoothed RTT, µs: the byte-weighted mean of the median (t-digest) RTT of the path's sessions in the window."`
	RTTP50Us       float64 `json:"rtt_p50_us" doc:"Byte-weighted mean of the sessions' median RTT, µs (rtt_avg_us, under the name the percentiles share)."`
	RTTP95Us       float64 `json:"rtt_p95_us" doc:"Byte-weighted mean of the sessions' 95th-percentile RTT, µs."`
	RTTP99Us       float64 `json:"rtt_p99_us"`
	JitterUs       float64 `json:"jitter_us"`
}

// PathInterface is an interface the subject's traffic crosses. Its
// SNMP figures are null when SNMP does not poll it (oper_status "").
type PathInterface struct {
	Device     string `json:"device"`
	IfIndex    uint32 `json:"if_index"`
	Name       string `json:"name"`
	Role       string `json:"role"` // subject, path
	OperStatus string `json:"oper_status"`
	// SNMP is null when SNMP does not poll the interface.
	SNMP      *PathSNMP `json:"snmp"`
	FlowBytes uint64    `json:"flow_bytes"` // the subject's flow bytes on it in the spike window
	DeviceIP  string    `json:"-"`          // the server's: joins the interface to its flows
}

// PathSNMP is what SNMP says of a path interface in the spike window.
type PathSNMP struct {
	SpeedBps       uint64  `json:"speed_bps"`
	InBps          float64 `json:"in_bps"`
	OutBps         float64 `json:"out_bps"`
	InUtilization  float64 `json:"in_utilization"`
	OutUtilization float64 `json:"out_utilization"`
	MaxUtilization float64 `json:"max_utilization"` // peak of either direction in the spike window
	Errors         uint64  `json:"errors"`
	Discards       uint64  `json:"discards"`
}

// PodStatus is a contributor pod's latest state.
type PodStatus struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	Node      string `json:"node"`
	Workload  string `json:"workload,omitempty"`
	Phase     string `json:"phase"`
	Restarts  uint32 `json:"restarts"`
	// RestartsInWindow is how many restarts happened between the
	// baseline's start and the range end.
	RestartsInWindow uint32 `json:"restarts_in_window"`
}

// Verdict is the answer in plain words with the evidence behind it.
type Verdict struct {
	Kind     string   `json:"kind"` // one of the Verdict kinds below
	Summary  string   `json:"summary"`
	Evidence []string `json:"evidence"`
}

// Verdict kinds.
const (
	VerdictLoad        = "load growth"
	VerdictDegradation = "degradation"
	VerdictBoth        = "load growth with degradation"
	VerdictNone        = "no significant change"
	VerdictNoData      = "insufficient data"
)

// OutsideRange is where the rows an empty answer's filters match lie:
// a range that misses them (a replayed capture queried at its own dates,
// an exporter whose clock is off) then says so instead of a bare 0.
type OutsideRange struct {
	Rows     uint64     `json:"rows" doc:"Flows matching the filters outside the range (by time_received, the axis of TopN and the rollups)."`
	Before   uint64     `json:"before" doc:"Of those, received before the range."`
	After    uint64     `json:"after" doc:"Of those, received after it."`
	Earliest *time.Time `json:"earliest,omitempty" doc:"Receive time of the earliest of them."`
	Latest   *time.Time `json:"latest,omitempty" doc:"Receive time of the latest of them."`
	// Flows whose exporter stamped them inside the range: their own
	// times, before any skew correction.
	ExporterTimeInRange uint64 `json:"exporter_time_in_range" doc:"Of those, flows whose exporter's own start–end (before skew correction) overlaps the range: a replayed capture, or an exporter whose clock is off (see time_basis)."`
	Note                string `json:"note"`
}

// AlertsResponse lists alerts: the transitions of the range (history), or
// the alerts firing now.
type AlertsResponse struct {
	Range
	State  string  `json:"state"`
	Alerts []Alert `json:"alerts"`
}

// Alert is one transition of an alert as the alerting component recorded
// it (the latest one, for state=firing).
type Alert struct {
	Time         time.Time         `json:"time" doc:"When the transition was evaluated."`
	Fingerprint  string            `json:"fingerprint"`
	Rule         string            `json:"rule"`
	Kind         string            `json:"kind" doc:"interface_utilisation, traffic_spike, session_health, flow_snmp_mismatch or silence."`
	Status       string            `json:"status" doc:"firing or resolved."`
	StartsAt     time.Time         `json:"starts_at"`
	EndsAt       *time.Time        `json:"ends_at" doc:"When it resolved; null while firing."`
	Value        float64           `json:"value" doc:"The rule's value at the transition (its unit depends on the kind)."`
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations" doc:"Summary, and for a firing alert the investigation's verdict, top contributors and session health."`
	GeneratorURL string            `json:"generator_url" doc:"The console's investigate view of the alert's subject and range."`
	Instance     string            `json:"instance" doc:"The alerting replica that recorded it."`
}
