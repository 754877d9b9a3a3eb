package flowcollector

import "encoding/binary"

// v9Builder crafts NetFlow v9 datagrams for tests of what real exporters
// rarely send (options sampling, hostile templates).
type v9Builder struct {
	domain uint32
	sets   [][]byte
}

type field struct{ typ, length uint16 }

func newV9Builder(domain uint32) *v9Builder { return &v9Builder{domain: domain} }

func u16(v uint16) []byte { return binary.BigEndian.AppendUint16(nil, v) }
func u32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }

func (b *v9Builder) set(id uint16, body []byte) {
	s := append(u16(id), u16(uint16(4+len(body)))...)
	b.sets = append(b.sets, append(s, body...))
}

func (b *v9Builder) template(id uint16, fields []field) {
	body := append(u16(id), u16(uint16(len(fields)))...)
	for _, f := range fields {
		body = append(body, u16(f.typ)...)
		body = append(body, u16(f.length)...)
	}
	b.set(0, body)
}

func (b *v9Builder) optionsTemplate(id uint16, options []field) {
	body := append(u16(id), u16(4)...) // one scope: system
	body = append(body, u16(uint16(4*len(options)))...)
	body = append(body, u16(1)...)
	body = append(body, u16(4)...)
	for _, f := range options {
		body = append(body, u16(f.typ)...)
		body = append(body, u16(f.length)...)
	}
	b.set(1, body)
}

// data adds a data set with one record: for options, the 4-byte system
// scope is prepended.
func (b *v9Builder) data(id uint16, values ...[]byte) {
	var body []byte
	if id == 257 {
		body = u32(0)
	}
	for _, v := range values {
		body = append(body, v...)
	}
	b.set(id, body)
}

func (b *v9Builder) bytes() []byte {
	h := make([]byte, 20)
	binary.BigEndian.PutUint16(h, 9)
	binary.BigEndian.PutUint16(h[2:], uint16(len(b.sets)))
	binary.BigEndian.PutUint32(h[4:], 100000)     // sysUptime
	binary.BigEndian.PutUint32(h[8:], 1700000000) // unix secs
	binary.BigEndian.PutUint32(h[12:], 1)
	binary.BigEndian.PutUint32(h[16:], b.domain)
	for _, s := range b.sets {
		h = append(h, s...)
	}
	return h
}
