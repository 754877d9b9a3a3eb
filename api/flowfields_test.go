package api

import (
	"context"
	"net/url"
	"slices"
	"testing"
	"time"
)

// seedFlowFields stores four flows with the fields of schema version 12
// at now-10m: a dropped (ACL deny) VXLAN flow, a NATed one, an ICMP
// unreachable and a plain TCP flow with none of them.
func seedFlowFields(t *testing.T, a *testAPI) {
	t.Helper()
	at := time.Now().UTC().Add(-10 * time.Minute).Format("2006-01-02 15:04:05")
	err := a.conn.Exec(context.Background(), `INSERT INTO flows (time_received, exporter_ip, sampling_rate, src_ip, dst_ip, src_port, dst_port, proto, bytes, packets,
		src_mac, dst_mac, src_vlan, dst_vlan, outer_vlan, mpls_labels, ip_ttl, ipv6_flow_label, forwarding_status, ingress_vrf, egress_vrf,
		nat_src_ip, nat_dst_ip, nat_src_port, nat_dst_port, icmp_type, icmp_code, tunnel_type, tunnel_src_ip, tunnel_dst_ip, vxlan_vni,
		kafka_partition, kafka_offset) VALUES
		('`+at+`', '::ffff:192.0.2.1', 1, '::ffff:10.0.0.1', '::ffff:10.0.0.2', 40000, 443, 6, 8000, 8,
		 0x001122334455, 0xaabbccddeeff, 100, 100, 2000, [16004, 299776], 63, 0, 129, 10, 20,
		 '::', '::', 0, 0, 0, 0, 'vxlan', '::ffff:192.0.2.10', '::ffff:192.0.2.11', 5001, 0, 1),
		('`+at+`', '::ffff:192.0.2.1', 1, '::ffff:10.0.0.3', '::ffff:8.8.8.8', 40001, 53, 17, 4000, 4,
		 0x001122334466, 0xaabbccddeeff, 0, 0, 0, [], 64, 0xabcde, 64, 10, 0,
		 '::ffff:203.0.113.5', '::ffff:8.8.8.8', 61000, 53, 0, 0, 'none', '::', '::', 0, 0, 2),
		('`+at+`', '::ffff:192.0.2.1', 1, '::ffff:10.0.0.4', '::ffff:10.0.0.5', 0, 769, 1, 2000, 2,
		 0, 0, 0, 0, 0, [0, 17], 255, 0, 66, 0, 0,
		 '::', '::', 0, 0, 3, 1, 'none', '::', '::', 0, 0, 3),
		('`+at+`', '::ffff:192.0.2.1', 1, '::ffff:10.0.0.6', '::ffff:10.0.0.7', 40002, 22, 6, 1000, 1,
		 0, 0, 0, 0, 0, [], 0, 0, 0, 0, 0,
		 '::', '::', 0, 0, 0, 0, 'none', '::', '::', 0, 0, 4)`)
	if err != nil {
		t.Fatal(err)
	}
}

func TestTopNRanksAndFiltersTheFieldsOperatorsFilterOn(t *testing.T) {
	a := newTestAPI(t)
	seedFlowFields(t, a)
	rank := func(t *testing.T, by string, filters url.Values) []string {
		t.Helper()
		q := url.Values{"by": {by}, "from": {"-1h"}}
		for k, v := range filters {
			q[k] = v
		}
		var r TopNResponse
		if st := a.get(t, "/api/v1/flows/topn", q, &r); st != 200 {
			t.Fatalf("by=%s %v: status %d", by, filters, st)
		}
		if r.Source != "flows" {
			t.Errorf("by=%s: source %s, want flows (the raw table)", by, r.Source)
		}
		var keys []string
		for _, row := range r.Rows {
			keys = append(keys, row.Key)
		}
		return keys
	}
	for _, tc := range []struct {
		by   string
		want []string
	}{
		{"src_mac", []string{"00:11:22:33:44:55", "00:11:22:33:44:66", "(none)"}},
		{"dst_mac", []string{"aa:bb:cc:dd:ee:ff", "(none)"}},
		{"outer_vlan", []string{"2000", "(none)"}},
		{"src_vlan", []string{"100", "(none)"}},
		{"mpls_top_label", []string{"16004", "(none)", "0"}},
		{"ip_ttl", []string{"63", "64", "255", "(none)"}},
		{"ipv6_flow_label", []string{"(none)", "703710"}},
		{"forwarding_status", []string{"dropped: acl deny", "forwarded", "forwarded: not fragmented", "(none)"}},
		{"ingress_vrf", []string{"10", "(none)"}},
		{"egress_vrf", []string{"20", "(none)"}},
		{"nat_src_ip", []string{"(none)", "203.0.113.5"}},
		{"nat_dst_port", []string{"(none)", "53"}},
		{"icmp_type", []string{"(none)", "3"}},
		{"icmp", []string{"(none)", "3/1"}},
		{"tunnel_type", []string{"vxlan", "none"}},
		{"tunnel_dst_ip", []string{"192.0.2.11", "(none)"}},
		{"vxlan_vni", []string{"5001", "(none)"}},
	} {
		if got := rank(t, tc.by, nil); !slices.Equal(got, tc.want) {
			t.Errorf("by=%s: %q, want %q", tc.by, got, tc.want)
		}
	}
	for _, tc := range []struct {
		filter url.Values
		want   []string
	}{
		{url.Values{"mac": {"AA-BB-CC-DD-EE-FF"}}, []string{"10.0.0.1", "10.0.0.3"}},
		{url.Values{"src_mac": {"00:11:22:33:44:66"}}, []string{"10.0.0.3"}},
		{url.Values{"forwarding_status": {"dropped"}}, []string{"10.0.0.1"}},
		{url.Values{"forwarding_status": {"66"}}, []string{"10.0.0.4"}},
		{url.Values{"nat_ip": {"203.0.113.5"}}, []string{"10.0.0.3"}},
		{url.Values{"mpls_label": {"299776"}}, []string{"10.0.0.1"}},
		{url.Values{"mpls_top_label": {"0"}}, []string{"10.0.0.4"}},
		{url.Values{"icmp_type": {"3"}, "icmp_code": {"1"}}, []string{"10.0.0.4"}},
		{url.Values{"icmp_type": {"0"}}, nil}, // TCP and UDP flows are not echo replies
		{url.Values{"vrf": {"20"}}, []string{"10.0.0.1"}},
		{url.Values{"tunnel_type": {"vxlan"}, "vxlan_vni": {"5001"}}, []string{"10.0.0.1"}},
		{url.Values{"outer_vlan": {"2000"}, "vlan": {"100"}}, []string{"10.0.0.1"}},
		{url.Values{"ip_ttl": {"255"}}, []string{"10.0.0.4"}},
		{url.Values{"ipv6_flow_label": {"703710"}}, []string{"10.0.0.3"}},
	} {
		if got := rank(t, "src_ip", tc.filter); !slices.Equal(got, tc.want) {
			t.Errorf("filter %v: %q, want %q", tc.filter, got, tc.want)
		}
	}
	for _, bad := range []url.Values{{"mac": {"00:11:22:33:44"}}, {"forwarding_status": {"lost"}}, {"forwarding_status": {"256"}},
		{"tunnel_type": {"ipip"}}, {"mpls_label": {"1048576"}}, {"vlan": {"4096"}}} {
		q := url.Values{"by": {"src_ip"}}
		for k, v := range bad {
			q[k] = v
		}
		if st := a.get(t, "/api/v1/flows/topn", q, nil); st != 400 {
			t.Errorf("filter %v: status %d, want 400", bad, st)
		}
	}
}
