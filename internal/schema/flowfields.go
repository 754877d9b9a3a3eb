package schema

// Version 12 stores the fields operators filter on that record.Flow
// carries from field 47 on: layer 2 (MACs, QinQ's outer tag), MPLS
// labels, IP TTL and IPv6 flow label, forwarding status, VRFs, NAT
// post-translation endpoints, ICMP type and code, and the outer endpoints
// of a decapsulated tunnel.
//
// Only the raw table gets them: the rollups' keys stay as they are, so
// that ingest costs what it did, and the API ranks and filters by these
// columns on flows (raw retention, 7 days by default). ADD COLUMN changes
// metadata only: existing parts are not rewritten, their rows read the
// defaults (0, ::, [], 'none'), which is what "not exported" reads as.

// enumTunnelType's numbers are record.TunnelType's.
const enumTunnelType = "Enum8('none' = 0, 'vxlan' = 1, 'gre' = 2, 'mpls' = 3, 'srv6' = 4)"

// flowFieldColumns are the columns version 12 adds to flows, after
// application.
const flowFieldColumns = `
	src_mac UInt64 CODEC(ZSTD(1)),
	dst_mac UInt64 CODEC(ZSTD(1)),
	outer_vlan UInt16,
	mpls_labels Array(UInt32),
	ip_ttl UInt8,
	ipv6_flow_label UInt32 CODEC(ZSTD(1)),
	forwarding_status UInt8,
	ingress_vrf UInt32,
	egress_vrf UInt32,
	nat_src_ip IPv6 CODEC(ZSTD(1)),
	nat_dst_ip IPv6 CODEC(ZSTD(1)),
	nat_src_port UInt16,
	nat_dst_port UInt16,
	icmp_type UInt8,
	icmp_code UInt8,
	tunnel_type ` + enumTunnelType + ` DEFAULT 'none',
	tunnel_src_ip IPv6 CODEC(ZSTD(1)),
	tunnel_dst_ip IPv6 CODEC(ZSTD(1)),
	vxlan_vni UInt32,`

// flowFields is the statement of version 12.
var flowFields = "ALTER TABLE " + TableFlows + " " + addColumns(flowFieldColumns, "application")
