package flowcollector

import (
	"encoding/binary"
	"fmt"

	"github.com/netstrata/netstrata/internal/record"
)

// decapKinds are the tunnels a packet parser looks through, per
// exporter (flow_collector.decapsulation); none by default, so that a
// tunnel is stored as the outer flow unless asked otherwise.
type decapKinds uint8

const (
	decapVXLAN decapKinds = 1 << iota // UDP 4789 (RFC 7348)
	decapGRE                          // IP protocol 47, GRE version 0 (RFC 2784, 2890)
	decapMPLS                         // MPLS in IP (protocol 137) and in UDP 6635 (RFC 4023, 7510)
	decapSRv6                         // IPv6 carrying IPv4, IPv6 or Ethernet (RFC 8754, 8986), with or without a segment routing header
)

// decapNames are the tunnel names of flow_collector.decapsulation.
var decapNames = map[string]decapKinds{"vxlan": decapVXLAN, "gre": decapGRE, "mpls": decapMPLS, "srv6": decapSRv6}

// newDecapsulation resolves the configured rules into a table of kinds
// per exporter.
func newDecapsulation(rules []DecapsulationRule) (*prefixTable[decapKinds], error) {
	t := &prefixTable[decapKinds]{}
	for i, r := range rules {
		field := fmt.Sprintf("flow_collector.decapsulation[%d]", i)
		var kinds decapKinds
		for j, n := range r.Tunnels {
			k, ok := decapNames[n]
			if !ok {
				return nil, fmt.Errorf("%s.tunnels[%d]: %q is none of vxlan, gre, mpls, srv6", field, j, n)
			}
			kinds |= k
		}
		if err := t.add(r.Exporter, kinds); err != nil {
			return nil, fmt.Errorf("%s.exporter: %w", field, err)
		}
	}
	return t, nil
}

// tunnel starts the inner packet of a tunnel: the outer endpoints go to
// the tunnel fields, and what the outer packet said of addresses,
// protocol, ports and IP header is forgotten so that nothing of it is
// taken for the inner packet's when that is cut short. Link-layer fields
// (MACs, VLANs, MPLS labels) stay the outer's unless the inner packet
// has its own.
func (w *packetWalk) tunnel(t record.TunnelType) {
	f, d := w.f, w.d
	f.TunnelType = t
	f.TunnelSrcIp = setIP(&d.tunnelSrc, f.SrcIp)
	f.TunnelDstIp = setIP(&d.tunnelDst, f.DstIp)
	f.SrcIp, f.DstIp = nil, nil
	f.Etype, f.Proto, f.SrcPort, f.DstPort, f.TcpFlags = 0, 0, 0, 0, 0
	f.IpTos, f.IpTtl, f.Ipv6FlowLabel, f.IcmpType, f.IcmpCode = 0, 0, 0, 0, 0
}

// udpTunnel looks through VXLAN and MPLS over UDP, by destination port.
func (w *packetWalk) udpTunnel(l4 []byte) error {
	switch {
	case w.f.DstPort == portVXLAN && w.decap&decapVXLAN != 0:
		// 8 bytes of UDP, then flags (I: a VNI is present), 24 reserved
		// bits, the VNI and 8 reserved bits.
		if len(l4) < 16 || l4[8]&0x08 == 0 {
			return nil
		}
		vni := binary.BigEndian.Uint32(l4[12:]) >> 8
		w.tunnel(record.TunnelType_TUNNEL_TYPE_VXLAN)
		w.f.VxlanVni = vni
		return w.ethernet(l4[16:])
	case w.f.DstPort == portMPLSInUDP && w.decap&decapMPLS != 0 && len(l4) > 8:
		w.tunnel(record.TunnelType_TUNNEL_TYPE_MPLS)
		return w.mpls(l4[8:])
	}
	return nil
}

// gre looks through GRE version 0: its optional checksum, key and
// sequence number are skipped; source-routed GRE (RFC 1701) and other
// versions (PPTP's) are left as the outer flow.
func (w *packetWalk) gre(b []byte) error {
	if w.decap&decapGRE == 0 || len(b) < 4 || b[0]&0x40 != 0 || b[1]&0x07 != 0 {
		return nil
	}
	n := 4
	for _, bit := range []byte{0x80, 0x20, 0x10} { // checksum, key, sequence
		if b[0]&bit != 0 {
			n += 4
		}
	}
	if len(b) < n {
		return errHeaderShort
	}
	etype := binary.BigEndian.Uint16(b[2:])
	inner := b[n:]
	switch etype {
	case etypeIPv4, etypeIPv6:
		w.tunnel(record.TunnelType_TUNNEL_TYPE_GRE)
		return w.ip(inner)
	case etypeBridging:
		w.tunnel(record.TunnelType_TUNNEL_TYPE_GRE)
		return w.ethernet(inner)
	case etypeMPLS, etypeMPLSMC:
		w.tunnel(record.TunnelType_TUNNEL_TYPE_GRE)
		return w.mpls(inner)
	}
	return nil
}

// srv6 looks through an IPv6 packet carrying a whole packet: the
// encapsulations of SRv6 (H.Encaps, with a segment routing header or,
// reduced to one segment, without).
func (w *packetWalk) srv6(b []byte) error {
	if w.decap&decapSRv6 == 0 || w.f.Etype != etypeIPv6 {
		return nil
	}
	next := w.f.Proto
	w.tunnel(record.TunnelType_TUNNEL_TYPE_SRV6)
	switch next {
	case protoIPv4InIP:
		return w.ipv4(b)
	case protoIPv6InIP:
		return w.ipv6(b)
	}
	return w.ethernet(b)
}
