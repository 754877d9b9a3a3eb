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
		d.rev = d.rev[:0]
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
			switch {
			case !fd.PenProvided:
				d.mapField(f, &st, fd.Type, b[:l], h)
			case fd.Pen == penReverse:
				d.rev = append(d.rev, reverseField{fd.Type, b[:l]})
			}
			b = b[l:]
		}
		if !complete {
			// Padding (zeros, RFC 7011 3.3.1), or a record cut short.
			if !isZero(b) {
				d.dropRecord(e, reasonTruncated, "set_bytes_left", len(b))
			}
			break
		}
		rate = d.finishRecord(e, h, f, &st)
		if d.emit(e) {
			published++
		}
		if len(d.rev) > 0 && d.emitReverse(e, h, &st) {
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
