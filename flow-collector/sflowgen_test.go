package flowcollector

import (
	"encoding/binary"
	"net/netip"
)

// An sFlow v5 datagram builder, from the sFlow v5 specification
// (sflow.org/sflow_version_5.txt): XDR, every field a big-endian 32-bit
// word, opaque data padded to 4 bytes. It makes the shapes no exporter
// at hand produces (switch records, sampled IPv4 records, expanded
// samples, QinQ with an 802.1ad tag).

// sflowRecord is a flow record: its format (enterprise 0) and body.
type sflowRecord struct {
	format uint32
	body   []byte
}

// xdr appends 32-bit words.
func xdr(b []byte, words ...uint32) []byte {
	for _, w := range words {
		b = binary.BigEndian.AppendUint32(b, w)
	}
	return b
}

// xdrOpaque appends variable-length opaque data: its length, the bytes,
// padding to 4.
func xdrOpaque(b, data []byte) []byte {
	b = xdr(b, uint32(len(data)))
	b = append(b, data...)
	return append(b, make([]byte, (4-len(data)%4)%4)...)
}

// xdrAddress appends an address (type 1: IPv4, 2: IPv6).
func xdrAddress(b []byte, a netip.Addr) []byte {
	if a.Is4() {
		s := a.As4()
		return append(xdr(b, 1), s[:]...)
	}
	s := a.As16()
	return append(xdr(b, 2), s[:]...)
}

// sflowSampledHeader is record 1: the first bytes of a packet of
// frameLength bytes (stripped of them not counted in the header).
func sflowSampledHeader(protocol, frameLength, stripped uint32, header []byte) sflowRecord {
	return sflowRecord{1, xdrOpaque(xdr(nil, protocol, frameLength, stripped), header)}
}

// sflowSampledEthernet is record 2.
func sflowSampledEthernet(length uint32, src, dst uint64, etype uint32) sflowRecord {
	b := xdr(nil, length)
	for _, m := range []uint64{src, dst} {
		b = binary.BigEndian.AppendUint16(b, uint16(m>>32))
		b = binary.BigEndian.AppendUint32(b, uint32(m))
		b = append(b, 0, 0)
	}
	return sflowRecord{2, xdr(b, etype)}
}

// sflowSampledIP is record 3 (IPv4) or 4 (IPv6), by the addresses'
// family; class is the IPv4 TOS or the IPv6 priority.
func sflowSampledIP(length, proto uint32, src, dst netip.Addr, srcPort, dstPort, tcpFlags, class uint32) sflowRecord {
	b := xdr(nil, length, proto)
	format := uint32(3)
	if src.Is4() {
		s, d := src.As4(), dst.As4()
		b = append(append(b, s[:]...), d[:]...)
	} else {
		format = 4
		s, d := src.As16(), dst.As16()
		b = append(append(b, s[:]...), d[:]...)
	}
	return sflowRecord{format, xdr(b, srcPort, dstPort, tcpFlags, class)}
}

// sflowExtendedSwitch is record 1001.
func sflowExtendedSwitch(srcVlan, srcPriority, dstVlan, dstPriority uint32) sflowRecord {
	return sflowRecord{1001, xdr(nil, srcVlan, srcPriority, dstVlan, dstPriority)}
}

// sflowExtendedRouter is record 1002.
func sflowExtendedRouter(nextHop netip.Addr, srcMask, dstMask uint32) sflowRecord {
	return sflowRecord{1002, xdr(xdrAddress(nil, nextHop), srcMask, dstMask)}
}

// sflowFlowSample is a flow sample (format 1) or, expanded, format 3;
// in and out are interface values (compact: format in the top 2 bits).
type sflowFlowSample struct {
	expanded             bool
	seq, source, rate    uint32
	pool, drops, in, out uint32
	records              []sflowRecord
}

func (s sflowFlowSample) bytes() []byte {
	var b []byte
	format := uint32(1)
	if s.expanded {
		format = 3
		b = xdr(b, s.seq, 0, s.source, s.rate, s.pool, s.drops, s.in>>30, s.in&0x3fffffff, s.out>>30, s.out&0x3fffffff)
	} else {
		b = xdr(b, s.seq, s.source, s.rate, s.pool, s.drops, s.in, s.out)
	}
	b = xdr(b, uint32(len(s.records)))
	for _, r := range s.records {
		b = xdrOpaque(xdr(b, r.format), r.body)
	}
	return xdrOpaque(xdr(nil, format), b)
}

// sflowV5Datagram is a datagram of agent (sub-agent 0) holding samples.
func sflowV5Datagram(agent netip.Addr, seq, uptime uint32, samples ...sflowFlowSample) []byte {
	b := xdrAddress(xdr(nil, 5), agent)
	b = xdr(b, 0, seq, uptime, uint32(len(samples)))
	for _, s := range samples {
		b = append(b, s.bytes()...)
	}
	return b
}
