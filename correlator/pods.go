package correlator

import (
	"sync"
)

// podInfo is what a flow or socket borrows from a pod.
type podInfo struct {
	name      string
	namespace string
	workload  string
	node      string
}

// podSpan says that an IP belonged to a pod from fromMs until untilMs
// (0: still does, as far as we know).
type podSpan struct {
	uid     string
	fromMs  int64
	untilMs int64
	info    podInfo
}

// podUpdate is one pod publication, reduced to what the cache needs.
type podUpdate struct {
	timeMs      int64
	startMs     int64
	uid         string
	info        podInfo
	ips         [][16]byte
	deleted     bool
	hostNetwork bool
}

// podCache maps an IP to the pod that had it at a given time. IPs are
// reused: pod A's IP can belong to pod B later, so each IP keeps a short
// history of spans, and a lookup picks the span that started last at or
// before the record's time and had not ended by then.
//
// Host-network pods share their node's IP: such an IP maps to the node
// only (pod, namespace and workload stay empty).
type podCache struct {
	mu      sync.RWMutex
	byIP    map[[16]byte][]podSpan
	byUID   map[string]podInfo
	ipsOf   map[string][][16]byte // uid -> IPs it holds, to close spans of IPs it gave up
	spans   int
	max     int
	history int64 // ms an ended span is kept
}

func newPodCache(max int, historyMs int64) *podCache {
	return &podCache{byIP: map[[16]byte][]podSpan{}, byUID: map[string]podInfo{}, ipsOf: map[string][][16]byte{}, max: max, history: historyMs}
}

// update applies one publication; it reports false when an IP could not
// be cached because the cache is full.
func (c *podCache) update(u podUpdate) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	uid, info := u.uid, u.info
	if u.hostNetwork {
		uid, info = "host/"+u.info.node, podInfo{node: u.info.node}
	} else {
		c.byUID[u.uid] = u.info
	}
	from := u.timeMs
	if u.startMs > 0 && u.startMs < from {
		from = u.startMs
	}
	ok := true
	if !u.hostNetwork {
		// IPs the pod no longer lists end now.
		for _, ip := range c.ipsOf[uid] {
			if !containsIP(u.ips, ip) {
				c.end(ip, uid, u.timeMs)
			}
		}
		if u.deleted {
			delete(c.ipsOf, uid)
			delete(c.byUID, uid)
		} else {
			c.ipsOf[uid] = u.ips
		}
	}
	for _, ip := range u.ips {
		if u.deleted {
			if !u.hostNetwork {
				c.end(ip, uid, u.timeMs)
			}
			continue
		}
		if !c.start(ip, uid, info, from) {
			ok = false
		}
	}
	return ok
}

func containsIP(ips [][16]byte, ip [16]byte) bool {
	for _, x := range ips {
		if x == ip {
			return true
		}
	}
	return false
}

// start opens (or refreshes) the span of uid on ip.
func (c *podCache) start(ip [16]byte, uid string, info podInfo, fromMs int64) bool {
	spans := c.byIP[ip]
	for i := range spans {
		s := &spans[i]
		if s.uid != uid {
			continue
		}
		s.info = info
		if fromMs < s.fromMs {
			s.fromMs = fromMs
		}
		if s.untilMs != 0 && fromMs >= s.untilMs {
			// Published again after its end: it holds the IP again.
			s.untilMs = 0
		}
		return true
	}
	if c.spans >= c.max {
		return false
	}
	c.byIP[ip] = append(spans, podSpan{uid: uid, fromMs: fromMs, info: info})
	c.spans++
	return true
}

// end closes uid's span on ip at ms.
func (c *podCache) end(ip [16]byte, uid string, ms int64) {
	spans := c.byIP[ip]
	for i := range spans {
		if spans[i].uid == uid && (spans[i].untilMs == 0 || spans[i].untilMs > ms) {
			spans[i].untilMs = ms
		}
	}
}

// prune forgets spans that ended more than the history before nowMs.
func (c *podCache) prune(nowMs int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for ip, spans := range c.byIP {
		kept := spans[:0]
		for _, s := range spans {
			if s.untilMs != 0 && s.untilMs < nowMs-c.history {
				c.spans--
				continue
			}
			kept = append(kept, s)
		}
		if len(kept) == 0 {
			delete(c.byIP, ip)
		} else {
			c.byIP[ip] = kept
		}
	}
}

// podView is a read-locked view for the enrichment of one batch.
type podView struct{ c *podCache }

func (c *podCache) view() podView { c.mu.RLock(); return podView{c} }
func (v podView) release()        { v.c.mu.RUnlock() }

// lookup returns the pod that had ip at ms.
func (v podView) lookup(ip [16]byte, ms int64) (podInfo, bool) {
	var best *podSpan
	spans := v.c.byIP[ip]
	for i := range spans {
		s := &spans[i]
		if s.fromMs > ms || (s.untilMs != 0 && ms >= s.untilMs) {
			continue
		}
		if best == nil || s.fromMs > best.fromMs {
			best = s
		}
	}
	if best == nil {
		return podInfo{}, false
	}
	return best.info, true
}

// byUID returns a live pod by its uid.
func (v podView) byUID(uid string) (podInfo, bool) {
	info, ok := v.c.byUID[uid]
	return info, ok
}

func (c *podCache) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.spans
}
