-- Version 1: raw tables
CREATE TABLE IF NOT EXISTS ifstats_local ON CLUSTER netstrata_cluster (
	time DateTime64(3, 'UTC') CODEC(Delta, ZSTD(1)),
	prev_time DateTime64(3, 'UTC') CODEC(Delta, ZSTD(1)),
	device LowCardinality(String),
	device_ip IPv6,
	sys_name LowCardinality(String),
	sys_uptime_cs UInt64 CODEC(Delta, ZSTD(1)),
	if_index UInt32,
	if_name LowCardinality(String),
	if_alias LowCardinality(String),
	if_descr LowCardinality(String),
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
	over_speed Bool,
	kafka_partition UInt16,
	kafka_offset UInt64 CODEC(Delta, ZSTD(1))
) ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/{database}/ifstats_local', '{replica}')
ORDER BY (device_ip, if_index, time)
PARTITION BY toYYYYMMDD(time)
TTL toDateTime(time) + toIntervalSecond(2592000)
SETTINGS replicated_deduplication_window = 10000, ttl_only_drop_parts = 1, min_bytes_for_wide_part = 200000000;

CREATE TABLE IF NOT EXISTS ifstats ON CLUSTER netstrata_cluster AS ifstats_local
ENGINE = Distributed(netstrata_cluster, netstrata, ifstats_local, cityHash64(device_ip));

CREATE TABLE IF NOT EXISTS flows_local ON CLUSTER netstrata_cluster (
	time_received DateTime64(3, 'UTC') CODEC(Delta, ZSTD(1)),
	time_flow_start DateTime64(3, 'UTC') CODEC(Delta, ZSTD(1)),
	time_flow_end DateTime64(3, 'UTC') CODEC(Delta, ZSTD(1)),
	flow_type Enum8('unspecified' = 0, 'netflow_v5' = 1, 'netflow_v9' = 2, 'ipfix' = 3, 'sflow_v5' = 4),
	exporter_ip IPv6,
	exporter_name LowCardinality(String),
	observation_domain UInt32,
	sequence UInt32 CODEC(Delta, ZSTD(1)),
	sampling_rate UInt64,
	in_if UInt32,
	in_if_name LowCardinality(String),
	in_if_alias LowCardinality(String),
	in_if_speed UInt64,
	out_if UInt32,
	out_if_name LowCardinality(String),
	out_if_alias LowCardinality(String),
	out_if_speed UInt64,
	direction Enum8('unspecified' = 0, 'ingress' = 1, 'egress' = 2),
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
	dst_as UInt32,
	src_as_name LowCardinality(String),
	dst_as_name LowCardinality(String),
	src_country LowCardinality(String),
	dst_country LowCardinality(String),
	src_mask UInt8,
	dst_mask UInt8,
	application LowCardinality(String),
	src_pod LowCardinality(String),
	src_namespace LowCardinality(String),
	src_workload LowCardinality(String),
	src_node LowCardinality(String),
	dst_pod LowCardinality(String),
	dst_namespace LowCardinality(String),
	dst_workload LowCardinality(String),
	dst_node LowCardinality(String),
	kafka_partition UInt16,
	kafka_offset UInt64 CODEC(Delta, ZSTD(1))
) ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/{database}/flows_local', '{replica}')
ORDER BY (toStartOfMinute(time_received), exporter_ip, in_if, out_if, proto, dst_port)
PARTITION BY toYYYYMMDD(time_received)
TTL toDateTime(time_received) + toIntervalSecond(604800)
SETTINGS replicated_deduplication_window = 10000, ttl_only_drop_parts = 1, min_bytes_for_wide_part = 200000000;

CREATE TABLE IF NOT EXISTS flows ON CLUSTER netstrata_cluster AS flows_local
ENGINE = Distributed(netstrata_cluster, netstrata, flows_local, cityHash64(least(src_ip, dst_ip), greatest(src_ip, dst_ip)));

CREATE TABLE IF NOT EXISTS sockets_local ON CLUSTER netstrata_cluster (
	time DateTime64(3, 'UTC') CODEC(Delta, ZSTD(1)),
	interval_ms UInt32,
	node LowCardinality(String),
	netns UInt64,
	socket_id UInt64 CODEC(ZSTD(1)),
	local_ip IPv6 CODEC(ZSTD(1)),
	local_port UInt16,
	remote_ip IPv6 CODEC(ZSTD(1)),
	remote_port UInt16,
	direction Enum8('unspecified' = 0, 'client' = 1, 'server' = 2),
	pid UInt32,
	comm LowCardinality(String),
	cgroup_id UInt64,
	container_id LowCardinality(String),
	pod_uid LowCardinality(String),
	local_pod LowCardinality(String),
	local_namespace LowCardinality(String),
	local_workload LowCardinality(String),
	remote_pod LowCardinality(String),
	remote_namespace LowCardinality(String),
	remote_workload LowCardinality(String),
	remote_node LowCardinality(String),
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
	open_time DateTime64(3, 'UTC'),
	close_time DateTime64(3, 'UTC'),
	kafka_partition UInt16,
	kafka_offset UInt64 CODEC(Delta, ZSTD(1))
) ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/{database}/sockets_local', '{replica}')
ORDER BY (toStartOfMinute(time), node, remote_port, remote_ip)
PARTITION BY toYYYYMMDD(time)
TTL toDateTime(time) + toIntervalSecond(604800)
SETTINGS replicated_deduplication_window = 10000, ttl_only_drop_parts = 1, min_bytes_for_wide_part = 200000000;

CREATE TABLE IF NOT EXISTS sockets ON CLUSTER netstrata_cluster AS sockets_local
ENGINE = Distributed(netstrata_cluster, netstrata, sockets_local, cityHash64(least(local_ip, remote_ip), greatest(local_ip, remote_ip)));

CREATE TABLE IF NOT EXISTS pods_local ON CLUSTER netstrata_cluster (
	time DateTime64(3, 'UTC'),
	uid String,
	name LowCardinality(String),
	namespace LowCardinality(String),
	node LowCardinality(String),
	ips Array(IPv6),
	owner_kind LowCardinality(String),
	owner_name LowCardinality(String),
	phase LowCardinality(String),
	restarts UInt32,
	container_names Array(String),
	container_ids Array(String),
	container_images Array(String),
	container_restarts Array(UInt32),
	container_cpu_request_millis Array(Int64),
	container_cpu_limit_millis Array(Int64),
	container_memory_request_bytes Array(Int64),
	container_memory_limit_bytes Array(Int64),
	start_time DateTime64(3, 'UTC'),
	deleted Bool,
	host_network Bool,
	labels Map(String, String),
	kafka_partition UInt16,
	kafka_offset UInt64 CODEC(Delta, ZSTD(1))
) ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/{database}/pods_local', '{replica}')
ORDER BY (namespace, name, uid, time)
PARTITION BY toYYYYMMDD(time)
TTL toDateTime(time) + toIntervalSecond(2592000)
SETTINGS replicated_deduplication_window = 10000, ttl_only_drop_parts = 1, min_bytes_for_wide_part = 200000000;

CREATE TABLE IF NOT EXISTS pods ON CLUSTER netstrata_cluster AS pods_local
ENGINE = Distributed(netstrata_cluster, netstrata, pods_local, cityHash64(uid));

-- Version 2: lookups and ingest progress
CREATE TABLE IF NOT EXISTS interfaces_latest_local ON CLUSTER netstrata_cluster (
	time DateTime64(3, 'UTC'),
	device_ip IPv6,
	if_index UInt32,
	device LowCardinality(String),
	sys_name LowCardinality(String),
	if_name LowCardinality(String),
	if_alias LowCardinality(String),
	if_descr LowCardinality(String),
	speed_bps UInt64,
	oper_status UInt8,
	admin_status UInt8
) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/interfaces_latest_local', '{replica}', time)
ORDER BY (device, if_index)
PARTITION BY toYYYYMMDD(time)
TTL toDateTime(time) + toIntervalSecond(2592000)
SETTINGS replicated_deduplication_window = 10000, ttl_only_drop_parts = 1, min_bytes_for_wide_part = 200000000;

CREATE TABLE IF NOT EXISTS interfaces_latest ON CLUSTER netstrata_cluster AS interfaces_latest_local
ENGINE = Distributed(netstrata_cluster, netstrata, interfaces_latest_local);

CREATE MATERIALIZED VIEW IF NOT EXISTS interfaces_latest_mv ON CLUSTER netstrata_cluster TO interfaces_latest_local AS
SELECT time, device_ip, if_index, device, sys_name, if_name, if_alias, if_descr, speed_bps, oper_status, admin_status
FROM ifstats_local;

CREATE TABLE IF NOT EXISTS pod_ips_local ON CLUSTER netstrata_cluster (
	time DateTime64(3, 'UTC'),
	ip IPv6,
	uid String,
	name LowCardinality(String),
	namespace LowCardinality(String),
	node LowCardinality(String),
	owner_kind LowCardinality(String),
	owner_name LowCardinality(String),
	start_time DateTime64(3, 'UTC'),
	deleted Bool,
	host_network Bool
) ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/{database}/pod_ips_local', '{replica}')
ORDER BY (ip, time)
PARTITION BY toYYYYMMDD(time)
TTL toDateTime(time) + toIntervalSecond(2592000)
SETTINGS replicated_deduplication_window = 10000, ttl_only_drop_parts = 1, min_bytes_for_wide_part = 200000000;

CREATE TABLE IF NOT EXISTS pod_ips ON CLUSTER netstrata_cluster AS pod_ips_local
ENGINE = Distributed(netstrata_cluster, netstrata, pod_ips_local);

CREATE MATERIALIZED VIEW IF NOT EXISTS pod_ips_mv ON CLUSTER netstrata_cluster TO pod_ips_local AS
SELECT time, pod_ip AS ip, uid, name, namespace, node, owner_kind, owner_name, start_time, deleted, host_network
FROM pods_local ARRAY JOIN ips AS pod_ip;

CREATE TABLE IF NOT EXISTS ingest_progress_local ON CLUSTER netstrata_cluster (
	topic LowCardinality(String),
	partition UInt32,
	max_offset SimpleAggregateFunction(max, UInt64),
	rows SimpleAggregateFunction(sum, UInt64),
	updated SimpleAggregateFunction(max, DateTime64(3, 'UTC')),
	writer_group LowCardinality(String),
	epoch SimpleAggregateFunction(max, UInt64)
) ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/{database}/ingest_progress_local', '{replica}')
ORDER BY (topic, partition, writer_group)
SETTINGS replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS ingest_progress ON CLUSTER netstrata_cluster AS ingest_progress_local
ENGINE = Distributed(netstrata_cluster, netstrata, ingest_progress_local, cityHash64(writer_group, topic, partition));

CREATE MATERIALIZED VIEW IF NOT EXISTS ifstats_progress_mv ON CLUSTER netstrata_cluster TO ingest_progress_local AS
SELECT 'netstrata.ifstats.v1' AS topic, toUInt32(kafka_partition) AS partition, toString(getSetting('log_comment')) AS writer_group,
	max(kafka_offset) AS max_offset, toUInt64(count()) AS rows, now64(3, 'UTC') AS updated
FROM ifstats_local
GROUP BY kafka_partition;

CREATE MATERIALIZED VIEW IF NOT EXISTS flows_progress_mv ON CLUSTER netstrata_cluster TO ingest_progress_local AS
SELECT 'netstrata.flows.v1' AS topic, toUInt32(kafka_partition) AS partition, toString(getSetting('log_comment')) AS writer_group,
	max(kafka_offset) AS max_offset, toUInt64(count()) AS rows, now64(3, 'UTC') AS updated
FROM flows_local
GROUP BY kafka_partition;

CREATE MATERIALIZED VIEW IF NOT EXISTS sockets_progress_mv ON CLUSTER netstrata_cluster TO ingest_progress_local AS
SELECT 'netstrata.sockets.v1' AS topic, toUInt32(kafka_partition) AS partition, toString(getSetting('log_comment')) AS writer_group,
	max(kafka_offset) AS max_offset, toUInt64(count()) AS rows, now64(3, 'UTC') AS updated
FROM sockets_local
GROUP BY kafka_partition;

CREATE MATERIALIZED VIEW IF NOT EXISTS pods_progress_mv ON CLUSTER netstrata_cluster TO ingest_progress_local AS
SELECT 'netstrata.pods.v1' AS topic, toUInt32(kafka_partition) AS partition, toString(getSetting('log_comment')) AS writer_group,
	max(kafka_offset) AS max_offset, toUInt64(count()) AS rows, now64(3, 'UTC') AS updated
FROM pods_local
GROUP BY kafka_partition;

-- Version 3: flow rollups
CREATE TABLE IF NOT EXISTS flows_1m_local ON CLUSTER netstrata_cluster (
	time DateTime('UTC'),
	exporter_ip IPv6,
	exporter_name SimpleAggregateFunction(any, LowCardinality(String)),
	in_if UInt32,
	in_if_name SimpleAggregateFunction(any, LowCardinality(String)),
	out_if UInt32,
	out_if_name SimpleAggregateFunction(any, LowCardinality(String)),
	direction Enum8('unspecified' = 0, 'ingress' = 1, 'egress' = 2),
	proto UInt8,
	application LowCardinality(String),
	src_port UInt16,
	dst_port UInt16,
	src_ip IPv6,
	dst_ip IPv6,
	src_pod SimpleAggregateFunction(any, LowCardinality(String)),
	src_namespace SimpleAggregateFunction(any, LowCardinality(String)),
	src_workload SimpleAggregateFunction(any, LowCardinality(String)),
	src_node SimpleAggregateFunction(any, LowCardinality(String)),
	dst_pod SimpleAggregateFunction(any, LowCardinality(String)),
	dst_namespace SimpleAggregateFunction(any, LowCardinality(String)),
	dst_workload SimpleAggregateFunction(any, LowCardinality(String)),
	dst_node SimpleAggregateFunction(any, LowCardinality(String)),
	src_as SimpleAggregateFunction(any, UInt32),
	src_as_name SimpleAggregateFunction(any, LowCardinality(String)),
	src_country SimpleAggregateFunction(any, LowCardinality(String)),
	dst_as SimpleAggregateFunction(any, UInt32),
	dst_as_name SimpleAggregateFunction(any, LowCardinality(String)),
	dst_country SimpleAggregateFunction(any, LowCardinality(String)),
	bytes SimpleAggregateFunction(sum, UInt64),
	packets SimpleAggregateFunction(sum, UInt64),
	flows SimpleAggregateFunction(sum, UInt64)
) ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/{database}/flows_1m_local', '{replica}')
ORDER BY (time, exporter_ip, in_if, out_if, direction, proto, application, dst_port, src_port, dst_ip, src_ip)
PARTITION BY toYYYYMMDD(time)
TTL toDateTime(time) + toIntervalSecond(7776000)
SETTINGS replicated_deduplication_window = 10000, ttl_only_drop_parts = 1, min_bytes_for_wide_part = 200000000;

CREATE TABLE IF NOT EXISTS flows_1m ON CLUSTER netstrata_cluster AS flows_1m_local
ENGINE = Distributed(netstrata_cluster, netstrata, flows_1m_local, cityHash64(least(src_ip, dst_ip), greatest(src_ip, dst_ip)));

CREATE MATERIALIZED VIEW IF NOT EXISTS flows_1m_mv ON CLUSTER netstrata_cluster TO flows_1m_local AS
SELECT t AS time, exporter_ip, any(exp_name) AS exporter_name,
	in_if, any(in_name) AS in_if_name, out_if, any(out_name) AS out_if_name,
	direction, proto, application, sport AS src_port, dport AS dst_port, src_ip, dst_ip,
	any(s_pod) AS src_pod, any(s_ns) AS src_namespace, any(s_wl) AS src_workload, any(s_node) AS src_node,
	any(d_pod) AS dst_pod, any(d_ns) AS dst_namespace, any(d_wl) AS dst_workload, any(d_node) AS dst_node,
	any(s_as) AS src_as, any(s_asn) AS src_as_name, any(s_cc) AS src_country,
	any(d_as) AS dst_as, any(d_asn) AS dst_as_name, any(d_cc) AS dst_country,
	sum(b) AS bytes, sum(p) AS packets, sum(n) AS flows
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
	FROM flows_local
	WHERE NOT startsWith(getSetting('insert_deduplication_token'), 'rolled-up:')
)
GROUP BY t, exporter_ip, in_if, out_if, direction, proto, application, sport, dport, src_ip, dst_ip;

CREATE TABLE IF NOT EXISTS flows_1h_local ON CLUSTER netstrata_cluster (
	time DateTime('UTC'),
	exporter_ip IPv6,
	exporter_name SimpleAggregateFunction(any, LowCardinality(String)),
	in_if UInt32,
	in_if_name SimpleAggregateFunction(any, LowCardinality(String)),
	out_if UInt32,
	out_if_name SimpleAggregateFunction(any, LowCardinality(String)),
	direction Enum8('unspecified' = 0, 'ingress' = 1, 'egress' = 2),
	proto UInt8,
	application LowCardinality(String),
	src_port UInt16,
	dst_port UInt16,
	src_ip IPv6,
	dst_ip IPv6,
	src_pod SimpleAggregateFunction(any, LowCardinality(String)),
	src_namespace SimpleAggregateFunction(any, LowCardinality(String)),
	src_workload SimpleAggregateFunction(any, LowCardinality(String)),
	src_node SimpleAggregateFunction(any, LowCardinality(String)),
	dst_pod SimpleAggregateFunction(any, LowCardinality(String)),
	dst_namespace SimpleAggregateFunction(any, LowCardinality(String)),
	dst_workload SimpleAggregateFunction(any, LowCardinality(String)),
	dst_node SimpleAggregateFunction(any, LowCardinality(String)),
	src_as SimpleAggregateFunction(any, UInt32),
	src_as_name SimpleAggregateFunction(any, LowCardinality(String)),
	src_country SimpleAggregateFunction(any, LowCardinality(String)),
	dst_as SimpleAggregateFunction(any, UInt32),
	dst_as_name SimpleAggregateFunction(any, LowCardinality(String)),
	dst_country SimpleAggregateFunction(any, LowCardinality(String)),
	bytes SimpleAggregateFunction(sum, UInt64),
	packets SimpleAggregateFunction(sum, UInt64),
	flows SimpleAggregateFunction(sum, UInt64)
) ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/{database}/flows_1h_local', '{replica}')
ORDER BY (time, exporter_ip, in_if, out_if, direction, proto, application, dst_port, src_port, dst_ip, src_ip)
PARTITION BY toYYYYMM(time)
TTL toDateTime(time) + toIntervalSecond(31536000)
SETTINGS replicated_deduplication_window = 10000, ttl_only_drop_parts = 1, min_bytes_for_wide_part = 200000000;

CREATE TABLE IF NOT EXISTS flows_1h ON CLUSTER netstrata_cluster AS flows_1h_local
ENGINE = Distributed(netstrata_cluster, netstrata, flows_1h_local, cityHash64(least(src_ip, dst_ip), greatest(src_ip, dst_ip)));

CREATE MATERIALIZED VIEW IF NOT EXISTS flows_1h_mv ON CLUSTER netstrata_cluster TO flows_1h_local AS
SELECT t AS time, exporter_ip, exp_name AS exporter_name,
	in_if, in_name AS in_if_name, out_if, out_name AS out_if_name,
	direction, proto, application, sport AS src_port, dport AS dst_port, src_ip, dst_ip,
	s_pod AS src_pod, s_ns AS src_namespace, s_wl AS src_workload, s_node AS src_node,
	d_pod AS dst_pod, d_ns AS dst_namespace, d_wl AS dst_workload, d_node AS dst_node,
	s_as AS src_as, s_asn AS src_as_name, s_cc AS src_country, d_as AS dst_as, d_asn AS dst_as_name, d_cc AS dst_country,
	b AS bytes, p AS packets, n AS flows
FROM (
	SELECT toStartOfHour(time) AS t, exporter_ip, exporter_name AS exp_name,
		in_if, in_if_name AS in_name, out_if, out_if_name AS out_name, direction, proto, application,
		src_port AS sport, dst_port AS dport, src_ip, dst_ip,
		src_pod AS s_pod, src_namespace AS s_ns, src_workload AS s_wl, src_node AS s_node,
		dst_pod AS d_pod, dst_namespace AS d_ns, dst_workload AS d_wl, dst_node AS d_node,
		src_as AS s_as, src_as_name AS s_asn, src_country AS s_cc, dst_as AS d_as, dst_as_name AS d_asn, dst_country AS d_cc,
		bytes AS b, packets AS p, flows AS n
	FROM flows_1m_local
	WHERE NOT startsWith(getSetting('insert_deduplication_token'), 'rolled-up:')
)
;

-- Version 4: socket health rollup
CREATE TABLE IF NOT EXISTS sockets_1m_local ON CLUSTER netstrata_cluster (
	time DateTime('UTC'),
	node LowCardinality(String),
	local_pod LowCardinality(String),
	local_namespace LowCardinality(String),
	local_workload LowCardinality(String),
	comm LowCardinality(String),
	direction Enum8('unspecified' = 0, 'client' = 1, 'server' = 2),
	local_ip IPv6,
	local_port UInt16,
	remote_ip IPv6,
	remote_port UInt16,
	remote_pod LowCardinality(String),
	remote_namespace LowCardinality(String),
	remote_workload LowCardinality(String),
	remote_node LowCardinality(String),
	samples SimpleAggregateFunction(sum, UInt64),
	sockets AggregateFunction(uniq, UInt64, UInt64),
	bytes_sent SimpleAggregateFunction(sum, UInt64),
	bytes_received SimpleAggregateFunction(sum, UInt64),
	segs_out SimpleAggregateFunction(sum, UInt64),
	segs_in SimpleAggregateFunction(sum, UInt64),
	retransmits SimpleAggregateFunction(sum, UInt64),
	connects SimpleAggregateFunction(sum, UInt64),
	srtt_max_us SimpleAggregateFunction(max, UInt32),
	srtt_us AggregateFunction(quantilesTDigest(0.5, 0.9, 0.99), UInt32),
	jitter_us AggregateFunction(quantilesTDigest(0.5, 0.9, 0.99), UInt32),
	connect_latency_us AggregateFunction(quantilesTDigest(0.5, 0.9, 0.99), UInt32)
) ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/{database}/sockets_1m_local', '{replica}')
ORDER BY (time, node, local_pod, comm, direction, remote_ip, remote_port, local_ip, local_port, local_namespace, local_workload, remote_pod, remote_namespace, remote_workload, remote_node)
PARTITION BY toYYYYMMDD(time)
TTL toDateTime(time) + toIntervalSecond(7776000)
SETTINGS replicated_deduplication_window = 10000, ttl_only_drop_parts = 1, min_bytes_for_wide_part = 200000000;

CREATE TABLE IF NOT EXISTS sockets_1m ON CLUSTER netstrata_cluster AS sockets_1m_local
ENGINE = Distributed(netstrata_cluster, netstrata, sockets_1m_local);

CREATE MATERIALIZED VIEW IF NOT EXISTS sockets_1m_mv ON CLUSTER netstrata_cluster TO sockets_1m_local AS
SELECT t AS time, node, local_pod, local_namespace, local_workload, comm, direction,
	local_ip, lport AS local_port, remote_ip, rport AS remote_port,
	remote_pod, remote_namespace, remote_workload, remote_node,
	toUInt64(count()) AS samples,
	uniqState(netns, socket_id) AS sockets,
	sum(sent) AS bytes_sent, sum(received) AS bytes_received,
	sum(so) AS segs_out, sum(si) AS segs_in, sum(toUInt64(retr)) AS retransmits,
	toUInt64(countIf(conn_us > 0)) AS connects,
	max(rtt_max) AS srtt_max_us,
	quantilesTDigestState(0.5, 0.9, 0.99)(rtt) AS srtt_us,
	quantilesTDigestState(0.5, 0.9, 0.99)(jit) AS jitter_us,
	quantilesTDigestStateIf(0.5, 0.9, 0.99)(conn_us, conn_us > 0) AS connect_latency_us
FROM (
	SELECT toStartOfMinute(time) AS t, node, local_pod, local_namespace, local_workload, comm, direction,
		local_ip, if(direction = 'client', 0, local_port) AS lport,
		remote_ip, if(direction = 'server', 0, remote_port) AS rport,
		remote_pod, remote_namespace, remote_workload, remote_node, netns, socket_id,
		bytes_sent AS sent, bytes_received AS received, segs_out AS so, segs_in AS si, retransmits AS retr,
		connect_latency_us AS conn_us, srtt_max_us AS rtt_max, srtt_us AS rtt, jitter_us AS jit
	FROM sockets_local
)
GROUP BY t, node, local_pod, local_namespace, local_workload, comm, direction, local_ip, lport, remote_ip, rport,
	remote_pod, remote_namespace, remote_workload, remote_node;

-- Version 5: interface reconciliation
CREATE TABLE IF NOT EXISTS interface_flows_5m_local ON CLUSTER netstrata_cluster (
	time DateTime('UTC'),
	exporter_ip IPv6,
	if_index UInt32,
	direction Enum8('in' = 1, 'out' = 2),
	bytes UInt64,
	packets UInt64,
	flows UInt64
) ENGINE = ReplicatedSummingMergeTree('/clickhouse/tables/{shard}/{database}/interface_flows_5m_local', '{replica}', (bytes, packets, flows))
ORDER BY (time, exporter_ip, if_index, direction)
PARTITION BY toYYYYMMDD(time)
TTL toDateTime(time) + toIntervalSecond(7776000)
SETTINGS replicated_deduplication_window = 10000, ttl_only_drop_parts = 1, min_bytes_for_wide_part = 200000000;

CREATE TABLE IF NOT EXISTS interface_flows_5m ON CLUSTER netstrata_cluster AS interface_flows_5m_local
ENGINE = Distributed(netstrata_cluster, netstrata, interface_flows_5m_local, cityHash64(exporter_ip, if_index));

CREATE MATERIALIZED VIEW IF NOT EXISTS interface_flows_5m_mv ON CLUSTER netstrata_cluster TO interface_flows_5m_local AS
SELECT t AS time, eip AS exporter_ip, ifx AS if_index, dir AS direction,
	sum(b) AS bytes, sum(p) AS packets, sum(n) AS flows
FROM (
	SELECT toStartOfFiveMinutes(time) AS t, exporter_ip AS eip, side.1 AS ifx, side.2 AS dir,
		bytes AS b, packets AS p, flows AS n
	FROM flows_1m_local ARRAY JOIN [(in_if, 'in'), (out_if, 'out')] AS side
	WHERE side.1 != 0 AND NOT startsWith(getSetting('insert_deduplication_token'), 'rolled-up:')
)
GROUP BY t, eip, ifx, dir;

CREATE TABLE IF NOT EXISTS interface_snmp_5m_local ON CLUSTER netstrata_cluster (
	time DateTime('UTC'),
	device_ip IPv6,
	if_index UInt32,
	device LowCardinality(String),
	if_name LowCardinality(String),
	speed_bps UInt64,
	in_octets UInt64,
	out_octets UInt64,
	in_pkts UInt64,
	out_pkts UInt64,
	polls UInt64,
	covered_ms UInt64
) ENGINE = ReplicatedSummingMergeTree('/clickhouse/tables/{shard}/{database}/interface_snmp_5m_local', '{replica}', (in_octets, out_octets, in_pkts, out_pkts, polls, covered_ms))
ORDER BY (time, device_ip, device, if_index)
PARTITION BY toYYYYMMDD(time)
TTL toDateTime(time) + toIntervalSecond(7776000)
SETTINGS replicated_deduplication_window = 10000, ttl_only_drop_parts = 1, min_bytes_for_wide_part = 200000000;

CREATE TABLE IF NOT EXISTS interface_snmp_5m ON CLUSTER netstrata_cluster AS interface_snmp_5m_local
ENGINE = Distributed(netstrata_cluster, netstrata, interface_snmp_5m_local);

CREATE MATERIALIZED VIEW IF NOT EXISTS interface_snmp_5m_mv ON CLUSTER netstrata_cluster TO interface_snmp_5m_local AS
SELECT t AS time, dip AS device_ip, ifx AS if_index, dev AS device, any(ifn) AS if_name, max(spd) AS speed_bps,
	sum(io) AS in_octets, sum(oo) AS out_octets, sum(ip) AS in_pkts, sum(op) AS out_pkts,
	toUInt64(count()) AS polls, sum(cov) AS covered_ms
FROM (
	SELECT toStartOfFiveMinutes(time) AS t, device_ip AS dip, if_index AS ifx, device AS dev, if_name AS ifn,
		speed_bps AS spd, delta_in_octets AS io, delta_out_octets AS oo, delta_in_pkts AS ip, delta_out_pkts AS op,
		toUInt64(greatest(toUnixTimestamp64Milli(time) - toUnixTimestamp64Milli(prev_time), 0)) AS cov
	FROM ifstats_local
	WHERE rate_valid
)
GROUP BY t, dip, dev, ifx;

CREATE VIEW IF NOT EXISTS interface_reconciliation ON CLUSTER netstrata_cluster AS
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
ON s.time = f.time AND s.device_ip = f.exporter_ip AND s.if_index = f.if_index;

-- Version 6: flow socket correlation
CREATE VIEW IF NOT EXISTS flow_socket_correlation ON CLUSTER netstrata_cluster AS
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
ON f.t = s.t AND f.ip_a = s.ip_a AND f.port_a = s.port_a AND f.ip_b = s.ip_b AND f.port_b = s.port_b;

-- Version 7: flow rollups as AggregatingMergeTree, compact parts
-- (nothing to do on a cluster: it is created at the current schema)
-- Version 8: interface tables keyed by device
-- (nothing to do on a cluster: it is created at the current schema)
-- Version 9: SNMP engine ID of a device
ALTER TABLE ifstats_local ON CLUSTER netstrata_cluster ADD COLUMN IF NOT EXISTS snmp_engine_id LowCardinality(String) DEFAULT '' AFTER sys_name;

ALTER TABLE ifstats ON CLUSTER netstrata_cluster ADD COLUMN IF NOT EXISTS snmp_engine_id LowCardinality(String) DEFAULT '' AFTER sys_name;

-- Version 10: flow time, interface and byte basis
ALTER TABLE flows_local ON CLUSTER netstrata_cluster ADD COLUMN IF NOT EXISTS time_basis Enum8('exporter' = 0, 'skew_corrected' = 1, 'received' = 2) DEFAULT 'exporter' AFTER time_flow_end, ADD COLUMN IF NOT EXISTS exporter_clock_skew_ms Int64 DEFAULT 0 AFTER time_basis, ADD COLUMN IF NOT EXISTS in_if_kind Enum8('ifindex' = 0, 'internal' = 1, 'discarded' = 2, 'multiple' = 3) DEFAULT 'ifindex' AFTER in_if_speed, ADD COLUMN IF NOT EXISTS in_if_detail UInt32 DEFAULT 0 AFTER in_if_kind, ADD COLUMN IF NOT EXISTS out_if_kind Enum8('ifindex' = 0, 'internal' = 1, 'discarded' = 2, 'multiple' = 3) DEFAULT 'ifindex' AFTER out_if_speed, ADD COLUMN IF NOT EXISTS out_if_detail UInt32 DEFAULT 0 AFTER out_if_kind, ADD COLUMN IF NOT EXISTS byte_basis Enum8('ip' = 0, 'frame' = 1) DEFAULT 'ip' AFTER packets;

ALTER TABLE flows ON CLUSTER netstrata_cluster ADD COLUMN IF NOT EXISTS time_basis Enum8('exporter' = 0, 'skew_corrected' = 1, 'received' = 2) DEFAULT 'exporter' AFTER time_flow_end, ADD COLUMN IF NOT EXISTS exporter_clock_skew_ms Int64 DEFAULT 0 AFTER time_basis, ADD COLUMN IF NOT EXISTS in_if_kind Enum8('ifindex' = 0, 'internal' = 1, 'discarded' = 2, 'multiple' = 3) DEFAULT 'ifindex' AFTER in_if_speed, ADD COLUMN IF NOT EXISTS in_if_detail UInt32 DEFAULT 0 AFTER in_if_kind, ADD COLUMN IF NOT EXISTS out_if_kind Enum8('ifindex' = 0, 'internal' = 1, 'discarded' = 2, 'multiple' = 3) DEFAULT 'ifindex' AFTER out_if_speed, ADD COLUMN IF NOT EXISTS out_if_detail UInt32 DEFAULT 0 AFTER out_if_kind, ADD COLUMN IF NOT EXISTS byte_basis Enum8('ip' = 0, 'frame' = 1) DEFAULT 'ip' AFTER packets;

-- Version 11: AS name and country of flows
-- (nothing to do on a cluster: it is created at the current schema)
-- Version 12: flow fields operators filter on
ALTER TABLE flows_local ON CLUSTER netstrata_cluster ADD COLUMN IF NOT EXISTS src_mac UInt64 CODEC(ZSTD(1)) AFTER application, ADD COLUMN IF NOT EXISTS dst_mac UInt64 CODEC(ZSTD(1)) AFTER src_mac, ADD COLUMN IF NOT EXISTS outer_vlan UInt16 AFTER dst_mac, ADD COLUMN IF NOT EXISTS mpls_labels Array(UInt32) AFTER outer_vlan, ADD COLUMN IF NOT EXISTS ip_ttl UInt8 AFTER mpls_labels, ADD COLUMN IF NOT EXISTS ipv6_flow_label UInt32 CODEC(ZSTD(1)) AFTER ip_ttl, ADD COLUMN IF NOT EXISTS forwarding_status UInt8 AFTER ipv6_flow_label, ADD COLUMN IF NOT EXISTS ingress_vrf UInt32 AFTER forwarding_status, ADD COLUMN IF NOT EXISTS egress_vrf UInt32 AFTER ingress_vrf, ADD COLUMN IF NOT EXISTS nat_src_ip IPv6 CODEC(ZSTD(1)) AFTER egress_vrf, ADD COLUMN IF NOT EXISTS nat_dst_ip IPv6 CODEC(ZSTD(1)) AFTER nat_src_ip, ADD COLUMN IF NOT EXISTS nat_src_port UInt16 AFTER nat_dst_ip, ADD COLUMN IF NOT EXISTS nat_dst_port UInt16 AFTER nat_src_port, ADD COLUMN IF NOT EXISTS icmp_type UInt8 AFTER nat_dst_port, ADD COLUMN IF NOT EXISTS icmp_code UInt8 AFTER icmp_type, ADD COLUMN IF NOT EXISTS tunnel_type Enum8('none' = 0, 'vxlan' = 1, 'gre' = 2, 'mpls' = 3, 'srv6' = 4) DEFAULT 'none' AFTER icmp_code, ADD COLUMN IF NOT EXISTS tunnel_src_ip IPv6 CODEC(ZSTD(1)) AFTER tunnel_type, ADD COLUMN IF NOT EXISTS tunnel_dst_ip IPv6 CODEC(ZSTD(1)) AFTER tunnel_src_ip, ADD COLUMN IF NOT EXISTS vxlan_vni UInt32 AFTER tunnel_dst_ip;

ALTER TABLE flows ON CLUSTER netstrata_cluster ADD COLUMN IF NOT EXISTS src_mac UInt64 CODEC(ZSTD(1)) AFTER application, ADD COLUMN IF NOT EXISTS dst_mac UInt64 CODEC(ZSTD(1)) AFTER src_mac, ADD COLUMN IF NOT EXISTS outer_vlan UInt16 AFTER dst_mac, ADD COLUMN IF NOT EXISTS mpls_labels Array(UInt32) AFTER outer_vlan, ADD COLUMN IF NOT EXISTS ip_ttl UInt8 AFTER mpls_labels, ADD COLUMN IF NOT EXISTS ipv6_flow_label UInt32 CODEC(ZSTD(1)) AFTER ip_ttl, ADD COLUMN IF NOT EXISTS forwarding_status UInt8 AFTER ipv6_flow_label, ADD COLUMN IF NOT EXISTS ingress_vrf UInt32 AFTER forwarding_status, ADD COLUMN IF NOT EXISTS egress_vrf UInt32 AFTER ingress_vrf, ADD COLUMN IF NOT EXISTS nat_src_ip IPv6 CODEC(ZSTD(1)) AFTER egress_vrf, ADD COLUMN IF NOT EXISTS nat_dst_ip IPv6 CODEC(ZSTD(1)) AFTER nat_src_ip, ADD COLUMN IF NOT EXISTS nat_src_port UInt16 AFTER nat_dst_ip, ADD COLUMN IF NOT EXISTS nat_dst_port UInt16 AFTER nat_src_port, ADD COLUMN IF NOT EXISTS icmp_type UInt8 AFTER nat_dst_port, ADD COLUMN IF NOT EXISTS icmp_code UInt8 AFTER icmp_type, ADD COLUMN IF NOT EXISTS tunnel_type Enum8('none' = 0, 'vxlan' = 1, 'gre' = 2, 'mpls' = 3, 'srv6' = 4) DEFAULT 'none' AFTER icmp_code, ADD COLUMN IF NOT EXISTS tunnel_src_ip IPv6 CODEC(ZSTD(1)) AFTER tunnel_type, ADD COLUMN IF NOT EXISTS tunnel_dst_ip IPv6 CODEC(ZSTD(1)) AFTER tunnel_src_ip, ADD COLUMN IF NOT EXISTS vxlan_vni UInt32 AFTER tunnel_dst_ip;

-- Version 13: alert history
CREATE TABLE IF NOT EXISTS alerts_local ON CLUSTER netstrata_cluster (
	time DateTime64(3, 'UTC') CODEC(Delta, ZSTD(1)),
	fingerprint String,
	rule LowCardinality(String),
	kind LowCardinality(String),
	status Enum8('firing' = 1, 'resolved' = 2),
	starts_at DateTime64(3, 'UTC'),
	ends_at DateTime64(3, 'UTC'),
	value Float64,
	labels Map(String, String),
	annotations Map(String, String),
	generator_url String,
	instance LowCardinality(String)
) ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/{database}/alerts_local', '{replica}')
ORDER BY (time, fingerprint)
PARTITION BY toYYYYMM(time)
TTL toDateTime(time) + toIntervalSecond(31536000)
SETTINGS replicated_deduplication_window = 10000, ttl_only_drop_parts = 1, min_bytes_for_wide_part = 200000000;

CREATE TABLE IF NOT EXISTS alerts ON CLUSTER netstrata_cluster AS alerts_local
ENGINE = Distributed(netstrata_cluster, netstrata, alerts_local, cityHash64(fingerprint));

-- Version 14: flow sessions per hour
CREATE TABLE IF NOT EXISTS flows_5tuple_1h_local ON CLUSTER netstrata_cluster (
	time DateTime('UTC'),
	exporter_ip IPv6,
	in_if UInt32,
	out_if UInt32,
	proto UInt8,
	src_ip IPv6,
	dst_ip IPv6,
	src_port UInt16,
	dst_port UInt16,
	bytes SimpleAggregateFunction(sum, UInt64),
	packets SimpleAggregateFunction(sum, UInt64),
	flows SimpleAggregateFunction(sum, UInt64)
) ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/{database}/flows_5tuple_1h_local', '{replica}')
ORDER BY (time, exporter_ip, in_if, out_if, proto, src_ip, dst_ip, src_port, dst_port)
PARTITION BY toYYYYMMDD(time)
TTL toDateTime(time) + toIntervalSecond(604800)
SETTINGS replicated_deduplication_window = 10000, ttl_only_drop_parts = 1, min_bytes_for_wide_part = 200000000;

CREATE TABLE IF NOT EXISTS flows_5tuple_1h ON CLUSTER netstrata_cluster AS flows_5tuple_1h_local
ENGINE = Distributed(netstrata_cluster, netstrata, flows_5tuple_1h_local);

CREATE MATERIALIZED VIEW IF NOT EXISTS flows_5tuple_1h_mv ON CLUSTER netstrata_cluster TO flows_5tuple_1h_local AS
SELECT t AS time, exporter_ip, in_if, out_if, proto, src_ip, dst_ip, src_port, dst_port, b AS bytes, p AS packets, toUInt64(1) AS flows
FROM (
	SELECT toStartOfHour(time_received) AS t, exporter_ip, in_if, out_if, proto, src_ip, dst_ip, src_port, dst_port, bytes * sampling_rate AS b, packets * sampling_rate AS p
	FROM flows_local
);

ALTER TABLE flows_5tuple_1h_local ON CLUSTER netstrata_cluster MODIFY COMMENT 'complete from 1970-01-01T00:00:00Z';

ALTER TABLE flows_5tuple_1h ON CLUSTER netstrata_cluster MODIFY COMMENT 'complete from 1970-01-01T00:00:00Z';

-- Version 15: ingest progress per writer group, fencing epoch
-- (nothing to do on a cluster: it is created at the current schema)
-- Version 16: pending alerts and webhook deliveries
CREATE TABLE IF NOT EXISTS alert_pending_local ON CLUSTER netstrata_cluster (
	time DateTime64(3, 'UTC') CODEC(Delta, ZSTD(1)),
	fingerprint String,
	rule LowCardinality(String),
	kind LowCardinality(String),
	active_at DateTime64(3, 'UTC'),
	labels Map(String, String),
	pending UInt8
) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/alert_pending_local', '{replica}', time)
ORDER BY (rule, fingerprint)
PARTITION BY toYYYYMM(time)
TTL toDateTime(time) + toIntervalSecond(31536000)
SETTINGS replicated_deduplication_window = 10000, ttl_only_drop_parts = 1, min_bytes_for_wide_part = 200000000;

CREATE TABLE IF NOT EXISTS alert_pending ON CLUSTER netstrata_cluster AS alert_pending_local
ENGINE = Distributed(netstrata_cluster, netstrata, alert_pending_local, cityHash64(fingerprint));

CREATE TABLE IF NOT EXISTS alert_deliveries_local ON CLUSTER netstrata_cluster (
	time DateTime64(3, 'UTC') CODEC(Delta, ZSTD(1)),
	receiver LowCardinality(String),
	fingerprint String,
	status Enum8('firing' = 1, 'resolved' = 2),
	starts_at DateTime64(3, 'UTC')
) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/alert_deliveries_local', '{replica}', time)
ORDER BY (receiver, fingerprint, status, starts_at)
PARTITION BY toYYYYMM(time)
TTL toDateTime(time) + toIntervalSecond(31536000)
SETTINGS replicated_deduplication_window = 10000, ttl_only_drop_parts = 1, min_bytes_for_wide_part = 200000000;

CREATE TABLE IF NOT EXISTS alert_deliveries ON CLUSTER netstrata_cluster AS alert_deliveries_local
ENGINE = Distributed(netstrata_cluster, netstrata, alert_deliveries_local, cityHash64(fingerprint));

-- Version 17: agent strategy of socket rows
ALTER TABLE sockets_local ON CLUSTER netstrata_cluster ADD COLUMN IF NOT EXISTS agent_strategy LowCardinality(String) DEFAULT '' AFTER close_time;

ALTER TABLE sockets ON CLUSTER netstrata_cluster ADD COLUMN IF NOT EXISTS agent_strategy LowCardinality(String) DEFAULT '' AFTER close_time;

-- Version 18: exporter sequence loss on flows
ALTER TABLE flows_local ON CLUSTER netstrata_cluster ADD COLUMN IF NOT EXISTS sequence_lost UInt32 DEFAULT 0 AFTER sequence;

ALTER TABLE flows ON CLUSTER netstrata_cluster ADD COLUMN IF NOT EXISTS sequence_lost UInt32 DEFAULT 0 AFTER sequence;

-- Version 19: flow sessions per 6-hour block
CREATE TABLE IF NOT EXISTS flows_5tuple_6h_local ON CLUSTER netstrata_cluster (
	time DateTime('UTC'),
	exporter_ip IPv6,
	in_if UInt32,
	out_if UInt32,
	proto UInt8,
	src_ip IPv6,
	dst_ip IPv6,
	src_port UInt16,
	dst_port UInt16,
	bytes SimpleAggregateFunction(sum, UInt64),
	packets SimpleAggregateFunction(sum, UInt64),
	flows SimpleAggregateFunction(sum, UInt64)
) ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/{database}/flows_5tuple_6h_local', '{replica}')
ORDER BY (time, exporter_ip, in_if, out_if, proto, src_ip, dst_ip, src_port, dst_port)
PARTITION BY toYYYYMMDD(time)
TTL toDateTime(time) + toIntervalSecond(604800)
SETTINGS replicated_deduplication_window = 10000, ttl_only_drop_parts = 1, min_bytes_for_wide_part = 200000000;

CREATE TABLE IF NOT EXISTS flows_5tuple_6h ON CLUSTER netstrata_cluster AS flows_5tuple_6h_local
ENGINE = Distributed(netstrata_cluster, netstrata, flows_5tuple_6h_local);

CREATE MATERIALIZED VIEW IF NOT EXISTS flows_5tuple_6h_mv ON CLUSTER netstrata_cluster REFRESH EVERY 1 HOUR OFFSET 10 MINUTE APPEND TO flows_5tuple_6h_local AS
SELECT t AS time, exporter_ip, in_if, out_if, proto, src_ip, dst_ip, src_port, dst_port, b AS bytes, p AS packets, n AS flows
FROM (
	SELECT toStartOfInterval(time, INTERVAL 6 HOUR) AS t, exporter_ip, in_if, out_if, proto, src_ip, dst_ip, src_port, dst_port, sum(bytes) AS b, sum(packets) AS p, sum(flows) AS n
	FROM flows_5tuple_1h_local
	WHERE time IN (
		SELECT arrayJoin(arrayMap(h -> block + toIntervalHour(h), range(6)))
		FROM (SELECT toStartOfInterval(now('UTC') - INTERVAL 10 MINUTE, INTERVAL 6 HOUR) - toIntervalHour(6 * (number + 1)) AS block FROM numbers(24))
		WHERE block NOT IN (SELECT time FROM flows_5tuple_6h_local)
	)
	GROUP BY t, exporter_ip, in_if, out_if, proto, src_ip, dst_ip, src_port, dst_port
)
ORDER BY time, exporter_ip, in_if, out_if, proto, src_ip, dst_ip, src_port, dst_port;

-- Version 20: flow rollups written by their writer
CREATE TABLE IF NOT EXISTS ingest_batches_local ON CLUSTER netstrata_cluster (
	time DateTime64(3, 'UTC') DEFAULT now64(3, 'UTC'),
	writer_group LowCardinality(String),
	topic LowCardinality(String),
	ranges Array(String)
) ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/{database}/ingest_batches_local', '{replica}')
ORDER BY (writer_group, topic, time)
TTL toDateTime(time) + INTERVAL 1 DAY
SETTINGS replicated_deduplication_window = 10000, ttl_only_drop_parts = 1, min_bytes_for_wide_part = 200000000;

CREATE TABLE IF NOT EXISTS ingest_batches ON CLUSTER netstrata_cluster AS ingest_batches_local
ENGINE = Distributed(netstrata_cluster, netstrata, ingest_batches_local, cityHash64(writer_group));

DROP VIEW IF EXISTS flows_1h_mv ON CLUSTER netstrata_cluster;

DROP VIEW IF EXISTS interface_flows_5m_mv ON CLUSTER netstrata_cluster;

DROP VIEW IF EXISTS flows_1m_mv ON CLUSTER netstrata_cluster;

CREATE MATERIALIZED VIEW IF NOT EXISTS flows_1m_mv ON CLUSTER netstrata_cluster TO flows_1m_local AS
SELECT t AS time, exporter_ip, any(exp_name) AS exporter_name,
	in_if, any(in_name) AS in_if_name, out_if, any(out_name) AS out_if_name,
	direction, proto, application, sport AS src_port, dport AS dst_port, src_ip, dst_ip,
	any(s_pod) AS src_pod, any(s_ns) AS src_namespace, any(s_wl) AS src_workload, any(s_node) AS src_node,
	any(d_pod) AS dst_pod, any(d_ns) AS dst_namespace, any(d_wl) AS dst_workload, any(d_node) AS dst_node,
	any(s_as) AS src_as, any(s_asn) AS src_as_name, any(s_cc) AS src_country,
	any(d_as) AS dst_as, any(d_asn) AS dst_as_name, any(d_cc) AS dst_country,
	sum(b) AS bytes, sum(p) AS packets, sum(n) AS flows
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
	FROM flows_local
	WHERE NOT startsWith(getSetting('insert_deduplication_token'), 'rolled-up:')
)
GROUP BY t, exporter_ip, in_if, out_if, direction, proto, application, sport, dport, src_ip, dst_ip;

CREATE MATERIALIZED VIEW IF NOT EXISTS flows_1h_mv ON CLUSTER netstrata_cluster TO flows_1h_local AS
SELECT t AS time, exporter_ip, exp_name AS exporter_name,
	in_if, in_name AS in_if_name, out_if, out_name AS out_if_name,
	direction, proto, application, sport AS src_port, dport AS dst_port, src_ip, dst_ip,
	s_pod AS src_pod, s_ns AS src_namespace, s_wl AS src_workload, s_node AS src_node,
	d_pod AS dst_pod, d_ns AS dst_namespace, d_wl AS dst_workload, d_node AS dst_node,
	s_as AS src_as, s_asn AS src_as_name, s_cc AS src_country, d_as AS dst_as, d_asn AS dst_as_name, d_cc AS dst_country,
	b AS bytes, p AS packets, n AS flows
FROM (
	SELECT toStartOfHour(time) AS t, exporter_ip, exporter_name AS exp_name,
		in_if, in_if_name AS in_name, out_if, out_if_name AS out_name, direction, proto, application,
		src_port AS sport, dst_port AS dport, src_ip, dst_ip,
		src_pod AS s_pod, src_namespace AS s_ns, src_workload AS s_wl, src_node AS s_node,
		dst_pod AS d_pod, dst_namespace AS d_ns, dst_workload AS d_wl, dst_node AS d_node,
		src_as AS s_as, src_as_name AS s_asn, src_country AS s_cc, dst_as AS d_as, dst_as_name AS d_asn, dst_country AS d_cc,
		bytes AS b, packets AS p, flows AS n
	FROM flows_1m_local
	WHERE NOT startsWith(getSetting('insert_deduplication_token'), 'rolled-up:')
)
;

CREATE MATERIALIZED VIEW IF NOT EXISTS interface_flows_5m_mv ON CLUSTER netstrata_cluster TO interface_flows_5m_local AS
SELECT t AS time, eip AS exporter_ip, ifx AS if_index, dir AS direction,
	sum(b) AS bytes, sum(p) AS packets, sum(n) AS flows
FROM (
	SELECT toStartOfFiveMinutes(time) AS t, exporter_ip AS eip, side.1 AS ifx, side.2 AS dir,
		bytes AS b, packets AS p, flows AS n
	FROM flows_1m_local ARRAY JOIN [(in_if, 'in'), (out_if, 'out')] AS side
	WHERE side.1 != 0 AND NOT startsWith(getSetting('insert_deduplication_token'), 'rolled-up:')
)
GROUP BY t, eip, ifx, dir;

-- Version 21: flow progress written by its writer
DROP VIEW IF EXISTS flows_progress_mv ON CLUSTER netstrata_cluster;

CREATE MATERIALIZED VIEW IF NOT EXISTS flows_progress_mv ON CLUSTER netstrata_cluster TO ingest_progress_local AS
SELECT 'netstrata.flows.v1' AS topic, toUInt32(kafka_partition) AS partition, toString(getSetting('log_comment')) AS writer_group,
	max(kafka_offset) AS max_offset, toUInt64(count()) AS rows, now64(3, 'UTC') AS updated
FROM flows_local
WHERE NOT startsWith(getSetting('insert_deduplication_token'), 'rolled-up:')
GROUP BY kafka_partition;

-- Version 22: flow sessions per hour and 6-hour block without the path
CREATE TABLE IF NOT EXISTS flow_sessions_1h_local ON CLUSTER netstrata_cluster (
	time DateTime('UTC'),
	proto UInt8,
	src_ip IPv6,
	dst_ip IPv6,
	src_port UInt16,
	dst_port UInt16,
	bytes SimpleAggregateFunction(sum, UInt64),
	packets SimpleAggregateFunction(sum, UInt64),
	flows SimpleAggregateFunction(sum, UInt64)
) ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/{database}/flow_sessions_1h_local', '{replica}')
ORDER BY (time, proto, src_ip, dst_ip, src_port, dst_port)
PARTITION BY toYYYYMMDD(time)
TTL toDateTime(time) + toIntervalSecond(604800)
SETTINGS replicated_deduplication_window = 10000, ttl_only_drop_parts = 1, min_bytes_for_wide_part = 200000000;

CREATE TABLE IF NOT EXISTS flow_sessions_1h ON CLUSTER netstrata_cluster AS flow_sessions_1h_local
ENGINE = Distributed(netstrata_cluster, netstrata, flow_sessions_1h_local);

CREATE MATERIALIZED VIEW IF NOT EXISTS flow_sessions_1h_mv ON CLUSTER netstrata_cluster REFRESH EVERY 1 HOUR OFFSET 10 MINUTE APPEND TO flow_sessions_1h_local AS
SELECT t AS time, proto, src_ip, dst_ip, src_port, dst_port, b AS bytes, p AS packets, n AS flows
FROM (
	SELECT toStartOfInterval(time, INTERVAL 1 HOUR) AS t, proto, src_ip, dst_ip, src_port, dst_port, sum(bytes) AS b, sum(packets) AS p, sum(flows) AS n
	FROM flows_5tuple_1h_local
	WHERE time IN (
		SELECT arrayJoin(arrayMap(h -> block + toIntervalHour(h), range(1)))
		FROM (SELECT toStartOfInterval(now('UTC') - INTERVAL 10 MINUTE, INTERVAL 1 HOUR) - toIntervalHour(1 * (number + 1)) AS block FROM numbers(144))
		WHERE block NOT IN (SELECT time FROM flow_sessions_1h_local)
	)
	GROUP BY t, proto, src_ip, dst_ip, src_port, dst_port
)
ORDER BY time, proto, src_ip, dst_ip, src_port, dst_port;

CREATE TABLE IF NOT EXISTS flow_sessions_6h_local ON CLUSTER netstrata_cluster (
	time DateTime('UTC'),
	proto UInt8,
	src_ip IPv6,
	dst_ip IPv6,
	src_port UInt16,
	dst_port UInt16,
	bytes SimpleAggregateFunction(sum, UInt64),
	packets SimpleAggregateFunction(sum, UInt64),
	flows SimpleAggregateFunction(sum, UInt64)
) ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/{database}/flow_sessions_6h_local', '{replica}')
ORDER BY (time, proto, src_ip, dst_ip, src_port, dst_port)
PARTITION BY toYYYYMMDD(time)
TTL toDateTime(time) + toIntervalSecond(604800)
SETTINGS replicated_deduplication_window = 10000, ttl_only_drop_parts = 1, min_bytes_for_wide_part = 200000000;

CREATE TABLE IF NOT EXISTS flow_sessions_6h ON CLUSTER netstrata_cluster AS flow_sessions_6h_local
ENGINE = Distributed(netstrata_cluster, netstrata, flow_sessions_6h_local);

CREATE MATERIALIZED VIEW IF NOT EXISTS flow_sessions_6h_mv ON CLUSTER netstrata_cluster REFRESH EVERY 1 HOUR OFFSET 10 MINUTE APPEND TO flow_sessions_6h_local AS
SELECT t AS time, proto, src_ip, dst_ip, src_port, dst_port, b AS bytes, p AS packets, n AS flows
FROM (
	SELECT toStartOfInterval(time, INTERVAL 6 HOUR) AS t, proto, src_ip, dst_ip, src_port, dst_port, sum(bytes) AS b, sum(packets) AS p, sum(flows) AS n
	FROM flows_5tuple_1h_local
	WHERE time IN (
		SELECT arrayJoin(arrayMap(h -> block + toIntervalHour(h), range(6)))
		FROM (SELECT toStartOfInterval(now('UTC') - INTERVAL 10 MINUTE, INTERVAL 6 HOUR) - toIntervalHour(6 * (number + 1)) AS block FROM numbers(24))
		WHERE block NOT IN (SELECT time FROM flow_sessions_6h_local)
	)
	GROUP BY t, proto, src_ip, dst_ip, src_port, dst_port
)
ORDER BY time, proto, src_ip, dst_ip, src_port, dst_port;

