package snmppoller

import (
	"testing"
	"time"
)

// reading is a compact counter reading for table tests: seconds since t0,
// sysUpTime, discontinuity time, and in-octets / out-octets.
type reading struct {
	sec           float64
	uptime        uint32
	noUptime      bool
	disc          uint32
	in, out       uint64
	width         uint8 // 32 or 64 (the default)
	errs          uint64
	omitOutOctets bool
}

var t0 = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

func (r reading) sample() *sample {
	w := r.width
	if w == 0 {
		w = 64
	}
	s := &sample{
		at:     t0.Add(time.Duration(r.sec * float64(time.Second))),
		uptime: r.uptime, hasUptime: !r.noUptime,
		discontinuity: r.disc, hasDiscontinuity: true,
	}
	s.values[inOctets], s.width[inOctets] = r.in, w
	if !r.omitOutOctets {
		s.values[outOctets], s.width[outOctets] = r.out, w
	}
	s.values[inErrors], s.width[inErrors] = r.errs, 32
	return s
}

func TestComputeRateOverCounterSequences(t *testing.T) {
	const gig = 1_000_000_000
	type want struct {
		valid, reset, wrap, over bool
		dIn, dOut, dErr          uint64
	}
	tests := []struct {
		name  string
		speed uint64
		seq   []reading
		want  []want // one per reading
	}{
		{
			name:  "steady 64-bit counters",
			speed: gig,
			seq:   []reading{{sec: 0, uptime: 1000, in: 1000, out: 10}, {sec: 60, uptime: 7000, in: 61000, out: 610}, {sec: 120, uptime: 13000, in: 121000, out: 1210, errs: 3}},
			want:  []want{{}, {valid: true, dIn: 60000, dOut: 600}, {valid: true, dIn: 60000, dOut: 600, dErr: 3}},
		},
		{
			name:  "32-bit wrap corrected",
			speed: gig,
			seq:   []reading{{sec: 0, uptime: 1000, in: 1<<32 - 100, out: 5, width: 32}, {sec: 10, uptime: 2000, in: 50, out: 15, width: 32}},
			want:  []want{{}, {valid: true, wrap: true, dIn: 150, dOut: 10}},
		},
		{
			name:  "32-bit wrap of the error counter only",
			speed: gig,
			seq:   []reading{{sec: 0, uptime: 1000, errs: 1<<32 - 1}, {sec: 10, uptime: 2000, errs: 1}},
			want:  []want{{}, {valid: true, wrap: true, dErr: 2}},
		},
		{
			name:  "32-bit wrap that would exceed line rate is a reset",
			speed: 10_000_000, // 10 Mbit/s: at most ~13 MB in 10 s
			seq:   []reading{{sec: 0, uptime: 1000, in: 3_000_000_000, width: 32}, {sec: 10, uptime: 2000, in: 1_000_000, width: 32}},
			want:  []want{{}, {reset: true}},
		},
		{
			name:  "64-bit counter going back is a reset, never negative",
			speed: gig,
			seq:   []reading{{sec: 0, uptime: 1000, in: 5_000_000}, {sec: 60, uptime: 7000, in: 4_000}, {sec: 120, uptime: 13000, in: 64_000}},
			want:  []want{{}, {reset: true}, {valid: true, dIn: 60_000}},
		},
		{
			name:  "reboot: sysUpTime went back",
			speed: gig,
			seq:   []reading{{sec: 0, uptime: 500_000, in: 100}, {sec: 60, uptime: 3000, in: 200}, {sec: 120, uptime: 9000, in: 300}},
			want:  []want{{}, {reset: true}, {valid: true, dIn: 100}},
		},
		{
			name:  "reboot: counters higher but sysUpTime advanced far less than the clock",
			speed: gig,
			seq:   []reading{{sec: 0, uptime: 1000, in: 100}, {sec: 600, uptime: 2000, in: 90_000}},
			want:  []want{{}, {reset: true}},
		},
		{
			name:  "sysUpTime wrapping after 497 days is not a reboot",
			speed: gig,
			seq:   []reading{{sec: 0, uptime: 1<<32 - 500, in: 100}, {sec: 10, uptime: 500, in: 1100}},
			want:  []want{{}, {valid: true, dIn: 1000}},
		},
		{
			name:  "no sysUpTime: counters alone decide",
			speed: gig,
			seq:   []reading{{sec: 0, noUptime: true, in: 100}, {sec: 10, noUptime: true, in: 1100}},
			want:  []want{{}, {valid: true, dIn: 1000}},
		},
		{
			name:  "ifCounterDiscontinuityTime change resets the baseline",
			speed: gig,
			seq:   []reading{{sec: 0, uptime: 1000, in: 100}, {sec: 60, uptime: 7000, disc: 6500, in: 700}, {sec: 120, uptime: 13000, disc: 6500, in: 1700}},
			want:  []want{{}, {reset: true}, {valid: true, dIn: 1000}},
		},
		{
			name:  "above speed × 1.1 is flagged, not valid, deltas kept for audit",
			speed: 1_000_000,
			seq:   []reading{{sec: 0, uptime: 1000, in: 0}, {sec: 1, uptime: 1100, in: 1_000_000}},
			want:  []want{{}, {over: true, dIn: 1_000_000}},
		},
		{
			name:  "just under speed × 1.1 is valid",
			speed: 8_000_000,
			seq:   []reading{{sec: 0, uptime: 1000, in: 0}, {sec: 1, uptime: 1100, in: 1_090_000}},
			want:  []want{{}, {valid: true, dIn: 1_090_000}},
		},
		{
			name:  "unknown speed still caps absurd rates",
			speed: 0,
			seq:   []reading{{sec: 0, uptime: 1000, in: 0}, {sec: 1, uptime: 1100, in: 1 << 62}},
			want:  []want{{}, {over: true, dIn: 1 << 62}},
		},
		{
			name:  "counter width changed (agent switched to HC): reset",
			speed: gig,
			seq:   []reading{{sec: 0, uptime: 1000, in: 100, width: 32}, {sec: 10, uptime: 2000, in: 1100, width: 64}},
			want:  []want{{}, {reset: true}},
		},
		{
			name:  "a counter that appears has no baseline: reset",
			speed: gig,
			seq:   []reading{{sec: 0, uptime: 1000, in: 100, omitOutOctets: true}, {sec: 10, uptime: 2000, in: 200, out: 50}},
			want:  []want{{}, {reset: true}},
		},
		{
			name:  "same timestamp gives no rate",
			speed: gig,
			seq:   []reading{{sec: 5, uptime: 1000, in: 100}, {sec: 5, uptime: 1000, in: 200}},
			want:  []want{{}, {}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var prev *sample
			for i, r := range tt.seq {
				cur := r.sample()
				got := computeRate(prev, cur, tt.speed, 1.1)
				w := tt.want[i]
				if got.valid != w.valid || got.reset != w.reset || got.wrap != w.wrap || got.overSpeed != w.over {
					t.Fatalf("reading %d: valid=%v reset=%v wrap=%v over=%v, want %+v", i, got.valid, got.reset, got.wrap, got.overSpeed, w)
				}
				if got.deltas[inOctets] != w.dIn || got.deltas[outOctets] != w.dOut || got.deltas[inErrors] != w.dErr {
					t.Fatalf("reading %d: deltas in=%d out=%d err=%d, want %d %d %d", i, got.deltas[inOctets], got.deltas[outOctets], got.deltas[inErrors], w.dIn, w.dOut, w.dErr)
				}
				prev = cur // every reading becomes the next baseline
			}
		})
	}
}

func TestRecordOfAResetCarriesNoRates(t *testing.T) {
	prev := reading{sec: 0, uptime: 500_000, in: 100}.sample()
	cur := reading{sec: 60, uptime: 100, in: 5}.sample()
	rt := computeRate(prev, cur, 1_000_000, 1.1)
	rec := buildRecord(&device{name: "d"}, &ifRow{index: 3, speed: 1_000_000, hasSpeed: true}, cur, prev, rt)
	if rec.RateValid || !rec.CounterReset || rec.InBps != 0 || rec.DeltaInOctets != 0 || rec.InOctets != 5 {
		t.Fatalf("reset record: %+v", rec)
	}
	if rec.PrevTimeNs == 0 || rec.TimeNs-rec.PrevTimeNs != uint64(60*time.Second) {
		t.Fatalf("times %d - %d", rec.TimeNs, rec.PrevTimeNs)
	}
}
