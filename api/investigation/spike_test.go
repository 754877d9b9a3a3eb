package investigation

import (
	"testing"
	"time"
)

// minuteSeries builds a filled one-minute series from per-minute values.
func minuteSeries(start time.Time, vals ...float64) []bucket {
	out := make([]bucket, len(vals))
	for i, v := range vals {
		out[i] = bucket{T: start.Add(time.Duration(i) * time.Minute), V: v}
	}
	return out
}

func TestDetectSpikeIgnoresEmptyMinutesBeforeTheData(t *testing.T) {
	// Ten minutes; the data starts in minute 6 (partial), holds 60 kB a
	// minute, then triples for minutes 8 and 9.
	start := time.Date(2026, 1, 2, 10, 0, 0, 0, time.UTC)
	s := minuteSeries(start, 0, 0, 0, 0, 0, 0, 20e3, 60e3, 180e3, 180e3)
	r, ok := detectSpike(s, start, start.Add(10*time.Minute), time.Minute, spikeFactor, minSeriesBytesFloor)
	if !ok {
		t.Fatal("no spike found")
	}
	if !r.Event.Start.Equal(start.Add(8*time.Minute)) || !r.Event.End.Equal(start.Add(10*time.Minute)) {
		t.Errorf("event %v–%v, want minutes 8–10", r.Event.Start, r.Event.End)
	}
	// The baseline starts with the first whole minute of data, not in the
	// empty minutes nor the partial one.
	if !r.Base.Start.Equal(start.Add(7*time.Minute)) || !r.Base.End.Equal(start.Add(8*time.Minute)) {
		t.Errorf("baseline %v–%v, want minute 7", r.Base.Start, r.Base.End)
	}
}

func TestDetectSpikeComparesThePartialLastMinuteAsARate(t *testing.T) {
	// The range ends 20 s into minute 9: its 60 kB in 20 s is 3× the
	// 60 kB a minute before, though its sum is not larger.
	start := time.Date(2026, 1, 2, 10, 0, 20, 0, time.UTC)
	end := start.Add(10 * time.Minute)
	s := minuteSeries(start.Truncate(time.Minute), 0, 0, 0, 0, 0, 0, 0, 30e3, 60e3, 60e3, 60e3)
	r, ok := detectSpike(s, start, end, time.Minute, spikeFactor, minSeriesBytesFloor)
	if !ok {
		t.Fatal("no spike found")
	}
	if !r.Event.Start.Equal(end.Truncate(time.Minute)) || !r.Event.End.Equal(end) {
		t.Errorf("event %v–%v, want the last 20 s", r.Event.Start, r.Event.End)
	}
	if r.Base.Dur() != time.Minute || !r.Base.End.Equal(r.Event.Start) {
		t.Errorf("baseline %v–%v, want the whole minute before", r.Base.Start, r.Base.End)
	}
}

func TestDetectSpikeFindsARiseCoveringMostOfTheRange(t *testing.T) {
	start := time.Date(2026, 1, 2, 10, 0, 0, 0, time.UTC)
	s := minuteSeries(start, 60e3, 60e3, 60e3, 180e3, 180e3, 180e3, 180e3, 180e3, 180e3, 180e3)
	r, ok := detectSpike(s, start, start.Add(10*time.Minute), time.Minute, spikeFactor, minSeriesBytesFloor)
	if !ok {
		t.Fatal("no spike found")
	}
	if !r.Event.Start.Equal(start.Add(3*time.Minute)) || !r.Event.End.Equal(start.Add(10*time.Minute)) {
		t.Errorf("event %v–%v, want minutes 3–10", r.Event.Start, r.Event.End)
	}
	// The comparable window before it reaches back before the range.
	if !r.Base.Start.Equal(start.Add(-4*time.Minute)) || !r.Base.End.Equal(start.Add(3*time.Minute)) {
		t.Errorf("baseline %v–%v, want the 7 minutes before the rise", r.Base.Start, r.Base.End)
	}
}

func TestDetectSpikeLeavesSteadyTrafficAlone(t *testing.T) {
	start := time.Date(2026, 1, 2, 10, 0, 0, 0, time.UTC)
	cases := map[string][]float64{
		"steady":               {60e3, 61e3, 59e3, 60e3, 62e3, 60e3, 58e3, 60e3, 61e3, 60e3},
		"starting mid-range":   {0, 0, 0, 0, 10e3, 60e3, 61e3, 59e3, 60e3, 60e3},
		"stopping mid-range":   {60e3, 61e3, 59e3, 60e3, 60e3, 0, 0, 0, 0, 0},
		"noisy below 1.5×":     {60e3, 80e3, 55e3, 70e3, 65e3, 85e3, 60e3, 75e3, 62e3, 80e3},
		"below the floor only": {0, 0, 0, 10, 20, 900, 900, 900, 900, 900},
	}
	for name, vals := range cases {
		if r, ok := detectSpike(minuteSeries(start, vals...), start, start.Add(10*time.Minute), time.Minute, spikeFactor, minSeriesBytesFloor); ok {
			t.Errorf("%s: spike %v–%v found in %v", name, r.Event.Start, r.Event.End, vals)
		}
	}
}
func TestFindSpikeLocatesTheRunAboveTheMedian(t *testing.T) {
	testNow := time.Date(2026, 3, 4, 14, 5, 0, 0, time.UTC)
	var s []bucket
	for i := 0; i < 60; i++ {
		v := 100.0 + float64(i%3)
		if i >= 40 && i < 50 {
			v = 300
		}
		if i == 45 {
			v = 120 // one quiet bucket inside the spike is bridged
		}
		s = append(s, bucket{T: testNow.Add(time.Duration(i) * time.Minute), V: v})
	}
	i, j, level, ok := findSpike(s, 1.5, 1)
	if !ok || i != 40 || j != 49 || level < 100 || level > 102 {
		t.Errorf("findSpike = %d..%d level %v ok %v; want 40..49", i, j, level, ok)
	}
	flat := make([]bucket, 60)
	for k := range flat {
		flat[k].V = 100
	}
	if _, _, _, ok := findSpike(flat, 1.5, 1); ok {
		t.Error("spike found in a flat series")
	}
}
