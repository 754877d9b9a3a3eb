package flowcollector

import "github.com/netstrata/netstrata/internal/record"

// Byte bases of flow_collector.sflow_byte_basis.
const (
	byteBasisIP    = "ip"
	byteBasisFrame = "frame"
)

// ethernetHeader is what sampled Ethernet lengths count beyond the IP
// packet when no header was parsed.
const ethernetHeader = 14

// sflowBytes is the byte count of a sampled packet. sFlow reports the
// frame (link-layer header included, the FCS unless stripped); NetFlow
// and IPFIX count the IP packet, so by default the sample counts the IP
// total length its header carries, or failing that the frame less the
// link-layer header parsed: mixed exporters then agree, and so do flows
// and SNMP octets read against them. The frame basis keeps what sFlow
// says.
func (c *Component) sflowBytes(frameLength, stripped uint32, l headerLengths) (uint64, record.ByteBasis) {
	frame := frameLength
	if stripped < frameLength {
		// Stripped bytes (the FCS, usually) are counted by frame_length
		// but are not in the header.
		frame = frameLength - stripped
	}
	if c.cfg.SFlowByteBasis == byteBasisFrame {
		return uint64(frame), record.ByteBasis_BYTE_BASIS_FRAME
	}
	switch {
	case l.ip != 0 && l.ip+l.l2 <= frame: // a header claiming more than the frame lies
		return uint64(l.ip), record.ByteBasis_BYTE_BASIS_IP
	case l.l2 < frame:
		return uint64(frame - l.l2), record.ByteBasis_BYTE_BASIS_IP
	}
	return uint64(frame), record.ByteBasis_BYTE_BASIS_FRAME
}

// sflowEthernetBytes is the byte count of a sampled Ethernet record (a
// sample without its header): the MAC packet's length, less the header
// on the IP basis.
func (c *Component) sflowEthernetBytes(length uint32) (uint64, record.ByteBasis) {
	if c.cfg.SFlowByteBasis == byteBasisFrame || length <= ethernetHeader {
		return uint64(length), record.ByteBasis_BYTE_BASIS_FRAME
	}
	return uint64(length - ethernetHeader), record.ByteBasis_BYTE_BASIS_IP
}

// sflowSampleBytes is a flow sample's byte count from the best of its
// records. A sampled IPv4/IPv6 record's length is the IP packet's (sFlow
// v5 spec: "the length of the IP packet excluding lower layer
// encapsulations"): on the IP basis it wins over a sampled header, some
// exporters' frame_length being only what they captured; on the frame
// basis it and the link-layer header parsed bound the frame from below.
// Without either, a sampled Ethernet record's length counts.
func (c *Component) sflowSampleBytes(s *sflowSample) (uint64, record.ByteBasis) {
	frameBasis := c.cfg.SFlowByteBasis == byteBasisFrame
	switch {
	case s.header && s.ipLength == 0:
		return c.sflowBytes(s.frame, s.stripped, s.l)
	case s.header && frameBasis:
		frame, _ := c.sflowBytes(s.frame, s.stripped, s.l)
		return max(frame, uint64(s.ipLength)+uint64(s.l.l2)), record.ByteBasis_BYTE_BASIS_FRAME
	case s.ipLength != 0 && (!frameBasis || s.ethLen == 0):
		return uint64(s.ipLength), record.ByteBasis_BYTE_BASIS_IP
	}
	return c.sflowEthernetBytes(s.ethLen)
}
