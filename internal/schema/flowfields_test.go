package schema_test

import (
	"strings"
	"testing"

	"github.com/netstrata/netstrata/internal/schema"
	"github.com/netstrata/netstrata/internal/schema/schematest"
)

// flowFieldNames are the columns version 12 adds to flows.
var flowFieldNames = []string{"src_mac", "dst_mac", "outer_vlan", "mpls_labels", "ip_ttl", "ipv6_flow_label",
	"forwarding_status", "ingress_vrf", "egress_vrf", "nat_src_ip", "nat_dst_ip", "nat_src_port", "nat_dst_port",
	"icmp_type", "icmp_code", "tunnel_type", "tunnel_src_ip", "tunnel_dst_ip", "vxlan_vni"}

// TestUpgradeAddsTheFlowFieldsInPlace takes a flows table from before
// version 12 with rows in it (in a part of its own), upgrades it (twice,
// as after a crash), and checks the rows kept, read as "not exported",
// the rollups fed as before, and that the new columns take new rows.
func TestUpgradeAddsTheFlowFieldsInPlace(t *testing.T) {
	conn, _ := schematest.Open(t, schema.DefaultOptions())
	exec := execer(t, conn)
	exec("ALTER TABLE flows DROP COLUMN " + strings.Join(flowFieldNames, ", DROP COLUMN "))
	insert(t, conn, "flows/0/1-2", `INSERT INTO flows `+flowCols+` VALUES
		('2026-01-01 10:00:05', 0, '::ffff:192.0.2.1', 'sw1', 100, 3, 'eth3', 4, 'eth4', '::ffff:10.0.0.1', '::ffff:10.0.0.2', 50000, 443, 6, 1000, 10, 'https', 'web-1', 'api-1', 0, 1),
		('2026-01-01 10:00:06', 0, '::ffff:192.0.2.1', 'sw1', 100, 3, 'eth3', 4, 'eth4', '::ffff:10.0.0.1', '::ffff:10.0.0.3', 0, 771, 1, 84, 1, '', '', '', 0, 2)`)

	upgradeTwice(t, conn, 12)
	if n := scalar[uint64](t, conn, `SELECT count() FROM flows WHERE src_mac = 0 AND dst_mac = 0 AND outer_vlan = 0 AND empty(mpls_labels)
		AND ip_ttl = 0 AND ipv6_flow_label = 0 AND forwarding_status = 0 AND ingress_vrf = 0 AND egress_vrf = 0
		AND nat_src_ip = '::' AND nat_dst_ip = '::' AND nat_src_port = 0 AND nat_dst_port = 0 AND icmp_type = 0 AND icmp_code = 0
		AND tunnel_type = 'none' AND tunnel_src_ip = '::' AND tunnel_dst_ip = '::' AND vxlan_vni = 0 AND in_if = 3 AND bytes > 0`); n != 2 {
		t.Fatalf("%d of 2 old rows kept and read as not exported", n)
	}
	insert(t, conn, "flows/0/3-3", `INSERT INTO flows (time_received, exporter_ip, sampling_rate, src_ip, dst_ip, proto, bytes, packets,
		src_mac, dst_mac, outer_vlan, mpls_labels, ip_ttl, ipv6_flow_label, forwarding_status, ingress_vrf, egress_vrf,
		nat_src_ip, nat_dst_ip, nat_src_port, nat_dst_port, icmp_type, icmp_code, tunnel_type, tunnel_src_ip, tunnel_dst_ip, vxlan_vni,
		kafka_partition, kafka_offset) VALUES
		('2026-01-01 10:00:07', '::ffff:192.0.2.1', 1, '::ffff:10.0.0.1', '::ffff:10.0.0.4', 17, 100, 1,
		 0x001122334455, 0xaabbccddeeff, 100, [16004, 299776], 63, 0xabcde, 0x82, 10, 20,
		 '::ffff:203.0.113.5', '::ffff:198.51.100.7', 40000, 53, 0, 0, 'vxlan', '::ffff:192.0.2.10', '::ffff:192.0.2.11', 5001,
		 0, 3)`)
	if n := scalar[uint64](t, conn, `SELECT count() FROM flows WHERE src_mac = 0x001122334455 AND mpls_labels[1] = 16004 AND ip_ttl = 63
		AND forwarding_status = 0x82 AND nat_src_ip = '::ffff:203.0.113.5' AND tunnel_type = 'vxlan' AND vxlan_vni = 5001`); n != 1 {
		t.Errorf("the new columns did not take a new row")
	}
	if b := scalar[uint64](t, conn, "SELECT sum(bytes) FROM flows_1m"); b != 1000*100+84*100+100 {
		t.Errorf("flows_1m bytes = %d after the upgrade, want %d", b, 1000*100+84*100+100)
	}
}
