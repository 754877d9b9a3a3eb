package snmppoller

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"
	"google.golang.org/protobuf/proto"
)

// onePacket answers the first walk request with a fixed packet, then
// fails: a walk over whatever the fuzzer made.
type onePacket struct {
	pkt  *gosnmp.SnmpPacket
	used bool
}

func (o *onePacket) next() (*gosnmp.SnmpPacket, error) {
	if o.used || o.pkt == nil {
		return nil, errors.New("no more packets")
	}
	o.used = true
	return o.pkt, nil
}

func (o *onePacket) GetBulk([]string, uint8, uint32) (*gosnmp.SnmpPacket, error) { return o.next() }
func (o *onePacket) GetNext([]string) (*gosnmp.SnmpPacket, error)                { return o.next() }

// decodeResponse decodes a datagram the way the poller's gosnmp client
// does; gosnmp recovers its own panics on this path in production, so a
// panic inside gosnmp is treated as a rejected datagram here too.
func decodeResponse(data []byte) (pkt *gosnmp.SnmpPacket) {
	defer func() {
		if recover() != nil {
			pkt = nil
		}
	}()
	g := &gosnmp.GoSNMP{Version: gosnmp.Version2c}
	p, err := g.SnmpDecodePacket(data)
	if err != nil {
		return nil
	}
	return p
}

// rowsFrom walks the columns over one decoded response.
func rowsFrom(pkt *gosnmp.SnmpPacket, mode counterMode) map[uint32]*ifRow {
	table := newIfTable(nil)
	_, _ = walkColumns(&onePacket{pkt: pkt}, columnsFor(mode), 10, table.add)
	return table.rows
}

// simResponse is a GETBULK response of a simulated agent, for seeds.
func simResponse(f testing.TB, c simConfig, at time.Time, mode counterMode) []byte {
	a := &simAgent{cfg: c, mib: mibFor(c), epoch: at.Add(-c.Uptime)}
	req := &gosnmp.SnmpPacket{Version: gosnmp.Version2c, Community: "public", PDUType: gosnmp.GetBulkRequest, MaxRepetitions: 1}
	for _, col := range columnsFor(mode) {
		req.Variables = append(req.Variables, gosnmp.SnmpPDU{Name: col.oid, Type: gosnmp.Null})
	}
	b, err := a.answer(req, at.Add(time.Second)).MarshalMsg()
	if err != nil {
		f.Fatal(err)
	}
	return b
}

func FuzzPDUToRecords(f *testing.F) {
	now := time.Now()
	// Small seeds (1 interface, 1 row per column): the fuzzer minimizes
	// every interesting input, which takes long on large ones.
	hc := defaultSimConfig("seed")
	hc.Interfaces = 1
	legacy := hc
	legacy.HC = false
	legacy.Base32 = 1<<32 - 1000
	f.Add(simResponse(f, hc, now, modeHC), uint32(1000), uint32(7000), uint16(60000), uint32(5000))
	f.Add(simResponse(f, legacy, now, modeLegacy), uint32(1000), uint32(2000), uint16(10000), uint32(1<<31))
	f.Add(simResponse(f, hc, now, modeBoth), uint32(500000), uint32(10), uint16(1), uint32(0))
	f.Add([]byte{0x30, 0x03, 0x02, 0x01, 0x01}, uint32(0), uint32(0), uint16(0), uint32(1))

	// The previous poll is the same response with every counter set back
	// by back (modulo its width, so 32-bit ones may wrap).
	f.Fuzz(func(t *testing.T, data []byte, up1, up2 uint32, elapsedMs uint16, back uint32) {
		pkt := decodeResponse(data)
		for _, mode := range []counterMode{modeBoth, modeHC, modeLegacy} {
			rows := rowsFrom(pkt, mode)
			if len(rows) > maxRows {
				t.Fatalf("%d rows: the bound of %d was not kept", len(rows), maxRows)
			}
			t1 := time.Unix(1_700_000_000, 0)
			t2 := t1.Add(time.Duration(elapsedMs) * time.Millisecond)
			d1 := &device{name: "fuzz", uptime: up1, hasUptime: true}
			d2 := &device{name: "fuzz", uptime: up2, hasUptime: true}
			for idx, r := range rows {
				cur := sampleOf(d2, r, t2)
				cur.at = t2
				prev := sampleOf(d1, r, t1)
				prev.at = t1
				for k := range numCounters {
					prev.values[k] -= uint64(back)
					if prev.width[k] == 32 {
						prev.values[k] &= math.MaxUint32
					}
				}
				rt := computeRate(prev, cur, r.speedBps(), 1.1)
				rec := buildRecord(d2, r, cur, prev, rt)
				if _, err := proto.Marshal(rec); err != nil {
					t.Fatalf("record of ifIndex %d does not marshal: %v", idx, err)
				}
				checkRecordInvariants(t, rt, rec.InBps, rec.OutBps, rec.InPps, rec.OutPps, rec.InUtilization, rec.SpeedBps)
			}
		}
	})
}

func checkRecordInvariants(t *testing.T, rt rate, values ...any) {
	t.Helper()
	for _, v := range values {
		if f, ok := v.(float64); ok && (math.IsNaN(f) || math.IsInf(f, 0) || f < 0) {
			t.Fatalf("rate value %v is not a finite non-negative number", f)
		}
	}
	speed := values[len(values)-1].(uint64)
	inBps := values[0].(float64)
	if rt.valid {
		limit := maxPlausibleBps
		if speed > 0 {
			limit = float64(speed) * 1.1
		}
		if inBps > limit*(1+1e-9) {
			t.Fatalf("valid rate %g bps above the limit %g", inBps, limit)
		}
	}
	if rt.reset && (rt.valid || rt.deltas != [numCounters]uint64{}) {
		t.Fatalf("a reset carries a valid rate or deltas: %+v", rt)
	}
}

func FuzzComputeRate(f *testing.F) {
	f.Add(uint64(100), uint64(200), uint8(64), uint8(64), uint32(100), uint32(200), uint32(1000), uint64(1e9), false)
	f.Add(uint64(1<<32-5), uint64(10), uint8(32), uint8(32), uint32(100), uint32(1100), uint32(10000), uint64(1e9), false)
	f.Add(uint64(1<<40), uint64(10), uint8(64), uint8(64), uint32(1<<32-1), uint32(5), uint32(1), uint64(0), true)
	f.Fuzz(func(t *testing.T, p, c uint64, pw, cw uint8, up1, up2, elapsedMs uint32, speed uint64, disc bool) {
		width := func(w uint8) uint8 { return []uint8{0, 32, 64}[w%3] }
		prev := &sample{at: time.Unix(1_700_000_000, 0), uptime: up1, hasUptime: true}
		cur := &sample{at: prev.at.Add(time.Duration(elapsedMs) * time.Millisecond), uptime: up2, hasUptime: true}
		prev.width[inOctets], cur.width[inOctets] = width(pw), width(cw)
		if prev.width[inOctets] == 32 {
			p &= math.MaxUint32
		}
		if cur.width[inOctets] == 32 {
			c &= math.MaxUint32
		}
		prev.values[inOctets], cur.values[inOctets] = p, c
		if disc {
			prev.hasDiscontinuity, cur.hasDiscontinuity, cur.discontinuity = true, true, 1
		}
		rt := computeRate(prev, cur, speed, 1.1)
		if rt.valid && !rt.wrap && cur.width[inOctets] != 0 && rt.deltas[inOctets] != c-p {
			t.Fatalf("delta %d, want %d", rt.deltas[inOctets], c-p)
		}
		if rt.wrap && rt.deltas[inOctets] > math.MaxUint32 {
			t.Fatalf("wrapped delta %d above 2^32", rt.deltas[inOctets])
		}
		var inBps float64
		if rt.elapsed > 0 {
			inBps = float64(rt.deltas[inOctets]) * 8 / rt.elapsed.Seconds()
		}
		checkRecordInvariants(t, rt, inBps, speed)
	})
}
