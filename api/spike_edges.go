package api

import "time"

// spikeShape is where a spike's edges are once the blur of the layer is
// accounted for.
type spikeShape struct {
	event     window    // the step's edges
	plateau   window    // the part of the event clear of the blur
	rate      float64   // mean rate over the plateau
	riseStart time.Time // where the rate first leaves the level before
}

// edgeTolerance is how close to the level (or to the spike's rate), as a
// share of the step between them, a bucket must be to count as the level
// (or as the plateau) rather than as the blur of an edge.
const edgeTolerance = 0.1

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
	peak := median(values(r[i : j+1]))
	after := 0.0
	if j+1 < len(r) {
		after = median(values(r[j+1:]))
	} else if !open {
		after = level // lasts to the end of the range: no fall to measure
	}
	near := func(v, target, from float64) bool { return absf(v-target) <= edgeTolerance*absf(target-from) }
	// The plateau: from the first to the last bucket of the run near the peak.
	p0, p1 := i, j
	for p0 < j && !near(r[p0].V, peak, level) {
		p0++
	}
	for p1 > p0 && !near(r[p1].V, peak, after) {
		p1--
	}
	// The blur: out from the plateau while not yet near the level.
	g, h := p0, p1
	for g > 0 && !near(r[g-1].V, level, peak) {
		g--
	}
	for h+1 < len(r) && !near(r[h+1].V, after, peak) {
		h++
	}
	var sum float64
	for _, b := range r[p0 : p1+1] {
		sum += b.V
	}
	sh := spikeShape{rate: sum / float64(p1-p0+1), riseStart: r[g].T,
		plateau: window{r[p0].T, r[p1].T.Add(step)}}
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
