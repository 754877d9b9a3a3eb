package flowcollector

import (
	"fmt"
	"testing"
	"time"

	"github.com/netstrata/netstrata/internal/bus/bustest"
	"github.com/netstrata/netstrata/internal/record"
)

// fuzzCaptures seed the targets with real exporters' datagrams.
var (
	netflowCaptures = []string{"softflowd-v5", "softflowd-v9", "softflowd-ipfix", "pmacct-nfprobe-v5", "pmacct-nfprobe-v9", "pmacct-nfprobe-ipfix",
		"corpus/pmacct-ipfix-mac-vlan-mpls", "corpus/pmacct-v9-mac-vlan-mpls"}
	sflowCaptures = []string{"pmacct-sfprobe", "corpus/pmacct-sflow-shapes"}
)

// fuzzComponent is a collector primed with the captures' templates, so
// that fuzzed data sets reach the record mapping.
func fuzzComponent(f *testing.F, captures []string, kind listenerKind) *decoder {
	cfg := testConfig(f)
	cfg.MaxExporters = 16
	cfg.Decapsulation = sflowCorpusDecap // the generated sFlow shapes' router looks through every tunnel
	c, pub := newTestComponent(f, cfg)
	d := newDecoder(c)
	for _, name := range captures {
		for i, dg := range loadCapture(f, name) {
			d.handle(kind, dg, testExporter, time.Unix(1700000100, 0))
			if i < 4 || i%16 == 0 {
				f.Add(dg)
			}
		}
	}
	if kind == kindNetFlow {
		// The IPFIX/v9 shapes of the corpus: vendor templates, packet
		// sections, biflows, NAT.
		for _, s := range ipfixShapes() {
			for _, dg := range s.datagrams {
				d.handle(kind, dg, testExporter, time.Unix(1700000100, 0))
				f.Add(dg)
			}
		}
	}
	pub.Take()
	return d
}

// FuzzNetFlowDatagram is the NetFlow v5/v9/IPFIX entry point.
func FuzzNetFlowDatagram(f *testing.F) { fuzzDatagrams(f, netflowCaptures, kindNetFlow) }

// FuzzSFlowDatagram is the sFlow v5 entry point.
// It is seeded with the corpus's generated shapes too.
func FuzzSFlowDatagram(f *testing.F) {
	for _, s := range sflowShapes() {
		for _, dg := range s.datagrams {
			f.Add(dg)
		}
	}
	fuzzDatagrams(f, sflowCaptures, kindSFlow)
}

// fuzzDatagrams feeds arbitrary datagrams of one kind, seeded with the
// captures: decoding never panics, and every published record unmarshals.
func fuzzDatagrams(f *testing.F, captures []string, kind listenerKind) {
	d := fuzzComponent(f, captures, kind)
	pub := d.c.pub.(*bustest.Publisher)
	f.Fuzz(func(t *testing.T, data []byte) {
		d.handle(kind, data, testExporter, time.Unix(1700000100, 0))
		// A record that does not unmarshal panics in Decode: a failure.
		msgs := pub.Take()
		for _, m := range msgs {
			if m.Topic != record.TopicFlows {
				t.Fatalf("published to topic %q", m.Topic)
			}
		}
		for _, fl := range bustest.Decode[record.Flow](msgs, record.TopicFlows) {
			if err := storable(fl); err != nil {
				t.Fatalf("published a flow no column can hold: %v", err)
			}
		}
	})
}

// storable checks that every bounded field of a published flow fits its
// column: an out-of-range optional field is the decoder's to zero, so
// that no flow is dead-lettered for one.
func storable(f *record.Flow) error {
	for _, c := range []struct {
		name   string
		v, max uint64
	}{
		{"src_port", uint64(f.SrcPort), maxUint16}, {"dst_port", uint64(f.DstPort), maxUint16},
		{"proto", uint64(f.Proto), maxUint8}, {"ip_tos", uint64(f.IpTos), maxUint8}, {"tcp_flags", uint64(f.TcpFlags), maxUint16},
		{"src_vlan", uint64(f.SrcVlan), maxVlan}, {"dst_vlan", uint64(f.DstVlan), maxVlan}, {"outer_vlan", uint64(f.OuterVlan), maxVlan},
		{"src_mask", uint64(f.SrcMask), maxUint8}, {"dst_mask", uint64(f.DstMask), maxUint8}, {"etype", uint64(f.Etype), maxUint16},
		{"ip_ttl", uint64(f.IpTtl), maxUint8}, {"ipv6_flow_label", uint64(f.Ipv6FlowLabel), maxFlowLabel},
		{"forwarding_status", uint64(f.ForwardingStatus), maxUint8}, {"icmp_type", uint64(f.IcmpType), maxUint8},
		{"icmp_code", uint64(f.IcmpCode), maxUint8}, {"nat_src_port", uint64(f.NatSrcPort), maxUint16},
		{"nat_dst_port", uint64(f.NatDstPort), maxUint16}, {"src_mac", f.SrcMac, 1<<48 - 1}, {"dst_mac", f.DstMac, 1<<48 - 1},
	} {
		if c.v > c.max {
			return fmt.Errorf("%s %d above %d", c.name, c.v, c.max)
		}
	}
	for _, l := range f.MplsLabels {
		if l > maxMPLSLabel {
			return fmt.Errorf("MPLS label %d above %d", l, maxMPLSLabel)
		}
	}
	if len(f.MplsLabels) > record.MaxMPLSLabels {
		return fmt.Errorf("%d MPLS labels", len(f.MplsLabels))
	}
	return nil
}

// FuzzSFlowInterface decodes sFlow interface words, compact and
// expanded: only an ifIndex is ever stored as one (never the "internal"
// marker, a reason code or a count), and a compact word decodes as its
// expanded format and value do.
func FuzzSFlowInterface(f *testing.F) {
	for _, v := range []uint32{0, 7, 0x3fffffff, 1<<30 | 3, 2 << 30, 3 << 30} {
		f.Add(v, v>>30, v&0x3fffffff)
	}
	f.Fuzz(func(t *testing.T, compact, format, value uint32) {
		c := compactSFlowIf(compact)
		if c != decodeSFlowIf(compact>>30, compact&0x3fffffff) {
			t.Fatalf("compact %#x decodes as %+v", compact, c)
		}
		for _, i := range []sflowIf{c, decodeSFlowIf(format, value)} {
			if i.index != 0 && (i.kind != record.InterfaceKind_INTERFACE_KIND_IFINDEX || i.index == sflowIfInternal) {
				t.Fatalf("%+v stored as an ifIndex", i)
			}
			if i.kind == record.InterfaceKind_INTERFACE_KIND_IFINDEX && i.detail != 0 {
				t.Fatalf("%+v: an ifIndex with a detail", i)
			}
		}
	})
}
