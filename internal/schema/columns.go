package schema

import "slices"

// The columns of the raw tables, by the names the correlator inserts and
// the API queries: a column is named here once, and its type is declared
// beside it in rawColumns, which a test checks against the tables that
// Ensure creates (every column of each raw table, no more, same type).
// The rollups keep the raw columns' names for the columns they keep
// (flows_1m's src_ip is FlowSrcIP); SCHEMA.md describes each.

// Columns every raw table ends with: the record's Kafka origin.
const (
	KafkaPartition = "kafka_partition"
	KafkaOffset    = "kafka_offset"
)

// Columns of flows (time_flow_start/end: the flow as the exporter saw it;
// time_received: when the collector got it, the table's time column).
const (
	FlowTimeReceived        = "time_received"
	FlowTimeFlowStart       = "time_flow_start"
	FlowTimeFlowEnd         = "time_flow_end"
	FlowTimeBasis           = "time_basis"
	FlowExporterClockSkewMs = "exporter_clock_skew_ms"
	FlowType                = "flow_type"
	FlowExporterIP          = "exporter_ip"
	FlowExporterName        = "exporter_name"
	FlowObservationDomain   = "observation_domain"
	FlowSequence            = "sequence"
	FlowSequenceLost        = "sequence_lost"
	FlowSamplingRate        = "sampling_rate"
	FlowInIf                = "in_if"
	FlowInIfName            = "in_if_name"
	FlowInIfAlias           = "in_if_alias"
	FlowInIfSpeed           = "in_if_speed"
	FlowInIfKind            = "in_if_kind"
	FlowInIfDetail          = "in_if_detail"
	FlowOutIf               = "out_if"
	FlowOutIfName           = "out_if_name"
	FlowOutIfAlias          = "out_if_alias"
	FlowOutIfSpeed          = "out_if_speed"
	FlowOutIfKind           = "out_if_kind"
	FlowOutIfDetail         = "out_if_detail"
	FlowDirection           = "direction"
	FlowSrcIP               = "src_ip"
	FlowDstIP               = "dst_ip"
	FlowSrcPort             = "src_port"
	FlowDstPort             = "dst_port"
	FlowProto               = "proto"
	FlowTCPFlags            = "tcp_flags"
	FlowEtype               = "etype"
	FlowIPToS               = "ip_tos"
	FlowBytes               = "bytes"
	FlowPackets             = "packets"
	FlowByteBasis           = "byte_basis"
	FlowSrcVLAN             = "src_vlan"
	FlowDstVLAN             = "dst_vlan"
	FlowNextHop             = "next_hop"
	FlowSrcAS               = "src_as"
	FlowDstAS               = "dst_as"
	FlowSrcASName           = "src_as_name"
	FlowDstASName           = "dst_as_name"
	FlowSrcCountry          = "src_country"
	FlowDstCountry          = "dst_country"
	FlowSrcMask             = "src_mask"
	FlowDstMask             = "dst_mask"
	FlowApplication         = "application"
	FlowSrcMAC              = "src_mac"
	FlowDstMAC              = "dst_mac"
	FlowOuterVLAN           = "outer_vlan"
	FlowMPLSLabels          = "mpls_labels"
	FlowIPTTL               = "ip_ttl"
	FlowIPv6FlowLabel       = "ipv6_flow_label"
	FlowForwardingStatus    = "forwarding_status"
	FlowIngressVRF          = "ingress_vrf"
	FlowEgressVRF           = "egress_vrf"
	FlowNATSrcIP            = "nat_src_ip"
	FlowNATDstIP            = "nat_dst_ip"
	FlowNATSrcPort          = "nat_src_port"
	FlowNATDstPort          = "nat_dst_port"
	FlowICMPType            = "icmp_type"
	FlowICMPCode            = "icmp_code"
	FlowTunnelType          = "tunnel_type"
	FlowTunnelSrcIP         = "tunnel_src_ip"
	FlowTunnelDstIP         = "tunnel_dst_ip"
	FlowVXLANVNI            = "vxlan_vni"
	FlowSrcPod              = "src_pod"
	FlowSrcNamespace        = "src_namespace"
	FlowSrcWorkload         = "src_workload"
	FlowSrcNode             = "src_node"
	FlowDstPod              = "dst_pod"
	FlowDstNamespace        = "dst_namespace"
	FlowDstWorkload         = "dst_workload"
	FlowDstNode             = "dst_node"
)

// Columns of sockets.
const (
	SocketTime             = "time"
	SocketIntervalMs       = "interval_ms"
	SocketNode             = "node"
	SocketNetns            = "netns"
	SocketID               = "socket_id"
	SocketLocalIP          = "local_ip"
	SocketLocalPort        = "local_port"
	SocketRemoteIP         = "remote_ip"
	SocketRemotePort       = "remote_port"
	SocketDirection        = "direction"
	SocketPID              = "pid"
	SocketComm             = "comm"
	SocketCgroupID         = "cgroup_id"
	SocketContainerID      = "container_id"
	SocketPodUID           = "pod_uid"
	SocketLocalPod         = "local_pod"
	SocketLocalNamespace   = "local_namespace"
	SocketLocalWorkload    = "local_workload"
	SocketRemotePod        = "remote_pod"
	SocketRemoteNamespace  = "remote_namespace"
	SocketRemoteWorkload   = "remote_workload"
	SocketRemoteNode       = "remote_node"
	SocketBytesSent        = "bytes_sent"
	SocketBytesReceived    = "bytes_received"
	SocketSegsOut          = "segs_out"
	SocketSegsIn           = "segs_in"
	SocketRetransmits      = "retransmits"
	SocketTotalRetrans     = "total_retrans"
	SocketSRTTUs           = "srtt_us"
	SocketSRTTMinUs        = "srtt_min_us"
	SocketSRTTMaxUs        = "srtt_max_us"
	SocketRTTVarUs         = "rttvar_us"
	SocketJitterUs         = "jitter_us"
	SocketConnectLatencyUs = "connect_latency_us"
	SocketState            = "state"
	SocketOpenTime         = "open_time"
	SocketCloseTime        = "close_time"
	SocketAgentStrategy    = "agent_strategy"
)

// Columns of ifstats.
const (
	IfStatsTime             = "time"
	IfStatsPrevTime         = "prev_time"
	IfStatsDevice           = "device"
	IfStatsDeviceIP         = "device_ip"
	IfStatsSysName          = "sys_name"
	IfStatsSNMPEngineID     = "snmp_engine_id"
	IfStatsSysUptimeCs      = "sys_uptime_cs"
	IfStatsIfIndex          = "if_index"
	IfStatsIfName           = "if_name"
	IfStatsIfAlias          = "if_alias"
	IfStatsIfDescr          = "if_descr"
	IfStatsSpeedBps         = "speed_bps"
	IfStatsOperStatus       = "oper_status"
	IfStatsAdminStatus      = "admin_status"
	IfStatsHCCounters       = "hc_counters"
	IfStatsInOctets         = "in_octets"
	IfStatsOutOctets        = "out_octets"
	IfStatsInUcastPkts      = "in_ucast_pkts"
	IfStatsOutUcastPkts     = "out_ucast_pkts"
	IfStatsInMcastPkts      = "in_mcast_pkts"
	IfStatsOutMcastPkts     = "out_mcast_pkts"
	IfStatsInBcastPkts      = "in_bcast_pkts"
	IfStatsOutBcastPkts     = "out_bcast_pkts"
	IfStatsInErrors         = "in_errors"
	IfStatsOutErrors        = "out_errors"
	IfStatsInDiscards       = "in_discards"
	IfStatsOutDiscards      = "out_discards"
	IfStatsRateValid        = "rate_valid"
	IfStatsDeltaInOctets    = "delta_in_octets"
	IfStatsDeltaOutOctets   = "delta_out_octets"
	IfStatsDeltaInPkts      = "delta_in_pkts"
	IfStatsDeltaOutPkts     = "delta_out_pkts"
	IfStatsDeltaInErrors    = "delta_in_errors"
	IfStatsDeltaOutErrors   = "delta_out_errors"
	IfStatsDeltaInDiscards  = "delta_in_discards"
	IfStatsDeltaOutDiscards = "delta_out_discards"
	IfStatsInBps            = "in_bps"
	IfStatsOutBps           = "out_bps"
	IfStatsInPps            = "in_pps"
	IfStatsOutPps           = "out_pps"
	IfStatsInUtilization    = "in_utilization"
	IfStatsOutUtilization   = "out_utilization"
	IfStatsCounterReset     = "counter_reset"
	IfStatsCounterWrap      = "counter_wrap"
	IfStatsOverSpeed        = "over_speed"
)

// Columns of pods.
const (
	PodTime                        = "time"
	PodUID                         = "uid"
	PodName                        = "name"
	PodNamespace                   = "namespace"
	PodNode                        = "node"
	PodIPs                         = "ips"
	PodOwnerKind                   = "owner_kind"
	PodOwnerName                   = "owner_name"
	PodPhase                       = "phase"
	PodRestarts                    = "restarts"
	PodContainerNames              = "container_names"
	PodContainerIDs                = "container_ids"
	PodContainerImages             = "container_images"
	PodContainerRestarts           = "container_restarts"
	PodContainerCPURequestMillis   = "container_cpu_request_millis"
	PodContainerCPULimitMillis     = "container_cpu_limit_millis"
	PodContainerMemoryRequestBytes = "container_memory_request_bytes"
	PodContainerMemoryLimitBytes   = "container_memory_limit_bytes"
	PodStartTime                   = "start_time"
	PodDeleted                     = "deleted"
	PodHostNetwork                 = "host_network"
	PodLabels                      = "labels"
)

// Column is a column of a table: its name and its ClickHouse type as the
// engine reports it (system.columns).
type Column struct{ Name, Type string }

// Columns are the columns of a raw table (TableFlows, TableSockets,
// TableIfStats, TablePods), nil for other tables.
func Columns(table string) []Column { return slices.Clone(rawColumns[table]) }

// rawColumns declares every column of each raw table with its type.
var rawColumns = map[string][]Column{
	TableFlows: {
		{FlowTimeReceived, ms}, {FlowTimeFlowStart, ms}, {FlowTimeFlowEnd, ms},
		{FlowTimeBasis, enumTimeBasis}, {FlowExporterClockSkewMs, "Int64"}, {FlowType, enumFlowType},
		{FlowExporterIP, "IPv6"}, {FlowExporterName, lc}, {FlowObservationDomain, "UInt32"},
		{FlowSequence, "UInt32"}, {FlowSequenceLost, "UInt32"}, {FlowSamplingRate, "UInt64"}, {FlowInIf, "UInt32"}, {FlowInIfName, lc},
		{FlowInIfAlias, lc}, {FlowInIfSpeed, "UInt64"}, {FlowInIfKind, enumInterfaceKind},
		{FlowInIfDetail, "UInt32"}, {FlowOutIf, "UInt32"}, {FlowOutIfName, lc}, {FlowOutIfAlias, lc},
		{FlowOutIfSpeed, "UInt64"}, {FlowOutIfKind, enumInterfaceKind}, {FlowOutIfDetail, "UInt32"},
		{FlowDirection, enumFlowDirection}, {FlowSrcIP, "IPv6"}, {FlowDstIP, "IPv6"},
		{FlowSrcPort, "UInt16"}, {FlowDstPort, "UInt16"}, {FlowProto, "UInt8"}, {FlowTCPFlags, "UInt16"},
		{FlowEtype, "UInt16"}, {FlowIPToS, "UInt8"}, {FlowBytes, "UInt64"}, {FlowPackets, "UInt64"},
		{FlowByteBasis, enumByteBasis}, {FlowSrcVLAN, "UInt16"}, {FlowDstVLAN, "UInt16"},
		{FlowNextHop, "IPv6"}, {FlowSrcAS, "UInt32"}, {FlowDstAS, "UInt32"}, {FlowSrcASName, lc},
		{FlowDstASName, lc}, {FlowSrcCountry, lc}, {FlowDstCountry, lc}, {FlowSrcMask, "UInt8"},
		{FlowDstMask, "UInt8"}, {FlowApplication, lc}, {FlowSrcMAC, "UInt64"}, {FlowDstMAC, "UInt64"},
		{FlowOuterVLAN, "UInt16"}, {FlowMPLSLabels, "Array(UInt32)"}, {FlowIPTTL, "UInt8"},
		{FlowIPv6FlowLabel, "UInt32"}, {FlowForwardingStatus, "UInt8"}, {FlowIngressVRF, "UInt32"},
		{FlowEgressVRF, "UInt32"}, {FlowNATSrcIP, "IPv6"}, {FlowNATDstIP, "IPv6"},
		{FlowNATSrcPort, "UInt16"}, {FlowNATDstPort, "UInt16"}, {FlowICMPType, "UInt8"},
		{FlowICMPCode, "UInt8"}, {FlowTunnelType, enumTunnelType}, {FlowTunnelSrcIP, "IPv6"},
		{FlowTunnelDstIP, "IPv6"}, {FlowVXLANVNI, "UInt32"}, {FlowSrcPod, lc}, {FlowSrcNamespace, lc},
		{FlowSrcWorkload, lc}, {FlowSrcNode, lc}, {FlowDstPod, lc}, {FlowDstNamespace, lc},
		{FlowDstWorkload, lc}, {FlowDstNode, lc}, {KafkaPartition, "UInt16"}, {KafkaOffset, "UInt64"},
	},
	TableSockets: {
		{SocketTime, ms}, {SocketIntervalMs, "UInt32"}, {SocketNode, lc}, {SocketNetns, "UInt64"},
		{SocketID, "UInt64"}, {SocketLocalIP, "IPv6"}, {SocketLocalPort, "UInt16"},
		{SocketRemoteIP, "IPv6"}, {SocketRemotePort, "UInt16"}, {SocketDirection, enumSocketDir},
		{SocketPID, "UInt32"}, {SocketComm, lc}, {SocketCgroupID, "UInt64"}, {SocketContainerID, lc},
		{SocketPodUID, lc}, {SocketLocalPod, lc}, {SocketLocalNamespace, lc}, {SocketLocalWorkload, lc},
		{SocketRemotePod, lc}, {SocketRemoteNamespace, lc}, {SocketRemoteWorkload, lc},
		{SocketRemoteNode, lc}, {SocketBytesSent, "UInt64"}, {SocketBytesReceived, "UInt64"},
		{SocketSegsOut, "UInt64"}, {SocketSegsIn, "UInt64"}, {SocketRetransmits, "UInt32"},
		{SocketTotalRetrans, "UInt32"}, {SocketSRTTUs, "UInt32"}, {SocketSRTTMinUs, "UInt32"},
		{SocketSRTTMaxUs, "UInt32"}, {SocketRTTVarUs, "UInt32"}, {SocketJitterUs, "UInt32"},
		{SocketConnectLatencyUs, "UInt32"}, {SocketState, "UInt8"}, {SocketOpenTime, ms},
		{SocketCloseTime, ms}, {SocketAgentStrategy, lc}, {KafkaPartition, "UInt16"},
		{KafkaOffset, "UInt64"},
	},
	TableIfStats: {
		{IfStatsTime, ms}, {IfStatsPrevTime, ms}, {IfStatsDevice, lc}, {IfStatsDeviceIP, "IPv6"},
		{IfStatsSysName, lc}, {IfStatsSNMPEngineID, lc}, {IfStatsSysUptimeCs, "UInt64"},
		{IfStatsIfIndex, "UInt32"}, {IfStatsIfName, lc}, {IfStatsIfAlias, lc}, {IfStatsIfDescr, lc},
		{IfStatsSpeedBps, "UInt64"}, {IfStatsOperStatus, "UInt8"}, {IfStatsAdminStatus, "UInt8"},
		{IfStatsHCCounters, "Bool"}, {IfStatsInOctets, "UInt64"}, {IfStatsOutOctets, "UInt64"},
		{IfStatsInUcastPkts, "UInt64"}, {IfStatsOutUcastPkts, "UInt64"}, {IfStatsInMcastPkts, "UInt64"},
		{IfStatsOutMcastPkts, "UInt64"}, {IfStatsInBcastPkts, "UInt64"}, {IfStatsOutBcastPkts, "UInt64"},
		{IfStatsInErrors, "UInt64"}, {IfStatsOutErrors, "UInt64"}, {IfStatsInDiscards, "UInt64"},
		{IfStatsOutDiscards, "UInt64"}, {IfStatsRateValid, "Bool"}, {IfStatsDeltaInOctets, "UInt64"},
		{IfStatsDeltaOutOctets, "UInt64"}, {IfStatsDeltaInPkts, "UInt64"}, {IfStatsDeltaOutPkts, "UInt64"},
		{IfStatsDeltaInErrors, "UInt64"}, {IfStatsDeltaOutErrors, "UInt64"},
		{IfStatsDeltaInDiscards, "UInt64"}, {IfStatsDeltaOutDiscards, "UInt64"}, {IfStatsInBps, "Float64"},
		{IfStatsOutBps, "Float64"}, {IfStatsInPps, "Float64"}, {IfStatsOutPps, "Float64"},
		{IfStatsInUtilization, "Float64"}, {IfStatsOutUtilization, "Float64"},
		{IfStatsCounterReset, "Bool"}, {IfStatsCounterWrap, "Bool"}, {IfStatsOverSpeed, "Bool"},
		{KafkaPartition, "UInt16"}, {KafkaOffset, "UInt64"},
	},
	TablePods: {
		{PodTime, ms}, {PodUID, "String"}, {PodName, lc}, {PodNamespace, lc}, {PodNode, lc},
		{PodIPs, "Array(IPv6)"}, {PodOwnerKind, lc}, {PodOwnerName, lc}, {PodPhase, lc},
		{PodRestarts, "UInt32"}, {PodContainerNames, "Array(String)"}, {PodContainerIDs, "Array(String)"},
		{PodContainerImages, "Array(String)"}, {PodContainerRestarts, "Array(UInt32)"},
		{PodContainerCPURequestMillis, "Array(Int64)"}, {PodContainerCPULimitMillis, "Array(Int64)"},
		{PodContainerMemoryRequestBytes, "Array(Int64)"}, {PodContainerMemoryLimitBytes, "Array(Int64)"},
		{PodStartTime, ms}, {PodDeleted, "Bool"}, {PodHostNetwork, "Bool"},
		{PodLabels, "Map(String, String)"}, {KafkaPartition, "UInt16"}, {KafkaOffset, "UInt64"},
	},
}
