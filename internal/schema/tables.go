package schema

// Tables and views, by the name queries use. SCHEMA.md describes each.
const (
	// Raw tables, one per Kafka topic, written by the correlator.
	TableIfStats = "ifstats"
	TableFlows   = "flows"
	TableSockets = "sockets"
	TablePods    = "pods"

	// Derived tables, kept by materialized views.
	TableInterfacesLatest = "interfaces_latest"  // last known name/alias/speed per (device_ip, if_index)
	TablePodIPs           = "pod_ips"            // pods by IP and time
	TableFlows1m          = "flows_1m"           // flow rollup per minute
	TableFlows1h          = "flows_1h"           // flow rollup per hour
	TableFlows5Tuple1h    = "flows_5tuple_1h"    // flows per session (5-tuple, exporter, interfaces) and hour
	TableFlows5Tuple6h    = "flows_5tuple_6h"    // flows_5tuple_1h per 6-hour block, built by a refreshable view
	TableFlowSessions1h   = "flow_sessions_1h"   // flows_5tuple_1h without the path: per 5-tuple and hour, built by a refreshable view
	TableFlowSessions6h   = "flow_sessions_6h"   // flows_5tuple_6h without the path: per 5-tuple and 6-hour block
	TableSockets1m        = "sockets_1m"         // socket health per minute, with RTT quantile states
	TableInterfaceFlows5m = "interface_flows_5m" // flow bytes x sampling per interface and 5 minutes
	TableInterfaceSNMP5m  = "interface_snmp_5m"  // SNMP octets per interface and 5 minutes
	TableIngestProgress   = "ingest_progress"    // highest Kafka offset stored per topic partition
	TableIngestBatches    = "ingest_batches"     // offset ranges of the batches a writer began to insert

	// Written by the alerting component.
	TableAlerts          = "alerts"           // alert history: one row per firing and resolution
	TableAlertPending    = "alert_pending"    // alerts pending inside their for, by fingerprint
	TableAlertDeliveries = "alert_deliveries" // webhook notifications acknowledged, by transition

	// Parameterized views (read as name(from='...', to='...')).
	ViewFlowSocketCorrelation   = "flow_socket_correlation"
	ViewInterfaceReconciliation = "interface_reconciliation"
)

// TimeColumn is the time column of a table with a TTL (its TTL,
// partitioning and the index queries of a range use), "" for others.
func TimeColumn(table string) string { return timeColumn[table] }

// timeColumn maps every table with a TTL to the time column its TTL and
// partitioning use.
var timeColumn = map[string]string{
	TableIfStats:          IfStatsTime,
	TableInterfacesLatest: "time",
	TableFlows:            FlowTimeReceived,
	TableSockets:          SocketTime,
	TablePods:             PodTime,
	TablePodIPs:           "time",
	TableFlows1m:          "time",
	TableFlows1h:          "time",
	TableFlows5Tuple1h:    "time",
	TableFlows5Tuple6h:    "time",
	TableFlowSessions1h:   "time",
	TableFlowSessions6h:   "time",
	TableSockets1m:        "time",
	TableInterfaceFlows5m: "time",
	TableInterfaceSNMP5m:  "time",
	TableAlerts:           "time",
	TableAlertPending:     "time",
	TableAlertDeliveries:  "time",
}
