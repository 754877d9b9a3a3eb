package flowcollector

import (
	"net/netip"
	"path/filepath"
	"testing"
	"time"
)

// refusedDatagrams are made to lose records: a sampling rate beyond the
// maximum, counters that overflow once scaled, a record cut short by the
// end of its set.
func refusedDatagrams() [][]byte {
	v9 := newV9Builder(21)
	v9.template(256, []field{{8, 4}, {12, 4}, {1, 8}, {2, 4}, {34, 4}})
	v9.set(256, rec(v4a, v4b, u64(1000), u32(1), u32(1<<30), // rate above max_sampling_rate
		v4a, v4b, u64(1<<62), u32(1), u32(4), // bytes × rate beyond 2^63
		v4a, v4b, u64(1000), u32(1), u32(4)))
	cut := newIPFIXBuilder(22)
	cut.template(300, []ie{{8, 4, 0}, {12, 4, 0}, {1, 8, 0}, {2, 4, 0}})
	cut.sets = append(cut.sets, append(append(u16(300), u16(4+20+7)...), rec(v4a, v4b, u64(100), u32(1), v4b, []byte{0, 0, 1})...))
	return [][]byte{v9.bytes(), cut.bytes()}
}

// TestNoRecordIsDroppedSilently: of every data record tshark reads in the
// corpus shapes, the real exporters' captures and datagrams made to be
// refused, each direction with traffic is published or counted in
// records_dropped_total, per reason; so is a record cut short.
func TestNoRecordIsDroppedSilently(t *testing.T) {
	var shapes [][]byte
	for _, s := range ipfixShapes() {
		shapes = append(shapes, s.datagrams...)
	}
	// One exporter each: templates are the exporter's.
	sources := map[string][][]byte{"shapes": shapes, "refused": refusedDatagrams()}
	for _, name := range []string{"softflowd-v9", "softflowd-ipfix", "pmacct-nfprobe-v9", "pmacct-nfprobe-ipfix"} {
		sources[name] = loadCapture(t, name)
	}
	c, pub := newTestComponent(t, testConfig(t))
	want, port := 0, uint16(40000)
	for name, datagrams := range sources {
		path := filepath.Join(t.TempDir(), name+".pcap")
		writeCapture(t, path, datagrams, 4739)
		for _, recs := range tsharkRecords(t, path) {
			for _, r := range recs {
				want += len(expectedFlows(r))
			}
		}
		port++
		d := newDecoder(c)
		for _, dg := range datagrams {
			d.handle(kindNetFlow, dg, netip.AddrPortFrom(netip.AddrFrom4([4]byte{192, 0, 2, byte(port)}), port), time.Unix(1700000100, 0))
		}
	}
	// tshark reads no record in the bytes of a cut one: that one is
	// counted apart, as truncated.
	published := len(published(pub))
	dropped := int(metricSum(t, c.r, "netstrata_flow_records_dropped_total", "", "") -
		metricSum(t, c.r, "netstrata_flow_records_dropped_total", "reason", reasonTruncated))
	if published+dropped != want {
		t.Errorf("%d flows published and %d records counted dropped, tshark reads %d", published, dropped, want)
	}
	for _, reason := range []string{reasonSamplingRate, reasonCounterOverflow, reasonTruncated} {
		if n := metricSum(t, c.r, "netstrata_flow_records_dropped_total", "reason", reason); n != 1 {
			t.Errorf("%v records dropped for %s, want 1", n, reason)
		}
	}
}
