package flowcollector

import (
	"bytes"
	"math"
	"slices"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/netstrata/netstrata/internal/record"
)

// TestAppendFlowCoversEveryField fails when a field is added to
// record.Flow without teaching appendFlow about it.
func TestAppendFlowCoversEveryField(t *testing.T) {
	fields := (&record.Flow{}).ProtoReflect().Descriptor().Fields()
	var nums []int
	for i := 0; i < fields.Len(); i++ {
		nums = append(nums, int(fields.Get(i).Number()))
	}
	slices.Sort(nums)
	if !slices.Equal(nums, marshaledFields) {
		t.Fatalf("record.Flow has fields %v, appendFlow writes %v", nums, marshaledFields)
	}
}

// TestAppendFlowMatchesProtoMarshal compares the hand-written encoder
// with proto.Marshal on the flows of every capture and on a flow with
// every field at its maximum.
func TestAppendFlowMatchesProtoMarshal(t *testing.T) {
	maxed := &record.Flow{
		Type: record.FlowType_FLOW_TYPE_SFLOW_V5, TimeReceivedNs: ^uint64(0), TimeFlowStartNs: ^uint64(0), TimeFlowEndNs: ^uint64(0),
		ExporterIp: bytes.Repeat([]byte{0xff}, 16), ObservationDomain: ^uint32(0), Sequence: ^uint32(0), SamplingRate: ^uint64(0),
		InIf: ^uint32(0), OutIf: ^uint32(0), Direction: record.FlowDirection_FLOW_DIRECTION_EGRESS,
		SrcIp: bytes.Repeat([]byte{0xff}, 16), DstIp: bytes.Repeat([]byte{0xff}, 16), SrcPort: ^uint32(0), DstPort: ^uint32(0),
		Proto: ^uint32(0), TcpFlags: ^uint32(0), Etype: ^uint32(0), IpTos: ^uint32(0), Bytes: ^uint64(0), Packets: ^uint64(0),
		SrcVlan: ^uint32(0), DstVlan: ^uint32(0), NextHop: bytes.Repeat([]byte{0xff}, 16), SrcAs: ^uint32(0), DstAs: ^uint32(0),
		SrcMask: ^uint32(0), DstMask: ^uint32(0), Application: "kubernetes-api",
		TimeBasis: record.TimeBasis_TIME_BASIS_RECEIVED, ExporterClockSkewNs: math.MinInt64,
		InIfKind: record.InterfaceKind_INTERFACE_KIND_MULTIPLE, InIfDetail: ^uint32(0),
		OutIfKind: record.InterfaceKind_INTERFACE_KIND_DISCARDED, OutIfDetail: ^uint32(0),
		ByteBasis: record.ByteBasis_BYTE_BASIS_FRAME,
		SrcMac:    0xffffffffffff, DstMac: ^uint64(0), MplsLabels: slices.Repeat([]uint32{^uint32(0)}, record.MaxMPLSLabels),
		IpTtl: ^uint32(0), Ipv6FlowLabel: ^uint32(0), ForwardingStatus: ^uint32(0), IngressVrf: ^uint32(0), EgressVrf: ^uint32(0),
		NatSrcIp: bytes.Repeat([]byte{0xff}, 16), NatDstIp: bytes.Repeat([]byte{0xff}, 16), NatSrcPort: ^uint32(0), NatDstPort: ^uint32(0),
		IcmpType: ^uint32(0), IcmpCode: ^uint32(0), OuterVlan: ^uint32(0), TunnelType: record.TunnelType_TUNNEL_TYPE_SRV6,
		TunnelSrcIp: bytes.Repeat([]byte{0xff}, 16), TunnelDstIp: bytes.Repeat([]byte{0xff}, 16), VxlanVni: ^uint32(0),
	}
	labelsOnly := &record.Flow{MplsLabels: []uint32{16, 0, 1048575}}
	flows := []*record.Flow{maxed, labelsOnly, {}}
	for _, name := range []string{"softflowd-ipfix", "pmacct-nfprobe-v9"} {
		c, pub := newTestComponent(t, testConfig(t))
		flows = append(flows, flatten(decodeEach(c, pub, kindNetFlow, loadCapture(t, name)))...)
	}
	for _, f := range flows {
		want, err := proto.MarshalOptions{Deterministic: true}.Marshal(f)
		if err != nil {
			t.Fatal(err)
		}
		got := appendFlow(nil, f)
		if !bytes.Equal(got, want) {
			t.Fatalf("appendFlow(%v)\n got %x\nwant %x", f, got, want)
		}
	}
	if n := len(appendFlow(nil, maxed)); n > maxFlowSize+len(maxed.Application) {
		t.Errorf("maximal flow is %d bytes, maxFlowSize allows %d", n, maxFlowSize+len(maxed.Application))
	}
}

// marshaledFields lists the field numbers appendFlow writes.
var marshaledFields = []int{1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 40, 41, 42, 43, 44, 45, 46,
	47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63, 64, 65, 66}
