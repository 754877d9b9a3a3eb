package flowcollector

import "math"

// Sequence accounting. Each protocol numbers its messages per stream
// (v5: flows per engine; v9: export packets per source ID, RFC 3954;
// IPFIX: data records per observation domain, RFC 7011 §3.1; sFlow:
// datagrams per agent and sub-agent), and a gap is what was lost. Some
// exporters number differently, yet consistently: softflowd's IPFIX
// export gives each message the count of data records *including* its
// own, and leaves its options records out. Read the RFC way, every
// message of such an exporter looks like a loss. So each stream keeps
// the readings ("numberings") its messages agree with, and adopts
// another than the RFC's only after it alone explained
// numberingEvidence distinguishing messages, when the RFC's did not.

// numbering is one reading of what a message's sequence number counts.
type numbering uint8

// In order of preference when several remain possible.
const (
	numberingRFC         numbering = iota // units before this message, options records included
	numberingOwnDataOnly                  // units up to and including this message, options records left out (softflowd)
	numberingOwn                          // units up to and including this message
	numberingRFCDataOnly                  // units before this message, options records left out
	numberings
)

var numberingNames = [numberings]string{"rfc", "own_count_data_only", "own_count", "rfc_data_only"}

func (n numbering) String() string { return numberingNames[n] }

// numberingEvidence is how many distinguishing messages must agree with
// another numbering, and not with the current one, before it is adopted.
const numberingEvidence = 2

// maxSequenceGap bounds what counts as a loss: a larger jump (or a step
// back) is a restart or reordering, after which the stream resynchronises.
const maxSequenceGap = 1 << 20

const allNumberings = 1<<numberings - 1

// seqUnits are what a message held, in the units of its protocol.
type seqUnits struct {
	data, options uint32 // options: IPFIX/v9 options data records; 0 elsewhere
}

// seqStream is the sequence state of one (protocol, domain) of an
// exporter.
type seqStream struct {
	seq      uint32 // the latest message's number
	units    seqUnits
	mode     numbering
	alive    uint8  // numberings every message since the last loss agreed with (bit per numbering)
	evidence uint8  // distinguishing messages only another numbering explained
	pending  uint32 // what the current numbering counted lost while another explained it
}

// expect is the number the message after s should carry under n, given
// what that message holds.
func (s *seqStream) expect(n numbering, next seqUnits) uint32 {
	u := s.units
	if n == numberingOwn || n == numberingOwnDataOnly {
		u = next
	}
	if n == numberingOwnDataOnly || n == numberingRFCDataOnly {
		return s.seq + u.data
	}
	return s.seq + u.data + u.options
}

// matches is the set of numberings under which seq follows s.
func (s *seqStream) matches(seq uint32, next seqUnits) uint8 {
	var m uint8
	for n := range numberings {
		if s.expect(n, next) == seq {
			m |= 1 << n
		}
	}
	return m
}

// gap is what the current numbering says was lost before seq; ok is
// false for a restart or reordering.
func (s *seqStream) gap(seq uint32, next seqUnits) (uint32, bool) {
	g := seq - s.expect(s.mode, next)
	return g, g < maxSequenceGap
}

// seqOutcome is what one message did to a stream.
type seqOutcome struct {
	lost    uint32
	learned bool // the stream adopted another numbering
}

// advance accounts for a message numbered seq holding u.
func (s *seqStream) advance(seq uint32, u seqUnits) seqOutcome {
	var out seqOutcome
	m := s.matches(seq, u)
	cur := uint8(1) << s.mode
	switch {
	case m&cur != 0:
		if m&s.alive != s.alive { // it told the live numberings apart: the current one holds
			s.alive &= m
			s.evidence = 0
			out.lost, s.pending = s.pending, 0
		}
	case m&s.alive != 0: // only another live numbering explains it
		if g, ok := s.gap(seq, u); ok {
			s.pending += g
		}
		s.alive = s.alive&m | cur
		if s.evidence++; s.evidence >= numberingEvidence {
			s.adopt(s.alive &^ cur)
			out.learned = true
		}
	default: // a loss, a restart or a reordering
		if g, ok := s.gap(seq, u); ok {
			out.lost = g
		}
	}
	s.seq, s.units = seq, u
	return out
}

// adopt makes the preferred numbering of set the current one; what the
// previous one counted as lost while in doubt was not.
func (s *seqStream) adopt(set uint8) {
	for n := range numberings {
		if set&(1<<n) != 0 {
			s.mode = n
			break
		}
	}
	s.alive, s.evidence, s.pending = set, 0, 0
}

// checkSequence accounts for a message of stream k numbered seq holding
// u, and counts what was lost.
func (e *exporter) checkSequence(k seqKey, seq uint32, u seqUnits) {
	e.mu.Lock()
	s, seen := e.seq[k]
	if !seen {
		if len(e.seq) >= maxDomainState {
			clear(e.seq) // hostile or broken exporter cycling through domains
		}
		e.seq[k] = &seqStream{seq: seq, units: u, alive: allNumberings}
		e.mu.Unlock()
		return
	}
	before := s.mode
	out := s.advance(seq, u)
	mode := s.mode
	e.mu.Unlock()
	if out.lost > 0 {
		e.unreported.Add(uint64(out.lost))
		e.metrics().sequenceLost.Add(float64(out.lost))
	}
	if out.learned {
		e.numberingChanged(k, before, mode)
	}
}

// takeUnreported returns the loss no record carried yet and resets it;
// a larger loss than a record field holds stays for the next record.
func (e *exporter) takeUnreported() uint32 {
	for {
		n := e.unreported.Load()
		take := min(n, math.MaxUint32)
		if e.unreported.CompareAndSwap(n, n-take) {
			return uint32(take)
		}
	}
}

// numberingChanged shows a stream's adopted numbering in the exporter's
// metrics and logs it once.
func (e *exporter) numberingChanged(k seqKey, from, to numbering) {
	switch {
	case from == numberingRFC:
		e.metrics().nonRFCNumbering.Inc()
	case to == numberingRFC:
		e.metrics().nonRFCNumbering.Dec()
	}
	e.c.r.Log.Info("exporter numbers its messages other than its RFC says; sequence accounting follows it",
		"exporter", e.addr, "version", k.version, "domain", k.domain, "numbering", to.String(), "was", from.String())
}

// forgetSequence drops the expectation when a datagram's successor
// cannot be predicted.
func (e *exporter) forgetSequence(k seqKey) {
	e.mu.Lock()
	s := e.seq[k]
	delete(e.seq, k)
	e.mu.Unlock()
	if s != nil && s.mode != numberingRFC {
		e.metrics().nonRFCNumbering.Dec()
	}
}
