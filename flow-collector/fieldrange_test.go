package flowcollector

import "testing"

// TestOutOfRangeFieldIsZeroedNotTheFlow: a VLAN of 0xFFFF (4095 at most)
// and a 3-byte port are stored as unknown and counted per exporter and
// field; the flow with everything else is published.
func TestOutOfRangeFieldIsZeroedNotTheFlow(t *testing.T) {
	c, pub := newTestComponent(t, testConfig(t))
	v9 := newV9Builder(1)
	v9.template(256, []field{{8, 4}, {12, 4}, {7, 3}, {11, 2}, {4, 1}, {1, 4}, {2, 4}, {58, 2}})
	v9.data(256, []byte{10, 0, 0, 1}, []byte{10, 0, 0, 2}, []byte{1, 0, 0}, u16(443), []byte{6}, u32(1500), u32(3), u16(0xffff))
	flows := flatten(decodeEach(c, pub, kindNetFlow, [][]byte{v9.bytes()}))
	if len(flows) != 1 {
		t.Fatalf("%d flows, want 1", len(flows))
	}
	if f := flows[0]; f.SrcVlan != 0 || f.SrcPort != 0 || f.DstPort != 443 || f.Bytes != 1500 || f.Packets != 3 {
		t.Errorf("flow %v", f)
	}
	for _, field := range []string{"src_vlan", "src_port"} {
		if n := metricSum(t, c.r, "netstrata_flow_fields_zeroed_total", "field", field); n != 1 {
			t.Errorf("%s zeroed %v times, want 1", field, n)
		}
	}
	if n := metricSum(t, c.r, "netstrata_flow_fields_zeroed_total", "exporter", testExporter.Addr().String()); n != 2 {
		t.Errorf("%v fields zeroed for the exporter, want 2", n)
	}
}

// TestTruncatedRecordIsCountedPaddingIsNot: a data set ending in part of
// a record loses that record, counted as dropped; zero padding is not a
// record.
func TestTruncatedRecordIsCountedPaddingIsNot(t *testing.T) {
	c, pub := newTestComponent(t, testConfig(t))
	v9 := newV9Builder(1)
	v9.template(256, []field{{8, 4}, {12, 4}, {1, 4}, {2, 4}})
	rec := [][]byte{{10, 0, 0, 1}, {10, 0, 0, 2}, u32(100), u32(1)}
	v9.data(256, append(append(rec, rec...), []byte{0, 0, 0})...) // padding
	v9.data(256, append(rec, []byte{10, 0, 0, 3, 10})...)         // a cut record
	flows := flatten(decodeEach(c, pub, kindNetFlow, [][]byte{v9.bytes()}))
	if len(flows) != 3 {
		t.Fatalf("%d flows, want 3", len(flows))
	}
	if n := metricSum(t, c.r, "netstrata_flow_records_dropped_total", "reason", reasonTruncated); n != 1 {
		t.Errorf("%v truncated records counted, want 1", n)
	}
}
