package npmagent

import (
	"bytes"
	"math"
	"net/netip"

	"github.com/netstrata/netstrata/bpf"
	"github.com/netstrata/netstrata/internal/record"
)

// tracker turns kernel samples and close events into one record per
// socket per interval. It is not safe for concurrent use: the collector
// goroutine owns it.
type tracker struct {
	socks    map[uint64]*sockState
	closes   []bpf.NpmSockRecord // closed since the last emit
	maxClose int                 // bound on closes; beyond it they are dropped and counted
	maxSocks int                 // bound on tracked sockets; beyond it new ones are ignored and counted
	pass     uint64              // number of iterator passes so far
	startNs  uint64              // CLOCK_MONOTONIC when the agent started watching
	emitIdle bool
	// recentlyClosed holds cookies closed in the last passes: an iterator
	// racing with a close may still return the socket, which must not
	// come back to life.
	recentlyClosed map[uint64]uint64

	droppedCloses uint64
	untracked     uint64
}

// sockState is what the agent remembers of one live socket.
type sockState struct {
	last      bpf.NpmSockRecord
	base      counters // counter values at the start of the interval
	rtt       rttStats
	pass      uint64 // last iterator pass that saw the socket
	announced bool   // a record with the connect latency was published
	ownerTry  bool   // find_owners already ran for this socket
}

// counters are the lifetime counters of a socket, payload only.
type counters struct {
	sent, received  uint64
	segsIn, segsOut uint64
	retrans         uint64
}

// rttStats accumulates the smoothed RTT samples of one interval.
type rttStats struct {
	n          uint32
	min, max   uint32
	sum, sumSq float64
}

func (r *rttStats) add(us uint32) {
	if us == 0 { // no RTT sample yet (e.g. a connection still in SYN_SENT)
		return
	}
	if r.n == 0 || us < r.min {
		r.min = us
	}
	if us > r.max {
		r.max = us
	}
	r.n++
	f := float64(us)
	r.sum += f
	r.sumSq += f * f
}

// jitter is the standard deviation of the interval's RTT samples.
func (r *rttStats) jitter() uint32 {
	if r.n < 2 {
		return 0
	}
	mean := r.sum / float64(r.n)
	v := r.sumSq/float64(r.n) - mean*mean
	if v <= 0 {
		return 0
	}
	return uint32(math.Round(math.Sqrt(v)))
}

// vanishAfterPasses is how many passes a socket may be missing before it
// is forgotten (a minute at the default 2 s sample interval).
const vanishAfterPasses = 30

func newTracker(startNs uint64, maxSocks, maxClose int, emitIdle bool) *tracker {
	return &tracker{socks: map[uint64]*sockState{}, recentlyClosed: map[uint64]uint64{}, startNs: startNs,
		maxSocks: maxSocks, maxClose: maxClose, emitIdle: emitIdle}
}

// payload reads the counters of s without the SYN and FIN, which TCP
// counts in sequence space and applications never see.
func payload(s *bpf.NpmSockRecord) counters {
	c := counters{sent: s.BytesAcked, received: s.BytesReceived, segsIn: uint64(s.SegsIn), segsOut: uint64(s.SegsOut), retrans: uint64(s.TotalRetrans)}
	if s.Meta.Direction == bpf.DirClient && c.sent > 0 {
		c.sent-- // the client's SYN, acked by the SYN-ACK
	}
	if s.FinOut != 0 && c.sent > 0 {
		c.sent--
	}
	if s.FinIn != 0 && c.received > 0 {
		c.received--
	}
	return c
}

// openedWhileWatching reports whether the socket opened after the agent
// started, so that its lifetime counters all belong to our intervals.
func (t *tracker) openedWhileWatching(s *bpf.NpmSockRecord) bool {
	if s.HasMeta == 0 {
		return false
	}
	open := s.Meta.OpenNs
	if open == 0 {
		open = s.Meta.EstablishedNs
	}
	return open != 0 && open >= t.startNs
}

// beginPass starts an iterator pass.
func (t *tracker) beginPass() {
	t.pass++
	for c, p := range t.recentlyClosed {
		if p+2 < t.pass {
			delete(t.recentlyClosed, c)
		}
	}
}

// observe takes one iterator sample.
func (t *tracker) observe(s *bpf.NpmSockRecord) {
	if _, ok := t.recentlyClosed[s.Cookie]; ok {
		return
	}
	st := t.socks[s.Cookie]
	if st == nil {
		if len(t.socks) >= t.maxSocks {
			t.untracked++
			return
		}
		st = &sockState{}
		if !t.openedWhileWatching(s) {
			// Activity before the agent watched is not this interval's.
			st.base = payload(s)
		}
		t.socks[s.Cookie] = st
	}
	st.last = *s
	st.pass = t.pass
	st.rtt.add(s.SrttUs8 >> 3)
}

// closed takes one close event; it reports false when the bound on
// pending closes dropped it.
func (t *tracker) closed(s *bpf.NpmSockRecord) bool {
	if len(t.closes) >= t.maxClose {
		t.droppedCloses++
		return false
	}
	t.closes = append(t.closes, *s)
	t.recentlyClosed[s.Cookie] = t.pass
	return true
}

// newUnowned counts live sockets whose owner is unknown and for which
// find_owners has not run yet, and marks them as tried.
func (t *tracker) newUnowned() int {
	n := 0
	for _, st := range t.socks {
		if st.pass == t.pass && st.last.Meta.Owner.Pid == 0 && !st.ownerTry {
			st.ownerTry = true
			n++
		}
	}
	return n
}

// emitContext converts kernel times and resolves owners at emit time.
type emitContext struct {
	node       string
	strategy   string // the walk that read the sockets, for the status page
	nowNs      uint64 // wall clock, end of the interval
	intervalNs uint64
	monoToWall func(uint64) uint64
	attribute  func(pid uint32, cgroupID uint64) (containerID, podUID string)
}

// emit hands the interval's records to out one at a time (closed sockets
// first, then the live ones with activity; r is reused after out returns)
// and starts the next interval. It returns how many there were.
func (t *tracker) emit(ec emitContext, out func(r *record.SocketStats)) int {
	n := 0
	r := &record.SocketStats{}
	for i := range t.closes {
		c := &t.closes[i]
		st := t.socks[c.Cookie]
		if st == nil {
			st = &sockState{}
			if !t.openedWhileWatching(c) {
				// Never sampled and opened before us: only the
				// lifecycle is ours, not the counters.
				st.base = payload(c)
			}
		} else {
			delete(t.socks, c.Cookie)
		}
		st.rtt.add(c.SrttUs8 >> 3)
		if c.Meta.Owner.Pid == 0 && st.last.Meta.Owner.Pid != 0 {
			// The iterator learnt the owner after the map entry's copy.
			c.Meta.Owner = st.last.Meta.Owner
		}
		t.build(r, ec, c, st, true)
		out(r)
		n++
	}
	t.closes = t.closes[:0]
	for cookie, st := range t.socks {
		if st.pass != t.pass {
			// Not in this pass: a lost close event, or a namespace
			// the walk did not reach this time. Kept for a while so
			// that a socket seen again goes on from its base instead
			// of counting its lifetime twice.
			if t.pass-st.pass > vanishAfterPasses {
				delete(t.socks, cookie)
			}
			st.rtt = rttStats{}
			continue
		}
		cur := payload(&st.last)
		newConn := !st.announced && t.openedWhileWatching(&st.last)
		if !t.emitIdle && !newConn && cur == st.base {
			st.rtt = rttStats{}
			continue
		}
		t.build(r, ec, &st.last, st, false)
		out(r)
		n++
		st.base = cur
		st.rtt = rttStats{}
		st.announced = true
	}
	return n
}

// build makes the record of s for the interval that began at st.base.
func (t *tracker) build(r *record.SocketStats, ec emitContext, s *bpf.NpmSockRecord, st *sockState, closed bool) {
	cur := payload(s)
	*r = record.SocketStats{
		Node:          ec.node,
		AgentStrategy: ec.strategy,
		TimeNs:        ec.nowNs,
		IntervalNs:    ec.intervalNs,
		Netns:         uint64(s.Netns),
		SocketId:      s.Cookie,
		LocalIp:       ipBytes(s.Family, s.Saddr),
		LocalPort:     uint32(s.Sport),
		RemoteIp:      ipBytes(s.Family, s.Daddr),
		RemotePort:    uint32(s.Dport),
		Direction:     record.SocketDirection(s.Meta.Direction),
		Pid:           s.Meta.Owner.Pid,
		Comm:          commString(s.Meta.Owner.Comm),
		CgroupId:      s.Meta.CgroupId,
		BytesSent:     sub(cur.sent, st.base.sent),
		BytesReceived: sub(cur.received, st.base.received),
		SegsOut:       sub(cur.segsOut, st.base.segsOut),
		SegsIn:        sub(cur.segsIn, st.base.segsIn),
		Retransmits:   uint32(sub(cur.retrans, st.base.retrans)),
		TotalRetrans:  s.TotalRetrans,
		SrttUs:        s.SrttUs8 >> 3,
		SrttMinUs:     st.rtt.min,
		SrttMaxUs:     st.rtt.max,
		RttvarUs:      s.MdevUs4 >> 2,
		JitterUs:      st.rtt.jitter(),
		State:         uint32(s.State),
	}
	switch {
	case s.Meta.Direction > bpf.DirServer:
		r.Direction = record.SocketDirection_SOCKET_DIRECTION_UNSPECIFIED
	case s.Meta.Direction == bpf.DirUnknown && s.Meta.OpenNs == 0 && s.Meta.EstablishedNs == 0 && s.Meta.Owner.Pid != 0:
		// Adopted at start and on no listener's port: a client.
		r.Direction = record.SocketDirection_SOCKET_DIRECTION_CLIENT
	}
	if ec.attribute != nil {
		r.ContainerId, r.PodUid = ec.attribute(r.Pid, r.CgroupId)
	}
	if s.Meta.EstablishedNs != 0 {
		r.OpenTimeNs = ec.monoToWall(s.Meta.EstablishedNs)
	} else if s.Meta.OpenNs != 0 {
		r.OpenTimeNs = ec.monoToWall(s.Meta.OpenNs)
	}
	if !st.announced && s.Meta.Direction == bpf.DirClient && s.Meta.OpenNs != 0 && s.Meta.EstablishedNs >= s.Meta.OpenNs {
		r.ConnectLatencyUs = uint32(min((s.Meta.EstablishedNs-s.Meta.OpenNs)/1000, math.MaxUint32))
	}
	if closed {
		r.CloseTimeNs = ec.monoToWall(s.TsNs)
	}
}

func sub(a, b uint64) uint64 {
	if a < b {
		return 0
	}
	return a - b
}

// ipBytes is the 16-byte record form of a kernel address.
func ipBytes(family uint16, a [16]uint8) []byte {
	if family == afInet {
		return record.IPBytes(netip.AddrFrom4([4]byte(a[:4])))
	}
	return record.IPBytes(netip.AddrFrom16(a))
}

func commString(c [16]int8) string {
	b := make([]byte, 0, len(c))
	for _, v := range c {
		if v == 0 {
			break
		}
		b = append(b, byte(v))
	}
	return string(bytes.ToValidUTF8(b, []byte("?")))
}

const afInet = 2
