package flowcollector

import (
	"github.com/netstrata/netstrata/internal/record"
)

// Information elements (IANA IPFIX numbering, shared with NetFlow v9 for
// ids below 128 and for the NAT ones) that the mapping reads.
const (
	ieOctetDeltaCount          = 1
	iePacketDeltaCount         = 2
	ieProtocol                 = 4
	ieIPClassOfService         = 5
	ieTCPControlBits           = 6
	ieSourceTransportPort      = 7
	ieSourceIPv4Address        = 8
	ieSourceIPv4PrefixLength   = 9
	ieIngressInterface         = 10
	ieDestinationTransportPort = 11
	ieDestinationIPv4Address   = 12
	ieDestIPv4PrefixLength     = 13
	ieEgressInterface          = 14
	ieIPNextHopIPv4Address     = 15
	ieBGPSourceASNumber        = 16
	ieBGPDestinationASNumber   = 17
	ieBGPNextHopIPv4Address    = 18
	ieFlowEndSysUpTime         = 21
	ieFlowStartSysUpTime       = 22
	iePostOctetDeltaCount      = 23
	iePostPacketDeltaCount     = 24
	ieSourceIPv6Address        = 27
	ieDestinationIPv6Address   = 28
	ieSourceIPv6PrefixLength   = 29
	ieDestIPv6PrefixLength     = 30
	ieFlowLabelIPv6            = 31
	ieICMPTypeCodeIPv4         = 32
	ieSamplingInterval         = 34
	ieSamplerID                = 48 // NetFlow v9 FLOW_SAMPLER_ID
	ieSamplerRandomInterval    = 50 // NetFlow v9 FLOW_SAMPLER_RANDOM_INTERVAL
	ieMinimumTTL               = 52
	ieMaximumTTL               = 53
	ieSourceMacAddress         = 56
	iePostDestinationMac       = 57
	ieVlanID                   = 58
	iePostVlanID               = 59
	ieIPVersion                = 60
	ieFlowDirection            = 61
	ieIPNextHopIPv6Address     = 62
	ieBGPNextHopIPv6Address    = 63
	ieMPLSTopLabelStackSection = 70 // 70..79: the label stack, top first
	ieMPLSLabelStackSection10  = 79
	ieDestinationMacAddress    = 80
	iePostSourceMacAddress     = 81
	ieOctetTotalCount          = 85
	iePacketTotalCount         = 86
	ieForwardingStatus         = 89
	ieICMPTypeCodeIPv6         = 139
	ieFlowStartSeconds         = 150
	ieFlowEndSeconds           = 151
	ieFlowStartMilliseconds    = 152
	ieFlowEndMilliseconds      = 153
	ieFlowStartMicroseconds    = 154
	ieFlowEndMicroseconds      = 155
	ieFlowStartNanoseconds     = 156
	ieFlowEndNanoseconds       = 157
	ieFlowStartDeltaMicros     = 158
	ieFlowEndDeltaMicros       = 159
	ieSystemInitTimeMillis     = 160
	ieICMPTypeIPv4             = 176
	ieICMPCodeIPv4             = 177
	ieICMPTypeIPv6             = 178
	ieICMPCodeIPv6             = 179
	ieIPTTL                    = 192
	ieIPTotalLength            = 224
	ieInitiatorOctets          = 231 // Cisco ASA NSEL's forward bytes
	ieInitiatorPackets         = 298
	iePostNATSourceIPv4        = 225
	iePostNATDestinationIPv4   = 226
	iePostNAPTSourcePort       = 227
	iePostNAPTDestinationPort  = 228
	ieIngressVRFID             = 234
	ieEgressVRFID              = 235
	ieDot1qVlanID              = 243
	ieDot1qCustomerVlanID      = 245
	ieIngressPhysicalInterface = 252
	ieEgressPhysicalInterface  = 253
	iePostDot1qVlanID          = 254
	ieEthernetType             = 256
	iePostNATSourceIPv6        = 281
	iePostNATDestinationIPv6   = 282
	ieSelectorID               = 302
	ieSamplingPacketInterval   = 305
	ieSamplingPacketSpace      = 306
	ieSamplingSize             = 309
	ieSamplingPopulation       = 310
	ieObservationTimeMillis    = 323 // the time of an event (NAT, firewall)
	ieIPHeaderPacketSection    = 313
	ieDataLinkFrameSize        = 312
	ieDataLinkFrameSection     = 315
	// Cisco ASA NSEL (NetFlow v9): the translated addresses and ports.
	ieNSELXlateSrcAddrIPv4 = 40001
	ieNSELXlateDstAddrIPv4 = 40002
	ieNSELXlateSrcPort     = 40003
	ieNSELXlateDstPort     = 40004
)

// recordState holds what mapping a record gathers before it can settle
// times, counters, addresses and the sampling rate.
type recordState struct {
	postBytes, postPackets uint64
	initBytes, initPackets uint64
	observedNs             uint64
	startUp, endUp         uint32
	hasStartUp, hasEndUp   bool
	startNs, endNs         uint64
	rateInRecord, sampler  uint64
	pktInterval, pktSpace  uint64
	icmpType, icmpCode     uint64
	hasICMP                bool
	ipVersion              uint64
	// Addresses as exported; the family is chosen in finishRecord.
	src4, dst4, src6, dst6   []byte
	nh4, nh6, bgpNh4, bgpNh6 []byte
	natSrc, natDst           []byte // the first non-zero post-NAT address of either family
	physIn, physOut          uint32
	postSrcMac, postDstMac   uint64 // 81, 57: the egress frame's, used when 56/80 are absent
	minTTL, maxTTL           uint32
	customerVlan             uint32
	// mpls holds the label stack entries 70..79 by position; mplsSeen
	// which were exported.
	mpls     [record.MaxMPLSLabels]uint32
	mplsSeen uint16
	// A packet section (315 or 313) and the sizes that count its bytes.
	section                  []byte
	sectionLink              uint32
	frameSize, ipTotalLength uint64
}

// setNZ stores v unless it is zero: a field present and zero never
// overwrites one that another element set.
func setNZ(dst *uint32, v uint32) {
	if v != 0 {
		*dst = v
	}
}

func setNZ64(dst *uint64, v uint64) {
	if v != 0 {
		*dst = v
	}
}

// mapField maps one information element of a data record.
func (d *decoder) mapField(f *record.Flow, st *recordState, typ uint16, b []byte, h *packetHeader) {
	switch typ {
	case ieOctetDeltaCount, ieOctetTotalCount:
		setNZ64(&f.Bytes, beUint(b))
	case iePacketDeltaCount, iePacketTotalCount:
		setNZ64(&f.Packets, beUint(b))
	case iePostOctetDeltaCount:
		st.postBytes = beUint(b)
	case iePostPacketDeltaCount:
		st.postPackets = beUint(b)
	case ieProtocol:
		setNZ(&f.Proto, d.bounded("proto", beUint(b), maxUint8))
	case ieIPClassOfService:
		setNZ(&f.IpTos, d.bounded("ip_tos", beUint(b), maxUint8))
	case ieTCPControlBits:
		setNZ(&f.TcpFlags, d.bounded("tcp_flags", beUint(b), maxUint16))
	case ieSourceTransportPort:
		setNZ(&f.SrcPort, d.bounded("src_port", beUint(b), maxUint16))
	case ieDestinationTransportPort:
		setNZ(&f.DstPort, d.bounded("dst_port", beUint(b), maxUint16))
	case ieSourceIPv4Address:
		st.src4 = b
	case ieDestinationIPv4Address:
		st.dst4 = b
	case ieSourceIPv6Address:
		st.src6 = b
	case ieDestinationIPv6Address:
		st.dst6 = b
	case ieSourceIPv4PrefixLength, ieSourceIPv6PrefixLength:
		setNZ(&f.SrcMask, d.bounded("src_mask", beUint(b), 128))
	case ieDestIPv4PrefixLength, ieDestIPv6PrefixLength:
		setNZ(&f.DstMask, d.bounded("dst_mask", beUint(b), 128))
	case ieIngressInterface:
		setNZ(&f.InIf, d.bounded("in_if", beUint(b), maxUint32))
	case ieEgressInterface:
		setNZ(&f.OutIf, d.bounded("out_if", beUint(b), maxUint32))
	case ieIngressPhysicalInterface:
		setNZ(&st.physIn, d.bounded("in_if", beUint(b), maxUint32))
	case ieEgressPhysicalInterface:
		setNZ(&st.physOut, d.bounded("out_if", beUint(b), maxUint32))
	case ieIPNextHopIPv4Address:
		st.nh4 = b
	case ieIPNextHopIPv6Address:
		st.nh6 = b
	case ieBGPNextHopIPv4Address:
		st.bgpNh4 = b
	case ieBGPNextHopIPv6Address:
		st.bgpNh6 = b
	case ieBGPSourceASNumber:
		setNZ(&f.SrcAs, d.bounded("src_as", beUint(b), maxUint32))
	case ieBGPDestinationASNumber:
		setNZ(&f.DstAs, d.bounded("dst_as", beUint(b), maxUint32))
	case ieVlanID, ieDot1qVlanID:
		setNZ(&f.SrcVlan, d.bounded("src_vlan", beUint(b), maxVlan))
	case iePostVlanID, iePostDot1qVlanID:
		setNZ(&f.DstVlan, d.bounded("dst_vlan", beUint(b), maxVlan))
	case ieDot1qCustomerVlanID:
		setNZ(&st.customerVlan, d.bounded("src_vlan", beUint(b), maxVlan))
	case ieFlowDirection:
		switch beUint(b) {
		case 0:
			f.Direction = record.FlowDirection_FLOW_DIRECTION_INGRESS
		case 1:
			f.Direction = record.FlowDirection_FLOW_DIRECTION_EGRESS
		}
	case ieEthernetType:
		setNZ(&f.Etype, d.bounded("etype", beUint(b), maxUint16))
	case ieIPVersion:
		st.ipVersion = beUint(b)
	case ieICMPTypeCodeIPv4, ieICMPTypeCodeIPv6:
		if tc := beUint(b); tc != 0 || !st.hasICMP {
			st.icmpType, st.icmpCode, st.hasICMP = tc>>8&0xff, tc&0xff, true
		}
	case ieICMPTypeIPv4, ieICMPTypeIPv6:
		setNZ64(&st.icmpType, uint64(d.bounded("icmp_type", beUint(b), maxUint8)))
		st.hasICMP = true
	case ieICMPCodeIPv4, ieICMPCodeIPv6:
		setNZ64(&st.icmpCode, uint64(d.bounded("icmp_code", beUint(b), maxUint8)))
		st.hasICMP = true
	default:
		d.mapMoreField(f, st, typ, b, h)
	}
}

// mapMoreField maps the elements that are neither keys nor counters:
// times, sampling, layer 2, MPLS, NAT and the packet sections.
func (d *decoder) mapMoreField(f *record.Flow, st *recordState, typ uint16, b []byte, h *packetHeader) {
	switch typ {
	case ieFlowStartSysUpTime:
		st.startUp, st.hasStartUp = uint32(beUint(b)), true
	case ieFlowEndSysUpTime:
		st.endUp, st.hasEndUp = uint32(beUint(b)), true
	case ieFlowStartSeconds:
		st.startNs = beUint(b) * 1e9
	case ieFlowEndSeconds:
		st.endNs = beUint(b) * 1e9
	case ieFlowStartMilliseconds:
		st.startNs = beUint(b) * 1e6
	case ieFlowEndMilliseconds:
		st.endNs = beUint(b) * 1e6
	case ieFlowStartMicroseconds, ieFlowStartNanoseconds:
		st.startNs = ntpToUnixNs(b)
	case ieFlowEndMicroseconds, ieFlowEndNanoseconds:
		st.endNs = ntpToUnixNs(b)
	case ieFlowStartDeltaMicros:
		st.startNs = h.exportNs - beUint(b)*1e3
	case ieFlowEndDeltaMicros:
		st.endNs = h.exportNs - beUint(b)*1e3
	case ieSamplingInterval, ieSamplerRandomInterval:
		st.rateInRecord = beUint(b)
	case ieSamplerID, ieSelectorID:
		st.sampler = beUint(b)
	case ieSamplingPacketInterval:
		st.pktInterval = beUint(b)
	case ieSamplingPacketSpace:
		st.pktSpace = beUint(b)
	case ieSourceMacAddress:
		setNZ64(&f.SrcMac, d.mac("src_mac", b))
	case iePostSourceMacAddress:
		st.postSrcMac = d.mac("src_mac", b)
	case ieDestinationMacAddress:
		setNZ64(&f.DstMac, d.mac("dst_mac", b))
	case iePostDestinationMac:
		st.postDstMac = d.mac("dst_mac", b)
	case ieIPTTL:
		setNZ(&f.IpTtl, d.bounded("ip_ttl", beUint(b), maxUint8))
	case ieMinimumTTL:
		setNZ(&st.minTTL, d.bounded("ip_ttl", beUint(b), maxUint8))
	case ieMaximumTTL:
		setNZ(&st.maxTTL, d.bounded("ip_ttl", beUint(b), maxUint8))
	case ieFlowLabelIPv6:
		setNZ(&f.Ipv6FlowLabel, d.bounded("ipv6_flow_label", beUint(b), maxFlowLabel))
	case ieForwardingStatus:
		setNZ(&f.ForwardingStatus, d.bounded("forwarding_status", beUint(b), maxUint8))
	case ieIngressVRFID:
		setNZ(&f.IngressVrf, d.bounded("ingress_vrf", beUint(b), maxUint32))
	case ieEgressVRFID:
		setNZ(&f.EgressVrf, d.bounded("egress_vrf", beUint(b), maxUint32))
	case iePostNATSourceIPv4, iePostNATSourceIPv6, ieNSELXlateSrcAddrIPv4:
		if st.natSrc == nil || isZero(st.natSrc) {
			st.natSrc = b
		}
	case iePostNATDestinationIPv4, iePostNATDestinationIPv6, ieNSELXlateDstAddrIPv4:
		if st.natDst == nil || isZero(st.natDst) {
			st.natDst = b
		}
	case iePostNAPTSourcePort, ieNSELXlateSrcPort:
		setNZ(&f.NatSrcPort, d.bounded("nat_src_port", beUint(b), maxUint16))
	case iePostNAPTDestinationPort, ieNSELXlateDstPort:
		setNZ(&f.NatDstPort, d.bounded("nat_dst_port", beUint(b), maxUint16))
	case ieInitiatorOctets:
		st.initBytes = beUint(b)
	case ieInitiatorPackets:
		st.initPackets = beUint(b)
	case ieObservationTimeMillis:
		st.observedNs = beUint(b) * 1e6
	case ieIPTotalLength:
		st.ipTotalLength = beUint(b)
	case ieDataLinkFrameSize:
		st.frameSize = beUint(b)
	case ieDataLinkFrameSection:
		st.section, st.sectionLink = b, packetEthernet
	case ieIPHeaderPacketSection:
		if st.section == nil { // a frame says more than its IP packet
			st.section, st.sectionLink = b, packetIP
		}
	default:
		if typ >= ieMPLSTopLabelStackSection && typ <= ieMPLSLabelStackSection10 {
			i := typ - ieMPLSTopLabelStackSection
			st.mpls[i] = uint32(beUint(b))
			st.mplsSeen |= 1 << i
		}
	}
}

// mac reads a 6-byte MAC address into the low 48 bits; another length
// is out of range.
func (d *decoder) mac(field string, b []byte) uint64 {
	if len(b) != 6 {
		d.zeroField(field, uint64(len(b)))
		return 0
	}
	return beUint(b)
}

func isZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// finishRecord settles what depends on several fields and returns the
// record's sampling rate.
func (d *decoder) finishRecord(e *exporter, h *packetHeader, f *record.Flow, st *recordState) uint64 {
	if st.section != nil {
		d.mapSection(f, st)
	}
	if f.Bytes == 0 && f.Packets == 0 {
		f.Bytes, f.Packets = st.postBytes, st.postPackets
	}
	if f.Bytes == 0 && f.Packets == 0 {
		f.Bytes, f.Packets = st.initBytes, st.initPackets
	}
	if st.startNs == 0 && st.endNs == 0 {
		st.startNs, st.endNs = st.observedNs, st.observedNs
	}
	d.settleAddresses(f, st)
	// ingress/egressInterface (10/14, the logical interface, the one
	// routing and SNMP's ifTable name) win; 252/253 fill in when they
	// are absent or zero.
	setNZ(&st.physIn, f.InIf)
	setNZ(&st.physOut, f.OutIf)
	f.InIf, f.OutIf = st.physIn, st.physOut
	// QinQ: 245 is the customer (inner) tag, 243 then the outer one.
	if st.customerVlan != 0 {
		if f.SrcVlan != st.customerVlan {
			f.OuterVlan = f.SrcVlan
		}
		f.SrcVlan = st.customerVlan
	}
	// 56/80 describe the frame as it arrived, 81/57 as it left.
	setNZ64(&st.postSrcMac, f.SrcMac)
	setNZ64(&st.postDstMac, f.DstMac)
	f.SrcMac, f.DstMac = st.postSrcMac, st.postDstMac
	// ipTTL (192), else the flow's minimum TTL (52), else its maximum.
	setNZ(&st.maxTTL, st.minTTL)
	setNZ(&st.maxTTL, f.IpTtl)
	f.IpTtl = st.maxTTL
	d.settleMPLS(f, st)
	d.settleICMP(f, st)
	if f.Etype == 0 {
		switch {
		case st.ipVersion == 4 || len(f.SrcIp) == 16 && isMapped(f.SrcIp):
			f.Etype = 0x0800
		case st.ipVersion == 6 || len(f.SrcIp) == 16:
			f.Etype = 0x86dd
		}
	}
	d.flowTimes(e, h, f, st.startNs, st.endNs, st.startUp, st.endUp, st.hasStartUp, st.hasEndUp)
	if st.pktInterval > 0 && st.rateInRecord == 0 {
		st.rateInRecord = addSat(st.pktInterval, st.pktSpace) / st.pktInterval
	}
	f.SamplingRate = e.samplingRate(h.version, h.domain, st.rateInRecord, st.sampler, d.c.cfg.DefaultSamplingRate)
	return f.SamplingRate
}

// settleAddresses picks the address family of a record that may carry
// both: ipVersion (60) says which when exported; otherwise the family
// with a non-zero address, IPv6 first (an IPv4 address is then usually
// the template's zero filler's counterpart); otherwise whichever is
// present. A zero address never overwrites one a packet section set.
func (d *decoder) settleAddresses(f *record.Flow, st *recordState) {
	v6 := false
	switch {
	case st.ipVersion == 4:
	case st.ipVersion == 6:
		v6 = true
	case !isZero(st.src6) || !isZero(st.dst6):
		v6 = true
	case st.src4 == nil && st.dst4 == nil:
		v6 = st.src6 != nil || st.dst6 != nil
	}
	src, dst := st.src4, st.dst4
	if v6 {
		src, dst = st.src6, st.dst6
	}
	if src != nil && (f.SrcIp == nil || !isZero(src)) {
		f.SrcIp = setIP(&d.src, src)
	}
	if dst != nil && (f.DstIp == nil || !isZero(dst)) {
		f.DstIp = setIP(&d.dst, dst)
	}
	nhs := [4][]byte{st.nh4, st.bgpNh4, st.nh6, st.bgpNh6}
	if v6 {
		nhs = [4][]byte{st.nh6, st.bgpNh6, st.nh4, st.bgpNh4}
	}
	for _, nh := range nhs {
		if nh != nil && !isZero(nh) {
			f.NextHop = setIP(&d.nh, nh)
			break
		}
	}
	if st.natSrc != nil && !isZero(st.natSrc) {
		f.NatSrcIp = setIP(&d.natSrc, st.natSrc)
	}
	if st.natDst != nil && !isZero(st.natDst) {
		f.NatDstIp = setIP(&d.natDst, st.natDst)
	}
}

// settleMPLS keeps the exported label stack, top first, up to the
// bottom-of-stack bit or the first entry absent or all zero (the
// template's filler when the packet had fewer labels).
func (d *decoder) settleMPLS(f *record.Flow, st *recordState) {
	if st.mplsSeen == 0 {
		return
	}
	n := 0
	for i, entry := range st.mpls {
		if st.mplsSeen&(1<<i) == 0 || entry == 0 {
			break
		}
		d.mpls[n] = entry >> 4
		n++
		if entry&1 != 0 {
			break
		}
	}
	if n > 0 {
		f.MplsLabels = d.mpls[:n:n]
	}
}

// settleICMP stores the ICMP type and code in their columns and, as
// NetFlow v5 and the tools reading flows do, folded into the destination
// port; an exporter that only folds them (NetFlow v9 exporters often do)
// has them unfolded.
func (d *decoder) settleICMP(f *record.Flow, st *recordState) {
	if f.Proto != protoICMP && f.Proto != protoICMPv6 {
		return
	}
	switch {
	case st.hasICMP:
		f.IcmpType, f.IcmpCode = uint32(st.icmpType), uint32(st.icmpCode)
		if f.DstPort == 0 {
			f.DstPort = uint32(st.icmpType<<8 | st.icmpCode)
		}
	case f.IcmpType == 0 && f.IcmpCode == 0 && f.SrcPort == 0:
		f.IcmpType, f.IcmpCode = f.DstPort>>8, f.DstPort&0xff
	}
}

func isMapped(ip []byte) bool {
	return ip[10] == 0xff && ip[11] == 0xff && ip[0]|ip[1]|ip[2]|ip[3]|ip[4]|ip[5]|ip[6]|ip[7]|ip[8]|ip[9] == 0
}
