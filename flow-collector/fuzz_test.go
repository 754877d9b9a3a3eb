package flowcollector

import (
	"testing"
	"time"

	"github.com/netstrata/netstrata/internal/record"
)

// fuzzCaptures seed the targets with real exporters' datagrams.
var (
	netflowCaptures = []string{"softflowd-v5", "softflowd-v9", "softflowd-ipfix", "pmacct-nfprobe-v5", "pmacct-nfprobe-v9", "pmacct-nfprobe-ipfix"}
	sflowCaptures   = []string{"pmacct-sfprobe"}
)

// fuzzComponent is a collector primed with the captures' templates, so
// that fuzzed data sets reach the record mapping.
func fuzzComponent(f *testing.F, captures []string, kind listenerKind) *decoder {
	cfg := testConfig(f)
	cfg.MaxExporters = 16
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
	pub.flows = nil
	return d
}

// FuzzNetFlowDatagram is the NetFlow v5/v9/IPFIX entry point.
func FuzzNetFlowDatagram(f *testing.F) { fuzzDatagrams(f, netflowCaptures, kindNetFlow) }

// FuzzSFlowDatagram is the sFlow v5 entry point.
func FuzzSFlowDatagram(f *testing.F) { fuzzDatagrams(f, sflowCaptures, kindSFlow) }

// fuzzDatagrams feeds arbitrary datagrams of one kind, seeded with the
// captures: decoding never panics, and every published record unmarshals.
func fuzzDatagrams(f *testing.F, captures []string, kind listenerKind) {
	d := fuzzComponent(f, captures, kind)
	pub := d.c.pub.(*capturePublisher)
	f.Fuzz(func(t *testing.T, data []byte) {
		d.handle(kind, data, testExporter, time.Unix(1700000100, 0))
		pub.mu.Lock()
		pub.flows, pub.keys = pub.flows[:0], pub.keys[:0]
		bad := pub.bad
		pub.mu.Unlock()
		if bad != 0 {
			t.Fatal("published a record that does not unmarshal")
		}
	})
}

// FuzzSampledHeader is the parser of the packet headers sFlow samples
// and the byte count made from what it found: never more than the frame
// on either basis, never a link-layer header longer than the bytes read.
func FuzzSampledHeader(f *testing.F) {
	for _, proto := range []uint32{headerEthernet, headerIPv4, headerIPv6} {
		f.Add(proto, []byte{}, uint32(64), uint32(4))
	}
	frame := buildFrame(fiveTuple{src: testExporter.Addr(), dst: testExporter.Addr(), proto: protoTCP, srcPort: 1, dstPort: 443}, 10, 0, 2)
	f.Add(uint32(headerEthernet), frame, uint32(len(frame)+4), uint32(4))
	f.Add(uint32(headerIPv4), frame[14:], uint32(len(frame)-14), uint32(0))
	c, _ := newTestComponent(f, testConfig(f))
	d := newDecoder(c)
	cfg := testConfig(f)
	cfg.SFlowByteBasis = byteBasisFrame
	frameBasis, _ := newTestComponent(f, cfg)
	f.Fuzz(func(t *testing.T, proto uint32, b []byte, frameLength, stripped uint32) {
		d.flow.Reset()
		l, _ := d.parseSampledHeader(&d.flow, proto, b)
		if n := len(d.flow.SrcIp); n != 0 && n != 16 {
			t.Fatalf("source address of %d bytes", n)
		}
		if int(l.l2) > len(b) {
			t.Fatalf("link-layer header of %d bytes in %d", l.l2, len(b))
		}
		for _, c := range []*Component{c, frameBasis} {
			if n, _ := c.sflowBytes(frameLength, stripped, l); n > uint64(frameLength) {
				t.Fatalf("%s basis: %d bytes of a %d-byte frame", c.cfg.SFlowByteBasis, n, frameLength)
			}
		}
	})
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
