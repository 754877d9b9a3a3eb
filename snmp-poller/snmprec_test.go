package snmppoller

import (
	"fmt"
	"slices"
	"strings"
)

// recDevice is the shape of a device whose recording a test writes: the
// IF-MIB tables it has, its speeds and the rates its counters rise at.
// Every interface counts at the same rates.
type recDevice struct {
	sysName    string
	interfaces int
	ifX        bool // ifXTable: names, aliases, multicast/broadcast, ifHighSpeed
	hc         bool // ifXTable's 64-bit counters
	hcOctets   bool // only the 64-bit octets (RFC 2863 for 20-650 Mbit/s)
	ifSpeed    func(i int) uint32
	highSpeed  func(i int) uint32 // Mbit/s
	rates      recRates
	engineID   string // snmpEngineID in hex, "" for none
}

// recRates are per second.
type recRates struct {
	inOctets, outOctets   float64
	inUcast, outUcast     float64
	inNUcast, outNUcast   float64 // ifTable's deprecated non-unicast columns
	inMcast, outMcast     float64 // ifXTable's
	inBcast, outBcast     float64
	inErrors, outDiscards float64
}

type recEntry struct {
	oid   []uint32
	value string // tag|value, as snmprec writes it
}

// snmprec writes the device as snmpsim's .snmprec text, in OID order.
// Counters use the "numeric" variation: initial + rate × seconds since
// snmpsimd started.
func (d recDevice) snmprec() string {
	var es []recEntry
	add := func(value string, oid ...uint32) { es = append(es, recEntry{oid, value}) }
	counter := func(tag int, rate float64) string {
		if rate == 0 {
			return fmt.Sprintf("%d|0", tag)
		}
		return fmt.Sprintf("%d:numeric|rate=%g,initial=1000", tag, rate)
	}
	sys := []uint32{1, 3, 6, 1, 2, 1, 1}
	add("67:numeric|rate=100,initial=360000", append(sys, 3, 0)...)
	add("4|"+d.sysName, append(sys, 5, 0)...)
	add(fmt.Sprintf("2|%d", d.interfaces), 1, 3, 6, 1, 2, 1, 2, 1, 0)
	if d.engineID != "" {
		add("4x|"+d.engineID, 1, 3, 6, 1, 6, 3, 10, 2, 1, 1, 0)
	}
	r := d.rates
	c32, c64 := 65, 70
	for i := 1; i <= d.interfaces; i++ {
		ifE := func(col uint32, v string) { add(v, 1, 3, 6, 1, 2, 1, 2, 2, 1, col, uint32(i)) }
		ifE(1, fmt.Sprintf("2|%d", i))
		ifE(2, fmt.Sprintf("4|%s port %d", d.sysName, i))
		ifE(3, "2|6")
		ifE(5, fmt.Sprintf("66|%d", d.ifSpeed(i)))
		ifE(7, "2|1")
		ifE(8, "2|1")
		ifE(10, counter(c32, r.inOctets))
		ifE(11, counter(c32, r.inUcast))
		ifE(12, counter(c32, r.inNUcast))
		ifE(13, counter(c32, 0))
		ifE(14, counter(c32, r.inErrors))
		ifE(16, counter(c32, r.outOctets))
		ifE(17, counter(c32, r.outUcast))
		ifE(18, counter(c32, r.outNUcast))
		ifE(19, counter(c32, r.outDiscards))
		ifE(20, counter(c32, 0))
		if !d.ifX {
			continue
		}
		ifX := func(col uint32, v string) { add(v, 1, 3, 6, 1, 2, 1, 31, 1, 1, 1, col, uint32(i)) }
		ifX(1, fmt.Sprintf("4|p%d", i))
		ifX(2, counter(c32, r.inMcast))
		ifX(3, counter(c32, r.inBcast))
		ifX(4, counter(c32, r.outMcast))
		ifX(5, counter(c32, r.outBcast))
		if d.hcOctets {
			ifX(6, counter(c64, r.inOctets))
			ifX(10, counter(c64, r.outOctets))
		}
		if d.hc {
			ifX(6, counter(c64, r.inOctets))
			ifX(7, counter(c64, r.inUcast))
			ifX(8, counter(c64, r.inMcast))
			ifX(9, counter(c64, r.inBcast))
			ifX(10, counter(c64, r.outOctets))
			ifX(11, counter(c64, r.outUcast))
			ifX(12, counter(c64, r.outMcast))
			ifX(13, counter(c64, r.outBcast))
		}
		ifX(15, fmt.Sprintf("66|%d", d.highSpeed(i)))
		ifX(18, fmt.Sprintf("4|uplink %d of %s", i, d.sysName))
		ifX(19, "67|0")
	}
	slices.SortFunc(es, func(a, b recEntry) int { return slices.Compare(a.oid, b.oid) })
	var b strings.Builder
	for _, e := range es {
		b.WriteString(strings.TrimPrefix(oidString(e.oid), "."))
		b.WriteByte('|')
		b.WriteString(e.value)
		b.WriteByte('\n')
	}
	return b.String()
}

func speedOf(v uint32) func(int) uint32 { return func(int) uint32 { return v } }
