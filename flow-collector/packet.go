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

// headerLengths are what parsing a packet header learnt of the packet's
// lengths; zero when unknown.
type headerLengths struct {
	// l2 is what precedes the first IP header: Ethernet and its VLAN
	// tags, MPLS labels and control word, a pseudowire's inner Ethernet.
	l2 uint32
	ip uint32 // the first IP packet, from its own header (total or payload length)
}

// Ethertypes and IP protocols the parser follows.
const (
	etypeIPv4     = 0x0800
	etypeIPv6     = 0x86dd
	etypeVLAN     = 0x8100
	etypeQinQ     = 0x88a8
	etypeQinQOld  = 0x9100
	etypeMPLS     = 0x8847
	etypeMPLSMC   = 0x8848
	etypeBridging = 0x6558 // GRE: transparent Ethernet bridging

	protoGRE        = 47
	protoIPv4InIP   = 4
	protoIPv6InIP   = 41
	protoEthernetIP = 143 // RFC 8986: Ethernet in IPv6 (SRv6 L2 services)
	protoMPLSInIP   = 137

	portVXLAN     = 4789
	portMPLSInUDP = 6635 // RFC 7510
)

// Bounds of the walk: input can nest and repeat headers at will.
const (
	maxVLANTags    = 4  // QinQ is 2; a few more are seen on provider edges
	maxMPLSEntries = 32 // walked; record.MaxMPLSLabels of them are kept
	maxIPv6Ext     = 8  // extension headers skipped before giving up
	maxLayers      = 12 // headers of any kind, tunnels included
)

var (
	errHeaderShort = errors.New("packet header too short")
	errHeaderDeep  = errors.New("packet headers nest beyond the parser's bounds")
)

// packetWalk is one parse of a packet: where it is, what it found.
type packetWalk struct {
	d      *decoder
	f      *record.Flow
	decap  decapKinds
	total  int // bytes of the packet section
	l      headerLengths
	ipSeen bool
	layers int
}

// parsePacket reads the first bytes of a packet (an sFlow sampled header,
// an IPFIX packet section) into f: MACs, VLAN tags (one: src and dst
// VLAN; two or more: the innermost, the outermost in outer_vlan), MPLS
// labels (through to what they carry: IP, or Ethernet with or without a
// pseudowire control word), IPv4 or IPv6 (TTL, flow label, extension
// headers skipped), then ports, TCP flags or ICMP type and code. Tunnels
// of the kinds in decap are looked through: the inner packet is the
// flow's, the outer IP endpoints go to the tunnel fields. It returns the
// lengths it found (zero when it did not get that far); an error says
// where the bytes ran out, and what was read before stays in f.
func (d *decoder) parsePacket(f *record.Flow, link uint32, b []byte, decap decapKinds) (headerLengths, error) {
	w := packetWalk{d: d, f: f, decap: decap, total: len(b)}
	var err error
	switch link {
	case packetEthernet:
		err = w.ethernet(b)
	case packetIPv4:
		err = w.ipv4(b)
	case packetIPv6:
		err = w.ipv6(b)
	case packetMPLS:
		err = w.mpls(b)
	case packetIP:
		err = w.ip(b)
	}
	// Another link layer: the sample still counts.
	return w.l, err
}

// enter counts a header and refuses one beyond the bounds.
func (w *packetWalk) enter() error {
	w.layers++
	if w.layers > maxLayers {
		return errHeaderDeep
	}
	return nil
}

// linkDone notes where the link layer ends, b being what follows it,
// until the first IP header is reached.
func (w *packetWalk) linkDone(b []byte) {
	if !w.ipSeen {
		w.l.l2 = uint32(w.total - len(b))
	}
}

// ethernet reads an Ethernet II (or 802.3 SNAP) header and its tags.
func (w *packetWalk) ethernet(b []byte) error {
	if err := w.enter(); err != nil {
		return err
	}
	if len(b) < 14 {
		return errHeaderShort
	}
	f := w.f
	f.DstMac, f.SrcMac = mac(b), mac(b[6:])
	etype := binary.BigEndian.Uint16(b[12:])
	b = b[14:]
	for tags := 0; etype == etypeVLAN || etype == etypeQinQ || etype == etypeQinQOld; tags++ {
		if tags == maxVLANTags {
			return errHeaderDeep
		}
		if len(b) < 4 {
			return errHeaderShort
		}
		vid := uint32(binary.BigEndian.Uint16(b) & 0x0fff)
		if tags == 1 {
			f.OuterVlan = f.SrcVlan // the first tag was the service tag
		}
		f.SrcVlan, f.DstVlan = vid, vid
		etype = binary.BigEndian.Uint16(b[2:])
		b = b[4:]
	}
	if etype < 0x0600 && len(b) >= 8 && b[0] == 0xaa && b[1] == 0xaa && b[2] == 0x03 {
		// 802.3 length, LLC and SNAP: the ethertype follows the OUI.
		etype = binary.BigEndian.Uint16(b[6:])
		b = b[8:]
	}
	w.linkDone(b)
	f.Etype = uint32(etype)
	switch etype {
	case etypeIPv4:
		return w.ipv4(b)
	case etypeIPv6:
		return w.ipv6(b)
	case etypeMPLS, etypeMPLSMC:
		return w.mpls(b)
	}
	return nil
}

// mac is a 6-byte MAC address in the low bits of a uint64.
func mac(b []byte) uint64 {
	return uint64(binary.BigEndian.Uint16(b))<<32 | uint64(binary.BigEndian.Uint32(b[2:]))
}

// mpls reads a label stack (the first one met is the flow's) and what
// its bottom carries.
func (w *packetWalk) mpls(b []byte) error {
	if err := w.enter(); err != nil {
		return err
	}
	f := w.f
	keep := len(f.MplsLabels) == 0
	labels := w.d.labels[:0]
	for i := 0; ; i++ {
		if i == maxMPLSEntries {
			return errHeaderDeep
		}
		if len(b) < 4 {
			return errHeaderShort
		}
		v := binary.BigEndian.Uint32(b)
		b = b[4:]
		if keep && len(labels) < record.MaxMPLSLabels {
			labels = append(labels, v>>12)
			f.MplsLabels = labels
		}
		if v&0x100 != 0 { // bottom of stack
			break
		}
	}
	switch mplsPayload(b) {
	case etypeIPv4:
		w.linkDone(b)
		return w.ipv4(b)
	case etypeIPv6:
		w.linkDone(b)
		return w.ipv6(b)
	case etypeControlWord:
		return w.ethernet(b[4:])
	case etypeBridging:
		return w.ethernet(b)
	}
	w.linkDone(b)
	return nil
}

// etypeControlWord is what mplsPayload says of a pseudowire control word
// before an Ethernet frame (not an ethertype).
const etypeControlWord = 0xffff

// mplsPayload guesses what a label stack carries: MPLS does not say. The
// first nibble is 4 for IPv4, 6 for IPv6, 0 for a pseudowire control word
// (RFC 4385) and 1 for the associated channel (no traffic); an Ethernet
// pseudowire without a control word starts with a MAC address, whose
// first nibble is anything. A frame is taken for Ethernet when an
// ethertype the parser follows sits where it would (after the MACs), and
// the bytes read as the other choice do not hold together: an IPv4
// header whose checksum fails, a control word followed by no ethertype.
func mplsPayload(b []byte) uint16 {
	if len(b) == 0 {
		return 0
	}
	ethernet := followedEtype(b, 12)
	switch b[0] >> 4 {
	case 4:
		if ethernet && !ipv4ChecksumOK(b) {
			return etypeBridging
		}
		return etypeIPv4
	case 6:
		if ethernet {
			return etypeBridging
		}
		return etypeIPv6
	case 0:
		if ethernet && !followedEtype(b, 16) {
			return etypeBridging
		}
		if len(b) >= 4 {
			return etypeControlWord
		}
		return 0
	case 1:
		if !ethernet {
			return 0
		}
	}
	return etypeBridging
}

// followedEtype says whether b holds, at off, an ethertype the parser
// follows (or ARP).
func followedEtype(b []byte, off int) bool {
	if len(b) < off+2 {
		return false
	}
	switch binary.BigEndian.Uint16(b[off:]) {
	case etypeIPv4, etypeIPv6, etypeVLAN, etypeQinQ, etypeQinQOld, etypeMPLS, etypeMPLSMC, 0x0806:
		return true
	}
	return false
}

// ipv4ChecksumOK checks an IPv4 header's checksum.
func ipv4ChecksumOK(b []byte) bool {
	if len(b) < 20 {
		return false
	}
	n := int(b[0]&0x0f) * 4
	return n >= 20 && len(b) >= n && onesSum(b[:n]) == 0xffff
}

// onesSum is the ones' complement sum of 16-bit words (RFC 1071).
func onesSum(b []byte) uint16 {
	var sum uint32
	for i := 0; i+1 < len(b); i += 2 {
		sum += uint32(binary.BigEndian.Uint16(b[i:]))
	}
	sum = sum&0xffff + sum>>16
	sum += sum >> 16
	return uint16(sum)
}

// ip reads an IP packet of either version.
func (w *packetWalk) ip(b []byte) error {
	if len(b) == 0 {
		return errHeaderShort
	}
	switch b[0] >> 4 {
	case 4:
		return w.ipv4(b)
	case 6:
		return w.ipv6(b)
	}
	return nil
}

// seenIP notes the first IP header's length: bytes count the packet on
// the link, the outer one when a tunnel is looked through.
func (w *packetWalk) seenIP(length uint32) {
	if !w.ipSeen {
		w.ipSeen = true
		w.l.ip = length
	}
}

func (w *packetWalk) ipv4(b []byte) error {
	if err := w.enter(); err != nil {
		return err
	}
	if len(b) < 20 {
		return errHeaderShort
	}
	ihl := int(b[0]&0x0f) * 4
	if ihl < 20 || len(b) < ihl {
		return errHeaderShort
	}
	f := w.f
	w.seenIP(uint32(binary.BigEndian.Uint16(b[2:])))
	f.Etype = etypeIPv4
	f.IpTos = uint32(b[1])
	f.IpTtl = uint32(b[8])
	f.Proto = uint32(b[9])
	f.SrcIp = setIP(&w.d.src, b[12:16])
	f.DstIp = setIP(&w.d.dst, b[16:20])
	if binary.BigEndian.Uint16(b[6:])&0x1fff != 0 {
		return nil // a later fragment carries no ports
	}
	return w.transport(b[ihl:])
}

func (w *packetWalk) ipv6(b []byte) error {
	if err := w.enter(); err != nil {
		return err
	}
	if len(b) < 40 {
		return errHeaderShort
	}
	f := w.f
	var length uint32
	if payload := uint32(binary.BigEndian.Uint16(b[4:])); payload != 0 { // 0: a jumbogram
		length = 40 + payload
	}
	w.seenIP(length)
	f.Etype = etypeIPv6
	first := binary.BigEndian.Uint32(b)
	f.IpTos = first >> 20 & 0xff
	f.Ipv6FlowLabel = first & 0xfffff
	f.IpTtl = uint32(b[7])
	f.SrcIp = setIP(&w.d.src, b[8:24])
	f.DstIp = setIP(&w.d.dst, b[24:40])
	next := b[6]
	b = b[40:]
	for i := 0; ; i++ {
		if i == maxIPv6Ext {
			return errHeaderDeep
		}
		var n int
		switch next {
		case 0, 43, 60, 135, 139, 140: // hop-by-hop, routing (SRv6's SRH among them), destination options, mobility, HIP, shim6
			if len(b) < 2 {
				return errHeaderShort
			}
			n = 8 + int(b[1])*8
		case 51: // authentication header: its length counts 4-byte words, less 2
			if len(b) < 2 {
				return errHeaderShort
			}
			n = (int(b[1]) + 2) * 4
		case 44: // fragment
			if len(b) < 8 {
				return errHeaderShort
			}
			if binary.BigEndian.Uint16(b[2:])&0xfff8 != 0 {
				f.Proto = uint32(b[0])
				return nil // a later fragment carries no ports
			}
			n = 8
		default:
			f.Proto = uint32(next)
			return w.transport(b)
		}
		if len(b) < n {
			return errHeaderShort
		}
		next, b = b[0], b[n:]
	}
}

// transport reads what follows the IP header: ports, TCP flags, ICMP
// type and code, or a tunnel to look through.
func (w *packetWalk) transport(l4 []byte) error {
	f := w.f
	switch f.Proto {
	case protoTCP:
		if len(l4) >= 14 {
			f.TcpFlags = uint32(l4[13])
		}
		w.ports(l4)
	case protoUDP:
		w.ports(l4)
		return w.udpTunnel(l4)
	case protoSCTP:
		w.ports(l4)
	case protoICMP, protoICMPv6:
		if len(l4) >= 2 {
			f.IcmpType, f.IcmpCode = uint32(l4[0]), uint32(l4[1])
			// NetFlow's folding, kept in dst_port for compatibility.
			f.DstPort = f.IcmpType<<8 | f.IcmpCode
		}
	case protoGRE:
		return w.gre(l4)
	case protoMPLSInIP:
		if w.decap&decapMPLS != 0 {
			w.tunnel(record.TunnelType_TUNNEL_TYPE_MPLS)
			return w.mpls(l4)
		}
	case protoIPv4InIP, protoIPv6InIP, protoEthernetIP:
		return w.srv6(l4)
	}
	return nil
}

func (w *packetWalk) ports(l4 []byte) {
	if len(l4) >= 4 {
		w.f.SrcPort = uint32(binary.BigEndian.Uint16(l4))
		w.f.DstPort = uint32(binary.BigEndian.Uint16(l4[2:]))
	}
}
