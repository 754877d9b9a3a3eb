package flowcollector

import "github.com/netstrata/netstrata/internal/record"

// penReverse is the enterprise number under which RFC 5103 numbers the
// reverse direction's information elements of a biflow record (the
// same element ids as the forward ones); ipfixprobe and YAF export so.
const penReverse = 29305

// reverseField is one reverse element of the record being mapped.
type reverseField struct {
	typ uint16
	b   []byte
}

// emitReverse publishes the reverse direction of the biflow record just
// published, when it carried traffic: a flow of its own with the
// endpoints (addresses, ports, MACs, prefix lengths, ASes) swapped and
// the reverse elements mapped as forward ones. Elements the exporter did
// not reverse that describe the record rather than a direction (times,
// interfaces, VLANs, VRFs, sampling) are the forward direction's; those
// that describe the forward packets (counters, TCP flags, TOS, TTL, flow
// label, MPLS labels, ICMP type, NAT, forwarding status) are not carried
// over. False when there was no reverse traffic or the flow was refused.
func (d *decoder) emitReverse(e *exporter, h *packetHeader, fwd *recordState) bool {
	f := &d.flow
	f.SrcIp, f.DstIp = f.DstIp, f.SrcIp
	f.SrcPort, f.DstPort = f.DstPort, f.SrcPort
	f.SrcMac, f.DstMac = f.DstMac, f.SrcMac
	f.SrcMask, f.DstMask = f.DstMask, f.SrcMask
	f.SrcAs, f.DstAs = f.DstAs, f.SrcAs
	if f.Proto == protoICMP || f.Proto == protoICMPv6 {
		f.SrcPort, f.DstPort = 0, 0 // the forward port was its ICMP type
	}
	f.Bytes, f.Packets, f.TcpFlags, f.IpTos, f.IpTtl, f.Ipv6FlowLabel = 0, 0, 0, 0, 0, 0
	f.MplsLabels, f.IcmpType, f.IcmpCode, f.ForwardingStatus = nil, 0, 0, 0
	f.NatSrcIp, f.NatDstIp, f.NatSrcPort, f.NatDstPort = nil, nil, 0, 0
	f.TimeBasis, f.ExporterClockSkewNs = record.TimeBasis_TIME_BASIS_EXPORTER, 0
	st := recordState{
		startUp: fwd.startUp, endUp: fwd.endUp, hasStartUp: fwd.hasStartUp, hasEndUp: fwd.hasEndUp,
		startNs: fwd.startNs, endNs: fwd.endNs,
		rateInRecord: fwd.rateInRecord, sampler: fwd.sampler, pktInterval: fwd.pktInterval, pktSpace: fwd.pktSpace,
		ipVersion: fwd.ipVersion,
	}
	for _, r := range d.rev {
		d.mapField(f, &st, r.typ, r.b, h)
	}
	if f.Bytes == 0 && f.Packets == 0 && st.postBytes == 0 && st.postPackets == 0 {
		return false
	}
	d.finishRecord(e, h, f, &st)
	if !d.emit(e) {
		return false
	}
	e.metrics().biflowReverse.Inc()
	return true
}
