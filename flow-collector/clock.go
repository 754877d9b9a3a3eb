package flowcollector

import (
	"time"

	"github.com/netstrata/netstrata/internal/record"
)

// Exporter clocks. An exporter stamps its flows with its own clock; one
// that is off places bytes minutes (or, replaying a capture, years)
// away from when the collector saw them, and a spike window cut on those
// times is off by as much. Each datagram's export time is compared with
// its receive time; the difference, smoothed, is the exporter's skew.
// Past clock_skew_threshold, flows are shifted by it (time_basis
// skew_corrected, the shift in exporter_clock_skew_ns) and a warning is
// logged; flows whose times are still not believable (record.FlowTimesUsable,
// the API's rule) keep the exporter's times but are marked to be placed
// at their receive time (time_basis received).

// skewStep is a change of the measured skew taken as a clock step (or a
// new capture replayed) rather than drift: the estimate restarts there.
const skewStep = 10 * time.Second

// skewWeight is the smoothing of the estimate: each datagram moves it by
// 1/skewWeight of its difference, so that network delay and the
// one-second resolution of v9/IPFIX export times average out.
const skewWeight = 8

// observeClock folds one datagram's export and receive times into the
// exporter's skew estimate and returns it (ns, positive: the exporter is
// behind). A datagram without an export time changes nothing.
func (e *exporter) observeClock(exportNs, recvNs uint64) int64 {
	if exportNs == 0 {
		e.mu.Lock()
		defer e.mu.Unlock()
		return e.skew
	}
	d := int64(recvNs - exportNs)
	e.mu.Lock()
	switch diff := d - e.skew; {
	case !e.skewKnown || diff > int64(skewStep) || diff < -int64(skewStep):
		e.skew, e.skewKnown = d, true
	default:
		e.skew += diff / skewWeight
	}
	skew := e.skew
	e.mu.Unlock()
	e.metrics().clockSkew.Set(time.Duration(skew).Seconds())
	if t := e.c.cfg.ClockSkewThreshold; skew > int64(t) || skew < -int64(t) {
		e.c.badLog.Warn(e.addr.String()+"clock", "exporter clock is off the collector's: its flows are placed by the corrected time",
			"exporter", e.addr, "skew", time.Duration(skew).Round(time.Millisecond), "threshold", t)
	}
	return skew
}

// placeFlow settles the time basis of a flow with exporter times, from
// the skew measured when its datagram arrived.
func (c *Component) placeFlow(f *record.Flow, skew int64) {
	if t := int64(c.cfg.ClockSkewThreshold); skew <= t && skew >= -t {
		skew = 0
	}
	start, end := int64(f.TimeFlowStartNs)+skew, int64(f.TimeFlowEndNs)+skew
	if !record.FlowTimesUsable(start, end, int64(f.TimeReceivedNs)) {
		// The exporter's times are kept as they came; readers place
		// the flow at its receive time.
		f.TimeBasis = record.TimeBasis_TIME_BASIS_RECEIVED
		return
	}
	if skew != 0 {
		f.TimeFlowStartNs, f.TimeFlowEndNs = uint64(start), uint64(end)
		f.TimeBasis = record.TimeBasis_TIME_BASIS_SKEW_CORRECTED
		f.ExporterClockSkewNs = skew
	}
}
