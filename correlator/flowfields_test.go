package correlator

import (
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/netstrata/netstrata/internal/record"
)

// TestAnOutOfRangeOptionalFieldCostsTheFieldNotTheFlow sends flows whose
// optional fields are out of range (a switch's VLAN 0xFFFFFFFF, a port
// above 65535, a 5-byte next hop, an MPLS label wider than 20 bits): each
// is stored, with the field 0 and counted per exporter and field, and
// nothing is dead-lettered.
func TestAnOutOfRangeOptionalFieldCostsTheFieldNotTheFlow(t *testing.T) {
	e := newEnv(t)
	c, _ := e.start(testConfiguration("g", 500))
	now := nowNs()
	vlan := testFlow(1, now)
	vlan.SrcVlan, vlan.DstVlan = 0xFFFFFFFF, 809
	port := testFlow(2, now)
	port.DstPort, port.NextHop = 70000, []byte{1, 2, 3, 4, 5}
	port.ExporterIp = ip("192.0.2.9")
	labels := testFlow(3, now)
	labels.MplsLabels = []uint32{16004, 1 << 20, 3}
	labels.OuterVlan, labels.IpTtl = 5000, 64
	e.produce(record.TopicFlows, vlan, port, labels)
	e.waitRows("SELECT count() FROM flows", 3, time.Minute)

	if n := e.count(`SELECT count() FROM flows WHERE sequence = 1 AND src_vlan = 0 AND dst_vlan = 809 AND bytes = 1500`); n != 1 {
		t.Errorf("flow with src_vlan 0xFFFFFFFF: %d rows with src_vlan 0 and the rest kept, want 1", n)
	}
	if n := e.count(`SELECT count() FROM flows WHERE sequence = 2 AND dst_port = 0 AND next_hop = '::' AND src_port = 40002`); n != 1 {
		t.Errorf("flow with dst_port 70000: %d rows with dst_port 0 and the rest kept, want 1", n)
	}
	if n := e.count(`SELECT count() FROM flows WHERE sequence = 3 AND mpls_labels = [16004, 0, 3] AND outer_vlan = 0 AND ip_ttl = 64`); n != 1 {
		t.Errorf("flow with a 21-bit label: %d rows with that label 0 and the rest kept, want 1", n)
	}
	for _, tc := range []struct {
		exporter, field string
	}{{"192.0.2.1", "src_vlan"}, {"192.0.2.9", "dst_port"}, {"192.0.2.9", "next_hop"}, {"192.0.2.1", "mpls_labels"}, {"192.0.2.1", "outer_vlan"}} {
		// The batch is counted once stored, just after its rows show.
		if n := waitCounter(c.m.zeroedFields.WithLabelValues(tc.exporter, tc.field), 1, 30*time.Second); n != 1 {
			t.Errorf("zeroed{%s, %s} = %v, want 1", tc.exporter, tc.field, n)
		}
	}
	if n := counterValue(c.m.zeroedFields.WithLabelValues("192.0.2.1", "dst_vlan")); n != 0 {
		t.Errorf("zeroed{192.0.2.1, dst_vlan} = %v for a valid VLAN", n)
	}
	for _, reason := range []string{"decode", "invalid"} {
		for _, exp := range []string{"192.0.2.1", "192.0.2.9"} {
			if n := counterValue(c.m.deadLetter.WithLabelValues(record.TopicFlows, reason, exp)); n != 0 {
				t.Errorf("%v flows of %s dead-lettered (%s)", n, exp, reason)
			}
		}
	}
}

// TestTheFieldsOperatorsFilterOnAreStored stores a flow with every field
// of record.Flow from 47 on and reads each column back; and an ICMP flow
// whose producer only folded type and code into dst_port.
func TestTheFieldsOperatorsFilterOnAreStored(t *testing.T) {
	e := newEnv(t)
	e.start(testConfiguration("g", 500))
	now := nowNs()
	f := testFlow(1, now)
	f.SrcMac, f.DstMac, f.OuterVlan, f.SrcVlan = 0x001122334455, 0xaabbccddeeff, 100, 200
	f.MplsLabels, f.IpTtl, f.Ipv6FlowLabel, f.ForwardingStatus = []uint32{16004, 299776}, 63, 0xabcde, 0x82
	f.IngressVrf, f.EgressVrf = 10, 20
	f.NatSrcIp, f.NatDstIp, f.NatSrcPort, f.NatDstPort = ip("203.0.113.5"), ip("2001:db8::7"), 40000, 8443
	f.TunnelType, f.TunnelSrcIp, f.TunnelDstIp, f.VxlanVni = record.TunnelType_TUNNEL_TYPE_VXLAN, ip("192.0.2.10"), ip("192.0.2.11"), 5001
	icmp := testFlow(2, now)
	icmp.Proto, icmp.SrcPort, icmp.DstPort = 1, 0, 3<<8|1 // unreachable, host
	icmp6 := testFlow(3, now)
	icmp6.Proto, icmp6.DstPort, icmp6.IcmpType, icmp6.IcmpCode = 58, 0, 129, 0 // echo reply, own fields
	plain := testFlow(4, now)                                                  // before the others: its zeros are filled in
	e.produce(record.TopicFlows, plain, f, icmp, icmp6)
	e.waitRows("SELECT count() FROM flows", 4, time.Minute)

	if n := e.count(`SELECT count() FROM flows WHERE sequence = 1 AND src_mac = 0x001122334455 AND dst_mac = 0xaabbccddeeff
		AND outer_vlan = 100 AND src_vlan = 200 AND mpls_labels = [16004, 299776] AND ip_ttl = 63 AND ipv6_flow_label = 0xabcde
		AND forwarding_status = 0x82 AND ingress_vrf = 10 AND egress_vrf = 20
		AND nat_src_ip = '::ffff:203.0.113.5' AND nat_dst_ip = '2001:db8::7' AND nat_src_port = 40000 AND nat_dst_port = 8443
		AND tunnel_type = 'vxlan' AND tunnel_src_ip = '::ffff:192.0.2.10' AND tunnel_dst_ip = '::ffff:192.0.2.11' AND vxlan_vni = 5001
		AND icmp_type = 0 AND icmp_code = 0`); n != 1 {
		t.Errorf("flow with every new field: %d rows read back, want 1", n)
	}
	if n := e.count(`SELECT count() FROM flows WHERE sequence = 2 AND icmp_type = 3 AND icmp_code = 1 AND dst_port = 769`); n != 1 {
		t.Errorf("ICMP flow folded into dst_port: %d rows with type 3 code 1 and dst_port kept, want 1", n)
	}
	if n := e.count(`SELECT count() FROM flows WHERE sequence = 3 AND icmp_type = 129 AND icmp_code = 0 AND empty(mpls_labels)
		AND tunnel_type = 'none' AND nat_src_ip = '::'`); n != 1 {
		t.Errorf("ICMPv6 flow with its own fields: %d rows, want 1", n)
	}
	if n := e.count(`SELECT count() FROM flows WHERE sequence = 4 AND src_mac = 0 AND empty(mpls_labels) AND tunnel_type = 'none'
		AND nat_src_ip = '::' AND icmp_type = 0 AND bytes = 1500`); n != 1 {
		t.Errorf("flow without any of the fields: %d rows read as not exported, want 1", n)
	}
}

// TestABatchWithoutTheFieldsLeavesTheirColumnsOut checks the columns of
// an INSERT: none of the fields' while no flow has one; once one has,
// every row, the earlier ones as zeros.
func TestABatchWithoutTheFieldsLeavesTheirColumnsOut(t *testing.T) {
	c := decodeComponent(t)
	ifs, pods := c.ifs.view(), c.pods.view()
	defer ifs.release()
	defer pods.release()
	r := newFlowRows()
	r.reserve(3)
	var n enrichCounts
	add := func(f *record.Flow) {
		t.Helper()
		if err := r.add(f, origin{}, ifs, pods, c.as.db(), &n); err != nil {
			t.Fatal(err)
		}
	}
	has := func(name string) any {
		for _, c := range r.columns() {
			if c.name == name {
				return c.values
			}
		}
		return nil
	}
	add(testFlow(1, nowNs()))
	add(testFlow(2, nowNs()))
	if v := has("src_mac"); v != nil {
		t.Fatalf("src_mac column %v in a batch without MACs", v)
	}
	withMAC := testFlow(3, nowNs())
	withMAC.SrcMac = 0x0a0b0c0d0e0f
	add(withMAC)
	if v, ok := has("src_mac").([]uint64); !ok || !slices.Equal(v, []uint64{0, 0, 0x0a0b0c0d0e0f}) {
		t.Errorf("src_mac column %v, want [0 0 0x0a0b0c0d0e0f]", has("src_mac"))
	}
	for _, c := range r.columns() {
		if l := reflect.ValueOf(c.values).Len(); l != 3 {
			t.Errorf("column %s has %d rows, want 3", c.name, l)
		}
	}
}

// TestSequenceLossIsStoredPerFlow sends an exporter's flows, one of them
// carrying the export units its sequence numbers showed lost: the flows
// table holds it on that flow, 0 on the others, so its sum per exporter
// is the loss.
func TestSequenceLossIsStoredPerFlow(t *testing.T) {
	e := newEnv(t)
	e.start(testConfiguration("g", 500))
	now := nowNs()
	carrier := testFlow(2, now)
	carrier.SequenceLost = 37
	e.produce(record.TopicFlows, testFlow(1, now), carrier, testFlow(3, now))
	e.waitRows("SELECT count() FROM flows", 3, time.Minute)
	if n := e.count(`SELECT count() FROM flows WHERE sequence = 2 AND sequence_lost = 37`); n != 1 {
		t.Errorf("%d rows of the carrying flow with sequence_lost 37, want 1", n)
	}
	if n := e.count(`SELECT sum(sequence_lost) FROM flows WHERE exporter_ip = '::ffff:192.0.2.1'`); n != 37 {
		t.Errorf("exporter's stored loss %d, want 37", n)
	}
}
