package flowcollector

import "encoding/binary"

// ipfixBuilder crafts IPFIX messages from the IANA registry's element
// numbers, for the shapes no exporter at hand sends (vendor templates,
// packet sections, biflows).
type ipfixBuilder struct {
	domain uint32
	seq    uint32
	sets   [][]byte
}

// ie is a template field: an element, its length (0xffff: variable) and
// its enterprise number (0: IANA).
type ie struct {
	id     uint16
	length uint16
	pen    uint32
}

func newIPFIXBuilder(domain uint32) *ipfixBuilder { return &ipfixBuilder{domain: domain} }

func (b *ipfixBuilder) set(id uint16, body []byte) *ipfixBuilder {
	for len(body)%4 != 0 { // padding to a 4-byte boundary, as exporters do
		body = append(body, 0)
	}
	s := append(u16(id), u16(uint16(4+len(body)))...)
	b.sets = append(b.sets, append(s, body...))
	return b
}

func (b *ipfixBuilder) template(id uint16, fields []ie) *ipfixBuilder {
	body := append(u16(id), u16(uint16(len(fields)))...)
	for _, f := range fields {
		if f.pen != 0 {
			body = append(body, u16(f.id|0x8000)...)
			body = append(body, u16(f.length)...)
			body = append(body, u32(f.pen)...)
			continue
		}
		body = append(body, u16(f.id)...)
		body = append(body, u16(f.length)...)
	}
	return b.set(2, body)
}

// data adds a data set of records, each the concatenation of its values.
func (b *ipfixBuilder) data(id uint16, records ...[]byte) *ipfixBuilder {
	var body []byte
	for _, r := range records {
		body = append(body, r...)
	}
	b.seq += uint32(len(records))
	return b.set(id, body)
}

// bytes returns the message and starts the next one.
func (b *ipfixBuilder) bytes() []byte {
	h := make([]byte, 16)
	binary.BigEndian.PutUint16(h, 10)
	binary.BigEndian.PutUint32(h[4:], 1700000000)
	binary.BigEndian.PutUint32(h[12:], b.domain)
	for _, s := range b.sets {
		h = append(h, s...)
	}
	binary.BigEndian.PutUint16(h[2:], uint16(len(h)))
	b.sets = nil
	return h
}

// rec concatenates the values of one record.
func rec(values ...[]byte) []byte {
	var r []byte
	for _, v := range values {
		r = append(r, v...)
	}
	return r
}

// varlen encodes a variable-length value (RFC 7011 7).
func varlen(v []byte) []byte {
	if len(v) < 255 {
		return append([]byte{byte(len(v))}, v...)
	}
	return append(append([]byte{255}, u16(uint16(len(v)))...), v...)
}

func u8(v uint8) []byte   { return []byte{v} }
func u64(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }
