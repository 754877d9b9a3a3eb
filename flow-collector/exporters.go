package flowcollector

import (
	"net/netip"
	"sort"
	"sync"
	"time"
)

// Reasons an exporter is refused (the reason label of
// dropped_datagrams_total) or evicted (of exporters_evicted_total).
const (
	refusedNotAllowed = "exporter_not_allowed"
	refusedLimit      = "exporter_limit"
	evictedIdle       = "idle"
	evictedRoom       = "room"
)

// exporters is the registry of exporters: only from the allowed
// networks, at most MaxExporters of them, the idle ones forgotten and
// the least recently seen making room for new ones, so that forged
// sources cannot fill it for good.
type exporters struct {
	c       *Component
	allow   []netip.Prefix // empty: any
	limit   int
	idle    time.Duration
	minIdle time.Duration

	mu sync.RWMutex
	m  map[netip.Addr]*exporter
	// queue holds eviction candidates, least recently seen first,
	// rebuilt at most once a second when the registry is full.
	queue  []*exporter
	queued time.Time
}

func newExporters(c *Component, cfg Configuration) *exporters {
	r := &exporters{c: c, m: map[netip.Addr]*exporter{}, limit: cfg.MaxExporters,
		idle: cfg.ExporterIdleTimeout, minIdle: cfg.ExporterEvictionMinIdle}
	for _, n := range cfg.ExporterNetworks {
		if p, err := parseExporterPrefix(n); err == nil { // validated
			r.allow = append(r.allow, p)
		}
	}
	return r
}

func (r *exporters) allowed(a netip.Addr) bool {
	if len(r.allow) == 0 {
		return true
	}
	for _, p := range r.allow {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// get returns the exporter at addr seen at now, creating it; nil and the
// reason when it is refused.
func (r *exporters) get(addr netip.Addr, now time.Time) (*exporter, string) {
	r.mu.RLock()
	e := r.m[addr]
	r.mu.RUnlock()
	if e != nil {
		e.touch(now)
		return e, ""
	}
	if !r.allowed(addr) {
		return nil, refusedNotAllowed
	}
	r.mu.Lock()
	if e = r.m[addr]; e != nil {
		r.mu.Unlock()
		e.touch(now)
		return e, ""
	}
	var victim *exporter
	if len(r.m) >= r.limit {
		if victim = r.victimLocked(now); victim == nil {
			r.mu.Unlock()
			return nil, refusedLimit
		}
		delete(r.m, victim.addr)
	}
	e = r.c.newExporter(addr)
	e.touch(now)
	r.m[addr] = e
	n := len(r.m)
	r.mu.Unlock()
	if victim != nil {
		r.c.release(victim, evictedRoom)
	}
	r.c.metrics.exporters.Set(float64(n))
	return e, ""
}

// victimLocked pops the least recently seen exporter silent for at least
// minIdle; nil when there is none. r.mu is held.
func (r *exporters) victimLocked(now time.Time) *exporter {
	for {
		if len(r.queue) == 0 {
			if now.Sub(r.queued) < time.Second {
				return nil // rebuilt recently: refuse rather than sort under a flood
			}
			r.rebuildLocked(now)
			if len(r.queue) == 0 {
				return nil
			}
		}
		e := r.queue[0]
		r.queue[0] = nil
		r.queue = r.queue[1:]
		if r.m[e.addr] == e && now.Sub(e.seen()) >= r.minIdle {
			return e
		}
	}
}

func (r *exporters) rebuildLocked(now time.Time) {
	r.queued = now
	r.queue = r.queue[:0]
	for _, e := range r.m {
		if now.Sub(e.seen()) >= r.minIdle {
			r.queue = append(r.queue, e)
		}
	}
	sort.Slice(r.queue, func(i, j int) bool { return r.queue[i].seen().Before(r.queue[j].seen()) })
}

// expire forgets the exporters silent for longer than the idle timeout.
func (r *exporters) expire(now time.Time) {
	var gone []*exporter
	r.mu.Lock()
	for a, e := range r.m {
		if now.Sub(e.seen()) > r.idle {
			delete(r.m, a)
			gone = append(gone, e)
		}
	}
	n := len(r.m)
	r.mu.Unlock()
	for _, e := range gone {
		r.c.release(e, evictedIdle)
	}
	r.c.metrics.exporters.Set(float64(n))
}

// forget removes an exporter without counting it as evicted (a journal
// replay).
func (r *exporters) forget(a netip.Addr) {
	r.mu.Lock()
	e := r.m[a]
	delete(r.m, a)
	n := len(r.m)
	r.mu.Unlock()
	if e != nil {
		r.c.release(e, "")
	}
	r.c.metrics.exporters.Set(float64(n))
}

func (r *exporters) all() []*exporter {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]*exporter, 0, len(r.m))
	for _, e := range r.m {
		out = append(out, e)
	}
	return out
}

// largest returns the exporter holding the most template bytes.
func (r *exporters) largest() *exporter {
	r.mu.RLock()
	defer r.mu.RUnlock()
	var max *exporter
	for _, e := range r.m {
		if max == nil || e.templates.bytes.Load() > max.templates.bytes.Load() {
			max = e
		}
	}
	return max
}

// release frees what an exporter removed from the registry holds:
// templates, waiting sets, metric series, its journal entries.
func (c *Component) release(e *exporter, reason string) {
	templates := e.templates.release()
	c.pending.release(e)
	c.labels.release(e)
	e.mu.Lock()
	persisted := templates+len(e.sampling)+len(e.sysInit) > 0
	e.mu.Unlock()
	if persisted { // forged sources that never sent a template cost no write
		c.journal.forget(e.addr)
	}
	if reason != "" {
		c.metrics.exportersEvicted.WithLabelValues(reason).Inc()
	}
}

// refuseExporter counts and logs (once per minute per reason) a datagram
// whose exporter was refused.
func (c *Component) refuseExporter(a netip.Addr, reason string) {
	c.metrics.dropped.WithLabelValues(reason).Inc()
	c.badLog.Warn("refused-"+reason, "datagrams from an exporter refused", "exporter", a, "reason", reason)
}
