package flowcollector

import (
	"encoding/binary"
	"sync/atomic"
	"time"
)

// pendingMaxBytes bounds the memory all waiting sets may hold.
const pendingMaxBytes = 64 << 20

// pendingSets holds data sets that arrived before their template, so
// that a template racing behind its data (another socket, a reordering
// network, a collector restart without saved state) loses nothing. It is
// bounded per exporter (sets) and in total (bytes); what does not fit or
// waits too long is counted and dropped.
type pendingSets struct {
	c       *Component
	bytes   atomic.Int64
	timeout time.Duration
	max     int
}

func newPendingSets(c *Component, timeout time.Duration, max int) *pendingSets {
	return &pendingSets{c: c, timeout: timeout, max: max}
}

// add copies a set whose template is unknown.
func (p *pendingSets) add(e *exporter, h *packetHeader, id uint16, body []byte, now time.Time) {
	m := p.c.metrics.pending
	size := 4 + len(body)
	if p.max == 0 || p.timeout == 0 || p.bytes.Load()+int64(size) > pendingMaxBytes {
		m.WithLabelValues("overflow").Inc()
		return
	}
	set := make([]byte, size)
	binary.BigEndian.PutUint16(set, id)
	binary.BigEndian.PutUint16(set[2:], uint16(size))
	copy(set[4:], body)
	e.mu.Lock()
	expired := p.expireLocked(e, now)
	overflow := len(e.pending) >= p.max
	if overflow {
		// The oldest set is the likeliest never to see its template.
		p.bytes.Add(-int64(len(e.pending[0].set)))
		e.pending = append(e.pending[:0], e.pending[1:]...)
	}
	e.pending = append(e.pending, pendingSet{version: h.version, domain: h.domain, id: id, set: set, hdr: *h, received: now})
	e.mu.Unlock()
	p.bytes.Add(int64(size))
	m.WithLabelValues("buffered").Inc()
	if expired > 0 {
		m.WithLabelValues("expired").Add(float64(expired))
	}
	if overflow {
		m.WithLabelValues("overflow").Inc()
	}
}

// expireLocked drops sets older than the timeout; e.mu is held.
func (p *pendingSets) expireLocked(e *exporter, now time.Time) int {
	n := 0
	for n < len(e.pending) && now.Sub(e.pending[n].received) > p.timeout {
		p.bytes.Add(-int64(len(e.pending[n].set)))
		n++
	}
	if n > 0 {
		e.pending = append(e.pending[:0], e.pending[n:]...)
	}
	return n
}

// expire sweeps every exporter; the component calls it periodically.
func (p *pendingSets) expire(now time.Time) {
	for _, e := range p.c.exporters.all() {
		e.mu.Lock()
		n := 0
		if len(e.pending) > 0 {
			n = p.expireLocked(e, now)
		}
		e.mu.Unlock()
		if n > 0 {
			p.c.metrics.pending.WithLabelValues("expired").Add(float64(n))
		}
	}
}

// retry decodes the waiting sets whose template is now known.
func (p *pendingSets) retry(d *decoder, e *exporter, now time.Time) {
	e.mu.Lock()
	expired := p.expireLocked(e, now)
	var ready []pendingSet
	kept := e.pending[:0]
	for _, s := range e.pending {
		if _, err := e.templates.GetTemplate(s.version, s.domain, s.id); err == nil {
			ready = append(ready, s)
		} else {
			kept = append(kept, s)
		}
	}
	clear(e.pending[len(kept):])
	e.pending = kept
	e.mu.Unlock()
	if expired > 0 {
		p.c.metrics.pending.WithLabelValues("expired").Add(float64(expired))
	}
	for _, s := range ready {
		p.bytes.Add(-int64(len(s.set)))
		d.skewNs = s.hdr.skewNs
		d.decodeSet(e, &s.hdr, s.set, now)
		p.c.metrics.pending.WithLabelValues("decoded").Inc()
	}
}

// release frees the sets of an exporter leaving the registry.
func (p *pendingSets) release(e *exporter) {
	e.mu.Lock()
	n := 0
	for _, s := range e.pending {
		n += len(s.set)
	}
	e.pending = nil
	e.mu.Unlock()
	p.bytes.Add(-int64(n))
}
