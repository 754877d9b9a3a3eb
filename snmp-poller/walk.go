package snmppoller

import (
	"errors"
	"fmt"
	"time"

	"github.com/gosnmp/gosnmp"
)

// maxWalkRequests bounds one walk: an agent that keeps answering with
// ever-new rows cannot keep a worker forever.
const maxWalkRequests = 5000

// requester is the part of gosnmp a walk needs; tests may fake it.
type requester interface {
	GetBulk(oids []string, nonRepeaters uint8, maxRepetitions uint32) (*gosnmp.SnmpPacket, error)
	GetNext(oids []string) (*gosnmp.SnmpPacket, error)
}

// walkStats says how a walk went.
type walkStats struct {
	requests   int
	bulkFailed bool // the agent refused GETBULK: use GETNEXT from now on
}

// errBulkRefused is returned when GETBULK fails with an error status: the
// caller retries with GETNEXT.
var errBulkRefused = errors.New("agent refused GETBULK")

// walkColumns walks several table columns side by side: each request
// carries the current position of every column not yet finished, so a
// GETBULK with r repetitions returns r rows of all of them at once (the
// response is row-major: varbind k belongs to column k mod n). maxReps 0
// walks with GETNEXT, one row per request. add receives every varbind
// that belongs to its column, with its row index and arrival time.
func walkColumns(g requester, cols []column, maxReps uint32, add func(col column, index uint32, pdu gosnmp.SnmpPDU, at time.Time)) (walkStats, error) {
	var st walkStats
	type position struct {
		next    string
		last    uint32
		started bool
		done    bool
	}
	pos := make([]position, len(cols))
	for i, c := range cols {
		pos[i].next = c.oid
	}
	active := make([]int, 0, len(cols))
	oids := make([]string, 0, len(cols))
	reps := maxReps
	for {
		active, oids = active[:0], oids[:0]
		for i := range pos {
			if !pos[i].done {
				active = append(active, i)
				oids = append(oids, pos[i].next)
			}
		}
		if len(active) == 0 {
			return st, nil
		}
		if st.requests >= maxWalkRequests {
			return st, fmt.Errorf("walk: gave up after %d requests", st.requests)
		}
		st.requests++
		var pkt *gosnmp.SnmpPacket
		var err error
		if reps > 0 {
			// Keep a response within ~1000 varbinds whatever the column count.
			r := max(1, min(reps, uint32(1000/len(oids))))
			pkt, err = g.GetBulk(oids, 0, r)
		} else {
			pkt, err = g.GetNext(oids)
		}
		at := time.Now()
		if err != nil {
			return st, err
		}
		if pkt.Error != gosnmp.NoError {
			switch {
			case reps > 1 && pkt.Error == gosnmp.TooBig:
				reps /= 2 // ask for fewer rows
				continue
			case reps > 0:
				st.bulkFailed = true
				return st, fmt.Errorf("%w: %s", errBulkRefused, pkt.Error)
			case pkt.Error == gosnmp.NoSuchName && pkt.ErrorIndex >= 1 && int(pkt.ErrorIndex) <= len(active):
				// SNMPv1 answers a GETNEXT past the end of the MIB with
				// noSuchName for that varbind: that column is finished.
				pos[active[pkt.ErrorIndex-1]].done = true
				continue
			default:
				return st, fmt.Errorf("walk: agent error %s at varbind %d", pkt.Error, pkt.ErrorIndex)
			}
		}
		if len(pkt.Variables) == 0 {
			return st, errors.New("walk: empty response")
		}
		progress := false
		for k, vb := range pkt.Variables {
			p := &pos[active[k%len(active)]]
			if p.done {
				continue
			}
			col := cols[active[k%len(active)]]
			switch vb.Type {
			case gosnmp.EndOfMibView, gosnmp.NoSuchObject, gosnmp.NoSuchInstance:
				p.done, progress = true, true
				continue
			}
			index, ok := rowIndex(vb.Name, col.oid)
			// Past the column, or not increasing (a broken agent that
			// would loop): the column is finished.
			if !ok || p.started && index <= p.last {
				p.done, progress = true, true
				continue
			}
			add(col, index, vb, at)
			p.next, p.last, p.started, progress = vb.Name, index, true, true
		}
		if !progress {
			return st, errors.New("walk: agent made no progress")
		}
	}
}
