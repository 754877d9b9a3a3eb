package flowcollector

import (
	"bytes"
	"net/netip"

	"github.com/netsampler/goflow2/v2/decoders/sflow"
)

// sflowShape is one kind of sFlow export the collector must decode.
// Every shape is decoded with sflowCorpusDecap: the router agent looks
// through every tunnel, the switch agent through none.
type sflowShape struct {
	name      string
	about     string
	decodeAs  []string // what tshark must be told (-d) to decode it
	datagrams [][]byte
}

// sflowCorpusDecap is the decapsulation of the sFlow corpus entries
// (their <entry>.yaml).
var sflowCorpusDecap = []DecapsulationRule{{Exporter: agentRouter.String(), Tunnels: []string{"vxlan", "gre", "mpls", "srv6"}}}

// headers are the sampled headers of the shape's first datagram's
// samples, for the packet parser's fuzzer.
func (s sflowShape) headers() [][]byte {
	var out [][]byte
	for _, dg := range s.datagrams {
		p, err := decodeSFlowForTest(dg)
		if err != nil {
			continue
		}
		out = append(out, p...)
	}
	return out
}

// Agents of the generated shapes (TEST-NET-1).
var (
	agentSwitch = netip.MustParseAddr("192.0.2.10")
	agentRouter = netip.MustParseAddr("192.0.2.11")
)

// tcpPacket is an IPv4 TCP packet of ipLength bytes from A to B.
func tcpPacket(ipLength int) []byte {
	return ipv4Packet(v4A, v4B, protoTCP, 61, 0x28, tcpSegment(40000, 443, 0x18, pad(ipLength-40)))
}

// headerOf is the first n bytes of a frame (all of it when shorter), as
// an exporter samples it.
func headerOf(frame []byte, n int) []byte { return frame[:min(n, len(frame))] }

// sampleOf is a compact flow sample of a frame: its first 128 bytes, the
// FCS stripped, ifIndex 3 in, 5 out, 1 in 1000.
func sampleOf(seq uint32, frame []byte, more ...sflowRecord) sflowFlowSample {
	return sampleOfN(seq, 128, frame, more...)
}

// sampleOfN samples the first n bytes of a frame.
func sampleOfN(seq uint32, n int, frame []byte, more ...sflowRecord) sflowFlowSample {
	return sflowFlowSample{seq: seq, source: 3, rate: 1000, pool: seq * 1000, in: 3, out: 5,
		records: append([]sflowRecord{sflowSampledHeader(packetEthernet, uint32(len(frame)+4), 4, headerOf(frame, n))}, more...)}
}

// sflowShapes are the generated shapes of the corpus.
func sflowShapes() []sflowShape {
	tcp := tcpPacket(1344)
	plain := ethernetFrame(macA, macB, nil, etypeIPv4, tcp)
	inner := ethernetFrame(macA+1, macB+1, nil, etypeIPv4, tcp)
	udp6 := ipv6Packet(v6A, v6B, protoUDP, 63, 0x2e, 0xabcde, udpDatagram(5353, 53, pad(500)))
	vxlan := ipv4Packet(v4C, v4D, protoUDP, 64, 0, udpDatagram(51000, portVXLAN, vxlanHeader(5001, inner)))
	srv6 := ipv6Packet(v6C, v6D, 43, 64, 0, 0x12345, segmentRouting(protoIPv4InIP, []netip.Addr{v6D, v6A}, tcp))
	gre := ipv4Packet(v4C, v4D, protoGRE, 64, 0, greHeader(etypeIPv4, 7, tcp))
	evpn := ethernetFrame(macA, macB, nil, etypeMPLS, mplsStack([]uint32{16004, 299792}, append([]byte{0, 0, 0, 0},
		ethernetFrame(macA+1, macB+1, []vlanTag{{etypeVLAN, 10}}, etypeIPv6, udp6)...)))
	icmp := ethernetFrame(macA, macB, nil, etypeIPv4, ipv4Packet(v4B, v4A, protoICMP, 250, 0, icmpMessage(3, 4, pad(548))))

	return []sflowShape{
		{
			name:  "switch-vlan-unknown",
			about: "a switch's 5 samples, 2 with an extended-switch VLAN of 0xFFFFFFFF (unknown): all 5 kept, those VLANs zeroed and counted",
			datagrams: [][]byte{sflowV5Datagram(agentSwitch, 1, 1000,
				sampleOf(1, plain, sflowExtendedSwitch(10, 0, 20, 0)),
				sampleOf(2, plain, sflowExtendedSwitch(0xffffffff, 0, 0xffffffff, 0)),
				sampleOf(3, plain, sflowExtendedSwitch(10, 0, 10, 0)),
				sampleOf(4, icmp, sflowExtendedSwitch(0xffffffff, 0, 30, 0)),
				sampleOf(5, plain, sflowExtendedSwitch(30, 0, 30, 0)),
			)},
		},
		{
			name:  "qinq",
			about: "802.1ad service tag 100 over customer tag 42, 802.1Q-in-802.1Q, and a single tag: the customer tag is src and dst VLAN, the service tag outer_vlan",
			datagrams: [][]byte{sflowV5Datagram(agentSwitch, 2, 2000,
				sampleOf(1, ethernetFrame(macA, macB, []vlanTag{{etypeQinQ, 100}, {etypeVLAN, 42}}, etypeIPv4, tcp)),
				sampleOf(2, ethernetFrame(macA, macB, []vlanTag{{etypeVLAN, 200}, {etypeVLAN, 43}}, etypeIPv6, udp6)),
				sampleOf(3, ethernetFrame(macA, macB, []vlanTag{{etypeVLAN, 809}}, etypeIPv4, tcp)),
			)},
		},
		{
			name:  "sampled-ipv4",
			about: "a sampled header with a sampled IPv4 (and IPv6) record: the record's length is the IP packet's, over a header whose frame_length is only what was captured; a sampled IPv4 record with a sampled Ethernet one and no header",
			datagrams: [][]byte{sflowV5Datagram(agentRouter, 3, 3000,
				sflowFlowSample{seq: 1, source: 7, rate: 512, in: 7, out: 9, records: []sflowRecord{
					sflowSampledHeader(packetEthernet, 128, 0, headerOf(plain, 128)),
					sflowSampledIP(1344, protoTCP, v4A, v4B, 40000, 443, 0x18, 0x28),
				}},
				sflowFlowSample{seq: 2, source: 7, rate: 512, in: 7, out: 9, records: []sflowRecord{
					sflowSampledIP(1344, protoTCP, v4A, v4B, 40001, 443, 0x10, 0x28),
					sflowSampledEthernet(1362, macB, macA, etypeIPv4),
					sflowExtendedRouter(v4C, 24, 16),
				}},
				sflowFlowSample{seq: 3, source: 7, rate: 512, in: 7, out: 9, records: []sflowRecord{
					sflowSampledHeader(packetIPv6, 96, 0, headerOf(udp6, 96)),
					sflowSampledIP(uint32(len(udp6)), protoUDP, v6A, v6B, 5353, 53, 0, 0x2e),
				}},
			)},
		},
		{
			name:  "expanded",
			about: "expanded flow samples (format 3) of a frame tagged 809 whose extended-switch record says in 809, out 0: dst_vlan is the header's 809",
			datagrams: [][]byte{sflowV5Datagram(agentSwitch, 4, 4000,
				func() sflowFlowSample {
					s := sampleOf(1, ethernetFrame(macA, macB, []vlanTag{{etypeVLAN, 809}}, etypeIPv4, tcp), sflowExtendedSwitch(809, 0, 0, 0))
					s.expanded, s.in, s.out = true, 70000, 1<<30|2 // an ifIndex above the compact form's; a discard
					return s
				}(),
				func() sflowFlowSample {
					s := sampleOf(2, ethernetFrame(macA, macB, []vlanTag{{etypeVLAN, 809}}, etypeIPv4, tcp))
					s.expanded, s.in, s.out = true, 12, 2<<30|3 // sent to 3 interfaces
					return s
				}(),
			)},
		},
		{
			name:     "mpls",
			about:    "an L3VPN label stack over IPv4, and EVPN: labels, control word, the customer's Ethernet frame with its VLAN, IPv6",
			decodeAs: []string{"mpls.label==299792,pwethcw"},
			datagrams: [][]byte{sflowV5Datagram(agentRouter, 5, 5000,
				sampleOf(1, ethernetFrame(macA, macB, nil, etypeMPLS, mplsStack([]uint32{16004, 24001}, tcp))),
				sampleOf(2, evpn),
			)},
		},
		{
			name:  "vxlan",
			about: "VXLAN (UDP 4789, VNI 5001) decapsulated: the inner flow, the VTEPs as tunnel endpoints",
			datagrams: [][]byte{sflowV5Datagram(agentRouter, 6, 6000,
				sampleOf(1, ethernetFrame(macA, macB, []vlanTag{{etypeVLAN, 300}}, etypeIPv4, vxlan)),
			)},
		},
		{
			name:  "vxlan-outer",
			about: "the same VXLAN sample, decapsulation off (the default): the outer UDP flow",
			datagrams: [][]byte{sflowV5Datagram(agentSwitch, 7, 7000,
				sampleOf(1, ethernetFrame(macA, macB, []vlanTag{{etypeVLAN, 300}}, etypeIPv4, vxlan)),
			)},
		},
		{
			name:  "srv6",
			about: "SRv6 (a segment routing header of 2 segments over IPv4, a 256-byte header) decapsulated, and GRE with a key",
			datagrams: [][]byte{sflowV5Datagram(agentRouter, 8, 8000,
				sampleOfN(1, 256, ethernetFrame(macA, macB, nil, etypeIPv6, srv6)), // 128 bytes would end within the inner TCP header
				sampleOf(2, ethernetFrame(macA, macB, nil, etypeIPv4, gre)),
			)},
		},
	}
}

// decodeSFlowForTest returns the sampled headers of a datagram, read by
// goflow2's decoder.
func decodeSFlowForTest(dg []byte) ([][]byte, error) {
	var p sflow.Packet
	if err := sflow.DecodeMessageVersion(bytes.NewBuffer(dg), &p); err != nil {
		return nil, err
	}
	var out [][]byte
	for _, s := range p.Samples {
		var recs []sflow.FlowRecord
		switch s := s.(type) {
		case sflow.FlowSample:
			recs = s.Records
		case sflow.ExpandedFlowSample:
			recs = s.Records
		}
		for _, r := range recs {
			if h, ok := r.Data.(sflow.SampledHeader); ok {
				out = append(out, h.HeaderData)
			}
		}
	}
	return out, nil
}
