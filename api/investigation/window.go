package investigation

import (
	"context"
	"time"

	"github.com/netstrata/netstrata/api/apiv1"
	"github.com/netstrata/netstrata/api/query"
)

// findWindow is step 1: the series of every layer the subject can be
// restricted to, the rows each holds in the range, and the windows.
func (r *investigation) findWindow(ctx context.Context) (err error) {
	if r.series, err = r.c.seriesByLayer(ctx, r.sc, r.spans, r.from, r.to, r.step); err != nil {
		return err
	}
	for layer, s := range r.series.bytes {
		for _, b := range r.series.inRange(s, r.step) {
			if b.V > 0 {
				r.rows[layer]++
			}
		}
	}
	r.windows = findWindows(r.sc, r.series, r.from, r.to, r.step)
	return nil
}

// maxSeriesBuckets bounds a fine series: a 1-hour range is read per
// second, a 6-hour one per 6 seconds.
const maxSeriesBuckets = 3600

// seriesStep is the bucket of the spike search: one second (the raw
// tables' precision: a poll, an agent interval or a flow is spread over
// the seconds it covers) up to maxSeriesBuckets buckets, minutes beyond
// rawRange (the rollups).
func seriesStep(from, to time.Time, rawRange time.Duration) time.Duration {
	r := to.Sub(from)
	if r > rawRange {
		return max(time.Minute, (r / 360).Truncate(time.Minute))
	}
	return max(time.Second, ((r + maxSeriesBuckets*time.Second - 1) / maxSeriesBuckets).Truncate(time.Second))
}

// layerSeries is each layer's bytes per step over the range and as long
// again before it (where a baseline may reach), and the sockets'
// retransmits.
type layerSeries struct {
	bytes map[string][]bucket
	retr  []bucket
	from  time.Time                // start of the range proper
	width map[string]time.Duration // how long each layer's rows last
}

// seriesByLayer reads the subject's series from each layer it can be
// restricted to.
func (c *Investigator) seriesByLayer(ctx context.Context, sc *Scope, spans map[string]query.Span, from, to time.Time, step time.Duration) (layerSeries, error) {
	out := layerSeries{bytes: map[string][]bucket{}, from: from, width: map[string]time.Duration{}}
	ext := from.Add(-to.Sub(from))
	layers := []struct {
		layer string
		scope func() *query.Builder
	}{{"sockets", func() *query.Builder { return sc.sockets }}, {"flows", func() *query.Builder { return sc.flows }}, {"snmp", func() *query.Builder { return sc.snmp }}}
	pts := make([][]map[int64]float64, len(layers))
	widths := make([]time.Duration, len(layers))
	read := func(i int) error {
		l := layers[i]
		if l.layer == "flows" && sc.prepareFlows != nil {
			if err := sc.prepareFlows(ctx); err != nil {
				return layerError(l.layer, err)
			}
		}
		scope := l.scope()
		if scope == nil {
			return nil
		}
		values := []string{"bytes"}
		if l.layer == "sockets" {
			values = append(values, "retransmits")
		}
		return layerError(l.layer, query.Concurrently(func() (err error) {
			pts[i], err = query.Series(ctx, c.Run, "investigate_series_"+l.layer, spans[l.layer], scope, ext, to, step, values...)
			return err
		}, func() (err error) {
			widths[i], err = query.Width(ctx, c.Run, "investigate_width_"+l.layer, spans[l.layer], scope, from, to)
			return err
		}))
	}
	if err := query.Concurrently(func() error { return read(0) }, func() error { return read(1) }, func() error { return read(2) }); err != nil {
		return out, err
	}
	for i, l := range layers {
		if pts[i] == nil {
			continue
		}
		out.bytes[l.layer] = fillSeries(pts[i][0], ext, to, step)
		out.width[l.layer] = widths[i]
		if len(pts[i]) > 1 {
			out.retr = fillSeries(pts[i][1], ext, to, step)
		}
	}
	return out, nil
}

// inRange is the part of a series from the bucket holding the range's
// start.
func (ls layerSeries) inRange(s []bucket, step time.Duration) []bucket {
	start := ls.from.Truncate(step)
	for i, b := range s {
		if !b.T.Before(start) {
			return s[i:]
		}
	}
	return nil
}

// sum is a layer's total within w (bucket-aligned).
func (ls layerSeries) sum(layer string, w query.Window) uint64 {
	var v float64
	for _, b := range ls.bytes[layer] {
		if !b.T.Before(w.Start) && b.T.Before(w.End) {
			v += b.V
		}
	}
	return uint64(v + 0.5)
}

// covers is true when a layer has data in most of w: a level to compare
// with, not the edge of a row reaching into it.
func (ls layerSeries) covers(layer string, w query.Window) bool {
	n, with := 0, 0
	for _, b := range ls.bytes[layer] {
		if !b.T.Before(w.Start) && b.T.Before(w.End) {
			n++
			if b.V > 0 {
				with++
			}
		}
	}
	return n > 0 && 2*with >= n
}

// spikeWindows are the windows an investigation compares.
type spikeWindows struct {
	event, base query.Window
	blur        query.Window // the event with its blurred edges (zero: the event)
	dataStart   time.Time
	rate        float64 // bytes per second of the spike's plateau (0: use the event's sum)
	layer       string  // the layer whose series gave them
	found, retr bool    // a traffic spike, a retransmit spike
}

// findWindows looks for a spike in each primary layer in turn, then for
// a retransmit spike, then for a rise covering the whole range; without
// any, it compares the last quarter of the range with the quarter before.
func findWindows(sc *Scope, ls layerSeries, from, to time.Time, step time.Duration) spikeWindows {
	var w spikeWindows
	var dataStart time.Time // start of the spike layer's data when the range begins before it
	for _, layer := range sc.primary {
		s := ls.inRange(ls.bytes[layer], step)
		if !hasData(s) {
			continue
		}
		if w.layer == "" {
			w.layer = layer // the series reported even without a spike
			_, _, dataStart = rateSeries(s, from, to, step)
		}
		if r, ok := detectSpike(s, from, to, step, spikeFactor, minSeriesBytesFloor/60.0); ok {
			w.event, w.base, w.blur, w.rate, dataStart = r.Event, r.Base, r.Blur, r.Rate, r.DataStart
			w.layer, w.found, w.dataStart = layer, true, dataStart
			w.base = before(w.base, w.event.Start.Add(-ls.width[layer]).Truncate(step), dataStart)
			return w
		}
	}
	if len(ls.retr) > 0 {
		if r, ok := detectSpike(ls.inRange(ls.retr, step), from, to, step, retransmitFactor, minRetrSeriesFloor/60.0); ok {
			w.event, w.base, w.retr = r.Event, r.Base, true
			if w.layer == "" {
				w.layer = "sockets"
			}
			return w
		}
	}
	if w.layer != "" && dataStart.IsZero() {
		// A rise covering the whole range (or most of it, when the level
		// before it is not in the range): against the window before.
		prev := query.Window{Start: from.Add(-to.Sub(from)), End: from}
		if wb, we := ls.sum(w.layer, prev), ls.sum(w.layer, query.Window{Start: from, End: to}); ls.covers(w.layer, prev) &&
			float64(we) > spikeFactor*float64(wb) && float64(we) > minSeriesBytesFloor*to.Sub(from).Minutes() {
			w.event, w.base, w.found = query.Window{Start: from, End: to}, prev, true
			return w
		}
	}
	// No spike: compare the last quarter of the range with the quarter before.
	q := max((to.Sub(from) / 4).Truncate(step), step)
	w.event = query.Window{Start: to.Add(-q), End: to}
	w.base = baselineBefore(w.event, dataStart)
	return w
}

func hasData(s []bucket) bool {
	for _, b := range s {
		if b.V > 0 {
			return true
		}
	}
	return false
}

// layerWindows are where a layer's contributors are measured: the event
// and the blur of its edges in the spike layer and in that layer, and a
// baseline as long as the spike layer's that ends before that blur
// begins (and starts no earlier than the data). Without a shaped spike
// they are the spike layer's windows.
func (w spikeWindows) layerWindows(ls layerSeries, layer string, from, to time.Time, step time.Duration) (base, measure query.Window) {
	if w.blur.Dur() == 0 {
		return w.base, w.event
	}
	m := w.blur
	if s := ls.bytes[layer]; len(s) > 0 {
		rates, _, _ := rateSeries(ls.inRange(s, step), from, to, step)
		b := blurAround(rates, w.event, step)
		if b.Start.Before(m.Start) {
			m.Start = b.Start
		}
		if b.End.After(m.End) {
			m.End = b.End
		}
	}
	end := m.Start
	if clear := w.event.Start.Add(-ls.width[layer]); clear.Before(end) {
		end = clear
	}
	return before(w.base, end, w.dataStart), m
}

// measure is the two windows with the spike layer's bytes and rates, and
// the growth from one to the other (0 without a baseline).
func (w spikeWindows) measure(ls layerSeries) (spike, base *apiv1.Window, growth float64) {
	spike = &apiv1.Window{Start: w.event.Start, End: w.event.End, Source: w.layer}
	base = &apiv1.Window{Start: w.base.Start, End: w.base.End, Source: w.layer}
	base.Bytes, spike.Bytes = ls.sum(w.layer, w.base), ls.sum(w.layer, w.event)
	base.Bps, spike.Bps = float64(base.Bytes)*8/w.base.Dur().Seconds(), float64(spike.Bytes)*8/w.event.Dur().Seconds()
	if w.rate > 0 {
		// The plateau's rate over the event's edges: the series' own sum
		// in the event misses the part of the edge intervals' bytes that
		// their spreading put outside it.
		spike.Bytes, spike.Bps = uint64(w.rate*w.event.Dur().Seconds()+0.5), w.rate*8
	}
	if base.Bytes > 0 {
		// Rates, not sums: the windows may differ in length.
		growth = spike.Bps / base.Bps
	}
	return spike, base, growth
}

// before is the window moved earlier, if need be, to end by end, as long
// but starting no earlier than dataStart; unchanged when that leaves
// nothing.
func before(b query.Window, end, dataStart time.Time) query.Window {
	if !end.Before(b.End) {
		return b
	}
	moved := query.Window{Start: end.Add(-b.Dur()), End: end}
	if !dataStart.IsZero() && moved.Start.Before(dataStart) {
		moved.Start = dataStart
	}
	if moved.Dur() <= 0 {
		return b
	}
	return moved
}
