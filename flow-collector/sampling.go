package flowcollector

import (
	"math"
	"math/bits"
)

// samplingOverrides resolves configured sampling rates, the most
// specific entry first.
type samplingOverrides struct{ prefixTable[uint64] }

func newSamplingOverrides(cfg []SamplingOverride) (*samplingOverrides, error) {
	s := &samplingOverrides{}
	for _, o := range cfg {
		if err := s.add(o.Exporter, o.Rate); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Reasons a record or an announcement is refused (the reason label of
// records_refused_total).
const (
	reasonSamplingRate    = "sampling_rate"
	reasonAnnouncedRate   = "announced_sampling_rate"
	reasonCounterOverflow = "counter_overflow"
	reasonTruncated       = "truncated" // records_dropped_total only
)

// maxScaled bounds bytes × rate and packets × rate of one record: what
// ClickHouse's signed sums and anything downstream multiplying by the
// rate can hold. A record beyond it is forged or broken.
const maxScaled = math.MaxInt64

// mulSat multiplies without wrapping: the product, or MaxUint64.
func mulSat(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	if hi != 0 {
		return math.MaxUint64
	}
	return lo
}

// addSat adds without wrapping.
func addSat(a, b uint64) uint64 {
	s, carry := bits.Add64(a, b, 0)
	if carry != 0 {
		return math.MaxUint64
	}
	return s
}

// checkRate counts and logs (rate-limited) a sampling rate above
// max_sampling_rate and returns false for it.
func (c *Component) checkRate(e *exporter, rate uint64, reason string) bool {
	if rate <= c.cfg.MaxSamplingRate {
		return true
	}
	c.refuseRecord(e, reason, "rate", rate, "max_sampling_rate", c.cfg.MaxSamplingRate)
	return false
}

// checkRecord refuses a record whose rate is above max_sampling_rate or
// whose counters, scaled by it, would not fit in maxScaled; a refused
// record is counted as dropped for its exporter.
func (c *Component) checkRecord(e *exporter, bytes, packets, rate uint64) bool {
	reason := reasonSamplingRate
	switch {
	case !c.checkRate(e, rate, reasonSamplingRate):
	case mulSat(bytes, rate) > maxScaled || mulSat(packets, rate) > maxScaled:
		reason = reasonCounterOverflow
		c.refuseRecord(e, reason, "bytes", bytes, "packets", packets, "rate", rate)
	default:
		return true
	}
	e.metrics().recordsDropped.WithLabelValues(reason).Inc()
	return false
}

func (c *Component) refuseRecord(e *exporter, reason string, args ...any) {
	c.metrics.recordsRefused.WithLabelValues(reason).Inc()
	c.badLog.Warn("refused-"+reason, "flow data refused", append([]any{"exporter", e.addr, "reason", reason}, args...)...)
}
