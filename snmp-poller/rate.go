package snmppoller

import (
	"math"
	"time"
)

// sample is one reading of one interface's counters.
type sample struct {
	at               time.Time
	uptime           uint32 // sysUpTime, hundredths of a second
	hasUptime        bool
	discontinuity    uint32 // ifCounterDiscontinuityTime
	hasDiscontinuity bool
	values           [numCounters]uint64
	width            [numCounters]uint8 // 32, 64, or 0 when the agent did not give it
}

// rate is what two consecutive samples say.
type rate struct {
	valid     bool // deltas and rates can be trusted
	elapsed   time.Duration
	deltas    [numCounters]uint64
	reset     bool // reboot, discontinuity, or a counter that went back
	wrap      bool // a 32-bit counter wrapped and was corrected
	overSpeed bool // a rate above speed×factor: kept for audit, not valid
}

const (
	wrap32 = 1 << 32
	// maxPlausibleBps caps a rate when the speed is unknown (10 Tbit/s).
	maxPlausibleBps = 1e13
	// uptimeSlack absorbs the time a request takes to reach the agent.
	uptimeSlack = 10 * time.Second
)

// computeRate derives deltas from prev to cur. It never returns a
// negative or absurd delta: anything that cannot be explained by counting
// forward (with at most one 32-bit wrap) resets the baseline instead.
func computeRate(prev, cur *sample, speedBps uint64, overSpeedFactor float64) rate {
	var r rate
	if prev == nil {
		return r // first reading: a baseline only
	}
	r.elapsed = cur.at.Sub(prev.at)
	if r.elapsed <= 0 {
		return r
	}
	if rebooted(prev, cur, r.elapsed) ||
		prev.hasDiscontinuity && cur.hasDiscontinuity && prev.discontinuity != cur.discontinuity {
		r.reset = true
		return r
	}
	for k := range numCounters {
		pw, cw := prev.width[k], cur.width[k]
		if pw == 0 && cw == 0 {
			continue // never reported: delta 0
		}
		if pw != cw {
			// The agent switched counter source, or a counter appeared
			// or vanished: no common baseline.
			return rate{elapsed: r.elapsed, reset: true}
		}
		p, c := prev.values[k], cur.values[k]
		switch {
		case c >= p:
			r.deltas[k] = c - p
		case cw == 32 && p < wrap32:
			r.deltas[k] = c + wrap32 - p
			r.wrap = true
		default:
			// A 64-bit counter needs centuries to wrap: it was reset.
			return rate{elapsed: r.elapsed, reset: true}
		}
	}
	secs := r.elapsed.Seconds()
	inBps := float64(r.deltas[inOctets]) * 8 / secs
	outBps := float64(r.deltas[outOctets]) * 8 / secs
	limit := maxPlausibleBps
	if speedBps > 0 {
		limit = float64(speedBps) * overSpeedFactor
	}
	if inBps > limit || outBps > limit {
		if r.wrap {
			// A "wrap" that implies more than line rate was a counter
			// reset the agent did not announce.
			return rate{elapsed: r.elapsed, reset: true}
		}
		r.overSpeed = true
		return r
	}
	r.valid = true
	return r
}

// rebooted reports whether sysUpTime says the device restarted between
// the samples: it went back (other than its own 497-day wrap), or it
// advanced far less than the wall clock did.
func rebooted(prev, cur *sample, elapsed time.Duration) bool {
	if !prev.hasUptime || !cur.hasUptime {
		return false
	}
	elapsedCs := elapsed.Seconds() * 100
	slackCs := uptimeSlack.Seconds() * 100
	advanced := float64(cur.uptime) - float64(prev.uptime)
	if cur.uptime < prev.uptime {
		wrapped := advanced + wrap32
		// sysUpTime (TimeTicks) itself wraps every 497 days.
		return math.Abs(wrapped-elapsedCs) > slackCs+elapsedCs/2
	}
	return advanced+slackCs < elapsedCs/2
}
