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
	seen := false
	haveHeader := false
	for _, r := range recs {
		switch v := r.Data.(type) {
		case sflow.SampledHeader:
			l, err := d.parsePacket(f, v.Protocol, v.HeaderData, 0)
			if err != nil {
				d.fail(e, errKindSFlowHeader, err)
			}
			f.Bytes, f.ByteBasis = d.c.sflowBytes(v.FrameLength, v.Stripped, l)
			seen, haveHeader = true, true
		case sflow.SampledIPv4:
			if !haveHeader {
				d.mapSampledIP(f, &v.SampledIPBase, 0x0800, v.Tos)
				seen = true
			}
		case sflow.SampledIPv6:
			if !haveHeader {
				d.mapSampledIP(f, &v.SampledIPBase, 0x86dd, v.Priority)
				seen = true
			}
		case sflow.SampledEthernet:
			if f.Etype == 0 {
				f.Etype = v.EthType
			}
			if f.Bytes == 0 {
				f.Bytes, f.ByteBasis = d.c.sflowEthernetBytes(v.Length)
			}
		case sflow.ExtendedSwitch:
			f.SrcVlan, f.DstVlan = v.SrcVlan, v.DstVlan
		case sflow.ExtendedRouter:
			f.NextHop = setIP(&d.nh, v.NextHop)
			f.SrcMask, f.DstMask = v.SrcMaskLen, v.DstMaskLen
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
	return seen && d.emit(e)
}

func (d *decoder) mapSampledIP(f *record.Flow, v *sflow.SampledIPBase, etype, tos uint32) {
	f.Bytes = uint64(v.Length)
	f.Etype = etype
	f.Proto = v.Protocol & 0xff
	f.SrcIp = setIP(&d.src, v.SrcIP)
	f.DstIp = setIP(&d.dst, v.DstIP)
	f.SrcPort, f.DstPort = v.SrcPort&0xffff, v.DstPort&0xffff
	f.TcpFlags = v.TcpFlags & 0xffff
	f.IpTos = tos & 0xff
}
