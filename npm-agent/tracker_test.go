package npmagent

import (
	"testing"
	"unsafe"

	"google.golang.org/protobuf/proto"

	"github.com/netstrata/netstrata/bpf"
	"github.com/netstrata/netstrata/internal/record"
)

const startNs = 1_000_000

func sample(cookie uint64, acked, received uint64, srttUs uint32) bpf.NpmSockRecord {
	s := bpf.NpmSockRecord{Cookie: cookie, Kind: bpf.KindSample, BytesAcked: acked, BytesReceived: received,
		SrttUs8: srttUs << 3, MdevUs4: 40 << 2, Family: afInet, State: 1, HasMeta: 1, Sport: 40000, Dport: 443}
	s.Meta.Direction = bpf.DirClient
	s.Meta.OpenNs, s.Meta.EstablishedNs = startNs+10_000, startNs+60_000
	s.Meta.Owner.Pid = 42
	copy(unsafe.Slice((*byte)(unsafe.Pointer(&s.Meta.Owner.Comm[0])), 16), "curl")
	s.Saddr = [16]uint8{10, 0, 0, 1}
	s.Daddr = [16]uint8{10, 0, 0, 2}
	return s
}

func emitAll(tr *tracker) []*record.SocketStats {
	var out []*record.SocketStats
	tr.emit(emitContext{node: "n1", strategy: StrategyTCPIter, nowNs: 5e9, intervalNs: 1e9, monoToWall: func(ns uint64) uint64 { return ns + 1e9 }},
		func(r *record.SocketStats) { out = append(out, proto.Clone(r).(*record.SocketStats)) })
	return out
}

func TestTrackerReportsPayloadDeltasWithoutSynAndFin(t *testing.T) {
	tr := newTracker(startNs, 100, 100, false)
	tr.beginPass()
	s := sample(7, 1+1000, 300, 100) // the client's SYN is counted by the kernel
	tr.observe(&s)
	recs := emitAll(tr)
	if len(recs) != 1 {
		t.Fatalf("%d records", len(recs))
	}
	r := recs[0]
	if r.BytesSent != 1000 || r.BytesReceived != 300 || r.ConnectLatencyUs != 50 || r.Comm != "curl" || r.Pid != 42 || r.AgentStrategy != StrategyTCPIter {
		t.Errorf("first interval: %+v", r)
	}
	if record.IPFromBytes(r.LocalIp).String() != "10.0.0.1" || r.LocalPort != 40000 || r.RemotePort != 443 {
		t.Errorf("addresses: %v:%d -> %v:%d", record.IPFromBytes(r.LocalIp), r.LocalPort, record.IPFromBytes(r.RemoteIp), r.RemotePort)
	}
	if r.OpenTimeNs != startNs+60_000+1e9 || r.RttvarUs != 40 || r.SrttUs != 100 {
		t.Errorf("open %d rttvar %d srtt %d", r.OpenTimeNs, r.RttvarUs, r.SrttUs)
	}

	// Next interval: 500 more, then the close with both FINs counted.
	tr.beginPass()
	s = sample(7, 1+1500, 300, 120)
	tr.observe(&s)
	c := sample(7, 1+1500+1, 300+1, 140)
	c.Kind, c.State, c.FinIn, c.FinOut, c.TsNs = bpf.KindClose, 7, 1, 1, startNs+9e6
	tr.closed(&c)
	recs = emitAll(tr)
	if len(recs) != 1 {
		t.Fatalf("%d records after close", len(recs))
	}
	r = recs[0]
	if r.BytesSent != 500 || r.BytesReceived != 0 || r.CloseTimeNs != startNs+9e6+1e9 || r.State != 7 || r.ConnectLatencyUs != 0 {
		t.Errorf("closing interval: %+v", r)
	}
	if r.SrttMinUs != 120 || r.SrttMaxUs != 140 || r.JitterUs != 10 {
		t.Errorf("rtt min/max/jitter %d/%d/%d, want 120/140/10", r.SrttMinUs, r.SrttMaxUs, r.JitterUs)
	}
	if len(tr.socks) != 0 {
		t.Errorf("%d sockets still tracked", len(tr.socks))
	}
	// A racing iterator sample of the closed socket does not revive it.
	tr.beginPass()
	tr.observe(&s)
	if recs := emitAll(tr); len(recs) != 0 || len(tr.socks) != 0 {
		t.Errorf("closed socket revived: %d records", len(recs))
	}
}

func TestTrackerSkipsIdleSocketsAndForgetsVanishedOnes(t *testing.T) {
	tr := newTracker(startNs, 100, 100, false)
	tr.beginPass()
	s := sample(9, 11, 0, 100)
	tr.observe(&s)
	if n := len(emitAll(tr)); n != 1 {
		t.Fatalf("new socket: %d records", n)
	}
	tr.beginPass()
	tr.observe(&s)
	if n := len(emitAll(tr)); n != 0 {
		t.Errorf("idle socket: %d records", n)
	}
	// Missing from a pass (a namespace not reached): kept, not
	// published, and seen again it goes on from its base.
	tr.beginPass()
	if n := len(emitAll(tr)); n != 0 {
		t.Errorf("missing socket: %d records", n)
	}
	tr.beginPass()
	more := sample(9, 61, 0, 100)
	tr.observe(&more)
	if rs := emitAll(tr); len(rs) != 1 || rs[0].BytesSent != 50 {
		t.Errorf("socket seen again: %+v, want one record of 50 bytes sent", rs)
	}
	for range vanishAfterPasses + 1 { // gone without a close event
		tr.beginPass()
		emitAll(tr)
	}
	if len(tr.socks) != 0 {
		t.Errorf("vanished socket still tracked")
	}
	idle := newTracker(startNs, 100, 100, true)
	idle.beginPass()
	idle.observe(&s)
	emitAll(idle)
	idle.beginPass()
	idle.observe(&s)
	if n := len(emitAll(idle)); n != 1 {
		t.Errorf("emit_idle: %d records", n)
	}
}

func TestTrackerCountsOnlyActivityAfterStartForAdoptedSockets(t *testing.T) {
	tr := newTracker(startNs, 100, 100, false)
	tr.beginPass()
	s := sample(11, 5000, 7000, 100)
	s.Meta.OpenNs, s.Meta.EstablishedNs, s.Meta.Direction = 0, 0, bpf.DirUnknown // adopted by find_owners
	tr.observe(&s)
	if n := len(emitAll(tr)); n != 0 {
		t.Errorf("adopted idle socket: %d records", n)
	}
	tr.beginPass()
	s.BytesAcked += 10
	tr.observe(&s)
	recs := emitAll(tr)
	if len(recs) != 1 || recs[0].BytesSent != 10 || recs[0].BytesReceived != 0 ||
		recs[0].Direction != record.SocketDirection_SOCKET_DIRECTION_CLIENT || recs[0].OpenTimeNs != 0 {
		t.Errorf("adopted socket: %+v", recs)
	}
}

func TestTrackerBoundsPendingCloses(t *testing.T) {
	tr := newTracker(startNs, 100, 2, false)
	for i := range 5 {
		c := sample(uint64(100+i), 1, 0, 1)
		c.Kind = bpf.KindClose
		tr.closed(&c)
	}
	if len(tr.closes) != 2 || tr.droppedCloses != 3 {
		t.Errorf("%d pending, %d dropped", len(tr.closes), tr.droppedCloses)
	}
}

func TestDecodeRecordRejectsShortAndUnknown(t *testing.T) {
	s := sample(1, 1, 1, 1)
	b := unsafe.Slice((*byte)(unsafe.Pointer(&s)), recordSize)
	var out bpf.NpmSockRecord
	if err := decodeRecord(b, &out); err != nil || out.Cookie != 1 {
		t.Fatalf("good record: %v %+v", err, out)
	}
	if err := decodeRecord(b[:recordSize-1], &out); err == nil {
		t.Error("short record accepted")
	}
	s.Kind = 9
	if err := decodeRecord(b, &out); err == nil {
		t.Error("unknown kind accepted")
	}
}

func FuzzDecodeRecord(f *testing.F) {
	s := sample(1, 1, 1, 1)
	f.Add(append([]byte(nil), unsafe.Slice((*byte)(unsafe.Pointer(&s)), recordSize)...))
	f.Add([]byte{})
	f.Add(make([]byte, recordSize))
	f.Fuzz(func(t *testing.T, b []byte) {
		var out bpf.NpmSockRecord
		if decodeRecord(b, &out) != nil {
			return
		}
		// Whatever decodes must build a record without panicking.
		tr := newTracker(0, 10, 10, true)
		tr.beginPass()
		if out.Kind == bpf.KindClose {
			tr.closed(&out)
		} else {
			tr.observe(&out)
		}
		emitAll(tr)
	})
}

func TestTrackerBoundsTrackedSockets(t *testing.T) {
	tr := newTracker(startNs, 2, 10, false)
	tr.beginPass()
	for i := range 5 {
		s := sample(uint64(200+i), 1, 0, 1)
		tr.observe(&s)
	}
	if len(tr.socks) != 2 || tr.untracked != 3 {
		t.Errorf("%d tracked, %d untracked", len(tr.socks), tr.untracked)
	}
}
