package flowcollector

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net/netip"
	"time"

	"github.com/netsampler/goflow2/v2/decoders/netflowlegacy"
	"github.com/netsampler/goflow2/v2/decoders/sflow"

	"github.com/netstrata/netstrata/internal/record"
)

// listenerKind says what a socket receives.
type listenerKind int

const (
	kindNetFlow listenerKind = iota // v5, v9 and IPFIX, sniffed per datagram
	kindSFlow
)

// Decode error kinds (the "kind" label of decode_errors_total).
const (
	errKindShort            = "short"
	errKindVersion          = "unknown_version"
	errKindTruncated        = "truncated"
	errKindMalformed        = "malformed"
	errKindTemplateRejected = "template_rejected"
	errKindSFlowSample      = "sflow_sample"
	errKindSFlowHeader      = "sflow_sampled_header"
)

// slabSize is the size of the buffers records are marshalled into: one
// allocation serves a few hundred records, and is freed by the GC once
// the producer has delivered all of them.
const slabSize = 128 << 10

// decoder is one worker's decoding state, reused for every datagram so
// that the hot path allocates little beyond what goflow2 allocates.
type decoder struct {
	c    *Component
	cur  *exporter // the exporter of the record being mapped
	rd   bytes.Buffer
	flow record.Flow
	src  [16]byte
	dst  [16]byte
	nh   [16]byte
	// Scratch the packet parser stores a record's label stack and
	// tunnel endpoints in.
	labels               [record.MaxMPLSLabels]uint32
	tunnelSrc, tunnelDst [16]byte
	// Buffers of the IPFIX/v9 record being mapped: post-NAT addresses,
	// the MPLS label stack, a packet section parsed apart, and the
	// reverse elements of a biflow record.
	natSrc, natDst [16]byte
	mpls           [record.MaxMPLSLabels]uint32
	sec            record.Flow
	rev            []reverseField
	slab           []byte
	// held is the latest record of the datagram being decoded, held back
	// until the next one or the datagram's end, so that the datagram's
	// last record can carry the loss its sequence number shows (known
	// only once IPFIX's data records are counted); heldOf is its exporter.
	held   []byte
	heldOf *exporter
	// skewNs is the clock skew of the exporter of the datagram (or
	// pending set) being mapped.
	skewNs int64

	v5 netflowlegacy.PacketNetFlowV5
	sf sflow.Packet
}

func newDecoder(c *Component) *decoder {
	return &decoder{c: c}
}

// packetHeader is what mapping a record needs from its datagram.
type packetHeader struct {
	flowType  record.FlowType
	version   uint16
	domain    uint32
	seq       uint32
	exportNs  uint64 // export time (v9 unix_secs, IPFIX export time, v5 unix time)
	sysUptime uint32 // v5/v9 header, milliseconds
	recvNs    uint64
	skewNs    int64 // the exporter's clock skew measured when it arrived
}

// handle decodes one datagram received from `from` at `now`.
func (d *decoder) handle(kind listenerKind, data []byte, from netip.AddrPort, now time.Time) {
	defer d.publishLast()
	if kind == kindSFlow {
		d.handleSFlow(data, from.Addr().Unmap(), now)
		return
	}
	src := from.Addr().Unmap()
	e, refused := d.c.exporters.get(src, now)
	if e == nil {
		d.c.refuseExporter(src, refused)
		return
	}
	if len(data) < 4 {
		d.fail(e, errKindShort, nil)
		return
	}
	switch binary.BigEndian.Uint16(data) {
	case 5:
		d.handleV5(data, e, now)
	case 9, 10:
		d.handleNetFlow(data, e, now)
	default:
		d.fail(e, errKindVersion, nil)
	}
}

// lostFieldSize is the most the sequence_lost field adds to a record.
const lostFieldSize = 2 + 5

// publishHeld publishes the record held back, as it is.
func (d *decoder) publishHeld() {
	if b := d.held; b != nil {
		d.c.pub.Publish(record.TopicFlows, d.heldOf.ip, b[:len(b):len(b)])
		d.held, d.heldOf = nil, nil
	}
}

// publishLast publishes the datagram's last record with the loss its
// exporter showed and no record carried yet. The field is the record's
// last by number, so appending it keeps appendFlow's encoding.
func (d *decoder) publishLast() {
	if d.held == nil {
		return
	}
	d.held = appendVarintField(d.held, lostField, uint64(d.heldOf.takeUnreported()))
	d.publishHeld()
}

// fail counts a decode error and logs it, rate-limited.
func (d *decoder) fail(e *exporter, kind string, err error) {
	e.metrics().errors.WithLabelValues(kind).Inc()
	if err != nil {
		d.c.badLog.Warn(e.addr.String()+kind, "undecodable datagram", "exporter", e.addr, "kind", kind, "error", err)
	} else {
		d.c.badLog.Warn(e.addr.String()+kind, "undecodable datagram", "exporter", e.addr, "kind", kind)
	}
}

// errorKind classifies an error from goflow2's decoders.
func errorKind(err error) string {
	switch {
	case errors.Is(err, errTemplateEmpty), errors.Is(err, errTemplateTooLarge):
		return errKindTemplateRejected
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return errKindTruncated
	}
	return errKindMalformed
}

// resetFlow starts a new record from a datagram's header.
func (d *decoder) resetFlow(e *exporter, h *packetHeader) *record.Flow {
	d.cur = e
	f := &d.flow
	*f = record.Flow{
		Type:              h.flowType,
		TimeReceivedNs:    h.recvNs,
		ExporterIp:        e.ip,
		ObservationDomain: h.domain,
		Sequence:          h.seq,
	}
	return f
}

// emit classifies, marshals and publishes the current record, unless
// its sampling rate or counters are refused.
func (d *decoder) emit(e *exporter) bool {
	f := &d.flow
	if f.SamplingRate == 0 {
		f.SamplingRate = 1
	}
	if !d.c.checkRecord(e, f.Bytes, f.Packets, f.SamplingRate) {
		return false
	}
	if f.TimeBasis != record.TimeBasis_TIME_BASIS_RECEIVED {
		d.c.placeFlow(f, d.skewNs)
	}
	f.Application = d.c.apps.Classify(uint8(f.Proto), uint16(f.SrcPort), uint16(f.DstPort))
	if cap(d.slab)-len(d.slab) < maxFlowSize+lostFieldSize+len(f.Application) {
		d.slab = make([]byte, 0, slabSize)
	}
	start := len(d.slab)
	d.slab = appendFlow(d.slab, f)
	end := len(d.slab)
	d.publishHeld()
	d.slab = d.slab[:end+lostFieldSize] // room for the loss after it
	d.held, d.heldOf = d.slab[start:end:end+lostFieldSize], e
	return true
}

// setIP stores a 4- or 16-byte address in dst as 16 bytes and returns it;
// nil for any other length.
func setIP(dst *[16]byte, b []byte) []byte {
	switch len(b) {
	case 4:
		*dst = [16]byte{10: 0xff, 11: 0xff}
		copy(dst[12:], b)
		return dst[:]
	case 16:
		copy(dst[:], b)
		return dst[:]
	}
	return nil
}

// setIPv4 stores v as an IPv4-mapped address in dst and returns it.
func setIPv4(dst *[16]byte, v uint32) []byte {
	*dst = [16]byte{10: 0xff, 11: 0xff}
	binary.BigEndian.PutUint32(dst[12:], v)
	return dst[:]
}

// beUint reads a big-endian unsigned integer of 1 to 8 bytes; longer
// values keep their last 8 bytes.
func beUint(b []byte) uint64 {
	if len(b) > 8 {
		b = b[len(b)-8:]
	}
	var v uint64
	for _, c := range b {
		v = v<<8 | uint64(c)
	}
	return v
}

// handleV5 decodes NetFlow v5.
func (d *decoder) handleV5(data []byte, e *exporter, now time.Time) {
	e.metrics().datagrams.WithLabelValues(protocolNames[record.FlowType_FLOW_TYPE_NETFLOW_V5]).Inc()
	if len(data) < 24 {
		d.fail(e, errKindShort, nil)
		return
	}
	// goflow2 sizes its record slice from the header's count: check the
	// datagram holds them before it allocates.
	if count := int(binary.BigEndian.Uint16(data[2:])); 24+48*count > len(data) {
		d.fail(e, errKindTruncated, nil)
		return
	}
	d.rd = *bytes.NewBuffer(data)
	p := &d.v5
	p.Records = nil
	if err := netflowlegacy.DecodeMessageVersion(&d.rd, p); err != nil {
		d.fail(e, errorKind(err), err)
		return
	}
	h := packetHeader{
		flowType:  record.FlowType_FLOW_TYPE_NETFLOW_V5,
		version:   5,
		domain:    uint32(p.EngineType)<<8 | uint32(p.EngineId),
		seq:       p.FlowSequence,
		exportNs:  uint64(p.UnixSecs)*1e9 + uint64(p.UnixNSecs),
		sysUptime: p.SysUptime,
		recvNs:    uint64(now.UnixNano()),
	}
	h.skewNs = e.observeClock(h.exportNs, h.recvNs)
	d.skewNs = h.skewNs
	e.checkSequence(seqKey{5, h.domain}, p.FlowSequence, seqUnits{data: uint32(len(p.Records))})
	// The top two bits are the sampling mode, the rest the interval.
	if interval := uint64(p.SamplingInterval & 0x3fff); interval > 1 {
		e.learnSampling(samplingKey{5, h.domain, 0}, interval)
	}
	rate := e.samplingRate(5, h.domain, 0, 0, d.c.cfg.DefaultSamplingRate)
	n := 0
	for i := range p.Records {
		r := &p.Records[i]
		f := d.resetFlow(e, &h)
		f.TimeFlowStartNs = uptimeToUnix(h.exportNs, h.sysUptime, r.First)
		f.TimeFlowEndNs = uptimeToUnix(h.exportNs, h.sysUptime, r.Last)
		f.SamplingRate = rate
		f.InIf, f.OutIf = uint32(r.Input), uint32(r.Output)
		f.SrcIp = setIPv4(&d.src, uint32(r.SrcAddr))
		f.DstIp = setIPv4(&d.dst, uint32(r.DstAddr))
		if r.NextHop != 0 {
			f.NextHop = setIPv4(&d.nh, uint32(r.NextHop))
		}
		f.SrcPort, f.DstPort = uint32(r.SrcPort), uint32(r.DstPort)
		f.Proto, f.TcpFlags, f.IpTos = uint32(r.Proto), uint32(r.TCPFlags), uint32(r.Tos)
		f.Etype = 0x0800
		f.Bytes, f.Packets = uint64(r.DOctets), uint64(r.DPkts)
		f.SrcAs, f.DstAs = uint32(r.SrcAS), uint32(r.DstAS)
		f.SrcMask, f.DstMask = uint32(r.SrcMask), uint32(r.DstMask)
		if d.emit(e) {
			n++
		}
	}
	e.metrics().flows.WithLabelValues(protocolNames[h.flowType]).Add(float64(n))
	e.metrics().samplingRate.Set(float64(rate))
}

// uptimeToUnix converts a sysUptime-relative time (ms) to Unix ns, given
// the export time and the sysUptime at export. A time slightly after the
// export (clock skew) stays correct thanks to the signed difference.
func uptimeToUnix(exportNs uint64, uptime, t uint32) uint64 {
	ago := int64(int32(uptime - t))
	return uint64(int64(exportNs) - ago*1e6)
}
