package api

import (
	"context"
	"time"
)

// admission bounds the queries the API runs at once: a few more wait
// briefly for a slot, the rest are answered 429 at once. Many heavy
// queries in parallel would otherwise take the database's memory and
// answer nobody in time.
type admission struct {
	running chan struct{} // held while a query runs
	waiting chan struct{} // held while a request waits for a slot
	wait    time.Duration
}

func newAdmission(running, waiting int, wait time.Duration) *admission {
	return &admission{running: make(chan struct{}, running), waiting: make(chan struct{}, waiting), wait: wait}
}

// enter returns the release of a running slot, or false when the queue is
// full or no slot came free within the wait.
func (a *admission) enter(ctx context.Context) (func(), bool) {
	select {
	case a.running <- struct{}{}:
		return a.leave, true
	default:
	}
	select {
	case a.waiting <- struct{}{}:
	default:
		return nil, false
	}
	defer func() { <-a.waiting }()
	t := time.NewTimer(a.wait)
	defer t.Stop()
	select {
	case a.running <- struct{}{}:
		return a.leave, true
	case <-t.C:
	case <-ctx.Done():
	}
	return nil, false
}

func (a *admission) leave() { <-a.running }
