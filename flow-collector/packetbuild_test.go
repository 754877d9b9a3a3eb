package flowcollector

import (
	"encoding/binary"
	"net/netip"
)

// Packet builders for tests, from the protocols' own specifications:
// each wraps a payload in one header, so packets are written outermost
// call first, innermost argument last.

// vlanTag is an 802.1Q (0x8100) or 802.1ad (0x88a8) tag.
type vlanTag struct{ tpid, vid uint16 }

// ethernetFrame is an Ethernet II header (MACs as in record.Flow), its
// tags, outermost first, and the payload.
func ethernetFrame(dst, src uint64, tags []vlanTag, etype uint16, payload []byte) []byte {
	b := make([]byte, 12, 14+4*len(tags)+len(payload))
	binary.BigEndian.PutUint16(b, uint16(dst>>32))
	binary.BigEndian.PutUint32(b[2:], uint32(dst))
	binary.BigEndian.PutUint16(b[6:], uint16(src>>32))
	binary.BigEndian.PutUint32(b[8:], uint32(src))
	for _, t := range tags {
		b = binary.BigEndian.AppendUint16(b, t.tpid)
		b = binary.BigEndian.AppendUint16(b, t.vid)
	}
	b = binary.BigEndian.AppendUint16(b, etype)
	return append(b, payload...)
}

// mplsStack is a label stack (TTL 64, the last entry bottom of stack).
func mplsStack(labels []uint32, payload []byte) []byte {
	var b []byte
	for i, l := range labels {
		v := l<<12 | 64
		if i == len(labels)-1 {
			v |= 0x100
		}
		b = binary.BigEndian.AppendUint32(b, v)
	}
	return append(b, payload...)
}

// ipv4Packet is an IPv4 header without options, checksum computed.
func ipv4Packet(src, dst netip.Addr, proto, ttl, tos uint8, payload []byte) []byte {
	b := make([]byte, 20, 20+len(payload))
	b[0], b[1], b[8], b[9] = 0x45, tos, ttl, proto
	binary.BigEndian.PutUint16(b[2:], uint16(20+len(payload)))
	binary.BigEndian.PutUint16(b[6:], 0x4000) // don't fragment
	s, d := src.As4(), dst.As4()
	copy(b[12:], s[:])
	copy(b[16:], d[:])
	binary.BigEndian.PutUint16(b[10:], ^onesSum(b))
	return append(b, payload...)
}

// ipv6Packet is an IPv6 header; next is the first extension header's or
// the transport's protocol.
func ipv6Packet(src, dst netip.Addr, next, hops, class uint8, flowLabel uint32, payload []byte) []byte {
	b := make([]byte, 40, 40+len(payload))
	binary.BigEndian.PutUint32(b, 6<<28|uint32(class)<<20|flowLabel&0xfffff)
	binary.BigEndian.PutUint16(b[4:], uint16(len(payload)))
	b[6], b[7] = next, hops
	s, d := src.As16(), dst.As16()
	copy(b[8:], s[:])
	copy(b[24:], d[:])
	return append(b, payload...)
}

// ipv6Options is a hop-by-hop or destination options header padded
// with PadN to 8 bytes.
func ipv6Options(next uint8, payload []byte) []byte {
	return append([]byte{next, 0, 1, 4, 0, 0, 0, 0}, payload...)
}

// segmentRouting is a segment routing header (RFC 8754: routing type 4)
// listing segments, the last one first as the SRH stores them.
func segmentRouting(next uint8, segments []netip.Addr, payload []byte) []byte {
	n := len(segments)
	b := []byte{next, uint8(2 * n), 4, uint8(n - 1), uint8(n - 1), 0, 0, 0}
	for i := n - 1; i >= 0; i-- {
		s := segments[i].As16()
		b = append(b, s[:]...)
	}
	return append(b, payload...)
}

func udpDatagram(srcPort, dstPort uint16, payload []byte) []byte {
	b := binary.BigEndian.AppendUint16(nil, srcPort)
	b = binary.BigEndian.AppendUint16(b, dstPort)
	b = binary.BigEndian.AppendUint16(b, uint16(8+len(payload)))
	b = append(b, 0, 0) // no checksum
	return append(b, payload...)
}

// tcpSegment is a TCP header without options.
func tcpSegment(srcPort, dstPort uint16, flags uint8, payload []byte) []byte {
	b := make([]byte, 20, 20+len(payload))
	binary.BigEndian.PutUint16(b, srcPort)
	binary.BigEndian.PutUint16(b[2:], dstPort)
	binary.BigEndian.PutUint32(b[4:], 1000)
	b[12], b[13] = 5<<4, flags
	binary.BigEndian.PutUint16(b[14:], 65535)
	return append(b, payload...)
}

func icmpMessage(typ, code uint8, payload []byte) []byte {
	return append([]byte{typ, code, 0, 0, 0, 1, 0, 1}, payload...)
}

// vxlanHeader carries a VNI (flags: I set).
func vxlanHeader(vni uint32, payload []byte) []byte {
	b := []byte{0x08, 0, 0, 0}
	b = binary.BigEndian.AppendUint32(b, vni<<8)
	return append(b, payload...)
}

// greHeader is GRE version 0, with a key when key is not 0.
func greHeader(etype uint16, key uint32, payload []byte) []byte {
	b := []byte{0, 0}
	if key != 0 {
		b[0] = 0x20
	}
	b = binary.BigEndian.AppendUint16(b, etype)
	if key != 0 {
		b = binary.BigEndian.AppendUint32(b, key)
	}
	return append(b, payload...)
}

// Test addresses.
var (
	macA = uint64(0x02_00_00_00_00_0a)
	macB = uint64(0x02_00_00_00_00_0b)
	v4A  = netip.MustParseAddr("192.0.2.1")
	v4B  = netip.MustParseAddr("198.51.100.2")
	v4C  = netip.MustParseAddr("203.0.113.3")
	v4D  = netip.MustParseAddr("203.0.113.4")
	v6A  = netip.MustParseAddr("2001:db8::a")
	v6B  = netip.MustParseAddr("2001:db8::b")
	v6C  = netip.MustParseAddr("2001:db8:c::1")
	v6D  = netip.MustParseAddr("2001:db8:d::1")
)

// pad is a payload of n bytes.
func pad(n int) []byte { return make([]byte, n) }
