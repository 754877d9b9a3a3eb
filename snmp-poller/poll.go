package snmppoller

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/gosnmp/gosnmp"
	"google.golang.org/protobuf/proto"

	"github.com/netstrata/netstrata/internal/record"
)

// target is one device being polled: its settings, its SNMP session state
// and the previous sample of each interface. Only the poll in flight (at
// most one per target) touches the poll fields; the scheduler fields are
// guarded by the scheduler's lock.
type target struct {
	cfg resolvedTarget
	key []byte

	// poll state
	sess       session
	mode       counterMode
	getNext    bool // GETBULK was refused: walk with GETNEXT
	prev       map[uint32]*sample
	lastFailed bool
	slow       bool // the last poll outlived the interval

	// scheduler state
	slot     time.Time // the slot the next poll belongs to
	next     time.Time // slot with jitter, or a backoff
	heapIdx  int       // -1 when not in the heap
	inFlight bool
	removed  bool
	timeouts int // consecutive
}

func newTarget(cfg resolvedTarget) *target {
	return &target{cfg: cfg, key: []byte(cfg.Name), prev: map[uint32]*sample{}, heapIdx: -1}
}

// pollResult is what one poll produced.
type pollResult struct {
	interfaces int
	timedOut   bool
	err        error
}

// poll reads the device once and publishes one record per interface.
func (c *Component) poll(ctx context.Context, t *target) pollResult {
	// A poll may run past its interval (a big device at a short
	// interval): it finishes and the scheduler skips the slots it missed.
	// Only poll_timeout, its own setting, cuts it short.
	ctx, cancel := context.WithTimeout(ctx, t.cfg.PollTimeout)
	defer cancel()
	g, err := t.sess.connect(ctx, &t.cfg)
	if err != nil {
		return pollResult{err: fmt.Errorf("poll %s: connect: %w", t.cfg.Name, err)}
	}
	defer g.Close()
	res := c.pollWith(g, t)
	if res.err != nil {
		if t.cfg.Version == "3" {
			t.sess.forget()
		}
		res.timedOut = isTimeout(res.err)
		return res
	}
	t.sess.keep(g)
	return res
}

// pollWith runs one poll over an open client.
func (c *Component) pollWith(g *gosnmp.GoSNMP, t *target) pollResult {
	d := &device{name: t.cfg.Name}
	if ap, err := netip.ParseAddrPort(g.Conn.RemoteAddr().String()); err == nil {
		d.ip = ap.Addr().Unmap()
	}
	if err := d.readSystem(g); err != nil {
		return pollResult{err: fmt.Errorf("poll %s: system group: %w", t.cfg.Name, err)}
	}

	table := newIfTable(c.countBad)
	cols := columnsFor(t.mode)
	reps := t.cfg.MaxRepetitions
	if t.getNext || t.cfg.Version == "1" {
		reps = 0
	}
	_, err := walkColumns(g, cols, reps, table.add)
	if errors.Is(err, errBulkRefused) {
		t.getNext = true
		table = newIfTable(c.countBad)
		_, err = walkColumns(g, cols, 0, table.add)
	}
	if err != nil {
		return pollResult{err: fmt.Errorf("poll %s: walk IF-MIB: %w", t.cfg.Name, err)}
	}
	now := time.Now()
	rows := table.sorted()
	seen := make(map[uint32]*sample, len(rows))
	for _, r := range rows {
		cur := sampleOf(d, r, now)
		if c.publish(t, d, r, cur) {
			seen[r.index] = cur
		}
	}
	// Interfaces that disappeared lose their baseline: memory follows the
	// device, and a re-created ifIndex starts afresh.
	t.prev = seen
	t.mode = modeOf(rows)
	return pollResult{interfaces: len(rows)}
}

// publish publishes one interface's record, with its rate against the
// previous sample; it reports false when the record could not be made.
func (c *Component) publish(t *target, d *device, r *ifRow, cur *sample) bool {
	prev := t.prev[r.index]
	rt := computeRate(prev, cur, r.speedBps(), c.cfg.OverSpeedFactor)
	c.countFlags(rt)
	b, err := proto.Marshal(buildRecord(d, r, cur, prev, rt))
	if err != nil {
		c.metrics.marshalErrs.Inc()
		c.badLog.Warn("marshal", "cannot marshal interface record", "target", t.cfg.Name, "error", err)
		return false
	}
	c.pub.Publish(record.TopicIfStats, t.key, b)
	return true
}

func (c *Component) countFlags(rt rate) {
	if rt.reset {
		c.metrics.flagged.WithLabelValues("reset").Inc()
	}
	if rt.wrap {
		c.metrics.flagged.WithLabelValues("wrap").Inc()
	}
	if rt.overSpeed {
		c.metrics.flagged.WithLabelValues("over_speed").Inc()
	}
}

func (c *Component) countBad(kind string) {
	c.metrics.badValues.WithLabelValues(kind).Inc()
}

// isTimeout tells a device that did not answer from other failures.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, gosnmp.ErrMaxRetriesExceeded) || errors.Is(err, context.DeadlineExceeded) ||
		errors.As(err, &ne) && ne.Timeout()
}
