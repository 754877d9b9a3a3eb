package investigation

import (
	"testing"
	"time"
)

func TestFindWindowPlacesTheSpikeAndABaselineBeforeIt(t *testing.T) {
	l := newSpikeLab(t)
	r := l.run(t, NodeScope(labNode))
	w := r.windows
	if !w.found || w.layer != "sockets" {
		t.Fatalf("windows %+v: want a spike found in the sockets layer", w)
	}
	// Agent rows cover the 10 s before their time: the edges may be off
	// by one interval.
	if d := w.event.Start.Sub(l.spike.Start); d < -10*time.Second || d > 10*time.Second {
		t.Errorf("spike starts %s, want %s", w.event.Start, l.spike.Start)
	}
	if d := w.event.End.Sub(l.spike.End); d < -10*time.Second || d > 10*time.Second {
		t.Errorf("spike ends %s, want %s", w.event.End, l.spike.End)
	}
	if w.base.End.After(w.event.Start) || w.base.Dur() <= 0 {
		t.Errorf("baseline %+v does not end by the spike %+v", w.base, w.event)
	}
	for _, layer := range []string{"sockets", "flows"} {
		if r.rows[layer] == 0 {
			t.Errorf("no %s rows counted in the range", layer)
		}
	}
}
