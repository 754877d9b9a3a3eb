package flowcollector

import (
	"encoding/binary"
	"errors"

	"github.com/netstrata/netstrata/internal/record"
)

// Link types of a packet section, numbered as sFlow's header_protocol
// (sFlow v5 spec, "sampled_header"). IPFIX callers map theirs:
// dataLinkFrameSection (315) is Ethernet, ipHeaderPacketSection (313)
// is packetIP.
const (
	packetEthernet = 1
	packetIPv4     = 11
	packetIPv6     = 12
	packetMPLS     = 13
	// packetIP is an IP packet whose version its first nibble says
	// (outside sFlow's numbering).
	packetIP = 0x10000
)

// decapKinds are the tunnels a packet parser looks through, per
// exporter (flow_collector.decapsulation); none by default.
type decapKinds uint8

// headerLengths are what parsing a packet header learnt of the packet's
// lengths; zero when unknown.
type headerLengths struct {
	l2 uint32 // the link-layer header parsed (Ethernet and its VLAN tags)
	ip uint32 // the IP packet, from its own header (total or payload length)
}

var errHeaderShort = errors.New("packet header too short")

// parsePacket reads the first bytes of a packet (an sFlow sampled header,
// an IPFIX packet section) into f: Ethernet (with up to two VLAN tags),
// IPv4 or IPv6 and the transport ports. It returns the lengths it found
// (zero when it did not get that far); an error says where the bytes
// ran out, and what was read before stays in f.
func (d *decoder) parsePacket(f *record.Flow, link uint32, b []byte, _ decapKinds) (headerLengths, error) {
	var l headerLengths
	etype := uint16(0)
	switch link {
	case packetEthernet:
		if len(b) < 14 {
			return l, errHeaderShort
		}
		etype = binary.BigEndian.Uint16(b[12:])
		b = b[14:]
		l.l2 = 14
		for tags := 0; (etype == 0x8100 || etype == 0x88a8) && tags < 2; tags++ {
			if len(b) < 4 {
				return l, errHeaderShort
			}
			if f.SrcVlan == 0 {
				f.SrcVlan = uint32(binary.BigEndian.Uint16(b) & 0x0fff)
			}
			etype = binary.BigEndian.Uint16(b[2:])
			b = b[4:]
			l.l2 += 4
		}
	case packetIPv4:
		etype = 0x0800
	case packetIPv6:
		etype = 0x86dd
	case packetIP:
		if len(b) == 0 {
			return l, errHeaderShort
		}
		switch b[0] >> 4 {
		case 4:
			etype = 0x0800
		case 6:
			etype = 0x86dd
		default:
			return l, nil
		}
	default:
		return l, nil // another link layer: the sample still counts
	}
	f.Etype = uint32(etype)
	var l4 []byte
	switch etype {
	case 0x0800:
		if len(b) < 20 {
			return l, errHeaderShort
		}
		ihl := int(b[0]&0x0f) * 4
		if ihl < 20 || len(b) < ihl {
			return l, errHeaderShort
		}
		l.ip = uint32(binary.BigEndian.Uint16(b[2:]))
		f.IpTos = uint32(b[1])
		f.Proto = uint32(b[9])
		f.SrcIp = setIP(&d.src, b[12:16])
		f.DstIp = setIP(&d.dst, b[16:20])
		if binary.BigEndian.Uint16(b[6:])&0x1fff != 0 {
			return l, nil // a later fragment carries no ports
		}
		l4 = b[ihl:]
	case 0x86dd:
		if len(b) < 40 {
			return l, errHeaderShort
		}
		if payload := uint32(binary.BigEndian.Uint16(b[4:])); payload != 0 { // 0: a jumbogram
			l.ip = 40 + payload
		}
		f.IpTos = uint32(binary.BigEndian.Uint16(b) >> 4 & 0xff)
		next := b[6]
		f.SrcIp = setIP(&d.src, b[8:24])
		f.DstIp = setIP(&d.dst, b[24:40])
		b = b[40:]
		// Skip extension headers, a bounded number of them.
	ext:
		for i := 0; i < 8; i++ {
			switch next {
			case 0, 43, 60: // hop-by-hop, routing, destination options
				if len(b) < 8 {
					return l, errHeaderShort
				}
				n := 8 + int(b[1])*8
				if len(b) < n {
					return l, errHeaderShort
				}
				next, b = b[0], b[n:]
				continue
			case 44: // fragment
				if len(b) < 8 {
					return l, errHeaderShort
				}
				if binary.BigEndian.Uint16(b[2:])&0xfff8 != 0 {
					f.Proto = uint32(b[0])
					return l, nil
				}
				next, b = b[0], b[8:]
				continue
			}
			break ext
		}
		f.Proto = uint32(next)
		l4 = b
	default:
		return l, nil
	}
	switch f.Proto {
	case protoTCP:
		if len(l4) >= 14 {
			f.TcpFlags = uint32(l4[13])
		}
		fallthrough
	case protoUDP, protoSCTP:
		if len(l4) >= 4 {
			f.SrcPort = uint32(binary.BigEndian.Uint16(l4))
			f.DstPort = uint32(binary.BigEndian.Uint16(l4[2:]))
		}
	case protoICMP, protoICMPv6:
		if len(l4) >= 2 {
			f.DstPort = uint32(l4[0])<<8 | uint32(l4[1])
		}
	}
	return l, nil
}
