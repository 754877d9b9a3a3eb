package alerting

import (
	"context"
	"sync"
	"time"
)

// sender delivers a batch of notifications to one receiver.
type sender func(ctx context.Context, batch []*Alert) error

// notification is an alert snapshot waiting for a receiver.
type notification struct {
	key    string
	alert  *Alert
	queued time.Time // when the first notification of this key was queued: the retry budget counts from it
}

// receiver is one destination with its bounded queue: notifications of
// the same key (an alert's fingerprint, or fingerprint and status) are
// coalesced, the oldest is dropped when the queue is full, and a batch
// that fails is retried with exponential back-off until RetryFor.
type receiver struct {
	name    string // metric label: kind and host, never the URL (it may hold a token)
	send    sender
	batch   int
	keyOf   func(*Alert) string
	cfg     DeliveryConfiguration
	metrics *metrics
	// keepAlive receivers (Alertmanager) get the firing alerts again every
	// resend interval; the others only transitions.
	keepAlive bool
	// outbox names a webhook in alert_deliveries ("" for Alertmanager,
	// which gets the firing alerts again anyway); delivered records its
	// acknowledgements there.
	outbox    string
	delivered func([]*Alert)
	// hold, when it says so, delays sending (the role is in doubt).
	hold func() bool

	mu    sync.Mutex
	order []string
	items map[string]*notification
	wake  chan struct{}
}

func newReceiver(name string, send sender, batch int, keyOf func(*Alert) string, cfg DeliveryConfiguration, m *metrics) *receiver {
	return &receiver{name: name, send: send, batch: batch, keyOf: keyOf, cfg: cfg, metrics: m,
		items: map[string]*notification{}, wake: make(chan struct{}, 1)}
}

// enqueue queues snapshots of alerts; it never blocks.
func (rc *receiver) enqueue(now time.Time, alerts ...*Alert) {
	rc.mu.Lock()
	for _, a := range alerts {
		snap := *a
		key := rc.keyOf(a)
		if n, ok := rc.items[key]; ok {
			n.alert = &snap // the newer state of the same alert replaces the queued one
			continue
		}
		if len(rc.order) >= rc.cfg.QueueSize {
			oldest := rc.order[0]
			rc.order = rc.order[1:]
			delete(rc.items, oldest)
			rc.metrics.dropped.WithLabelValues(rc.name, "queue_full").Inc()
		}
		rc.order = append(rc.order, key)
		rc.items[key] = &notification{key: key, alert: &snap, queued: now}
	}
	rc.metrics.queued.WithLabelValues(rc.name).Set(float64(len(rc.order)))
	rc.mu.Unlock()
	select {
	case rc.wake <- struct{}{}:
	default:
	}
}

// clear empties the queue: another replica sends its notifications.
func (rc *receiver) clear() {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if n := len(rc.order); n > 0 {
		rc.metrics.dropped.WithLabelValues(rc.name, "role_lost").Add(float64(n))
	}
	rc.order, rc.items = nil, map[string]*notification{}
	rc.metrics.queued.WithLabelValues(rc.name).Set(0)
}

// head returns up to batch queued notifications, oldest first.
func (rc *receiver) head() []*notification {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	n := min(rc.batch, len(rc.order))
	out := make([]*notification, n)
	for i := range n {
		out[i] = rc.items[rc.order[i]]
	}
	return out
}

// remove takes delivered (or expired) notifications off the queue,
// unless a newer state of the same key replaced one meanwhile.
func (rc *receiver) remove(done []*notification) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	gone := map[string]bool{}
	for _, n := range done {
		if rc.items[n.key] == n {
			delete(rc.items, n.key)
			gone[n.key] = true
		}
	}
	kept := rc.order[:0]
	for _, k := range rc.order {
		if !gone[k] {
			kept = append(kept, k)
		}
	}
	rc.order = kept
	rc.metrics.queued.WithLabelValues(rc.name).Set(float64(len(rc.order)))
}

// run delivers until ctx ends, then tries once more for up to drain.
func (rc *receiver) run(ctx context.Context, drain time.Duration) {
	backoff := time.Duration(0)
loop:
	for {
		if backoff > 0 {
			if !sleep(ctx, backoff) {
				break loop
			}
		} else {
			select {
			case <-ctx.Done():
				break loop
			case <-rc.wake:
			}
		}
		backoff = rc.attempt(ctx, backoff)
	}
	dctx, cancel := context.WithTimeout(context.Background(), drain)
	defer cancel()
	for len(rc.head()) > 0 && dctx.Err() == nil {
		if rc.attempt(dctx, 0) > 0 {
			return
		}
	}
}

// attempt sends one batch; it returns the back-off before the next try
// (0: the batch went, or the queue is empty).
func (rc *receiver) attempt(ctx context.Context, backoff time.Duration) time.Duration {
	if rc.hold != nil && rc.hold() {
		return guardBeat
	}
	batch := rc.head()
	if len(batch) == 0 {
		return 0
	}
	alerts := make([]*Alert, len(batch))
	for i, n := range batch {
		alerts[i] = n.alert
	}
	sctx, cancel := context.WithTimeout(ctx, rc.cfg.Timeout)
	err := rc.send(sctx, alerts)
	cancel()
	if err == nil {
		rc.metrics.sent.WithLabelValues(rc.name).Add(float64(len(batch)))
		if rc.delivered != nil {
			rc.delivered(alerts)
		}
		rc.remove(batch)
		if len(rc.head()) > 0 {
			select {
			case rc.wake <- struct{}{}:
			default:
			}
		}
		return 0
	}
	rc.metrics.failures.WithLabelValues(rc.name).Inc()
	rc.metrics.warn.Warn("deliver/"+rc.name, "delivery failed; retrying with back-off", "receiver", rc.name, "error", err)
	var expired []*notification
	now := time.Now()
	for _, n := range batch {
		if now.Sub(n.queued) >= rc.cfg.RetryFor {
			expired = append(expired, n)
		}
	}
	if len(expired) > 0 {
		rc.metrics.dropped.WithLabelValues(rc.name, "retry_budget").Add(float64(len(expired)))
		rc.remove(expired)
	}
	return min(max(backoff*2, rc.cfg.MinBackoff), rc.cfg.MaxBackoff)
}

// sleep waits d or until ctx ends; false when ctx ended.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
