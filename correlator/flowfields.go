package correlator

import (
	"slices"

	"github.com/netstrata/netstrata/internal/record"
	"github.com/netstrata/netstrata/internal/schema"
)

// flowFieldCols are the flow columns of schema migration 12: the fields
// operators filter on (record.Flow fields 47 to 65). Most exporters send
// none of them: until a flow of the batch has one, the columns only count
// rows, and a batch without any leaves them out of its INSERT (the table's
// defaults are the same zeros), which spares building and sending 19
// columns of zeros.
type flowFieldCols struct {
	pending int  // rows added while none had a field
	hint    int  // rows reserve announced while unused
	used    bool // a row had a field: the slices hold every row

	srcMAC, dstMAC                           []uint64
	outerVLAN, natSrcPort, natDstPort        []uint16
	mplsLabels                               [][]uint32
	ipv6FlowLabel, ingressVRF, egressVRF     []uint32
	vxlanVNI                                 []uint32
	ipTTL, forwardingStatus, icmpType        []uint8
	icmpCode                                 []uint8
	tunnelType                               []int8
	natSrcIP, natDstIP, tunnelSrc, tunnelDst [][16]byte
}

func (c *flowFieldCols) reserve(n int) {
	if !c.used {
		c.hint += n
		return
	}
	c.srcMAC, c.dstMAC = slices.Grow(c.srcMAC, n), slices.Grow(c.dstMAC, n)
	for _, s := range []*[]uint16{&c.outerVLAN, &c.natSrcPort, &c.natDstPort} {
		*s = slices.Grow(*s, n)
	}
	c.mplsLabels = slices.Grow(c.mplsLabels, n)
	for _, s := range []*[]uint32{&c.ipv6FlowLabel, &c.ingressVRF, &c.egressVRF, &c.vxlanVNI} {
		*s = slices.Grow(*s, n)
	}
	for _, s := range []*[]uint8{&c.ipTTL, &c.forwardingStatus, &c.icmpType, &c.icmpCode} {
		*s = slices.Grow(*s, n)
	}
	c.tunnelType = slices.Grow(c.tunnelType, n)
	for _, s := range []*[][16]byte{&c.natSrcIP, &c.natDstIP, &c.tunnelSrc, &c.tunnelDst} {
		*s = slices.Grow(*s, n)
	}
}

// add appends f's fields, each checked by o. dport and proto are the
// flow's checked destination port and protocol.
func (c *flowFieldCols) add(f *record.Flow, o *optional, dport uint16, proto uint8) {
	if !c.used {
		if !hasFlowFields(f, dport, proto) {
			c.pending++
			return
		}
		c.used = true
		c.reserve(max(c.hint, c.pending+1))
		for range c.pending {
			c.appendZero()
		}
	}
	c.srcMAC = append(c.srcMAC, within[uint64](o, f.SrcMac, maxMAC, "src_mac"))
	c.dstMAC = append(c.dstMAC, within[uint64](o, f.DstMac, maxMAC, "dst_mac"))
	c.outerVLAN = append(c.outerVLAN, within[uint16](o, uint64(f.OuterVlan), maxVLAN, "outer_vlan"))
	c.mplsLabels = append(c.mplsLabels, mplsLabels(f.MplsLabels, o))
	c.ipTTL = append(c.ipTTL, within[uint8](o, uint64(f.IpTtl), maxU8, "ip_ttl"))
	c.ipv6FlowLabel = append(c.ipv6FlowLabel, within[uint32](o, uint64(f.Ipv6FlowLabel), maxFlowLabel, "ipv6_flow_label"))
	c.forwardingStatus = append(c.forwardingStatus, within[uint8](o, uint64(f.ForwardingStatus), maxU8, "forwarding_status"))
	c.ingressVRF = append(c.ingressVRF, f.IngressVrf)
	c.egressVRF = append(c.egressVRF, f.EgressVrf)
	c.natSrcIP = append(c.natSrcIP, o.ip(f.NatSrcIp, "nat_src_ip"))
	c.natDstIP = append(c.natDstIP, o.ip(f.NatDstIp, "nat_dst_ip"))
	c.natSrcPort = append(c.natSrcPort, within[uint16](o, uint64(f.NatSrcPort), maxU16, "nat_src_port"))
	c.natDstPort = append(c.natDstPort, within[uint16](o, uint64(f.NatDstPort), maxU16, "nat_dst_port"))
	typ := within[uint8](o, uint64(f.IcmpType), maxU8, "icmp_type")
	code := within[uint8](o, uint64(f.IcmpCode), maxU8, "icmp_code")
	if typ == 0 && code == 0 && (proto == 1 || proto == 58) {
		// A producer that only folds them into the destination port, as
		// NetFlow exporters do (type*256+code).
		typ, code = uint8(dport>>8), uint8(dport)
	}
	c.icmpType, c.icmpCode = append(c.icmpType, typ), append(c.icmpCode, code)
	c.tunnelType = append(c.tunnelType, enum8(int32(f.TunnelType), 4))
	c.tunnelSrc = append(c.tunnelSrc, o.ip(f.TunnelSrcIp, "tunnel_src_ip"))
	c.tunnelDst = append(c.tunnelDst, o.ip(f.TunnelDstIp, "tunnel_dst_ip"))
	c.vxlanVNI = append(c.vxlanVNI, within[uint32](o, uint64(f.VxlanVni), maxVNI, "vxlan_vni"))
}

// hasFlowFields reports whether f carries any field of these columns
// (an ICMP flow does: its type and code, from dst_port if need be).
func hasFlowFields(f *record.Flow, dport uint16, proto uint8) bool {
	scalars := uint64(f.OuterVlan|f.IpTtl|f.Ipv6FlowLabel|f.ForwardingStatus|f.IngressVrf|f.EgressVrf|
		f.NatSrcPort|f.NatDstPort|f.IcmpType|f.IcmpCode|f.VxlanVni|uint32(f.TunnelType)) | f.SrcMac | f.DstMac
	return scalars != 0 || len(f.MplsLabels)+len(f.NatSrcIp)+len(f.NatDstIp)+len(f.TunnelSrcIp)+len(f.TunnelDstIp) > 0 ||
		(proto == 1 || proto == 58) && dport != 0
}

// appendZero appends a row without any field.
func (c *flowFieldCols) appendZero() {
	c.srcMAC, c.dstMAC = append(c.srcMAC, 0), append(c.dstMAC, 0)
	c.outerVLAN, c.natSrcPort, c.natDstPort = append(c.outerVLAN, 0), append(c.natSrcPort, 0), append(c.natDstPort, 0)
	c.mplsLabels = append(c.mplsLabels, []uint32{})
	c.ipv6FlowLabel, c.ingressVRF, c.egressVRF = append(c.ipv6FlowLabel, 0), append(c.ingressVRF, 0), append(c.egressVRF, 0)
	c.vxlanVNI = append(c.vxlanVNI, 0)
	c.ipTTL, c.forwardingStatus = append(c.ipTTL, 0), append(c.forwardingStatus, 0)
	c.icmpType, c.icmpCode = append(c.icmpType, 0), append(c.icmpCode, 0)
	c.tunnelType = append(c.tunnelType, 0)
	var none [16]byte
	c.natSrcIP, c.natDstIP = append(c.natSrcIP, none), append(c.natDstIP, none)
	c.tunnelSrc, c.tunnelDst = append(c.tunnelSrc, none), append(c.tunnelDst, none)
}

// mplsLabels checks a label stack: at most record.MaxMPLSLabels labels
// (the rest are cut), each a 20-bit value (a wider one becomes 0, keeping
// the depth of the others). The slice is the record's own, never reused.
func mplsLabels(labels []uint32, o *optional) []uint32 {
	if len(labels) > record.MaxMPLSLabels {
		o.zero("mpls_labels")
		labels = labels[:record.MaxMPLSLabels]
	}
	for i, l := range labels {
		labels[i] = within[uint32](o, uint64(l), maxMPLSLabel, "mpls_labels")
	}
	if labels == nil {
		return []uint32{}
	}
	return labels
}

// columns are the INSERT's columns of the fields: none when no row of the
// batch had one.
func (c *flowFieldCols) columns() []column {
	if !c.used {
		return nil
	}
	return []column{
		{schema.FlowSrcMAC, c.srcMAC}, {schema.FlowDstMAC, c.dstMAC}, {schema.FlowOuterVLAN, c.outerVLAN},
		{schema.FlowMPLSLabels, c.mplsLabels}, {schema.FlowIPTTL, c.ipTTL},
		{schema.FlowIPv6FlowLabel, c.ipv6FlowLabel}, {schema.FlowForwardingStatus, c.forwardingStatus},
		{schema.FlowIngressVRF, c.ingressVRF}, {schema.FlowEgressVRF, c.egressVRF}, {schema.FlowNATSrcIP, c.natSrcIP},
		{schema.FlowNATDstIP, c.natDstIP}, {schema.FlowNATSrcPort, c.natSrcPort},
		{schema.FlowNATDstPort, c.natDstPort}, {schema.FlowICMPType, c.icmpType}, {schema.FlowICMPCode, c.icmpCode},
		{schema.FlowTunnelType, c.tunnelType}, {schema.FlowTunnelSrcIP, c.tunnelSrc},
		{schema.FlowTunnelDstIP, c.tunnelDst}, {schema.FlowVXLANVNI, c.vxlanVNI},
	}
}
