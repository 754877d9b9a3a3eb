package flowcollector

import (
	"errors"
	"net/netip"
	"reflect"
	"testing"

	"github.com/netstrata/netstrata/internal/record"
)

// packetView is what the packet parser writes to a flow, and the lengths
// it returns.
type packetView struct {
	SrcMAC, DstMAC              uint64
	SrcVlan, DstVlan, OuterVlan uint32
	Labels                      []uint32
	Etype, Proto                uint32
	Src, Dst                    netip.Addr
	SrcPort, DstPort, TCPFlags  uint32
	TOS, TTL, FlowLabel         uint32
	ICMPType, ICMPCode          uint32
	Tunnel                      record.TunnelType
	TunnelSrc, TunnelDst        netip.Addr
	VNI                         uint32
	L2, IP                      uint32
}

func viewOf(f *record.Flow, l headerLengths) packetView {
	addr := func(b []byte) netip.Addr {
		a, _ := netip.AddrFromSlice(b)
		return a.Unmap()
	}
	return packetView{
		SrcMAC: f.SrcMac, DstMAC: f.DstMac,
		SrcVlan: f.SrcVlan, DstVlan: f.DstVlan, OuterVlan: f.OuterVlan,
		Labels: f.MplsLabels, Etype: f.Etype, Proto: f.Proto,
		Src: addr(f.SrcIp), Dst: addr(f.DstIp),
		SrcPort: f.SrcPort, DstPort: f.DstPort, TCPFlags: f.TcpFlags,
		TOS: f.IpTos, TTL: f.IpTtl, FlowLabel: f.Ipv6FlowLabel,
		ICMPType: f.IcmpType, ICMPCode: f.IcmpCode,
		Tunnel: f.TunnelType, TunnelSrc: addr(f.TunnelSrcIp), TunnelDst: addr(f.TunnelDstIp), VNI: f.VxlanVni,
		L2: l.l2, IP: l.ip,
	}
}

// TestPacketParserReadsEveryLayer parses one packet per shape the issue
// lists (Ethernet, 802.1Q, QinQ, MPLS with and without a control word,
// IPv4, IPv6 with extension headers and a segment routing header, TCP,
// UDP, ICMP) and tunnels, with and without decapsulation, and checks
// every field the parser sets.
func TestPacketParserReadsEveryLayer(t *testing.T) {
	const all = decapVXLAN | decapGRE | decapMPLS | decapSRv6
	tcp4 := ipv4Packet(v4A, v4B, protoTCP, 61, 0x28, tcpSegment(40000, 443, 0x18, pad(100)))
	udp6 := ipv6Packet(v6A, v6B, protoUDP, 63, 0x2e, 0xabcde, udpDatagram(5353, 53, pad(30)))
	inner := ethernetFrame(macA+1, macB+1, nil, etypeIPv4, tcp4)
	vxlan := ipv4Packet(v4C, v4D, protoUDP, 64, 0, udpDatagram(51000, portVXLAN, vxlanHeader(5001, inner)))
	gre := ipv4Packet(v4C, v4D, protoGRE, 64, 0, greHeader(etypeIPv4, 7, tcp4))
	srv6 := ipv6Packet(v6C, v6D, 43, 64, 0, 0, segmentRouting(protoIPv4InIP, []netip.Addr{v6D, v6A}, tcp4))
	mplsUDP := ipv4Packet(v4C, v4D, protoUDP, 64, 0, udpDatagram(49152, portMPLSInUDP, mplsStack([]uint32{3000}, tcp4)))
	tcp4View := packetView{Etype: etypeIPv4, Proto: protoTCP, Src: v4A, Dst: v4B, SrcPort: 40000, DstPort: 443, TCPFlags: 0x18, TOS: 0x28, TTL: 61, IP: uint32(len(tcp4))}
	with := func(v packetView, set func(*packetView)) packetView { set(&v); return v }

	for _, tc := range []struct {
		name  string
		link  uint32
		b     []byte
		decap decapKinds
		want  packetView
	}{
		{"raw IPv4 TCP", packetIPv4, tcp4, 0, tcp4View},
		{"IP sniffed", packetIP, tcp4, 0, tcp4View},
		{"Ethernet", packetEthernet, ethernetFrame(macA, macB, nil, etypeIPv4, tcp4), 0,
			with(tcp4View, func(v *packetView) { v.DstMAC, v.SrcMAC, v.L2 = macA, macB, 14 })},
		{"802.1Q: one tag is both VLANs", packetEthernet, ethernetFrame(macA, macB, []vlanTag{{etypeVLAN, 809}}, etypeIPv4, tcp4), 0,
			with(tcp4View, func(v *packetView) { v.DstMAC, v.SrcMAC, v.SrcVlan, v.DstVlan, v.L2 = macA, macB, 809, 809, 18 })},
		{"QinQ: the inner tag is the customer's", packetEthernet, ethernetFrame(macA, macB, []vlanTag{{etypeQinQ, 0x2000 | 100}, {etypeVLAN, 42}}, etypeIPv4, tcp4), 0,
			with(tcp4View, func(v *packetView) {
				v.DstMAC, v.SrcMAC, v.SrcVlan, v.DstVlan, v.OuterVlan, v.L2 = macA, macB, 42, 42, 100, 22
			})},
		{"IPv6 UDP with options", packetIPv6, ipv6Packet(v6A, v6B, 0, 63, 0x2e, 0xabcde, ipv6Options(60, ipv6Options(protoUDP, udpDatagram(5353, 53, pad(30))))), 0,
			packetView{Etype: etypeIPv6, Proto: protoUDP, Src: v6A, Dst: v6B, SrcPort: 5353, DstPort: 53, TOS: 0x2e, TTL: 63, FlowLabel: 0xabcde, IP: 40 + 16 + 38}},
		{"ICMP", packetIPv4, ipv4Packet(v4A, v4B, protoICMP, 64, 0, icmpMessage(3, 4, pad(28))), 0,
			packetView{Etype: etypeIPv4, Proto: protoICMP, Src: v4A, Dst: v4B, DstPort: 3<<8 | 4, ICMPType: 3, ICMPCode: 4, TTL: 64, IP: 20 + 8 + 28}},
		{"ICMPv6", packetIPv6, ipv6Packet(v6A, v6B, protoICMPv6, 255, 0, 0, icmpMessage(128, 0, nil)), 0,
			packetView{Etype: etypeIPv6, Proto: protoICMPv6, Src: v6A, Dst: v6B, DstPort: 128 << 8, ICMPType: 128, TTL: 255, IP: 48}},
		{"MPLS L3VPN", packetEthernet, ethernetFrame(macA, macB, nil, etypeMPLS, mplsStack([]uint32{16004, 24001}, tcp4)), 0,
			with(tcp4View, func(v *packetView) { v.DstMAC, v.SrcMAC, v.Labels, v.L2 = macA, macB, []uint32{16004, 24001}, 22 })},
		{"MPLS link type", packetMPLS, mplsStack([]uint32{100}, udp6), 0,
			packetView{Labels: []uint32{100}, Etype: etypeIPv6, Proto: protoUDP, Src: v6A, Dst: v6B, SrcPort: 5353, DstPort: 53, TOS: 0x2e, TTL: 63, FlowLabel: 0xabcde, L2: 4, IP: uint32(len(udp6))}},
		{"EVPN pseudowire with control word", packetEthernet,
			ethernetFrame(macA, macB, nil, etypeMPLS, mplsStack([]uint32{16004, 299792}, append([]byte{0, 0, 0, 0}, ethernetFrame(macA+1, macB+1, []vlanTag{{etypeVLAN, 10}}, etypeIPv4, tcp4)...))), 0,
			with(tcp4View, func(v *packetView) {
				v.DstMAC, v.SrcMAC, v.Labels, v.SrcVlan, v.DstVlan, v.L2 = macA+1, macB+1, []uint32{16004, 299792}, 10, 10, 14+8+4+18
			})},
		{"Ethernet pseudowire without control word", packetEthernet,
			ethernetFrame(macA, macB, nil, etypeMPLS, mplsStack([]uint32{299792}, inner)), 0,
			with(tcp4View, func(v *packetView) { v.DstMAC, v.SrcMAC, v.Labels, v.L2 = macA+1, macB+1, []uint32{299792}, 14+4+14 })},
		{"Ethernet pseudowire whose MAC starts as IPv6 does", packetMPLS,
			mplsStack([]uint32{299792}, ethernetFrame(0x64_00_00_00_00_01, macB, nil, etypeIPv4, tcp4)), 0,
			with(tcp4View, func(v *packetView) {
				v.DstMAC, v.SrcMAC, v.Labels, v.L2 = 0x64_00_00_00_00_01, macB, []uint32{299792}, 4+14
			})},
		{"SRv6 kept as the outer flow", packetIPv6, srv6, 0,
			packetView{Etype: etypeIPv6, Proto: protoIPv4InIP, Src: v6C, Dst: v6D, TTL: 64, IP: uint32(len(srv6))}},
		{"SRv6 decapsulated", packetIPv6, srv6, decapSRv6,
			with(tcp4View, func(v *packetView) {
				v.Tunnel, v.TunnelSrc, v.TunnelDst, v.IP = record.TunnelType_TUNNEL_TYPE_SRV6, v6C, v6D, uint32(len(srv6))
			})},
		{"VXLAN kept as the outer flow", packetIPv4, vxlan, 0,
			packetView{Etype: etypeIPv4, Proto: protoUDP, Src: v4C, Dst: v4D, SrcPort: 51000, DstPort: portVXLAN, TTL: 64, IP: uint32(len(vxlan))}},
		{"VXLAN decapsulated", packetEthernet, ethernetFrame(macA, macB, []vlanTag{{etypeVLAN, 300}}, etypeIPv4, vxlan), all,
			with(tcp4View, func(v *packetView) {
				v.DstMAC, v.SrcMAC, v.SrcVlan, v.DstVlan, v.L2, v.IP = macA+1, macB+1, 300, 300, 18, uint32(len(vxlan))
				v.Tunnel, v.TunnelSrc, v.TunnelDst, v.VNI = record.TunnelType_TUNNEL_TYPE_VXLAN, v4C, v4D, 5001
			})},
		{"GRE decapsulated", packetIPv4, gre, decapGRE,
			with(tcp4View, func(v *packetView) {
				v.Tunnel, v.TunnelSrc, v.TunnelDst, v.IP = record.TunnelType_TUNNEL_TYPE_GRE, v4C, v4D, uint32(len(gre))
			})},
		{"GRE not asked for", packetIPv4, gre, decapVXLAN,
			packetView{Etype: etypeIPv4, Proto: protoGRE, Src: v4C, Dst: v4D, TTL: 64, IP: uint32(len(gre))}},
		{"MPLS over UDP decapsulated", packetIPv4, mplsUDP, decapMPLS,
			with(tcp4View, func(v *packetView) {
				v.Labels, v.Tunnel, v.TunnelSrc, v.TunnelDst, v.IP = []uint32{3000}, record.TunnelType_TUNNEL_TYPE_MPLS, v4C, v4D, uint32(len(mplsUDP))
			})},
		{"IPv4 later fragment: no ports", packetIPv4, func() []byte {
			b := ipv4Packet(v4A, v4B, protoUDP, 9, 0, udpDatagram(1, 2, nil))
			b[6], b[7] = 0, 10
			return b
		}(), 0, packetView{Etype: etypeIPv4, Proto: protoUDP, Src: v4A, Dst: v4B, TTL: 9, IP: 28}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := newTestComponent(t, testConfig(t))
			d := newDecoder(c)
			f := &record.Flow{}
			l, err := d.parsePacket(f, tc.link, tc.b, tc.decap)
			if err != nil {
				t.Fatal(err)
			}
			if got := viewOf(f, l); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

// TestPacketParserBoundsItsWalk: input that nests or repeats headers
// stops at the parser's bounds with an error, keeping what it read.
func TestPacketParserBoundsItsWalk(t *testing.T) {
	c, _ := newTestComponent(t, testConfig(t))
	d := newDecoder(c)
	labels := make([]uint32, 40)
	for i := range labels {
		labels[i] = uint32(i + 16)
	}
	tags := make([]vlanTag, 6)
	for i := range tags {
		tags[i] = vlanTag{etypeVLAN, uint16(i + 1)}
	}
	// VXLAN in VXLAN in VXLAN…: each level costs an Ethernet, an IP and
	// the tunnel.
	nested := ipv4Packet(v4A, v4B, protoTCP, 1, 0, tcpSegment(1, 2, 0, nil))
	for i := 0; i < 6; i++ {
		nested = ipv4Packet(v4C, v4D, protoUDP, 1, 0, udpDatagram(1, portVXLAN, vxlanHeader(uint32(i), ethernetFrame(macA, macB, nil, etypeIPv4, nested))))
	}
	for name, tc := range map[string]struct {
		link uint32
		b    []byte
	}{
		"labels":  {packetMPLS, mplsStack(labels, nil)},
		"tags":    {packetEthernet, ethernetFrame(macA, macB, tags, etypeIPv4, nil)},
		"tunnels": {packetIPv4, nested},
	} {
		f := &record.Flow{}
		_, err := d.parsePacket(f, tc.link, tc.b, decapVXLAN)
		if !errors.Is(err, errHeaderDeep) {
			t.Errorf("%s: %v, want %v", name, err, errHeaderDeep)
		}
		if len(f.MplsLabels) > record.MaxMPLSLabels {
			t.Errorf("%s: %d labels kept", name, len(f.MplsLabels))
		}
	}
}

// FuzzPacketHeader is the parser of the packet headers sFlow samples and
// IPFIX packet sections carry, and the byte count made from what it
// found: never more than the frame on either basis, never a link-layer
// header longer than the bytes read, never more labels than the record
// holds, tunnel endpoints only with a tunnel.
func FuzzPacketHeader(f *testing.F) {
	for _, proto := range []uint32{packetEthernet, packetIPv4, packetIPv6, packetMPLS, packetIP} {
		f.Add(proto, []byte{}, uint32(64), uint32(4), uint8(0))
	}
	frame := buildFrame(fiveTuple{src: testExporter.Addr(), dst: testExporter.Addr(), proto: protoTCP, srcPort: 1, dstPort: 443}, 10, 0, 2)
	f.Add(uint32(packetEthernet), frame, uint32(len(frame)+4), uint32(4), uint8(0))
	f.Add(uint32(packetIPv4), frame[14:], uint32(len(frame)-14), uint32(0), uint8(0))
	for _, s := range sflowShapes() {
		for _, h := range s.headers() {
			f.Add(uint32(packetEthernet), h, uint32(len(h)+4), uint32(4), uint8(0xff))
		}
	}
	c, _ := newTestComponent(f, testConfig(f))
	d := newDecoder(c)
	cfg := testConfig(f)
	cfg.SFlowByteBasis = byteBasisFrame
	frameBasis, _ := newTestComponent(f, cfg)
	f.Fuzz(func(t *testing.T, proto uint32, b []byte, frameLength, stripped uint32, decap uint8) {
		d.flow.Reset()
		l, _ := d.parsePacket(&d.flow, proto, b, decapKinds(decap))
		fl := &d.flow
		for _, a := range [][]byte{fl.SrcIp, fl.DstIp, fl.TunnelSrcIp, fl.TunnelDstIp} {
			if n := len(a); n != 0 && n != 16 {
				t.Fatalf("address of %d bytes", n)
			}
		}
		if (len(fl.TunnelSrcIp) != 0) != (fl.TunnelType != record.TunnelType_TUNNEL_TYPE_NONE) {
			t.Fatalf("tunnel %v with endpoint %v", fl.TunnelType, fl.TunnelSrcIp)
		}
		if len(fl.MplsLabels) > record.MaxMPLSLabels || fl.SrcVlan > maxVlan || fl.OuterVlan > maxVlan || fl.Ipv6FlowLabel > maxFlowLabel {
			t.Fatalf("out of range: %v", fl)
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
