package snmppoller

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gosnmp/gosnmp"
)

// IF-MIB and SNMPv2-MIB object identifiers, with gosnmp's leading dot.
const (
	oidSysUpTime = ".1.3.6.1.2.1.1.3.0"
	oidSysName   = ".1.3.6.1.2.1.1.5.0"
	oidEngineID  = ".1.3.6.1.6.3.10.2.1.1.0" // SNMP-FRAMEWORK-MIB snmpEngineID
	maxEngineID  = 32                        // SnmpEngineID SIZE (5..32)
	oidIfEntry   = ".1.3.6.1.2.1.2.2.1"      // ifTable
	oidIfXEntry  = ".1.3.6.1.2.1.31.1.1.1"   // ifXTable
	maxTextLen   = 255                       // DisplayString SIZE (0..255)
	maxIfIndex   = math.MaxInt32             // InterfaceIndex is 1..2147483647
	maxRows      = 20000                     // interfaces kept per device: bounds memory on a hostile agent
)

// counterKind names the interface counters a record carries.
type counterKind int

const (
	inOctets counterKind = iota
	outOctets
	inUcast
	outUcast
	inMcast
	outMcast
	inBcast
	outBcast
	inErrors
	outErrors
	inDiscards
	outDiscards
	// RFC 1213 ifIn/OutNUcastPkts (multicast + broadcast together), the
	// only non-unicast counts of an agent without ifXTable.
	inNUcast
	outNUcast
	numCounters
)

// column is one IF-MIB column the poller walks and what it fills in a row.
type column struct {
	oid     string
	counter counterKind // for counters
	hc      bool        // a 64-bit ifXTable counter
	attr    attrKind    // for everything else
}

type attrKind int

const (
	attrCounter attrKind = iota
	attrDescr
	attrName
	attrAlias
	attrSpeed
	attrHighSpeed
	attrAdmin
	attrOper
	attrDiscontinuity
)

// Columns walked on every poll whatever the counter width.
var baseColumns = []column{
	{oid: oidIfEntry + ".2", attr: attrDescr},
	{oid: oidIfEntry + ".5", attr: attrSpeed},
	{oid: oidIfEntry + ".7", attr: attrAdmin},
	{oid: oidIfEntry + ".8", attr: attrOper},
	{oid: oidIfEntry + ".13", counter: inDiscards},
	{oid: oidIfEntry + ".14", counter: inErrors},
	{oid: oidIfEntry + ".19", counter: outDiscards},
	{oid: oidIfEntry + ".20", counter: outErrors},
	{oid: oidIfXEntry + ".1", attr: attrName},
	{oid: oidIfXEntry + ".15", attr: attrHighSpeed},
	{oid: oidIfXEntry + ".18", attr: attrAlias},
	{oid: oidIfXEntry + ".19", attr: attrDiscontinuity},
}

// 64-bit ifXTable counters.
var hcColumns = []column{
	{oid: oidIfXEntry + ".6", counter: inOctets, hc: true},
	{oid: oidIfXEntry + ".7", counter: inUcast, hc: true},
	{oid: oidIfXEntry + ".8", counter: inMcast, hc: true},
	{oid: oidIfXEntry + ".9", counter: inBcast, hc: true},
	{oid: oidIfXEntry + ".10", counter: outOctets, hc: true},
	{oid: oidIfXEntry + ".11", counter: outUcast, hc: true},
	{oid: oidIfXEntry + ".12", counter: outMcast, hc: true},
	{oid: oidIfXEntry + ".13", counter: outBcast, hc: true},
}

// 32-bit counters, for agents without ifXTable HC counters (SNMPv1
// cannot carry Counter64 at all). ifIn/OutNUcastPkts are deprecated but
// are all a MIB-II-only agent has for non-unicast packets.
var legacyColumns = []column{
	{oid: oidIfEntry + ".10", counter: inOctets},
	{oid: oidIfEntry + ".11", counter: inUcast},
	{oid: oidIfEntry + ".12", counter: inNUcast},
	{oid: oidIfEntry + ".16", counter: outOctets},
	{oid: oidIfEntry + ".17", counter: outUcast},
	{oid: oidIfEntry + ".18", counter: outNUcast},
	{oid: oidIfXEntry + ".2", counter: inMcast},
	{oid: oidIfXEntry + ".3", counter: inBcast},
	{oid: oidIfXEntry + ".4", counter: outMcast},
	{oid: oidIfXEntry + ".5", counter: outBcast},
}

// counterMode is which counter columns a target is walked for.
type counterMode int

const (
	modeBoth   counterMode = iota // not known yet, or a mix across interfaces
	modeHC                        // every interface has 64-bit counters
	modeLegacy                    // no interface has them
)

// modeOf picks the columns the next poll walks: the 64-bit ones alone
// when every row took every counter it has from them (RFC 2863 lets an
// interface of 20-650 Mbit/s have 64-bit octets and 32-bit packet
// counts only), the 32-bit ones alone when no row has 64-bit octets,
// else both.
func modeOf(rows []*ifRow) counterMode {
	full, none := 0, 0
	for _, r := range rows {
		switch {
		case !r.usesHC():
			none++
		case !r.needsLegacy():
			full++
		}
	}
	switch {
	case len(rows) == 0:
		return modeBoth
	case full == len(rows):
		return modeHC
	case none == len(rows):
		return modeLegacy
	}
	return modeBoth
}

func columnsFor(m counterMode) []column {
	cols := slices.Clone(baseColumns)
	switch m {
	case modeHC:
		cols = append(cols, hcColumns...)
	case modeLegacy:
		cols = append(cols, legacyColumns...)
	default:
		cols = append(cols, hcColumns...)
		cols = append(cols, legacyColumns...)
	}
	return cols
}

// ifRow is what one poll read about one interface.
type ifRow struct {
	index        uint32
	descr, name  string
	alias        string
	speed        uint64 // ifSpeed, bits/s
	highSpeed    uint64 // ifHighSpeed, Mbit/s
	hasSpeed     bool
	hasHighSpeed bool
	admin, oper  uint32

	discontinuity    uint32 // ifCounterDiscontinuityTime, sysUpTime hundredths
	hasDiscontinuity bool

	// The same counter may come both as 64-bit and 32-bit (first poll of
	// a target): hc and legacy keep both, counters() prefers hc.
	hc, legacy       [numCounters]uint64
	hasHC, hasLegacy [numCounters]bool
	legacyWidth      [numCounters]uint8
	at               time.Time // arrival of the response carrying in-octets
}

// badValue counts a varbind that could not be used, by kind.
type badValue func(kind string)

// ifTable assembles rows from walked varbinds, bounded to maxRows.
type ifTable struct {
	rows map[uint32]*ifRow
	bad  badValue
}

func newIfTable(bad badValue) *ifTable {
	if bad == nil {
		bad = func(string) {}
	}
	return &ifTable{rows: map[uint32]*ifRow{}, bad: bad}
}

// add stores one varbind of column col for interface index; at is when
// the response carrying it arrived. It never panics on agent input.
func (t *ifTable) add(col column, index uint32, pdu gosnmp.SnmpPDU, at time.Time) {
	if index == 0 || index > maxIfIndex {
		t.bad("if_index")
		return
	}
	r := t.rows[index]
	if r == nil {
		if len(t.rows) >= maxRows {
			t.bad("too_many_interfaces")
			return
		}
		r = &ifRow{index: index}
		t.rows[index] = r
	}
	switch col.attr {
	case attrCounter:
		v, width, ok := counterValue(pdu)
		if !ok {
			t.bad("counter_type")
			return
		}
		if col.hc && width == 64 {
			r.hc[col.counter], r.hasHC[col.counter] = v, true
		} else {
			// A 32-bit value in an HC column (a broken agent) is still a
			// 32-bit counter: it wraps at 2^32.
			r.legacy[col.counter], r.hasLegacy[col.counter], r.legacyWidth[col.counter] = v, true, width
		}
		if col.counter == inOctets && r.at.IsZero() {
			r.at = at
		}
	case attrDescr, attrName, attrAlias:
		s, ok := textValue(pdu)
		if !ok {
			t.bad("text_type")
			return
		}
		switch col.attr {
		case attrDescr:
			r.descr = s
		case attrName:
			r.name = s
		default:
			r.alias = s
		}
	case attrSpeed, attrHighSpeed, attrAdmin, attrOper, attrDiscontinuity:
		v, ok := gaugeValue(pdu)
		if !ok {
			t.bad("value_type")
			return
		}
		switch col.attr {
		case attrSpeed:
			r.speed, r.hasSpeed = v, true
		case attrHighSpeed:
			r.highSpeed, r.hasHighSpeed = v, true
		case attrAdmin:
			r.admin = uint32(min(v, math.MaxUint32))
		case attrOper:
			r.oper = uint32(min(v, math.MaxUint32))
		default:
			r.discontinuity, r.hasDiscontinuity = uint32(min(v, math.MaxUint32)), true
		}
	}
}

// sorted returns the rows by ifIndex.
func (t *ifTable) sorted() []*ifRow {
	out := make([]*ifRow, 0, len(t.rows))
	for _, r := range t.rows {
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b *ifRow) int { return int(int64(a.index) - int64(b.index)) })
	return out
}

// usesHC reports whether the row's octet counters are 64-bit.
func (r *ifRow) usesHC() bool { return r.hasHC[inOctets] || r.hasHC[outOctets] }

// needsLegacy reports whether the row takes any counter from the 32-bit
// columns, so that walking the 64-bit ones alone would lose it.
func (r *ifRow) needsLegacy() bool {
	_, width := r.counters()
	for _, c := range legacyColumns {
		if width[c.counter] == 32 {
			return true
		}
	}
	return false
}

// counters picks, per counter, the 64-bit value when present, else the
// 32-bit one, with its width (0 when absent). ifIn/OutNUcastPkts count
// what ifXTable's multicast and broadcast columns count, so they are
// left out (width 0) whenever the row has any of those.
func (r *ifRow) counters() (v [numCounters]uint64, width [numCounters]uint8) {
	for k := range numCounters {
		switch {
		case r.hasHC[k]:
			v[k], width[k] = r.hc[k], 64
		case r.hasLegacy[k]:
			v[k], width[k] = r.legacy[k], r.legacyWidth[k]
		}
	}
	if width[inMcast]|width[inBcast]|width[outMcast]|width[outBcast] != 0 {
		v[inNUcast], width[inNUcast], v[outNUcast], width[outNUcast] = 0, 0, 0, 0
	}
	return v, width
}

// ifSpeed saturates at 4294967295 (RFC 2863); agents also send one less.
// Within ifHighSpeed's resolution (1 Mbit/s) of that ceiling, ifSpeed
// says only "this fast or faster".
const speedCeiling = math.MaxUint32 - 1_000_000

// speedBps is ifSpeed when it is exact, else ifHighSpeed in bits/s.
// ifHighSpeed wins whenever it is non-zero and ifSpeed is missing, zero,
// or at or near its ceiling: a Brocade port with ifSpeed 4294967294 and
// ifHighSpeed 8000 runs at 8 Gbit/s.
func (r *ifRow) speedBps() uint64 {
	exact := r.hasSpeed && r.speed > 0 && r.speed < speedCeiling
	if !exact && r.hasHighSpeed && r.highSpeed > 0 {
		return min(r.highSpeed, math.MaxUint64/1_000_000) * 1_000_000
	}
	if r.hasSpeed {
		return r.speed
	}
	return 0
}

// counterValue reads a Counter32/Counter64 (Gauge32 too: some agents use
// it for counters) and its width.
func counterValue(pdu gosnmp.SnmpPDU) (uint64, uint8, bool) {
	switch pdu.Type {
	case gosnmp.Counter64:
		v, ok := pdu.Value.(uint64)
		return v, 64, ok
	case gosnmp.Counter32, gosnmp.Gauge32:
		v, ok := uintValue(pdu.Value)
		return v & math.MaxUint32, 32, ok
	}
	return 0, 0, false
}

// gaugeValue reads an INTEGER, Gauge32, Counter32 or TimeTicks that must
// not be negative.
func gaugeValue(pdu gosnmp.SnmpPDU) (uint64, bool) {
	switch pdu.Type {
	case gosnmp.Integer:
		v, ok := pdu.Value.(int)
		if !ok || v < 0 {
			return 0, false
		}
		return uint64(v), true
	case gosnmp.Gauge32, gosnmp.Counter32, gosnmp.TimeTicks, gosnmp.Uinteger32:
		return uintValue(pdu.Value)
	}
	return 0, false
}

func uintValue(v any) (uint64, bool) {
	switch n := v.(type) {
	case uint:
		return uint64(n), true
	case uint32:
		return uint64(n), true
	case uint64:
		return n, true
	case int:
		if n >= 0 {
			return uint64(n), true
		}
	}
	return 0, false
}

// textValue reads a DisplayString as valid, bounded UTF-8 (protobuf
// refuses invalid UTF-8 in string fields).
func textValue(pdu gosnmp.SnmpPDU) (string, bool) {
	if pdu.Type != gosnmp.OctetString {
		return "", false
	}
	b, ok := pdu.Value.([]byte)
	if !ok {
		return "", false
	}
	if len(b) > maxTextLen {
		b = b[:maxTextLen]
	}
	s := strings.TrimRight(string(b), "\x00")
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	return s, true
}

// rowIndex parses the ifIndex from a returned OID under column prefix;
// ok is false when name is not a single-index row of that column.
func rowIndex(name, prefix string) (uint32, bool) {
	if len(name) <= len(prefix)+1 || !strings.HasPrefix(name, prefix) || name[len(prefix)] != '.' {
		return 0, false
	}
	n, err := strconv.ParseUint(name[len(prefix)+1:], 10, 32)
	if err != nil {
		return 0, false
	}
	return uint32(n), true
}
