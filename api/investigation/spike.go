package investigation

import (
	"math"
	"sort"
	"time"

	"github.com/netstrata/netstrata/api/query"
)

// bucket is one step of a series.
type bucket struct {
	T time.Time
	V float64
}

// fillSeries returns one bucket per step from from to to, zero where the
// query returned none.
func fillSeries(points map[int64]float64, from, to time.Time, step time.Duration) []bucket {
	start := from.Truncate(step)
	var out []bucket
	for t := start; t.Before(to); t = t.Add(step) {
		out = append(out, bucket{T: t, V: points[t.Unix()]})
	}
	return out
}

// findSpike finds the contiguous run of buckets standing highest above
// the series' typical level (its median), and returns it with that
// level. A bucket belongs to a run when it exceeds both factor × the
// median and the median plus four robust deviations (MAD), and at least
// floor; runs may bridge a single quiet bucket. ok is false when no
// bucket stands out.
func findSpike(series []bucket, factor, floor float64) (first, last int, level float64, ok bool) {
	if len(series) < 3 {
		return 0, 0, 0, false
	}
	vals := make([]float64, len(series))
	for i, b := range series {
		vals[i] = b.V
	}
	med := median(vals)
	dev := make([]float64, len(vals))
	for i, v := range vals {
		dev[i] = math.Abs(v - med)
	}
	mad := median(dev) * 1.4826
	threshold := math.Max(math.Max(med*factor, med+4*mad), floor)
	best, bestFirst, bestLast := 0.0, -1, -1
	for i := 0; i < len(vals); i++ {
		if vals[i] <= threshold {
			continue
		}
		j, score := i, 0.0
		for k := i; k < len(vals); k++ {
			switch {
			case vals[k] > threshold:
				score += vals[k] - med
				j = k
			case k+1 < len(vals) && vals[k+1] > threshold && k == j+1:
				score += math.Max(vals[k]-med, 0) // bridge one quiet bucket
			default:
				k = len(vals)
			}
		}
		if score > best {
			best, bestFirst, bestLast = score, i, j
		}
		i = j
	}
	if bestFirst < 0 {
		return 0, 0, med, false
	}
	return bestFirst, bestLast, med, true
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// spikeResult is a spike found by detectSpike: the event window (ending
// no later than the range), the baseline window before it (starting no
// earlier than the first fully covered bucket of data) and their rates.
type spikeResult struct {
	Event, Base query.Window
	// Rate is the mean rate of the spike's plateau (value units per
	// second), Blur the event with its blurred edges; zero when the
	// event is a whole range compared with the range before it.
	Rate float64
	Blur query.Window
	// DataStart is the start of the first fully covered bucket when the
	// range begins before the data; zero when data precede the range.
	DataStart time.Time
}

// rateSeries turns a filled series into rates per second over the part
// of each bucket the range covers, without the empty buckets before the
// data starts and after it ends. A first bucket with data right after
// empty ones is left out too: the data most likely began inside it, so
// its rate understates the level. first is the index in series of the
// first rate; dataStart is the start of that bucket when leading buckets
// were dropped.
func rateSeries(series []bucket, from, to time.Time, step time.Duration) (rates []bucket, first int, dataStart time.Time) {
	lo, hi := 0, len(series)
	for lo < hi && series[lo].V == 0 {
		lo++
	}
	for hi > lo && series[hi-1].V == 0 {
		hi--
	}
	if lo > 0 && hi-lo > 1 {
		lo++ // the partial first bucket of the data
	}
	if lo > 0 && lo < len(series) {
		dataStart = series[lo].T
	}
	for i := lo; i < hi; i++ {
		b := series[i]
		start, end := b.T, b.T.Add(step)
		if start.Before(from) {
			start = from
		}
		if end.After(to) {
			end = to
		}
		cov := end.Sub(start).Seconds()
		if cov <= 0 {
			continue
		}
		rates = append(rates, bucket{T: b.T, V: b.V / cov})
	}
	return rates, lo, dataStart
}

// detectSpike finds the spike of a filled series as rates over the
// covered time, so that empty buckets before the data and a partial last
// bucket do not distort the level. It tries the series' median first (a
// spike shorter than half of the data), then a step up from the level
// before it (a spike covering most of the data), and then places the
// edges where the rate crosses halfway between the level and the spike's
// own (see refineEdges). floorRate is in value units per second. ok is
// false when no bucket stands out.
func detectSpike(series []bucket, from, to time.Time, step time.Duration, factor, floorRate float64) (spikeResult, bool) {
	rates, _, dataStart := rateSeries(series, from, to, step)
	i, j, level, ok := findSpike(rates, factor, floorRate)
	if !ok {
		i, j, level, ok = findStepUp(rates, factor, floorRate)
	}
	if !ok {
		return spikeResult{DataStart: dataStart}, false
	}
	open := rates[len(rates)-1].T.Add(step).Before(to) // the data ended inside the range
	sh := shapeSpike(rates, i, j, level, open, step)
	r := spikeResult{DataStart: dataStart, Event: sh.event, Rate: sh.rate, Blur: sh.blur}
	whole := (r.Event.Dur() + step - 1) / step * step // the baseline is whole buckets
	r.Base = baselineBefore(query.Window{Start: sh.blur.Start, End: sh.blur.Start.Add(whole)}, dataStart)
	if r.Event.End.After(to) {
		r.Event.End = to
	}
	return r, true
}

// baselineBefore is the window of the event's whole-bucket length right
// before it, cut at the start of the data.
func baselineBefore(event query.Window, dataStart time.Time) query.Window {
	b := query.Window{Start: event.Start.Add(-event.Dur()), End: event.Start}
	if !dataStart.IsZero() && b.Start.Before(dataStart) && dataStart.Before(b.End) {
		b.Start = dataStart
	}
	return b
}

// findStepUp finds the run of buckets standing above the median of all
// the buckets before it: a rise that lasts to (or nearly to) the end of
// the series outweighs its median. A bucket belongs to the run when it
// exceeds factor × that level, the level plus four robust deviations
// (when at least three buckets precede it) and floor. Candidate starts
// are tried every stride buckets, so that a fine series of thousands of
// buckets costs a few hundred medians.
func findStepUp(vals []bucket, factor, floor float64) (first, last int, level float64, ok bool) {
	best := 0.0
	stride := max(1, len(vals)/300)
	for k := 1; k < len(vals); k += stride {
		prefix := make([]float64, k)
		for i := range prefix {
			prefix[i] = vals[i].V
		}
		lvl := median(prefix)
		if lvl <= 0 {
			continue
		}
		threshold := math.Max(lvl*factor, floor)
		if k >= 3 {
			dev := make([]float64, k)
			for i, v := range prefix {
				dev[i] = math.Abs(v - lvl)
			}
			threshold = math.Max(threshold, lvl+4*1.4826*median(dev))
		}
		score, j := 0.0, k-1
		for m := k; m < len(vals) && vals[m].V > threshold; m++ {
			score += vals[m].V - lvl
			j = m
		}
		if j >= k && score > best {
			best, first, last, level, ok = score, k, j, lvl, true
		}
	}
	return first, last, level, ok
}
