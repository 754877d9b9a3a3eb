package flowcollector

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/netsampler/goflow2/v2/decoders/sflow"

	"github.com/netstrata/netstrata/internal/record"
)

// sflowSeqVersion keys sFlow datagram sequence numbers apart from
// NetFlow v5's in an exporter's sequence state.
const sflowSeqVersion = 0x100 | 5

// Limits goflow2 enforces on some sample formats but not all (expanded
// flow samples): checked here for every format before it allocates.
const (
	maxSFlowSamples = 1000
	maxSFlowRecords = 1000
)

var errSFlowStructure = errors.New("sFlow structure overruns the datagram")

// sflowAgent reads the agent address of an sFlow v5 datagram.
func sflowAgent(data []byte) (netip.Addr, int, error) {
	if len(data) < 8 {
		return netip.Addr{}, 0, errSFlowStructure
	}
	if v := binary.BigEndian.Uint32(data); v != 5 {
		return netip.Addr{}, 0, fmt.Errorf("sFlow version %d", v)
	}
	switch binary.BigEndian.Uint32(data[4:]) {
	case 1:
		if len(data) < 12 {
			return netip.Addr{}, 0, errSFlowStructure
		}
		return netip.AddrFrom4([4]byte(data[8:12])), 12, nil
	case 2:
		if len(data) < 24 {
			return netip.Addr{}, 0, errSFlowStructure
		}
		return netip.AddrFrom16([16]byte(data[8:24])).Unmap(), 24, nil
	}
	return netip.Addr{}, 0, errors.New("sFlow agent address type")
}

// prescanSFlow checks sample and record counts against the bytes that
// hold them before goflow2 sizes slices from them.
func prescanSFlow(data []byte, off int) error {
	if len(data) < off+16 {
		return errSFlowStructure
	}
	n := int(binary.BigEndian.Uint32(data[off+12:]))
	if n > maxSFlowSamples {
		return fmt.Errorf("%d samples", n)
	}
	b := data[off+16:]
	for i := 0; i < n; i++ {
		if len(b) < 8 {
			return fmt.Errorf("%d of %d samples: %w", i, n, errSFlowStructure)
		}
		format := binary.BigEndian.Uint32(b)
		l := int(binary.BigEndian.Uint32(b[4:]))
		if l > len(b)-8 || l < 0 {
			return errSFlowStructure
		}
		sample := b[8 : 8+l]
		b = b[8+l:]
		var countAt int
		switch format & 0xfff {
		case sflow.SAMPLE_FORMAT_FLOW:
			countAt = 28
		case sflow.SAMPLE_FORMAT_COUNTER:
			countAt = 8
		case sflow.SAMPLE_FORMAT_EXPANDED_FLOW:
			countAt = 40
		case sflow.SAMPLE_FORMAT_EXPANDED_COUNTER:
			countAt = 12
		case sflow.SAMPLE_FORMAT_DROP:
			countAt = 32
		default:
			continue
		}
		if len(sample) < countAt+4 {
			return errSFlowStructure
		}
		records := int(binary.BigEndian.Uint32(sample[countAt:]))
		if records > maxSFlowRecords || records*8 > len(sample)-countAt-4 {
			return fmt.Errorf("sample of %d bytes claims %d records: %w", len(sample), records, errSFlowStructure)
		}
	}
	return nil
}

// handleSFlow decodes an sFlow v5 datagram. The exporter is the agent
// address it carries (what SNMP polls), not the UDP source.
func (d *decoder) handleSFlow(data []byte, src netip.Addr, now time.Time) {
	agent, off, err := sflowAgent(data)
	if err == nil {
		src = agent
	}
	e, refused := d.c.exporters.get(src, now)
	if e == nil {
		d.c.refuseExporter(src, refused)
		return
	}
	e.metrics().datagrams.WithLabelValues(protocolNames[record.FlowType_FLOW_TYPE_SFLOW_V5]).Inc()
	if err != nil {
		kind := errKindMalformed
		if len(data) < 8 {
			kind = errKindShort
		} else if binary.BigEndian.Uint32(data) != 5 {
			kind = errKindVersion
		}
		d.fail(e, kind, err)
		return
	}
	if err := prescanSFlow(data, off); err != nil {
		d.fail(e, errKindMalformed, err)
		return
	}
	d.rd = *bytes.NewBuffer(data)
	p := &d.sf
	p.Samples = nil
	if err := sflow.DecodeMessageVersion(&d.rd, p); err != nil {
		// Samples decoded before the error are still good.
		d.fail(e, errKindSFlowSample, err)
	}
	h := packetHeader{
		flowType: record.FlowType_FLOW_TYPE_SFLOW_V5,
		version:  5,
		domain:   p.SubAgentId,
		seq:      p.SequenceNumber,
		recvNs:   uint64(now.UnixNano()),
	}
	h.exportNs = h.recvNs
	e.checkSequence(seqKey{sflowSeqVersion, h.domain}, p.SequenceNumber, seqUnits{data: 1})
	flows := 0
	var rate uint64
	for _, s := range p.Samples {
		switch s := s.(type) {
		case sflow.FlowSample:
			rate = d.sflowRate(e, &h, uint64(s.SamplingRate))
			in, out := compactSFlowIf(s.Input), compactSFlowIf(s.Output)
			if d.mapSFlowSample(e, &h, rate, in, out, s.Records) {
				flows++
			}
		case sflow.ExpandedFlowSample:
			rate = d.sflowRate(e, &h, uint64(s.SamplingRate))
			in := decodeSFlowIf(s.InputIfFormat, s.InputIfValue)
			out := decodeSFlowIf(s.OutputIfFormat, s.OutputIfValue)
			if d.mapSFlowSample(e, &h, rate, in, out, s.Records) {
				flows++
			}
		}
	}
	if flows > 0 {
		e.metrics().flows.WithLabelValues(protocolNames[h.flowType]).Add(float64(flows))
		e.metrics().samplingRate.Set(float64(rate))
	}
}

func (d *decoder) sflowRate(e *exporter, h *packetHeader, announced uint64) uint64 {
	return e.samplingRate(sflowSeqVersion, h.domain, announced, 0, d.c.cfg.DefaultSamplingRate)
}

// reasonNoPacket drops a flow sample without a sampled header or a
// sampled IPv4/IPv6 record: nothing in it describes a flow.
const reasonNoPacket = "no_packet_record"

// sflowSample is what a flow sample's records said, gathered before
// they are resolved: records come in any order, and some override others.
type sflowSample struct {
	header          bool // a sampled header was parsed
	frame, stripped uint32
	l               headerLengths
	ipLength        uint32 // a sampled IPv4/IPv6 record's: the IP packet's length
	sampledIP       bool
	ethLen          uint32 // a sampled Ethernet record's: the MAC packet's length
	sw              sflow.ExtendedSwitch
	haveSw          bool
}

// mapSFlowSample maps one flow sample and publishes it; false when the
// sample held nothing to describe a flow or was refused.
func (d *decoder) mapSFlowSample(e *exporter, h *packetHeader, rate uint64, in, out sflowIf, recs []sflow.FlowRecord) bool {
	f := d.resetFlow(e, h)
	// Flow samples carry no time: the receive time is the flow's.
	f.TimeFlowStartNs, f.TimeFlowEndNs = h.recvNs, h.recvNs
	f.TimeBasis = record.TimeBasis_TIME_BASIS_RECEIVED
	f.SamplingRate = rate
	setSFlowIfs(f, in, out)
	f.Packets = 1
	f.Direction = record.FlowDirection_FLOW_DIRECTION_INGRESS
	var s sflowSample
	for i := range recs {
		switch v := recs[i].Data.(type) {
		case sflow.SampledHeader:
			if !s.header {
				var err error
				if s.l, err = d.parsePacket(f, v.Protocol, v.HeaderData, e.decap); err != nil {
					d.fail(e, errKindSFlowHeader, err)
				}
				s.header, s.frame, s.stripped = true, v.FrameLength, v.Stripped
			}
		case sflow.SampledIPv4:
			d.mapSampledIP(f, &s, &v.SampledIPBase, 0x0800, v.Tos)
		case sflow.SampledIPv6:
			d.mapSampledIP(f, &s, &v.SampledIPBase, 0x86dd, v.Priority)
		case sflow.SampledEthernet:
			s.ethLen = v.Length
			if f.SrcMac == 0 {
				f.SrcMac, f.DstMac = sampledEthernetMACs(&v)
			}
		case sflow.ExtendedSwitch:
			s.sw, s.haveSw = v, true
		case sflow.ExtendedRouter:
			f.NextHop = setIP(&d.nh, v.NextHop)
			f.SrcMask = d.bounded("src_mask", uint64(v.SrcMaskLen), 128)
			f.DstMask = d.bounded("dst_mask", uint64(v.DstMaskLen), 128)
		case sflow.ExtendedGateway:
			if f.NextHop == nil {
				f.NextHop = setIP(&d.nh, v.NextHop)
			}
			f.SrcAs = v.SrcAS
			f.DstAs = v.AS
			if len(v.ASPath) > 0 {
				f.DstAs = v.ASPath[len(v.ASPath)-1]
			}
		}
	}
	if !s.header && !s.sampledIP {
		d.dropRecord(e, reasonNoPacket)
		return false
	}
	f.Bytes, f.ByteBasis = d.c.sflowSampleBytes(&s)
	if s.haveSw {
		d.mapSFlowSwitch(f, &s.sw)
	}
	return d.emit(e)
}

// mapSFlowSwitch applies an extended-switch record: its VLANs override
// the sampled header's (which has set both to the customer tag), except
// where they are unknown (0, or out of range: counted) and where a QinQ
// frame's service tag is reported (pmacct does), which is outer_vlan.
func (d *decoder) mapSFlowSwitch(f *record.Flow, sw *sflow.ExtendedSwitch) {
	src := d.bounded("src_vlan", uint64(sw.SrcVlan), maxVlan)
	dst := d.bounded("dst_vlan", uint64(sw.DstVlan), maxVlan)
	if src != 0 && src != f.OuterVlan {
		f.SrcVlan = src
	}
	if dst != 0 && dst != f.OuterVlan {
		f.DstVlan = dst
	}
}

// mapSampledIP maps a sampled IPv4/IPv6 record (sFlow flow records 3 and
// 4). Its length is the IP packet's, and counts over a sampled header's;
// its other fields describe the flow only when no header does.
func (d *decoder) mapSampledIP(f *record.Flow, s *sflowSample, v *sflow.SampledIPBase, etype, tos uint32) {
	s.ipLength, s.sampledIP = v.Length, true
	if s.header || f.SrcIp != nil {
		return
	}
	f.Etype = etype
	f.Proto = d.bounded("proto", uint64(v.Protocol), maxUint8)
	f.SrcIp = setIP(&d.src, v.SrcIP)
	f.DstIp = setIP(&d.dst, v.DstIP)
	f.SrcPort = d.bounded("src_port", uint64(v.SrcPort), maxUint16)
	f.DstPort = d.bounded("dst_port", uint64(v.DstPort), maxUint16)
	f.TcpFlags = d.bounded("tcp_flags", uint64(v.TcpFlags), maxUint16)
	f.IpTos = d.bounded("ip_tos", uint64(tos), maxUint8)
}

// sampledEthernetMACs reads the MACs of a sampled Ethernet record (2) as
// goflow2 v2 decodes it: each MAC is XDR opaque[6], padded to 8 bytes,
// but goflow2 reads 6 and 6 and then the type, so its destination MAC
// holds the source's padding and the destination's first 4 bytes, and its
// type word the destination's last 2 (the type itself is not read:
// TestSFlowShapesStoreWhatTsharkReads compares with tshark).
func sampledEthernetMACs(v *sflow.SampledEthernet) (src, dst uint64) {
	if len(v.SrcMac) != 6 || len(v.DstMac) != 6 {
		return 0, 0
	}
	var b [6]byte
	copy(b[:], v.DstMac[2:])
	b[4], b[5] = byte(v.EthType>>24), byte(v.EthType>>16)
	return mac(v.SrcMac), mac(b[:])
}
