package snmppoller

import (
	"container/heap"
	"context"
	"math/rand/v2"
	"sync"
	"time"
)

// scheduler runs each target on its own schedule: a min-heap of next poll
// times, one dispatcher goroutine, and at most Workers polls in flight. A
// target is either in the heap or in flight, never both, so each has at
// most one poll in flight. Slots keep their phase (slot += interval), so
// jitter and slow polls do not drift a target's schedule.
type scheduler struct {
	mu      sync.Mutex
	queue   targetHeap
	wake    chan struct{}
	workers chan struct{}
	jitter  float64
	maxBack time.Duration
	run     func(ctx context.Context, t *target) pollResult
	done    func(t *target, res pollResult, lag, took time.Duration, skipped int)
	wg      sync.WaitGroup
}

func newScheduler(workers int, jitter float64, maxBackoff time.Duration) *scheduler {
	return &scheduler{
		wake:    make(chan struct{}, 1),
		workers: make(chan struct{}, workers),
		jitter:  jitter,
		maxBack: maxBackoff,
	}
}

// add schedules a new target's first poll at a random point of its first
// interval, so a fleet added at once spreads out.
func (s *scheduler) add(t *target, now time.Time) {
	s.mu.Lock()
	t.slot = now.Add(time.Duration(rand.Int64N(int64(t.cfg.Interval))))
	t.next = t.slot
	heap.Push(&s.queue, t)
	s.mu.Unlock()
	s.poke()
}

// remove unschedules t; a poll in flight finishes and is not rescheduled.
func (s *scheduler) remove(t *target) {
	s.mu.Lock()
	t.removed = true
	if t.heapIdx >= 0 {
		heap.Remove(&s.queue, t.heapIdx)
	}
	s.mu.Unlock()
}

func (s *scheduler) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// loop dispatches due targets until ctx ends, then waits for the polls in
// flight.
func (s *scheduler) loop(ctx context.Context) {
	defer s.wg.Wait()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		s.mu.Lock()
		now := time.Now()
		wait := time.Hour
		var due *target
		if len(s.queue) > 0 {
			if w := s.queue[0].next.Sub(now); w <= 0 {
				due = heap.Pop(&s.queue).(*target)
				due.inFlight = true
			} else {
				wait = w
			}
		}
		s.mu.Unlock()
		if due != nil {
			// Wait for a free worker; while all are busy, due targets
			// wait in the heap and their lag is measured.
			select {
			case s.workers <- struct{}{}:
			case <-ctx.Done():
				return
			}
			s.wg.Add(1)
			go s.runOne(ctx, due)
			continue
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		case <-s.wake:
			if !timer.Stop() {
				select {
				case <-timer.C:
				default:
				}
			}
		}
	}
}

func (s *scheduler) runOne(ctx context.Context, t *target) {
	defer s.wg.Done()
	start := time.Now()
	lag := max(0, start.Sub(t.next)) // late against the jittered time it was due
	res := s.run(ctx, t)
	<-s.workers
	took := time.Since(start)
	if ctx.Err() != nil {
		return
	}
	s.mu.Lock()
	skipped := s.reschedule(t, res, time.Now())
	removed := t.removed
	s.mu.Unlock()
	if !removed { // a removed target's series are gone: do not recreate them
		s.done(t, res, lag, took, skipped)
	}
	s.poke()
}

// reschedule puts t back in the heap after a poll; it returns the number
// of slots missed. Called with s.mu held.
func (s *scheduler) reschedule(t *target, res pollResult, now time.Time) int {
	t.inFlight = false
	if t.removed {
		return 0
	}
	iv := t.cfg.Interval
	skipped := 0
	if res.timedOut {
		t.timeouts++
		// Back off a device that does not answer: the interval doubles per
		// consecutive timeout, up to maxBack, so dead devices do not hold
		// workers the rest of the fleet needs.
		delay := iv
		for i := 1; i < t.timeouts && delay < s.maxBack; i++ {
			delay *= 2
		}
		delay = min(delay, max(s.maxBack, iv))
		t.slot = now.Add(delay)
		t.next = t.slot
	} else {
		t.timeouts = 0
		t.slot = t.slot.Add(iv)
		if behind := now.Sub(t.slot); behind >= 0 {
			n := int(behind/iv) + 1
			skipped = n
			t.slot = t.slot.Add(time.Duration(n) * iv)
		}
		t.next = t.slot
		if j := time.Duration(s.jitter * float64(iv)); j > 0 {
			t.next = t.slot.Add(time.Duration(rand.Int64N(int64(2*j))) - j)
			if t.next.Before(now) {
				t.next = now
			}
		}
	}
	heap.Push(&s.queue, t)
	return skipped
}

// targetHeap orders targets by next poll time.
type targetHeap []*target

func (h targetHeap) Len() int           { return len(h) }
func (h targetHeap) Less(i, j int) bool { return h[i].next.Before(h[j].next) }
func (h targetHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].heapIdx, h[j].heapIdx = i, j
}
func (h *targetHeap) Push(x any) {
	t := x.(*target)
	t.heapIdx = len(*h)
	*h = append(*h, t)
}
func (h *targetHeap) Pop() any {
	old := *h
	t := old[len(old)-1]
	old[len(old)-1] = nil
	t.heapIdx = -1
	*h = old[:len(old)-1]
	return t
}
