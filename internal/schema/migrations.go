package schema

import (
	"fmt"

	"github.com/netstrata/netstrata/internal/record"
	"github.com/netstrata/netstrata/internal/store"
)

// Migrations returns the schema's versioned steps, with the retention and
// deduplication window of o baked into the CREATE statements. A later
// change of o's TTLs is applied by SyncTTL, not by a new migration.
//
// Every statement is idempotent (IF NOT EXISTS), as store.Migrate asks.
// Materialized views read their source through a subquery that renames
// columns, so that no alias shadows a column of the same name.
func Migrations(o Options) []store.Migration {
	d := ddl{o: o}
	single := []store.Migration{
		{Version: 1, Name: "raw tables", Statements: []string{
			d.ifstats(), d.flows(), d.sockets(), d.pods(),
		}},
		{Version: 2, Name: "lookups and ingest progress", Statements: []string{
			d.interfacesLatest(), d.interfacesLatestMV(),
			d.podIPs(), d.podIPsMV(),
			d.ingestProgress(),
			d.progressMV(TableIfStats, record.TopicIfStats),
			d.progressMV(TableFlows, record.TopicFlows),
			d.progressMV(TableSockets, record.TopicSockets),
			d.progressMV(TablePods, record.TopicPods),
		}},
		{Version: 3, Name: "flow rollups", Statements: []string{
			d.flowsRollup(TableFlows1m), d.flows1mMV(),
			d.flowsRollup(TableFlows1h), d.flows1hMV(),
		}},
		{Version: 4, Name: "socket health rollup", Statements: []string{
			d.sockets1m(), d.sockets1mMV(),
		}},
		{Version: 5, Name: "interface reconciliation", Statements: []string{
			d.interfaceFlows5m(), d.interfaceFlows5mMV(),
			d.interfaceSNMP5m(), d.interfaceSNMP5mMV(),
			interfaceReconciliationView,
		}},
		{Version: 6, Name: "flow socket correlation", Statements: []string{
			flowSocketCorrelationView,
		}},
		{Version: 7, Name: "flow rollups as AggregatingMergeTree, compact parts", Run: d.upgradeToV7},
		{Version: 8, Name: "interface tables keyed by device", Run: d.upgradeToV8},
		{Version: 9, Name: "SNMP engine ID of a device", Statements: []string{ifStatsEngineID}},
		{Version: 10, Name: "flow time, interface and byte basis", Statements: []string{flowBasis}},
		{Version: 11, Name: "AS name and country of flows", Run: d.upgradeToV11},
		{Version: 12, Name: "flow fields operators filter on", Statements: []string{flowFields}},
		{Version: 13, Name: "alert history", Statements: []string{d.alerts()}},
		{Version: 14, Name: "flow sessions per hour", Statements: []string{d.flows5Tuple1h(), d.flows5Tuple1hMV()},
			Run: recordFlows5TupleCoverage},
		{Version: 15, Name: "ingest progress per writer group, fencing epoch", Run: d.upgradeToV15},
		{Version: 16, Name: "pending alerts and webhook deliveries", Statements: []string{d.alertPending(), d.alertDeliveries()}},
		{Version: 17, Name: "agent strategy of socket rows", Statements: []string{socketsAgentStrategy}},
		{Version: 18, Name: "exporter sequence loss on flows", Statements: []string{flowsSequenceLost}},
		{Version: 19, Name: "flow sessions per 6-hour block", Statements: []string{d.flows5Tuple6h(), d.flows5Tuple6hRefresh()}},
		{Version: 20, Name: "flow rollups written by their writer", Statements: d.writerRollups()},
		{Version: 21, Name: "flow progress written by its writer", Statements: d.writerFlowsProgress()},
		{Version: 22, Name: "flow sessions per hour and 6-hour block without the path", Statements: []string{
			d.flowSessions1h(), d.flowSessions1hRefresh(), d.flowSessions6h(), d.flowSessions6hRefresh()}},
	}
	if o.Cluster != "" {
		return d.clusterMigrations(single)
	}
	return single
}

type ddl struct{ o Options }

// tail is the PARTITION BY / TTL / SETTINGS end of a table's DDL. Daily
// partitions with ttl_only_drop_parts make expiry a cheap drop of whole
// parts; a year-long table is partitioned by month.
func (d ddl) tail(table string) string {
	col := timeColumn[table]
	secs := d.o.ttlSeconds()[table]
	part := "toYYYYMMDD(" + col + ")"
	if secs > 100*24*3600 {
		part = "toYYYYMM(" + col + ")"
	}
	return fmt.Sprintf("PARTITION BY %s\n%s\nSETTINGS non_replicated_deduplication_window = %d, ttl_only_drop_parts = 1, %s",
		part, ttlClause(col, secs), d.o.DeduplicationWindow, compactParts)
}

// compactParts keeps the parts that inserts and their first merges make
// in the Compact format (all columns in one file) rather than Wide (two
// files per column): an insert into flows and its rollups then creates a
// dozen files instead of some two hundred, which raised sustained ingest
// by a fifth. Parts merged beyond this size are Wide.
const compactParts = "min_bytes_for_wide_part = 200000000"

func ttlClause(col string, secs int64) string {
	return fmt.Sprintf("TTL toDateTime(%s) + toIntervalSecond(%d)", col, secs)
}

// Enumerations shared by several tables; their numbers are the protobuf's.
const (
	enumFlowType      = "Enum8('unspecified' = 0, 'netflow_v5' = 1, 'netflow_v9' = 2, 'ipfix' = 3, 'sflow_v5' = 4)"
	enumFlowDirection = "Enum8('unspecified' = 0, 'ingress' = 1, 'egress' = 2)"
	enumSocketDir     = "Enum8('unspecified' = 0, 'client' = 1, 'server' = 2)"
	enumIfDirection   = "Enum8('in' = 1, 'out' = 2)"
	ms                = "DateTime64(3, 'UTC')"
	lc                = "LowCardinality(String)"
)

// kafkaColumns are the bookkeeping columns of every raw table: where the
// row came from, so that the correlator can resume exactly (see
// ingest_progress).
const kafkaColumns = `
	kafka_partition UInt16,
	kafka_offset UInt64 CODEC(Delta, ZSTD(1))`

func (d ddl) ifstats() string {
	return `CREATE TABLE IF NOT EXISTS ifstats (
	time ` + ms + ` CODEC(Delta, ZSTD(1)),
	prev_time ` + ms + ` CODEC(Delta, ZSTD(1)),
	device ` + lc + `,
	device_ip IPv6,
	sys_name ` + lc + `,
	sys_uptime_cs UInt64 CODEC(Delta, ZSTD(1)),
	if_index UInt32,
	if_name ` + lc + `,
	if_alias ` + lc + `,
	if_descr ` + lc + `,
	speed_bps UInt64,
	oper_status UInt8,
	admin_status UInt8,
	hc_counters Bool,
	in_octets UInt64 CODEC(Delta, ZSTD(1)),
	out_octets UInt64 CODEC(Delta, ZSTD(1)),
	in_ucast_pkts UInt64 CODEC(Delta, ZSTD(1)),
	out_ucast_pkts UInt64 CODEC(Delta, ZSTD(1)),
	in_mcast_pkts UInt64 CODEC(Delta, ZSTD(1)),
	out_mcast_pkts UInt64 CODEC(Delta, ZSTD(1)),
	in_bcast_pkts UInt64 CODEC(Delta, ZSTD(1)),
	out_bcast_pkts UInt64 CODEC(Delta, ZSTD(1)),
	in_errors UInt64 CODEC(Delta, ZSTD(1)),
	out_errors UInt64 CODEC(Delta, ZSTD(1)),
	in_discards UInt64 CODEC(Delta, ZSTD(1)),
	out_discards UInt64 CODEC(Delta, ZSTD(1)),
	rate_valid Bool,
	delta_in_octets UInt64,
	delta_out_octets UInt64,
	delta_in_pkts UInt64,
	delta_out_pkts UInt64,
	delta_in_errors UInt64,
	delta_out_errors UInt64,
	delta_in_discards UInt64,
	delta_out_discards UInt64,
	in_bps Float64,
	out_bps Float64,
	in_pps Float64,
	out_pps Float64,
	in_utilization Float64,
	out_utilization Float64,
	counter_reset Bool,
	counter_wrap Bool,
	over_speed Bool,` + kafkaColumns + `
) ENGINE = MergeTree
ORDER BY (device_ip, if_index, time)
` + d.tail(TableIfStats)
}

// ifColumns are the enrichment of one side (in or out) of a flow.
func ifColumns(side string) string {
	return fmt.Sprintf(`
	%[1]s_if UInt32,
	%[1]s_if_name %[2]s,
	%[1]s_if_alias %[2]s,
	%[1]s_if_speed UInt64,`, side, lc)
}

// podColumns are the pod enrichment of one IP of a flow or socket.
func podColumns(side string) string { return podColumnsOf(side, lc) }

// podColumnsOf are the pod columns of one side with type typ.
func podColumnsOf(side, typ string) string {
	return fmt.Sprintf(`
	%[1]s_pod %[2]s,
	%[1]s_namespace %[2]s,
	%[1]s_workload %[2]s,
	%[1]s_node %[2]s,`, side, typ)
}

func (d ddl) flows() string {
	return `CREATE TABLE IF NOT EXISTS flows (
	time_received ` + ms + ` CODEC(Delta, ZSTD(1)),
	time_flow_start ` + ms + ` CODEC(Delta, ZSTD(1)),
	time_flow_end ` + ms + ` CODEC(Delta, ZSTD(1)),
	flow_type ` + enumFlowType + `,
	exporter_ip IPv6,
	exporter_name ` + lc + `,
	observation_domain UInt32,
	sequence UInt32 CODEC(Delta, ZSTD(1)),
	sampling_rate UInt64,` + ifColumns("in") + ifColumns("out") + `
	direction ` + enumFlowDirection + `,
	src_ip IPv6 CODEC(ZSTD(1)),
	dst_ip IPv6 CODEC(ZSTD(1)),
	src_port UInt16 CODEC(ZSTD(1)),
	dst_port UInt16 CODEC(ZSTD(1)),
	proto UInt8,
	tcp_flags UInt16,
	etype UInt16,
	ip_tos UInt8,
	bytes UInt64 CODEC(T64, ZSTD(1)),
	packets UInt64 CODEC(T64, ZSTD(1)),
	src_vlan UInt16,
	dst_vlan UInt16,
	next_hop IPv6 CODEC(ZSTD(1)),
	src_as UInt32,
	dst_as UInt32,` + asColumns + `
	src_mask UInt8,
	dst_mask UInt8,
	application ` + lc + `,` + podColumns("src") + podColumns("dst") + kafkaColumns + `
) ENGINE = MergeTree
ORDER BY (toStartOfMinute(time_received), exporter_ip, in_if, out_if, proto, dst_port)
` + d.tail(TableFlows)
}

func (d ddl) sockets() string {
	return `CREATE TABLE IF NOT EXISTS sockets (
	time ` + ms + ` CODEC(Delta, ZSTD(1)),
	interval_ms UInt32,
	node ` + lc + `,
	netns UInt64,
	socket_id UInt64 CODEC(ZSTD(1)),
	local_ip IPv6 CODEC(ZSTD(1)),
	local_port UInt16,
	remote_ip IPv6 CODEC(ZSTD(1)),
	remote_port UInt16,
	direction ` + enumSocketDir + `,
	pid UInt32,
	comm ` + lc + `,
	cgroup_id UInt64,
	container_id ` + lc + `,
	pod_uid ` + lc + `,
	local_pod ` + lc + `,
	local_namespace ` + lc + `,
	local_workload ` + lc + `,` + podColumns("remote") + `
	bytes_sent UInt64,
	bytes_received UInt64,
	segs_out UInt64,
	segs_in UInt64,
	retransmits UInt32,
	total_retrans UInt32,
	srtt_us UInt32,
	srtt_min_us UInt32,
	srtt_max_us UInt32,
	rttvar_us UInt32,
	jitter_us UInt32,
	connect_latency_us UInt32,
	state UInt8,
	open_time ` + ms + `,
	close_time ` + ms + `,` + kafkaColumns + `
) ENGINE = MergeTree
ORDER BY (toStartOfMinute(time), node, remote_port, remote_ip)
` + d.tail(TableSockets)
}

func (d ddl) pods() string {
	return `CREATE TABLE IF NOT EXISTS pods (
	time ` + ms + `,
	uid String,
	name ` + lc + `,
	namespace ` + lc + `,
	node ` + lc + `,
	ips Array(IPv6),
	owner_kind ` + lc + `,
	owner_name ` + lc + `,
	phase ` + lc + `,
	restarts UInt32,
	container_names Array(String),
	container_ids Array(String),
	container_images Array(String),
	container_restarts Array(UInt32),
	container_cpu_request_millis Array(Int64),
	container_cpu_limit_millis Array(Int64),
	container_memory_request_bytes Array(Int64),
	container_memory_limit_bytes Array(Int64),
	start_time ` + ms + `,
	deleted Bool,
	host_network Bool,
	labels Map(String, String),` + kafkaColumns + `
) ENGINE = MergeTree
ORDER BY (namespace, name, uid, time)
` + d.tail(TablePods)
}

func (d ddl) interfacesLatest() string {
	return `CREATE TABLE IF NOT EXISTS interfaces_latest (
	time ` + ms + `,
	device_ip IPv6,
	if_index UInt32,
	device ` + lc + `,
	sys_name ` + lc + `,
	if_name ` + lc + `,
	if_alias ` + lc + `,
	if_descr ` + lc + `,
	speed_bps UInt64,
	oper_status UInt8,
	admin_status UInt8
) ENGINE = ReplacingMergeTree(time)
ORDER BY (device_ip, if_index)
` + d.tail(TableInterfacesLatest)
}

func (d ddl) interfacesLatestMV() string {
	return `CREATE MATERIALIZED VIEW IF NOT EXISTS interfaces_latest_mv TO interfaces_latest AS
SELECT time, device_ip, if_index, device, sys_name, if_name, if_alias, if_descr, speed_bps, oper_status, admin_status
FROM ifstats`
}

func (d ddl) podIPs() string {
	return `CREATE TABLE IF NOT EXISTS pod_ips (
	time ` + ms + `,
	ip IPv6,
	uid String,
	name ` + lc + `,
	namespace ` + lc + `,
	node ` + lc + `,
	owner_kind ` + lc + `,
	owner_name ` + lc + `,
	start_time ` + ms + `,
	deleted Bool,
	host_network Bool
) ENGINE = MergeTree
ORDER BY (ip, time)
` + d.tail(TablePodIPs)
}

func (d ddl) podIPsMV() string {
	return `CREATE MATERIALIZED VIEW IF NOT EXISTS pod_ips_mv TO pod_ips AS
SELECT time, pod_ip AS ip, uid, name, namespace, node, owner_kind, owner_name, start_time, deleted, host_network
FROM pods ARRAY JOIN ips AS pod_ip`
}

func (d ddl) ingestProgress() string {
	return fmt.Sprintf(`CREATE TABLE IF NOT EXISTS ingest_progress (
	topic LowCardinality(String),
	partition UInt32,
	max_offset SimpleAggregateFunction(max, UInt64),
	rows SimpleAggregateFunction(sum, UInt64),
	updated SimpleAggregateFunction(max, DateTime64(3, 'UTC'))
) ENGINE = AggregatingMergeTree
ORDER BY (topic, partition)
SETTINGS non_replicated_deduplication_window = %d`, d.o.DeduplicationWindow)
}

// progressMV records, in the same insert as the rows, the highest Kafka
// offset stored per partition of the table's topic.
func (d ddl) progressMV(table, topic string) string {
	return fmt.Sprintf(`CREATE MATERIALIZED VIEW IF NOT EXISTS %s_progress_mv TO ingest_progress AS
SELECT '%s' AS topic, toUInt32(kafka_partition) AS partition, max(kafka_offset) AS max_offset,
	toUInt64(count()) AS rows, now64(3, 'UTC') AS updated
FROM %s
GROUP BY kafka_partition`, table, topic, table)
}

// flowsRollup is the DDL of flows_1m and flows_1h: the same dimensions at
// two resolutions. Names and pods are not in the key: they follow from
// it (an interface index, an IP at a time) and take any stored value.
//
// The engine is AggregatingMergeTree with SimpleAggregateFunction columns
// rather than SummingMergeTree: both merge rows of equal keys by summing,
// but SummingMergeTree copies every row's non-key columns value by value
// when it merges (on insert and in the background), which made it 4x
// slower on these wide rows (3.2 s against 0.74 s per million rows).
func (d ddl) flowsRollup(table string) string {
	return `CREATE TABLE IF NOT EXISTS ` + table + ` (
	time DateTime('UTC'),
	exporter_ip IPv6,
	exporter_name ` + anyLC + `,
	in_if UInt32,
	in_if_name ` + anyLC + `,
	out_if UInt32,
	out_if_name ` + anyLC + `,
	direction ` + enumFlowDirection + `,
	proto UInt8,
	application ` + lc + `,
	src_port UInt16,
	dst_port UInt16,
	src_ip IPv6,
	dst_ip IPv6,` + podAnyColumns("src") + podAnyColumns("dst") + rollupASColumns("src") + rollupASColumns("dst") + `
	bytes ` + sum64 + `,
	packets ` + sum64 + `,
	flows ` + sum64 + `
) ENGINE = AggregatingMergeTree
ORDER BY (time, exporter_ip, in_if, out_if, direction, proto, application, dst_port, src_port, dst_ip, src_ip)
` + d.tail(table)
}

// Column types of the rollups: a value kept as is (any of the merged rows)
// and a sum.
const (
	anyLC = "SimpleAggregateFunction(any, " + lc + ")"
	sum64 = "SimpleAggregateFunction(sum, UInt64)"
)

// podAnyColumns are podColumns in a rollup, where they take any value.
func podAnyColumns(side string) string { return podColumnsOf(side, anyLC) }

// flowRollupSelect aggregates the columns of flows_1m and flows_1h from a
// subquery that computes them under other names; flowRollupColumns takes
// them as they are.
const (
	flowRollupSelect = `SELECT t AS time, exporter_ip, any(exp_name) AS exporter_name,
	in_if, any(in_name) AS in_if_name, out_if, any(out_name) AS out_if_name,
	direction, proto, application, sport AS src_port, dport AS dst_port, src_ip, dst_ip,
	any(s_pod) AS src_pod, any(s_ns) AS src_namespace, any(s_wl) AS src_workload, any(s_node) AS src_node,
	any(d_pod) AS dst_pod, any(d_ns) AS dst_namespace, any(d_wl) AS dst_workload, any(d_node) AS dst_node,
	any(s_as) AS src_as, any(s_asn) AS src_as_name, any(s_cc) AS src_country,
	any(d_as) AS dst_as, any(d_asn) AS dst_as_name, any(d_cc) AS dst_country,
	sum(b) AS bytes, sum(p) AS packets, sum(n) AS flows`
	flowRollupColumns = `SELECT t AS time, exporter_ip, exp_name AS exporter_name,
	in_if, in_name AS in_if_name, out_if, out_name AS out_if_name,
	direction, proto, application, sport AS src_port, dport AS dst_port, src_ip, dst_ip,
	s_pod AS src_pod, s_ns AS src_namespace, s_wl AS src_workload, s_node AS src_node,
	d_pod AS dst_pod, d_ns AS dst_namespace, d_wl AS dst_workload, d_node AS dst_node,
	s_as AS src_as, s_asn AS src_as_name, s_cc AS src_country, d_as AS dst_as, d_asn AS dst_as_name, d_cc AS dst_country,
	b AS bytes, p AS packets, n AS flows`
	flowRollupGroup = `GROUP BY t, exporter_ip, in_if, out_if, direction, proto, application, sport, dport, src_ip, dst_ip`
)

// flows1mMV rolls raw flows up per minute, scaling bytes and packets by
// the sampling rate and folding the ephemeral (client) port to 0. It
// aggregates the inserted block before writing it: the flows of one
// conversation in a minute become one row there, and the views fed by
// flows_1m (flows_1h, interface_flows_5m) read that smaller block.
func (d ddl) flows1mMV() string {
	return `CREATE MATERIALIZED VIEW IF NOT EXISTS flows_1m_mv TO flows_1m AS
` + flowRollupSelect + `
FROM (
	SELECT toStartOfMinute(time_received) AS t, exporter_ip, exporter_name AS exp_name,
		in_if, in_if_name AS in_name, out_if, out_if_name AS out_name, direction, proto, application,
		if(src_port >= 32768 AND dst_port < 32768, 0, src_port) AS sport,
		if(dst_port >= 32768 AND src_port < 32768, 0, dst_port) AS dport,
		src_ip, dst_ip,
		src_pod AS s_pod, src_namespace AS s_ns, src_workload AS s_wl, src_node AS s_node,
		dst_pod AS d_pod, dst_namespace AS d_ns, dst_workload AS d_wl, dst_node AS d_node,
		src_as AS s_as, src_as_name AS s_asn, src_country AS s_cc, dst_as AS d_as, dst_as_name AS d_asn, dst_country AS d_cc,
		bytes * sampling_rate AS b, packets * sampling_rate AS p, toUInt64(1) AS n
	FROM flows
	WHERE ` + notRolledUp + `
)
` + flowRollupGroup
}

// flows1hMV cascades from the minute rollup's inserted blocks, which
// flows1mMV aggregated already: it does not GROUP BY again. Rows of equal
// keys are summed by background merges (the correlator's INSERTs do not
// merge them as they write, optimize_on_insert=0: a block of a second of
// traffic holds few of the same hour) and by every reader.
func (d ddl) flows1hMV() string {
	return `CREATE MATERIALIZED VIEW IF NOT EXISTS flows_1h_mv TO flows_1h AS
` + flowRollupColumns + `
FROM (
	SELECT toStartOfHour(time) AS t, exporter_ip, exporter_name AS exp_name,
		in_if, in_if_name AS in_name, out_if, out_if_name AS out_name, direction, proto, application,
		src_port AS sport, dst_port AS dport, src_ip, dst_ip,
		src_pod AS s_pod, src_namespace AS s_ns, src_workload AS s_wl, src_node AS s_node,
		dst_pod AS d_pod, dst_namespace AS d_ns, dst_workload AS d_wl, dst_node AS d_node,
		src_as AS s_as, src_as_name AS s_asn, src_country AS s_cc, dst_as AS d_as, dst_as_name AS d_asn, dst_country AS d_cc,
		bytes AS b, packets AS p, flows AS n
	FROM flows_1m
	WHERE ` + notRolledUp + `
)
`
}

// quantileLevels are the RTT quantiles sockets_1m keeps states for.
const quantileLevels = "0.5, 0.9, 0.99"

func (d ddl) sockets1m() string {
	q := "AggregateFunction(quantilesTDigest(" + quantileLevels + "), UInt32)"
	return `CREATE TABLE IF NOT EXISTS sockets_1m (
	time DateTime('UTC'),
	node ` + lc + `,
	local_pod ` + lc + `,
	local_namespace ` + lc + `,
	local_workload ` + lc + `,
	comm ` + lc + `,
	direction ` + enumSocketDir + `,
	local_ip IPv6,
	local_port UInt16,
	remote_ip IPv6,
	remote_port UInt16,
	remote_pod ` + lc + `,
	remote_namespace ` + lc + `,
	remote_workload ` + lc + `,
	remote_node ` + lc + `,
	samples SimpleAggregateFunction(sum, UInt64),
	sockets AggregateFunction(uniq, UInt64, UInt64),
	bytes_sent SimpleAggregateFunction(sum, UInt64),
	bytes_received SimpleAggregateFunction(sum, UInt64),
	segs_out SimpleAggregateFunction(sum, UInt64),
	segs_in SimpleAggregateFunction(sum, UInt64),
	retransmits SimpleAggregateFunction(sum, UInt64),
	connects SimpleAggregateFunction(sum, UInt64),
	srtt_max_us SimpleAggregateFunction(max, UInt32),
	srtt_us ` + q + `,
	jitter_us ` + q + `,
	connect_latency_us ` + q + `
) ENGINE = AggregatingMergeTree
ORDER BY (time, node, local_pod, comm, direction, remote_ip, remote_port, local_ip, local_port, local_namespace, local_workload, remote_pod, remote_namespace, remote_workload, remote_node)
` + d.tail(TableSockets1m)
}

// sockets1mMV folds the client's ephemeral port (the local one on a client
// socket, the remote one on a server socket) to 0, so that a minute holds
// one row per service endpoint rather than per connection.
func (d ddl) sockets1mMV() string {
	return `CREATE MATERIALIZED VIEW IF NOT EXISTS sockets_1m_mv TO sockets_1m AS
SELECT t AS time, node, local_pod, local_namespace, local_workload, comm, direction,
	local_ip, lport AS local_port, remote_ip, rport AS remote_port,
	remote_pod, remote_namespace, remote_workload, remote_node,
	toUInt64(count()) AS samples,
	uniqState(netns, socket_id) AS sockets,
	sum(sent) AS bytes_sent, sum(received) AS bytes_received,
	sum(so) AS segs_out, sum(si) AS segs_in, sum(toUInt64(retr)) AS retransmits,
	toUInt64(countIf(conn_us > 0)) AS connects,
	max(rtt_max) AS srtt_max_us,
	quantilesTDigestState(` + quantileLevels + `)(rtt) AS srtt_us,
	quantilesTDigestState(` + quantileLevels + `)(jit) AS jitter_us,
	quantilesTDigestStateIf(` + quantileLevels + `)(conn_us, conn_us > 0) AS connect_latency_us
FROM (
	SELECT toStartOfMinute(time) AS t, node, local_pod, local_namespace, local_workload, comm, direction,
		local_ip, if(direction = 'client', 0, local_port) AS lport,
		remote_ip, if(direction = 'server', 0, remote_port) AS rport,
		remote_pod, remote_namespace, remote_workload, remote_node, netns, socket_id,
		bytes_sent AS sent, bytes_received AS received, segs_out AS so, segs_in AS si, retransmits AS retr,
		connect_latency_us AS conn_us, srtt_max_us AS rtt_max, srtt_us AS rtt, jitter_us AS jit
	FROM sockets
)
GROUP BY t, node, local_pod, local_namespace, local_workload, comm, direction, local_ip, lport, remote_ip, rport,
	remote_pod, remote_namespace, remote_workload, remote_node`
}

func (d ddl) interfaceFlows5m() string {
	return `CREATE TABLE IF NOT EXISTS interface_flows_5m (
	time DateTime('UTC'),
	exporter_ip IPv6,
	if_index UInt32,
	direction ` + enumIfDirection + `,
	bytes UInt64,
	packets UInt64,
	flows UInt64
) ENGINE = SummingMergeTree((bytes, packets, flows))
ORDER BY (time, exporter_ip, if_index, direction)
` + d.tail(TableInterfaceFlows5m)
}

// interfaceFlows5mMV counts each flow on its input interface as "in" and
// on its output interface as "out" (index 0, unknown, is skipped).
func (d ddl) interfaceFlows5mMV() string {
	return `CREATE MATERIALIZED VIEW IF NOT EXISTS interface_flows_5m_mv TO interface_flows_5m AS
SELECT t AS time, eip AS exporter_ip, ifx AS if_index, dir AS direction,
	sum(b) AS bytes, sum(p) AS packets, sum(n) AS flows
FROM (
	SELECT toStartOfFiveMinutes(time) AS t, exporter_ip AS eip, side.1 AS ifx, side.2 AS dir,
		bytes AS b, packets AS p, flows AS n
	FROM flows_1m ARRAY JOIN [(in_if, 'in'), (out_if, 'out')] AS side
	WHERE side.1 != 0 AND ` + notRolledUp + `
)
GROUP BY t, eip, ifx, dir`
}

func (d ddl) interfaceSNMP5m() string {
	return `CREATE TABLE IF NOT EXISTS interface_snmp_5m (
	time DateTime('UTC'),
	device_ip IPv6,
	if_index UInt32,
	device ` + lc + `,
	if_name ` + lc + `,
	speed_bps UInt64,
	in_octets UInt64,
	out_octets UInt64,
	in_pkts UInt64,
	out_pkts UInt64,
	polls UInt64,
	covered_ms UInt64
) ENGINE = SummingMergeTree((in_octets, out_octets, in_pkts, out_pkts, polls, covered_ms))
ORDER BY (time, device_ip, if_index)
` + d.tail(TableInterfaceSNMP5m)
}

// interfaceSNMP5mMV attributes a poll's deltas to the 5 minutes holding
// the poll's time; polls without a valid rate are left out.
func (d ddl) interfaceSNMP5mMV() string {
	return `CREATE MATERIALIZED VIEW IF NOT EXISTS interface_snmp_5m_mv TO interface_snmp_5m AS
SELECT t AS time, dip AS device_ip, ifx AS if_index, any(dev) AS device, any(ifn) AS if_name, max(spd) AS speed_bps,
	sum(io) AS in_octets, sum(oo) AS out_octets, sum(ip) AS in_pkts, sum(op) AS out_pkts,
	toUInt64(count()) AS polls, sum(cov) AS covered_ms
FROM (
	SELECT toStartOfFiveMinutes(time) AS t, device_ip AS dip, if_index AS ifx, device AS dev, if_name AS ifn,
		speed_bps AS spd, delta_in_octets AS io, delta_out_octets AS oo, delta_in_pkts AS ip, delta_out_pkts AS op,
		toUInt64(greatest(toUnixTimestamp64Milli(time) - toUnixTimestamp64Milli(prev_time), 0)) AS cov
	FROM ifstats
	WHERE rate_valid
)
GROUP BY t, dip, ifx`
}

// interfaceReconciliationView compares, per device, interface and 5
// minutes, the SNMP octets with the flow bytes x sampling rate of the
// same interface. Flows name their exporter by address only, so devices
// sharing one address are compared with the same flows. Version 5 made
// it keyed by address alone; version 8 replaces it by this form, which
// a new database gets from version 5 on (interface_snmp_5m has a device
// column from the start).
const interfaceReconciliationView = `CREATE VIEW IF NOT EXISTS interface_reconciliation AS
SELECT s.time AS time, s.device_ip AS device_ip, s.if_index AS if_index, s.device AS device, s.if_name AS if_name,
	s.speed_bps AS speed_bps, s.polls AS polls, s.covered_ms AS covered_ms,
	s.in_oct AS snmp_in_bytes, s.out_oct AS snmp_out_bytes,
	f.in_b AS flow_in_bytes, f.out_b AS flow_out_bytes, f.n AS flows,
	if(s.in_oct > 0, f.in_b / s.in_oct, nan) AS in_ratio,
	if(s.out_oct > 0, f.out_b / s.out_oct, nan) AS out_ratio
FROM (
	SELECT time, device_ip, device, if_index, any(if_name) AS if_name, max(speed_bps) AS speed_bps,
		sum(in_octets) AS in_oct, sum(out_octets) AS out_oct, sum(polls) AS polls, sum(covered_ms) AS covered_ms
	FROM interface_snmp_5m
	WHERE time >= {from:DateTime} AND time < {to:DateTime}
	GROUP BY time, device_ip, device, if_index
) AS s
LEFT JOIN (
	SELECT time, exporter_ip, if_index, sumIf(bytes, direction = 'in') AS in_b, sumIf(bytes, direction = 'out') AS out_b, sum(flows) AS n
	FROM interface_flows_5m
	WHERE time >= {from:DateTime} AND time < {to:DateTime}
	GROUP BY time, exporter_ip, if_index
) AS f
ON s.time = f.time AND s.device_ip = f.exporter_ip AND s.if_index = f.if_index`

// flowSocketCorrelationView joins TCP flows and sockets of the same
// connection: the same (IP, port) pair in either direction, in the same
// minute. Both sides are first reduced to a canonical key, (ip_a, port_a)
// being the smaller endpoint. A connection seen by the agents on both of
// its ends gives one row per socket side.
const flowSocketCorrelationView = `CREATE VIEW IF NOT EXISTS flow_socket_correlation AS
SELECT f.t AS time, f.ip_a AS ip_a, f.port_a AS port_a, f.ip_b AS ip_b, f.port_b AS port_b,
	f.exporter_ip AS exporter_ip, f.exporter_name AS exporter_name,
	f.in_if AS in_if, f.in_if_name AS in_if_name, f.out_if AS out_if, f.out_if_name AS out_if_name,
	f.bytes_ab AS flow_bytes_a_to_b, f.bytes_ba AS flow_bytes_b_to_a, f.pkts AS flow_packets, f.n AS flows,
	s.node AS node, s.direction AS socket_direction, s.local_ip AS local_ip, s.local_port AS local_port,
	s.remote_ip AS remote_ip, s.remote_port AS remote_port, s.pid AS pid, s.comm AS comm,
	s.local_pod AS local_pod, s.local_namespace AS local_namespace, s.local_workload AS local_workload,
	s.remote_pod AS remote_pod, s.remote_namespace AS remote_namespace, s.remote_workload AS remote_workload,
	s.sent AS socket_bytes_sent, s.received AS socket_bytes_received, s.retr AS socket_retransmits,
	s.rtt_avg AS srtt_avg_us, s.rtt_max AS srtt_max_us, s.jit_max AS jitter_max_us, s.samples AS socket_samples
FROM (
	SELECT t, ip_a, port_a, ip_b, port_b, exporter_ip, any(exp_name) AS exporter_name,
		in_if, any(in_name) AS in_if_name, out_if, any(out_name) AS out_if_name,
		sumIf(b, fwd) AS bytes_ab, sumIf(b, NOT fwd) AS bytes_ba, sum(p) AS pkts, count() AS n
	FROM (
		SELECT toStartOfMinute(if(toUnixTimestamp64Milli(time_flow_end) > 0, time_flow_end, time_received)) AS t,
			(src_ip, src_port) <= (dst_ip, dst_port) AS fwd,
			if(fwd, src_ip, dst_ip) AS ip_a, if(fwd, src_port, dst_port) AS port_a,
			if(fwd, dst_ip, src_ip) AS ip_b, if(fwd, dst_port, src_port) AS port_b,
			exporter_ip, exporter_name AS exp_name, in_if, in_if_name AS in_name, out_if, out_if_name AS out_name,
			bytes * sampling_rate AS b, packets * sampling_rate AS p
		FROM flows
		WHERE time_received >= {from:DateTime64(3)} AND time_received < {to:DateTime64(3)} AND proto = 6
	)
	GROUP BY t, ip_a, port_a, ip_b, port_b, exporter_ip, in_if, out_if
) AS f
INNER JOIN (
	SELECT toStartOfMinute(time) AS t,
		(local_ip, local_port) <= (remote_ip, remote_port) AS fwd,
		if(fwd, local_ip, remote_ip) AS ip_a, if(fwd, local_port, remote_port) AS port_a,
		if(fwd, remote_ip, local_ip) AS ip_b, if(fwd, remote_port, local_port) AS port_b,
		node, direction, local_ip, local_port, remote_ip, remote_port,
		any(pid) AS pid, any(comm) AS comm,
		any(local_pod) AS local_pod, any(local_namespace) AS local_namespace, any(local_workload) AS local_workload,
		any(remote_pod) AS remote_pod, any(remote_namespace) AS remote_namespace, any(remote_workload) AS remote_workload,
		sum(bytes_sent) AS sent, sum(bytes_received) AS received, sum(retransmits) AS retr,
		avg(srtt_us) AS rtt_avg, max(srtt_max_us) AS rtt_max, max(jitter_us) AS jit_max, count() AS samples
	FROM sockets
	WHERE time >= {from:DateTime64(3)} AND time < {to:DateTime64(3)}
	GROUP BY t, ip_a, port_a, ip_b, port_b, fwd, node, direction, local_ip, local_port, remote_ip, remote_port
) AS s
ON f.t = s.t AND f.ip_a = s.ip_a AND f.port_a = s.port_a AND f.ip_b = s.ip_b AND f.port_b = s.port_b`
