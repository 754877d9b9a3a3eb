package investigation

import (
	"sort"
	"time"

	"github.com/netstrata/netstrata/api/query"
)

// spikeShape is where a spike's edges are once the blur of the layer is
// accounted for.
type spikeShape struct {
	event   query.Window // the step's edges
	plateau query.Window // the part of the event clear of the blur
	rate    float64      // mean rate over the plateau
	blur    query.Window // from where the rate leaves the level to where it is back
}

// How close to the spike's rate, as a share of the step from the level,
// a bucket must be to count as the plateau rather than as the blur of an
// edge.
const plateauTolerance = 0.1

// backToLevel is the rate under which a bucket beside a spike counts as
// the level rather than as the blur of an edge: within half a percent of
// the step, or three robust deviations of the level's own noise (from
// the buckets beside, as many as the spike has). It is tight so that the
// baseline holds none of the blur: one of four senders' flow records
// with a second of the spike in ten stands out.
func backToLevel(beside []bucket, level, peak float64) float64 {
	dev := make([]float64, len(beside))
	for k, b := range beside {
		dev[k] = absf(b.V - level)
	}
	return level + max(0.005*absf(peak-level), 3*1.4826*median(dev))
}

// shapeSpike places the edges of the run [i, j] of rates standing above
// level. A layer that reports over intervals (a poll, an agent interval,
// a flow's life) blurs a step over one interval, whatever the step's
// bucket; the bytes are all there, only spread. So the edges are placed
// where the blurred excess over the level, gathered into a rectangle of
// the plateau's height, begins and ends: exact for any blur whose
// plateau is flat, and the event's bytes (rate × duration) are the
// bytes that really came in it. open is true when the data ended inside
// the range (the level after the spike is then 0), false when the run
// may reach the end of the range.
func shapeSpike(r []bucket, i, j int, level float64, open bool, step time.Duration) spikeShape {
	// The level of the spike: high in the run, which also holds the
	// blur of both edges, but not its noisiest bucket.
	peak := quantile(values(r[i:j+1]), 0.8)
	after := 0.0
	if j+1 < len(r) {
		after = median(values(r[j+1:]))
	} else if !open {
		after = level // lasts to the end of the range: no fall to measure
	}
	near := func(v, target, from, tol float64) bool { return absf(v-target) <= tol*absf(target-from) }
	// The plateau: from the first to the last bucket of the run near the peak.
	p0, p1 := i, j
	for p0 < j && !near(r[p0].V, peak, level, plateauTolerance) {
		p0++
	}
	for p1 > p0 && !near(r[p1].V, peak, after, plateauTolerance) {
		p1--
	}
	// The blur: out from the plateau while not yet near the level.
	g, h := p0, p1
	d := j - i + 1
	for lo := backToLevel(r[max(0, i-d):i], level, peak); g > 0 && r[g-1].V > lo; {
		g--
	}
	for hi := backToLevel(r[j+1:min(len(r), j+1+d)], after, peak); h+1 < len(r) && r[h+1].V > hi; {
		h++
	}
	var sum float64
	for _, b := range r[p0 : p1+1] {
		sum += b.V
	}
	sh := spikeShape{rate: sum / float64(p1-p0+1), blur: query.Window{Start: r[g].T, End: r[h].T.Add(step)},
		plateau: query.Window{Start: r[p0].T, End: r[p1].T.Add(step)}}
	sh.event = sh.plateau
	if d := sh.rate - level; d > 0 {
		sh.event.Start = sh.plateau.Start.Add(-excess(r[g:p0], level, d, step))
	}
	if d := sh.rate - after; d > 0 && (open || h+1 < len(r)) {
		sh.event.End = sh.plateau.End.Add(excess(r[p1+1:h+1], after, d, step))
	}
	return sh
}

// excess is the time the buckets' rate above base would take at height.
func excess(r []bucket, base, height float64, step time.Duration) time.Duration {
	var area float64
	for _, b := range r {
		area += max(b.V-base, 0)
	}
	return time.Duration(area / height * float64(step)).Round(time.Millisecond)
}

func values(bs []bucket) []float64 {
	out := make([]float64, len(bs))
	for i, b := range bs {
		out[i] = b.V
	}
	return out
}

func absf(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

// quantile is the q-quantile (nearest rank) of v.
func quantile(v []float64, q float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	return s[min(len(s)-1, int(q*float64(len(s))))]
}

// blurAround is how far another layer's series (rates, one per step)
// is blurred around an event found in the spike layer: out from the
// event while its rate is not yet back near its level before (and
// after) the event, so that contributors read from that layer are
// measured over all of their spike's bytes, and only over those.
func blurAround(r []bucket, event query.Window, step time.Duration) query.Window {
	i := sort.Search(len(r), func(k int) bool { return !r[k].T.Before(event.Start.Truncate(step)) })
	j := sort.Search(len(r), func(k int) bool { return !r[k].T.Before(event.End) }) - 1
	if i >= len(r) || j < i {
		return event
	}
	d := j - i + 1
	peak := quantile(values(r[i:j+1]), 0.8)
	before, after := 0.0, 0.0
	if i > 0 {
		before = median(values(r[max(0, i-d):i]))
	}
	if j+1 < len(r) {
		after = median(values(r[j+1 : min(len(r), j+1+d)]))
	}
	for lo := backToLevel(r[max(0, i-d):i], before, peak); i > 0 && r[i-1].V > lo; {
		i--
	}
	for hi := backToLevel(r[j+1:min(len(r), j+1+d)], after, peak); j+1 < len(r) && r[j+1].V > hi; {
		j++
	}
	w := query.Window{Start: r[i].T, End: r[j].T.Add(step)}
	if event.Start.Before(w.Start) {
		w.Start = event.Start
	}
	if event.End.After(w.End) {
		w.End = event.End
	}
	return w
}
