package flowcollector

import "net/netip"

// Shapes of IPFIX and NetFlow v9 export that real exporters send and the
// exporters at hand (softflowd, pmacct) do not: built from the IANA IPFIX
// registry (element numbers, types, reduced-size encodings), RFC 5103
// (biflows), and the vendors' documented templates. Each is one or more
// datagrams, template first; tshark is the ground truth of what they say
// (TestIPFIXShapesDecodeAsTsharkReadsThem).
type exportShape struct {
	name      string
	datagrams [][]byte
}

var (
	v4a, v4b = []byte{192, 0, 2, 10}, []byte{198, 51, 100, 20}
	v6a      = netip.MustParseAddr("2001:db8::10").AsSlice()
	v6b      = netip.MustParseAddr("2001:db8:1::20").AsSlice()
	zero16   = make([]byte, 16)
	zero4    = make([]byte, 4)
	mac6A    = []byte{0x00, 0x1b, 0x21, 0x0a, 0x0b, 0x0c}
	mac6B    = []byte{0x3c, 0xfd, 0xfe, 0x01, 0x02, 0x03}
	msStart  = u64(1700000000000 - 5000)
	msEnd    = u64(1700000000000 - 1000)
)

// ipfixShapes returns every IPFIX/v9 shape of the corpus.
func ipfixShapes() []exportShape {
	return []exportShape{
		shapeCiscoBothFamilies(),
		shapeJuniperIPVersion(),
		shapeDataLinkSection(),
		shapeDataLinkMPLS(),
		shapeIPSectionSRv6(),
		shapeIpfixprobeBiflow(),
		shapeV9OptionsSampling(),
		shapeV9NSEL(),
		shapeV9NEL(),
		shapeIPFIXNELAndVRF(),
		shapeOperatorFields(),
		shapeOutOfRangeVLAN(),
	}
}

// Cisco-style: one template carries both families; the family not in
// use is all zeros, and the physical interfaces (252/253) stand in for
// ingress/egressInterface.
func shapeCiscoBothFamilies() exportShape {
	b := newIPFIXBuilder(256)
	b.template(256, []ie{{8, 4, 0}, {12, 4, 0}, {27, 16, 0}, {28, 16, 0}, {7, 2, 0}, {11, 2, 0}, {4, 1, 0}, {6, 1, 0},
		{5, 1, 0}, {32, 2, 0}, {1, 8, 0}, {2, 8, 0}, {252, 4, 0}, {253, 4, 0}, {152, 8, 0}, {153, 8, 0}, {61, 1, 0}})
	b.data(256,
		rec(v4a, v4b, zero16, zero16, u16(51000), u16(443), u8(6), u8(0x1a), u8(0x28), u16(0), u64(15000), u64(12), u32(11), u32(12), msStart, msEnd, u8(0)),
		rec(zero4, zero4, v6a, v6b, u16(53000), u16(53), u8(17), u8(0), u8(0), u16(0), u64(400), u64(4), u32(21), u32(22), msStart, msEnd, u8(1)),
		rec(v4b, v4a, zero16, zero16, u16(0), u16(0), u8(1), u8(0), u8(0), u16(0x0800), u64(840), u64(10), u32(12), u32(11), msStart, msEnd, u8(0)))
	return exportShape{"cisco-ipfix-both-families", [][]byte{b.bytes()}}
}

// Juniper-style: ipVersion (60) says the family; both the logical
// (10/14) and the physical (252/253) interfaces, next hops of both
// families, prefix lengths and ASes.
func shapeJuniperIPVersion() exportShape {
	b := newIPFIXBuilder(1)
	b.template(1024, []ie{{60, 1, 0}, {8, 4, 0}, {12, 4, 0}, {27, 16, 0}, {28, 16, 0}, {10, 4, 0}, {14, 4, 0}, {252, 4, 0}, {253, 4, 0},
		{7, 2, 0}, {11, 2, 0}, {4, 1, 0}, {15, 4, 0}, {62, 16, 0}, {16, 4, 0}, {17, 4, 0}, {9, 1, 0}, {13, 1, 0}, {29, 1, 0}, {30, 1, 0},
		{1, 8, 0}, {2, 8, 0}, {152, 8, 0}, {153, 8, 0}})
	b.data(1024,
		rec(u8(4), v4a, v4b, zero16, zero16, u32(501), u32(502), u32(601), u32(602), u16(40000), u16(22), u8(6), []byte{192, 0, 2, 1}, zero16,
			u32(64500), u32(64501), u8(24), u8(16), u8(0), u8(0), u64(3000), u64(6), msStart, msEnd),
		rec(u8(6), zero4, zero4, v6a, v6b, u32(0), u32(0), u32(611), u32(612), u16(40001), u16(80), u8(6), zero4, netip.MustParseAddr("2001:db8::1").AsSlice(),
			u32(64500), u32(64502), u8(0), u8(0), u8(48), u8(64), u64(9000), u64(9), msStart, msEnd))
	return exportShape{"juniper-ipfix-ipversion", [][]byte{b.bytes()}}
}

// section is the first n bytes of a frame, as exporters cut them.
func section(frame []byte, n int) []byte {
	if len(frame) > n {
		frame = frame[:n]
	}
	return varlen(frame)
}

// Inline monitoring (Cisco, Juniper): the only packet description is the
// frame's first bytes (315) and its size (312).
func shapeDataLinkSection() exportShape {
	tcp4 := ethernetFrame(macB, macA, nil, etypeIPv4, ipv4Packet(v4A, v4B, protoTCP, 61, 0x10, tcpSegment(33000, 443, 0x18, pad(1400))))
	udp6 := ethernetFrame(macB, macA, []vlanTag{{etypeVLAN, 809}}, etypeIPv6, ipv6Packet(v6A, v6B, protoUDP, 63, 0, 0x12345, udpDatagram(5353, 53, pad(300))))
	qinq := ethernetFrame(macA, macB, []vlanTag{{etypeQinQ, 100}, {etypeVLAN, 809}}, etypeIPv4, ipv4Packet(v4B, v4A, protoUDP, 64, 0, udpDatagram(4000, 4001, pad(100))))
	b := newIPFIXBuilder(7)
	b.template(400, []ie{{10, 4, 0}, {14, 4, 0}, {312, 2, 0}, {315, 0xffff, 0}, {152, 8, 0}})
	b.data(400,
		rec(u32(3), u32(4), u16(uint16(len(tcp4))), section(tcp4, 128), msEnd),
		rec(u32(3), u32(5), u16(uint16(len(udp6))), section(udp6, 128), msEnd),
		rec(u32(6), u32(4), u16(uint16(len(qinq))), section(qinq, 128), msEnd))
	return exportShape{"cisco-ipfix-datalink-section", [][]byte{b.bytes()}}
}

// EVPN over MPLS with a control word, and an L3VPN packet without one,
// as inline monitoring exports them in data-link sections.
func shapeDataLinkMPLS() exportShape {
	inner := ethernetFrame(macA, macB, nil, etypeIPv4, ipv4Packet(v4C, v4D, protoUDP, 64, 0, udpDatagram(1234, 4321, pad(500))))
	evpn := ethernetFrame(macB, macA, nil, etypeMPLS, mplsStack([]uint32{16001, 24005}, append([]byte{0, 0, 0, 0}, inner...)))
	l3vpn := ethernetFrame(macB, macA, nil, etypeMPLS, mplsStack([]uint32{299776}, ipv4Packet(v4B, v4A, protoTCP, 250, 0xc0, tcpSegment(179, 50000, 0x02, pad(40)))))
	b := newIPFIXBuilder(7)
	b.template(401, []ie{{10, 4, 0}, {312, 2, 0}, {315, 0xffff, 0}})
	b.data(401,
		rec(u32(9), u16(uint16(len(evpn))), section(evpn, 128)),
		rec(u32(9), u16(uint16(len(l3vpn))), section(l3vpn, 128)))
	return exportShape{"juniper-ipfix-datalink-mpls-evpn", [][]byte{b.bytes()}}
}

// SRv6: an IPv6 header section (313) whose packet carries a segment
// routing header (routing type 4) before TCP.
func shapeIPSectionSRv6() exportShape {
	pkt := ipv6Packet(v6A, v6B, 43, 60, 0, 0xabcde, segmentRouting(protoTCP, []netip.Addr{v6C, v6D}, tcpSegment(40400, 8443, 0x10, pad(700))))
	b := newIPFIXBuilder(8)
	b.template(402, []ie{{10, 4, 0}, {313, 0xffff, 0}, {2, 4, 0}})
	b.data(402, rec(u32(2), section(pkt, 160), u32(1)))
	return exportShape{"cisco-ipfix-ipheader-srv6", [][]byte{b.bytes()}}
}

// ipfixprobe's biflows: forward and reverse counters and TCP flags, the
// reverse ones under enterprise 29305 (RFC 5103).
func shapeIpfixprobeBiflow() exportShape {
	b := newIPFIXBuilder(0)
	b.template(258, []ie{{136, 1, 0}, {1, 8, 0}, {1, 8, penReverse}, {2, 4, 0}, {2, 4, penReverse}, {152, 8, 0}, {153, 8, 0},
		{60, 1, 0}, {4, 1, 0}, {6, 1, 0}, {6, 1, penReverse}, {7, 2, 0}, {11, 2, 0}, {10, 2, 0}, {8, 4, 0}, {12, 4, 0}, {56, 6, 0}, {80, 6, 0}})
	b.data(258,
		rec(u8(3), u64(1200), u64(48000), u32(20), u32(35), msStart, msEnd, u8(4), u8(6), u8(0x1b), u8(0x1a), u16(41000), u16(443), u16(1), v4a, v4b, mac6A, mac6B),
		rec(u8(1), u64(76), u64(0), u32(1), u32(0), msStart, msEnd, u8(4), u8(17), u8(0), u8(0), u16(41001), u16(53), u16(1), v4a, v4b, mac6A, mac6B))
	return exportShape{"ipfixprobe-ipfix-biflow", [][]byte{b.bytes()}}
}

// NetFlow v9 with an options template announcing the rate per sampler
// id, and data naming its sampler.
func shapeV9OptionsSampling() exportShape {
	v9 := newV9Builder(3)
	body := append(u16(257), u16(4)...) // options template 257, scope: system (4 bytes)
	body = append(body, u16(12)...)
	body = append(body, u16(1)...)
	body = append(body, u16(4)...)
	for _, f := range []field{{48, 1}, {49, 1}, {50, 4}} { // sampler id, mode, random interval
		body = append(body, u16(f.typ)...)
		body = append(body, u16(f.length)...)
	}
	v9.set(1, body)
	v9.template(256, []field{{8, 4}, {12, 4}, {7, 2}, {11, 2}, {4, 1}, {1, 4}, {2, 4}, {10, 2}, {14, 2}, {48, 1}, {22, 4}, {21, 4}})
	v9.set(257, rec(u32(1), u8(5), u8(2), u32(512), u32(1), u8(6), u8(2), u32(64)))
	v9.set(256, rec(v4a, v4b, u16(443), u16(51515), u8(6), u32(5200), u32(4), u16(2), u16(3), u8(5), u32(90000), u32(99000),
		v4b, v4a, u16(53), u16(5353), u8(17), u32(120), u32(1), u16(3), u16(2), u8(6), u32(91000), u32(98000)))
	return exportShape{"cisco-v9-options-sampling", [][]byte{v9.bytes()}}
}

// Cisco ASA NSEL (NetFlow v9): the translated addresses and ports
// (40001..40004), byte counts in initiatorOctets (231), ICMP in 176/177.
func shapeV9NSEL() exportShape {
	v9 := newV9Builder(0)
	v9.template(263, []field{{8, 4}, {12, 4}, {7, 2}, {11, 2}, {4, 1}, {40001, 4}, {40002, 4}, {40003, 2}, {40004, 2}, {231, 4}, {298, 4}, {176, 1}, {177, 1}, {233, 1}})
	v9.set(263, rec(
		[]byte{10, 1, 1, 5}, v4b, u16(49152), u16(443), u8(6), []byte{203, 0, 113, 7}, v4b, u16(61000), u16(443), u32(7000), u32(9), u8(0), u8(0), u8(2),
		[]byte{10, 1, 1, 6}, v4a, u16(0), u16(0), u8(1), []byte{203, 0, 113, 7}, v4a, u16(0), u16(0), u32(84), u32(1), u8(8), u8(0), u8(1),
	))
	return exportShape{"cisco-asa-v9-nsel-nat", [][]byte{v9.bytes()}}
}

// Cisco IOS NAT event logging over NetFlow v9: the IPFIX NAT elements
// (225..228, natEvent 230) under the same ids, an event time (323) and
// a VRF (234).
func shapeV9NEL() exportShape {
	v9 := newV9Builder(0)
	v9.template(271, []field{{8, 4}, {12, 4}, {7, 2}, {11, 2}, {4, 1}, {225, 4}, {226, 4}, {227, 2}, {228, 2}, {230, 1}, {234, 4}, {323, 8}})
	v9.set(271, rec(
		[]byte{10, 2, 0, 7}, v4b, u16(51000), u16(53), u8(17), []byte{203, 0, 113, 20}, v4b, u16(1030), u16(53), u8(1), u32(3), u64(1700000000000-3000),
		[]byte{10, 2, 0, 8}, v4a, u16(51001), u16(443), u8(6), []byte{203, 0, 113, 20}, v4a, u16(1031), u16(443), u8(2), u32(3), u64(1700000000000-2500),
	))
	return exportShape{"cisco-v9-nel-nat", [][]byte{v9.bytes()}}
}

// IPFIX NAT event logging (NEL, RFC 8158 elements 225..228 and 230) with
// ingress/egress VRFs (234/235).
func shapeIPFIXNELAndVRF() exportShape {
	b := newIPFIXBuilder(9)
	b.template(270, []ie{{8, 4, 0}, {12, 4, 0}, {7, 2, 0}, {11, 2, 0}, {4, 1, 0}, {225, 4, 0}, {226, 4, 0}, {227, 2, 0}, {228, 2, 0}, {230, 1, 0},
		{234, 4, 0}, {235, 4, 0}, {1, 8, 0}, {2, 8, 0}, {323, 8, 0}})
	b.data(270, rec([]byte{100, 64, 0, 9}, v4a, u16(1025), u16(80), u8(6), []byte{203, 0, 113, 9}, v4a, u16(20025), u16(80), u8(1),
		u32(10), u32(20), u64(900), u64(3), u64(1700000000000-2000)))
	return exportShape{"cisco-ipfix-nel-nat-vrf", [][]byte{b.bytes()}}
}

// The fields operators filter on: MACs (56/80 and their egress
// counterparts 81/57), the MPLS label stack (70..72, 3 bytes each), TTL
// (192, and 52/53 alone), the IPv6 flow label (31), forwarding status
// (89, a drop), ICMPv6 type/code (139), VLANs (58/59).
func shapeOperatorFields() exportShape {
	b := newIPFIXBuilder(10)
	b.template(280, []ie{{27, 16, 0}, {28, 16, 0}, {4, 1, 0}, {139, 2, 0}, {56, 6, 0}, {80, 6, 0}, {81, 6, 0}, {57, 6, 0},
		{70, 3, 0}, {71, 3, 0}, {72, 3, 0}, {192, 1, 0}, {31, 4, 0}, {89, 1, 0}, {58, 2, 0}, {59, 2, 0}, {1, 8, 0}, {2, 8, 0}})
	mplsEntry := func(label uint32, bottom bool) []byte {
		e := label << 4 // traffic class 0
		if bottom {
			e |= 1
		}
		return []byte{byte(e >> 16), byte(e >> 8), byte(e)}
	}
	b.data(280,
		rec(v6a, v6b, u8(58), u16(128<<8), mac6A, mac6B, make([]byte, 6), make([]byte, 6), mplsEntry(16005, false), mplsEntry(24001, true), []byte{0, 0, 0},
			u8(63), u32(0xbeef5), u8(0x80|2), u16(100), u16(200), u64(1040), u64(10)),
		rec(v6b, v6a, u8(6), u16(0), make([]byte, 6), make([]byte, 6), mac6B, mac6A, []byte{0, 0, 0}, []byte{0, 0, 0}, []byte{0, 0, 0},
			u8(0), u32(0), u8(0x40), u16(0), u16(0), u64(60), u64(1)))
	min := newIPFIXBuilder(10)
	min.template(281, []ie{{8, 4, 0}, {12, 4, 0}, {4, 1, 0}, {52, 1, 0}, {53, 1, 0}, {176, 1, 0}, {177, 1, 0}, {1, 4, 0}, {2, 4, 0}})
	min.data(281, rec(v4a, v4b, u8(1), u8(55), u8(60), u8(3), u8(3), u32(560), u32(10)))
	return exportShape{"iana-ipfix-operator-fields", [][]byte{b.bytes(), min.bytes()}}
}

// A switch's "unknown" VLAN (0xFFFFFFFF in a 4-byte vlanId) and a
// 24-bit ingress VRF beyond nothing: the flow is kept, the VLAN zeroed.
func shapeOutOfRangeVLAN() exportShape {
	b := newIPFIXBuilder(11)
	b.template(290, []ie{{8, 4, 0}, {12, 4, 0}, {4, 1, 0}, {58, 4, 0}, {59, 2, 0}, {1, 8, 0}, {2, 8, 0}})
	b.data(290, rec(v4a, v4b, u8(17), u32(0xffffffff), u16(30), u64(1500), u64(1)))
	return exportShape{"switch-ipfix-vlan-unknown", [][]byte{b.bytes()}}
}
