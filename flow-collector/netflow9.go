package flowcollector

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/netsampler/goflow2/v2/decoders/netflow"

	"github.com/netstrata/netstrata/internal/record"
)

// Information elements (IANA IPFIX numbering, shared with NetFlow v9 for
// ids below 128) that the mapping reads.
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
	ieICMPTypeCodeIPv4         = 32
	ieSamplingInterval         = 34
	ieSamplerID                = 48 // NetFlow v9 FLOW_SAMPLER_ID
	ieSamplerRandomInterval    = 50 // NetFlow v9 FLOW_SAMPLER_RANDOM_INTERVAL
	ieVlanID                   = 58
	iePostVlanID               = 59
	ieIPVersion                = 60
	ieFlowDirection            = 61
	ieIPNextHopIPv6Address     = 62
	ieBGPNextHopIPv6Address    = 63
	ieOctetTotalCount          = 85
	iePacketTotalCount         = 86
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
	ieDot1qVlanID              = 243
	iePostDot1qVlanID          = 254
	ieEthernetType             = 256
	ieSelectorID               = 302
	ieSamplingPacketInterval   = 305
	ieSamplingPacketSpace      = 306
	ieSamplingSize             = 309
	ieSamplingPopulation       = 310
)

// ntpEpochOffset is the number of seconds from 1900 (NTP) to 1970 (Unix).
const ntpEpochOffset = 2208988800

// errSetLength is the prescan's verdict on sets that overrun.
var errSetLength = errors.New("set length overruns the datagram")

// prescanNetFlow checks the set structure of a v9/IPFIX datagram before
// goflow2 decodes it: set lengths within the datagram, template records
// whose declared field counts fit in their set. goflow2 allocates from
// those counts before reading, so a small hostile datagram could
// otherwise make it allocate hundreds of kilobytes.
func prescanNetFlow(data []byte) error {
	version := binary.BigEndian.Uint16(data)
	off := 20
	if version == 10 {
		off = 16
		if len(data) >= 4 {
			if l := int(binary.BigEndian.Uint16(data[2:])); l > len(data) || l < 16 {
				return fmt.Errorf("IPFIX message length %d for a %d-byte datagram: %w", l, len(data), errSetLength)
			}
			data = data[:binary.BigEndian.Uint16(data[2:])]
		}
	}
	if len(data) < off {
		return fmt.Errorf("header: %w", errSetLength)
	}
	for off+4 <= len(data) {
		id := binary.BigEndian.Uint16(data[off:])
		l := int(binary.BigEndian.Uint16(data[off+2:]))
		if l < 4 || off+l > len(data) {
			return fmt.Errorf("set %d length %d: %w", id, l, errSetLength)
		}
		body := data[off+4 : off+l]
		var err error
		switch {
		case id == 0 && version == 9, id == 2 && version == 10:
			err = prescanTemplates(body, version == 10, false)
		case id == 3 && version == 10:
			err = prescanTemplates(body, true, true)
		case id == 1 && version == 9:
			err = prescanV9Options(body)
		}
		if err != nil {
			return fmt.Errorf("set %d: %w", id, err)
		}
		off += l
	}
	return nil
}

// prescanTemplates walks template records: each field is 4 bytes, 8 with
// an enterprise number (IPFIX).
func prescanTemplates(b []byte, ipfix, options bool) error {
	for len(b) >= 4 {
		count := int(binary.BigEndian.Uint16(b[2:]))
		b = b[4:]
		if options {
			if len(b) < 2 {
				return errSetLength
			}
			scope := int(binary.BigEndian.Uint16(b))
			b = b[2:]
			if scope > count {
				return errors.New("options template scope count above field count")
			}
		}
		for i := 0; i < count; i++ {
			if len(b) < 4 {
				return errSetLength
			}
			n := 4
			if ipfix && b[0]&0x80 != 0 {
				n = 8
			}
			if len(b) < n {
				return errSetLength
			}
			b = b[n:]
		}
	}
	return nil
}

func prescanV9Options(b []byte) error {
	for len(b) >= 6 {
		scope := int(binary.BigEndian.Uint16(b[2:]))
		opts := int(binary.BigEndian.Uint16(b[4:]))
		b = b[6:]
		if scope+opts > len(b) {
			return errSetLength
		}
		b = b[scope+opts:]
	}
	return nil
}

// handleNetFlow decodes NetFlow v9 and IPFIX. Sets are walked here:
// template and options sets go to goflow2's decoders (which store the
// templates in the exporter's template system), and so do options data
// sets; data sets whose template is known are read by decodeDataSet
// without allocating, the hot path of the collector.
func (d *decoder) handleNetFlow(data []byte, e *exporter, now time.Time) {
	version := binary.BigEndian.Uint16(data)
	h := packetHeader{version: version, recvNs: uint64(now.UnixNano())}
	if version == 9 {
		h.flowType = record.FlowType_FLOW_TYPE_NETFLOW_V9
	} else {
		h.flowType = record.FlowType_FLOW_TYPE_IPFIX
	}
	e.metrics().datagrams.WithLabelValues(protocolNames[h.flowType]).Inc()
	if err := prescanNetFlow(data); err != nil {
		d.fail(e, errKindMalformed, err)
		return
	}
	off := 20
	if version == 9 {
		h.sysUptime = binary.BigEndian.Uint32(data[4:])
		h.exportNs = uint64(binary.BigEndian.Uint32(data[8:])) * 1e9
		h.seq = binary.BigEndian.Uint32(data[12:])
		h.domain = binary.BigEndian.Uint32(data[16:])
	} else {
		off = 16
		data = data[:binary.BigEndian.Uint16(data[2:])] // checked by the prescan
		h.exportNs = uint64(binary.BigEndian.Uint32(data[4:])) * 1e9
		h.seq = binary.BigEndian.Uint32(data[8:])
		h.domain = binary.BigEndian.Uint32(data[12:])
	}
	h.skewNs = e.observeClock(h.exportNs, h.recvNs)
	d.skewNs = h.skewNs
	var units seqUnits
	unknown := 0
	for off+4 <= len(data) {
		l := int(binary.BigEndian.Uint16(data[off+2:]))
		n, known := d.decodeSet(e, &h, data[off:off+l], now)
		units.data += uint32(n.data)
		units.options += uint32(n.options)
		if !known {
			unknown++
		}
		off += l
	}
	if unknown > 0 {
		e.metrics().unknownTemplate.Add(float64(unknown))
	}
	// v9 counts datagrams per source id; IPFIX counts data records, which
	// cannot be counted in sets whose template is unknown.
	k := seqKey{version, h.domain}
	switch {
	case version == 9:
		e.checkSequence(k, h.seq, seqUnits{data: 1})
	case unknown == 0:
		e.checkSequence(k, h.seq, units)
	default:
		e.forgetSequence(k)
	}
	if e.templates.takeAdded() {
		d.c.pending.retry(d, e, now)
	}
}

// setRecords counts the data records of a set.
type setRecords struct{ data, options int }

// decodeSet decodes one set (header included) and returns the data
// records it held, and false when its template is unknown (the set is
// then kept waiting for it).
func (d *decoder) decodeSet(e *exporter, h *packetHeader, set []byte, now time.Time) (setRecords, bool) {
	id := binary.BigEndian.Uint16(set)
	if id < 256 {
		if _, err := netflow.DecodeMessageCommonFlowSet(bytes.NewBuffer(set), e.templates, h.domain, h.version); err != nil {
			d.fail(e, errorKind(err), err)
		}
		return setRecords{}, true
	}
	tpl, err := e.templates.GetTemplate(h.version, h.domain, id)
	if err != nil {
		d.c.pending.add(e, h, id, set[4:], now)
		return setRecords{}, false
	}
	if t, ok := tpl.(netflow.TemplateRecord); ok {
		return setRecords{data: d.decodeDataSet(e, h, t.Fields, set[4:])}, true
	}
	fs, err := netflow.DecodeMessageCommonFlowSet(bytes.NewBuffer(set), e.templates, h.domain, h.version)
	if err != nil {
		d.fail(e, errorKind(err), err)
		return setRecords{}, true
	}
	if o, ok := fs.(netflow.OptionsDataFlowSet); ok {
		d.learnOptions(e, h, o.Records)
		return setRecords{options: len(o.Records)}, true
	}
	return setRecords{}, true
}

// decodeDataSet reads the records of a data set with its template's
// fields, maps and publishes them, and returns how many there were.
// Trailing bytes shorter than a record are padding.
func (d *decoder) decodeDataSet(e *exporter, h *packetHeader, fields []netflow.Field, b []byte) int {
	n, published := 0, 0
	var rate uint64
	for len(b) > 0 {
		f := d.resetFlow(e, h)
		var st recordState
		complete := true
		for _, fd := range fields {
			l := int(fd.Length)
			if fd.Length == 0xffff { // variable length (RFC 7011 7)
				if len(b) < 1 {
					complete = false
					break
				}
				l, b = int(b[0]), b[1:]
				if l == 255 {
					if len(b) < 2 {
						complete = false
						break
					}
					l, b = int(binary.BigEndian.Uint16(b)), b[2:]
				}
			}
			if len(b) < l {
				complete = false
				break
			}
			if !fd.PenProvided {
				d.mapField(f, &st, fd.Type, b[:l], h)
			}
			b = b[l:]
		}
		if !complete {
			// Padding (zeros, RFC 7011 3.3.1), or a record cut short.
			if bytes.ContainsFunc(b, func(r rune) bool { return r != 0 }) {
				d.dropRecord(e, reasonTruncated, "set_bytes_left", len(b))
			}
			break
		}
		rate = d.finishRecord(e, h, f, &st)
		if d.emit(e) {
			published++
		}
		n++
	}
	if published > 0 {
		e.metrics().flows.WithLabelValues(protocolNames[h.flowType]).Add(float64(published))
		e.metrics().samplingRate.Set(float64(rate))
	}
	return n
}

// recordState holds what mapping a record gathers before it can settle
// times, counters and the sampling rate.
type recordState struct {
	postBytes, postPackets uint64
	startUp, endUp         uint32
	hasStartUp, hasEndUp   bool
	startNs, endNs         uint64
	rateInRecord, sampler  uint64
	pktInterval, pktSpace  uint64
	bgpNextHop             []byte
	icmpType, icmpCode     uint64
	hasICMP                bool
	ipVersion              uint64
}

// mapField maps one information element of a data record.
func (d *decoder) mapField(f *record.Flow, st *recordState, typ uint16, b []byte, h *packetHeader) {
	switch typ {
	case ieOctetDeltaCount, ieOctetTotalCount:
		f.Bytes = beUint(b)
	case iePacketDeltaCount, iePacketTotalCount:
		f.Packets = beUint(b)
	case iePostOctetDeltaCount:
		st.postBytes = beUint(b)
	case iePostPacketDeltaCount:
		st.postPackets = beUint(b)
	case ieProtocol:
		f.Proto = d.bounded("proto", beUint(b), maxUint8)
	case ieIPClassOfService:
		f.IpTos = d.bounded("ip_tos", beUint(b), maxUint8)
	case ieTCPControlBits:
		f.TcpFlags = d.bounded("tcp_flags", beUint(b), maxUint16)
	case ieSourceTransportPort:
		f.SrcPort = d.bounded("src_port", beUint(b), maxUint16)
	case ieDestinationTransportPort:
		f.DstPort = d.bounded("dst_port", beUint(b), maxUint16)
	case ieSourceIPv4Address, ieSourceIPv6Address:
		f.SrcIp = setIP(&d.src, b)
	case ieDestinationIPv4Address, ieDestinationIPv6Address:
		f.DstIp = setIP(&d.dst, b)
	case ieSourceIPv4PrefixLength, ieSourceIPv6PrefixLength:
		f.SrcMask = d.bounded("src_mask", beUint(b), 128)
	case ieDestIPv4PrefixLength, ieDestIPv6PrefixLength:
		f.DstMask = d.bounded("dst_mask", beUint(b), 128)
	case ieIngressInterface:
		f.InIf = d.bounded("in_if", beUint(b), maxUint32)
	case ieEgressInterface:
		f.OutIf = d.bounded("out_if", beUint(b), maxUint32)
	case ieIPNextHopIPv4Address, ieIPNextHopIPv6Address:
		f.NextHop = setIP(&d.nh, b)
	case ieBGPNextHopIPv4Address, ieBGPNextHopIPv6Address:
		st.bgpNextHop = b
	case ieBGPSourceASNumber:
		f.SrcAs = d.bounded("src_as", beUint(b), maxUint32)
	case ieBGPDestinationASNumber:
		f.DstAs = d.bounded("dst_as", beUint(b), maxUint32)
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
	case ieVlanID, ieDot1qVlanID:
		if f.SrcVlan == 0 {
			f.SrcVlan = d.bounded("src_vlan", beUint(b), maxVlan)
		}
	case iePostVlanID, iePostDot1qVlanID:
		if f.DstVlan == 0 {
			f.DstVlan = d.bounded("dst_vlan", beUint(b), maxVlan)
		}
	case ieFlowDirection:
		switch beUint(b) {
		case 0:
			f.Direction = record.FlowDirection_FLOW_DIRECTION_INGRESS
		case 1:
			f.Direction = record.FlowDirection_FLOW_DIRECTION_EGRESS
		}
	case ieEthernetType:
		f.Etype = d.bounded("etype", beUint(b), maxUint16)
	case ieIPVersion:
		st.ipVersion = beUint(b)
	case ieICMPTypeCodeIPv4, ieICMPTypeCodeIPv6:
		tc := beUint(b)
		st.icmpType, st.icmpCode, st.hasICMP = tc>>8&0xff, tc&0xff, true
	case ieICMPTypeIPv4, ieICMPTypeIPv6:
		st.icmpType, st.hasICMP = beUint(b), true
	case ieICMPCodeIPv4, ieICMPCodeIPv6:
		st.icmpCode, st.hasICMP = beUint(b), true
	}
}

// finishRecord settles what depends on several fields and returns the
// record's sampling rate.
func (d *decoder) finishRecord(e *exporter, h *packetHeader, f *record.Flow, st *recordState) uint64 {
	if f.Bytes == 0 && f.Packets == 0 {
		f.Bytes, f.Packets = st.postBytes, st.postPackets
	}
	if f.NextHop == nil && len(st.bgpNextHop) > 0 {
		f.NextHop = setIP(&d.nh, st.bgpNextHop)
	}
	// ICMP flows carry type and code in the destination port, the
	// convention of NetFlow v5 and of the tools reading flows.
	if st.hasICMP && f.DstPort == 0 && (f.Proto == protoICMP || f.Proto == protoICMPv6) {
		f.DstPort = uint32(st.icmpType<<8 | st.icmpCode)
	}
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

func isMapped(ip []byte) bool {
	return ip[10] == 0xff && ip[11] == 0xff && ip[0]|ip[1]|ip[2]|ip[3]|ip[4]|ip[5]|ip[6]|ip[7]|ip[8]|ip[9] == 0
}

// flowTimes sets start and end. Absolute times win; sysUptime-relative
// ones are anchored on the v9 header, or for IPFIX (whose header has no
// uptime: softflowd does this) on the systemInitTimeMilliseconds the
// exporter announced in options data. Without an anchor the flow is
// placed to end at the export time, keeping its duration.
func (d *decoder) flowTimes(e *exporter, h *packetHeader, f *record.Flow, startNs, endNs uint64, startUp, endUp uint32, hasStartUp, hasEndUp bool) {
	if (startNs == 0 || endNs == 0) && (hasStartUp || hasEndUp) {
		if !hasStartUp {
			startUp = endUp
		}
		if !hasEndUp {
			endUp = startUp
		}
		switch {
		case h.version == 9:
			startNs, endNs = uptimeToUnix(h.exportNs, h.sysUptime, startUp), uptimeToUnix(h.exportNs, h.sysUptime, endUp)
		default:
			e.mu.Lock()
			init, ok := e.sysInit[h.domain]
			e.mu.Unlock()
			if ok {
				startNs, endNs = (init+uint64(startUp))*1e6, (init+uint64(endUp))*1e6
			} else {
				endNs = h.exportNs
				startNs = endNs - uint64(endUp-startUp)*1e6
			}
		}
	}
	if endNs == 0 {
		endNs = startNs
	}
	if startNs == 0 {
		startNs = endNs
	}
	if endNs == 0 {
		startNs, endNs = h.exportNs, h.exportNs
	}
	f.TimeFlowStartNs, f.TimeFlowEndNs = startNs, endNs
}

// ntpToUnixNs converts an NTP 64-bit timestamp (dateTimeMicroseconds and
// dateTimeNanoseconds) to Unix nanoseconds.
func ntpToUnixNs(b []byte) uint64 {
	if len(b) != 8 {
		return 0
	}
	sec := uint64(binary.BigEndian.Uint32(b))
	frac := uint64(binary.BigEndian.Uint32(b[4:]))
	if sec < ntpEpochOffset {
		return 0
	}
	return (sec-ntpEpochOffset)*1e9 + frac*1e9>>32
}

// learnOptions reads sampling rates and system init times from options
// data records.
func (d *decoder) learnOptions(e *exporter, h *packetHeader, recs []netflow.OptionsDataRecord) {
	for i := range recs {
		var rate, sampler, interval, space, size, population, sysInit uint64
		for _, list := range [2][]netflow.DataField{recs[i].ScopesValues, recs[i].OptionsValues} {
			for _, v := range list {
				if v.PenProvided {
					continue
				}
				b, _ := v.Value.([]byte)
				switch v.Type {
				case ieSamplingInterval, ieSamplerRandomInterval:
					rate = beUint(b)
				case ieSamplerID, ieSelectorID:
					sampler = beUint(b)
				case ieSamplingPacketInterval:
					interval = beUint(b)
				case ieSamplingPacketSpace:
					space = beUint(b)
				case ieSamplingSize:
					size = beUint(b)
				case ieSamplingPopulation:
					population = beUint(b)
				case ieSystemInitTimeMillis:
					sysInit = beUint(b)
				}
			}
		}
		switch {
		case rate != 0:
		case interval != 0:
			rate = addSat(interval, space) / interval
		case size != 0:
			rate = population / size
		}
		if rate != 0 {
			if sampler != 0 {
				e.learnSampling(samplingKey{h.version, h.domain, sampler}, rate)
			}
			e.learnSampling(samplingKey{h.version, h.domain, 0}, rate)
		}
		if sysInit != 0 {
			e.learnSysInit(h.domain, sysInit)
		}
	}
}
