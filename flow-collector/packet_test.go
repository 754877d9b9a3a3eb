package flowcollector

import "testing"

// FuzzPacketHeader is the parser of the packet headers sFlow samples and
// IPFIX packet sections carry, and the byte count made from what it found: never more than the frame
// on either basis, never a link-layer header longer than the bytes read.
func FuzzPacketHeader(f *testing.F) {
	for _, proto := range []uint32{packetEthernet, packetIPv4, packetIPv6, packetMPLS, packetIP} {
		f.Add(proto, []byte{}, uint32(64), uint32(4))
	}
	frame := buildFrame(fiveTuple{src: testExporter.Addr(), dst: testExporter.Addr(), proto: protoTCP, srcPort: 1, dstPort: 443}, 10, 0, 2)
	f.Add(uint32(packetEthernet), frame, uint32(len(frame)+4), uint32(4))
	f.Add(uint32(packetIPv4), frame[14:], uint32(len(frame)-14), uint32(0))
	c, _ := newTestComponent(f, testConfig(f))
	d := newDecoder(c)
	cfg := testConfig(f)
	cfg.SFlowByteBasis = byteBasisFrame
	frameBasis, _ := newTestComponent(f, cfg)
	f.Fuzz(func(t *testing.T, proto uint32, b []byte, frameLength, stripped uint32) {
		d.flow.Reset()
		l, _ := d.parsePacket(&d.flow, proto, b, 0)
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
