package flowcollector

import (
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/netstrata/netstrata/internal/record"
)

// appendFlow appends the protobuf encoding of f to b. It produces what
// proto.Marshal produces (fields in number order, zero values omitted)
// without its per-message overhead: this is the hot path of the
// collector. marshal_test.go checks it against proto.Marshal and that it
// covers every field of record.Flow.
func appendFlow(b []byte, f *record.Flow) []byte {
	b = appendVarintField(b, 1, uint64(f.Type))
	b = appendVarintField(b, 2, f.TimeReceivedNs)
	b = appendVarintField(b, 3, f.TimeFlowStartNs)
	b = appendVarintField(b, 4, f.TimeFlowEndNs)
	b = appendBytesField(b, 5, f.ExporterIp)
	b = appendVarintField(b, 6, uint64(f.ObservationDomain))
	b = appendVarintField(b, 7, uint64(f.Sequence))
	b = appendVarintField(b, 8, f.SamplingRate)
	b = appendVarintField(b, 10, uint64(f.InIf))
	b = appendVarintField(b, 11, uint64(f.OutIf))
	b = appendVarintField(b, 12, uint64(f.Direction))
	b = appendBytesField(b, 13, f.SrcIp)
	b = appendBytesField(b, 14, f.DstIp)
	b = appendVarintField(b, 15, uint64(f.SrcPort))
	b = appendVarintField(b, 16, uint64(f.DstPort))
	b = appendVarintField(b, 17, uint64(f.Proto))
	b = appendVarintField(b, 18, uint64(f.TcpFlags))
	b = appendVarintField(b, 19, uint64(f.Etype))
	b = appendVarintField(b, 20, uint64(f.IpTos))
	b = appendVarintField(b, 21, f.Bytes)
	b = appendVarintField(b, 22, f.Packets)
	b = appendVarintField(b, 23, uint64(f.SrcVlan))
	b = appendVarintField(b, 24, uint64(f.DstVlan))
	b = appendBytesField(b, 25, f.NextHop)
	b = appendVarintField(b, 26, uint64(f.SrcAs))
	b = appendVarintField(b, 27, uint64(f.DstAs))
	b = appendVarintField(b, 28, uint64(f.SrcMask))
	b = appendVarintField(b, 29, uint64(f.DstMask))
	if f.Application != "" {
		b = protowire.AppendTag(b, 30, protowire.BytesType)
		b = protowire.AppendString(b, f.Application)
	}
	b = appendVarintField(b, 40, uint64(f.TimeBasis))
	b = appendVarintField(b, 41, protowire.EncodeZigZag(f.ExporterClockSkewNs))
	b = appendVarintField(b, 42, uint64(f.InIfKind))
	b = appendVarintField(b, 43, uint64(f.InIfDetail))
	b = appendVarintField(b, 44, uint64(f.OutIfKind))
	b = appendVarintField(b, 45, uint64(f.OutIfDetail))
	b = appendVarintField(b, 46, uint64(f.ByteBasis))
	b = appendVarintField(b, 47, f.SrcMac)
	b = appendVarintField(b, 48, f.DstMac)
	b = appendPackedField(b, 49, f.MplsLabels)
	b = appendVarintField(b, 50, uint64(f.IpTtl))
	b = appendVarintField(b, 51, uint64(f.Ipv6FlowLabel))
	b = appendVarintField(b, 52, uint64(f.ForwardingStatus))
	b = appendVarintField(b, 53, uint64(f.IngressVrf))
	b = appendVarintField(b, 54, uint64(f.EgressVrf))
	b = appendBytesField(b, 55, f.NatSrcIp)
	b = appendBytesField(b, 56, f.NatDstIp)
	b = appendVarintField(b, 57, uint64(f.NatSrcPort))
	b = appendVarintField(b, 58, uint64(f.NatDstPort))
	b = appendVarintField(b, 59, uint64(f.IcmpType))
	b = appendVarintField(b, 60, uint64(f.IcmpCode))
	b = appendVarintField(b, 61, uint64(f.OuterVlan))
	b = appendVarintField(b, 62, uint64(f.TunnelType))
	b = appendBytesField(b, 63, f.TunnelSrcIp)
	b = appendBytesField(b, 64, f.TunnelDstIp)
	b = appendVarintField(b, 65, uint64(f.VxlanVni))
	b = appendVarintField(b, lostField, uint64(f.SequenceLost))
	return b
}

// maxFlowSize bounds appendFlow's output apart from the application name:
// 55 fields (the application its tag and length) of at most a 2-byte tag
// and a 10-byte varint, 7
// addresses of 16 bytes with their length byte, and the MPLS labels
// packed (tag, length, MaxMPLSLabels varints of at most 5 bytes).
const maxFlowSize = 55*(2+10) + 7*16 + (2 + 1 + record.MaxMPLSLabels*5)

// lostField is sequence_lost's number, record.Flow's last: the decoder
// appends it to a record already encoded (see publishLast).
const lostField = 66

func appendVarintField(b []byte, num protowire.Number, v uint64) []byte {
	if v == 0 {
		return b
	}
	if num < 16 {
		b = append(b, byte(num)<<3|byte(protowire.VarintType))
	} else {
		b = protowire.AppendTag(b, num, protowire.VarintType)
	}
	return protowire.AppendVarint(b, v)
}

// appendPackedField writes a repeated uint32 the way proto3 does: one
// length-delimited field of varints, nothing when empty.
func appendPackedField(b []byte, num protowire.Number, v []uint32) []byte {
	if len(v) == 0 {
		return b
	}
	n := 0
	for _, x := range v {
		n += protowire.SizeVarint(uint64(x))
	}
	b = protowire.AppendTag(b, num, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(n))
	for _, x := range v {
		b = protowire.AppendVarint(b, uint64(x))
	}
	return b
}

func appendBytesField(b []byte, num protowire.Number, v []byte) []byte {
	if len(v) == 0 {
		return b
	}
	if num < 16 {
		b = append(b, byte(num)<<3|byte(protowire.BytesType))
	} else {
		b = protowire.AppendTag(b, num, protowire.BytesType)
	}
	b = protowire.AppendVarint(b, uint64(len(v)))
	return append(b, v...)
}
