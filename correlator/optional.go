package correlator

// optional reads the optional fields of one flow record. A value out of
// its field's range becomes 0, which every such column reads as unknown,
// and the field is noted: one bad field (a switch's VLAN 0xFFFFFFFF for
// "unknown") costs that field, never the flow. The decoders do the same;
// this is the second line of defence for any producer.
type optional struct {
	zeroed []string // fields set to 0 in this record
}

func (o *optional) reset() { o.zeroed = o.zeroed[:0] }

// zero notes that field was out of range.
func (o *optional) zero(field string) { o.zeroed = append(o.zeroed, field) }

// within returns v as T when it is at most max (which must fit T), else 0.
func within[T uint8 | uint16 | uint32 | uint64](o *optional, v, max uint64, field string) T {
	if v > max {
		o.zero(field)
		return 0
	}
	return T(v)
}

// ip is ip16 for an optional address: a malformed one becomes "::".
func (o *optional) ip(b []byte, field string) [16]byte {
	a, err := ip16(b, field)
	if err != nil {
		o.zero(field)
	}
	return a
}

// ms is ms for an optional time: one beyond 2200 becomes 0 (1970).
func (o *optional) ms(ns uint64, field string) int64 {
	v, err := ms(ns, field)
	if err != nil {
		o.zero(field)
	}
	return v
}

// Ranges of the optional flow fields: what the protocols allow, within
// what the columns hold.
const (
	maxU8        = 1<<8 - 1
	maxU16       = 1<<16 - 1
	maxVLAN      = 1<<12 - 1 // 802.1Q VLAN id
	maxMask      = 128       // prefix length of an IPv6 address
	maxMAC       = 1<<48 - 1
	maxMPLSLabel = 1<<20 - 1
	maxFlowLabel = 1<<20 - 1
	maxVNI       = 1<<24 - 1
)
