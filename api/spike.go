package api

import (
	"math"
	"sort"
	"time"
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
