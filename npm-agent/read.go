package npmagent

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"time"
	"unsafe"

	"github.com/cilium/ebpf/ringbuf"
	"golang.org/x/sys/unix"

	"github.com/netstrata/netstrata/bpf"
)

// recordSize is the size of one sock_record as the programs write it.
const recordSize = int(unsafe.Sizeof(bpf.NpmSockRecord{}))

// decodeRecord copies a kernel sock_record out of b. The kernel writes it
// in this machine's byte order and layout, which bpf2go's struct mirrors.
func decodeRecord(b []byte, out *bpf.NpmSockRecord) error {
	if len(b) < recordSize {
		return fmt.Errorf("sock_record of %d bytes, want %d", len(b), recordSize)
	}
	copy(unsafe.Slice((*byte)(unsafe.Pointer(out)), recordSize), b) // b may be unaligned
	if out.Kind != bpf.KindSample && out.Kind != bpf.KindClose {
		return fmt.Errorf("sock_record of unknown kind %d", out.Kind)
	}
	if out.Family != unix.AF_INET && out.Family != unix.AF_INET6 {
		return fmt.Errorf("sock_record of unknown family %d", out.Family)
	}
	return nil
}

// pass runs the socket iterator once and feeds every socket to the tracker;
// c.mu is held.
func (c *Component) pass() error {
	c.tr.beginPass()
	n := 0
	err := c.k.walk(func(r io.Reader) error {
		br := bufio.NewReaderSize(r, 64<<10)
		buf := make([]byte, recordSize)
		var rec bpf.NpmSockRecord
		for {
			if _, err := io.ReadFull(br, buf); err != nil {
				if errors.Is(err, io.EOF) {
					return nil
				}
				return fmt.Errorf("read iterator: %w", err)
			}
			if err := decodeRecord(buf, &rec); err != nil {
				c.m.errors.WithLabelValues("decode").Inc()
				c.log.Warn("decode", "bad socket record", "error", err)
				continue
			}
			c.tr.observe(&rec)
			n++
		}
	})
	c.m.sampled.Set(float64(n))
	if c.k.strat.perNetns {
		c.m.netnsWalked.Set(float64(c.k.netns.walked))
		c.m.netnsFailed.Add(float64(c.k.netns.failed))
	}
	return err
}

// readCloses receives close events until the ring buffer is closed.
func (c *Component) readCloses() {
	var raw ringbuf.Record
	var rec bpf.NpmSockRecord
	for {
		if err := c.rb.ReadInto(&raw); err != nil {
			if errors.Is(err, ringbuf.ErrClosed) || errors.Is(err, os.ErrClosed) {
				return
			}
			if errors.Is(err, ringbuf.ErrFlushed) {
				select {
				case c.flushed <- struct{}{}:
				default:
				}
				continue
			}
			c.m.errors.WithLabelValues("ringbuf").Inc()
			c.log.Warn("ringbuf", "ring buffer read failed", "error", err)
			continue
		}
		if err := decodeRecord(raw.RawSample, &rec); err != nil {
			c.m.errors.WithLabelValues("decode").Inc()
			c.log.Warn("decode", "bad close event", "error", err)
			continue
		}
		c.mu.Lock()
		c.tr.closed(&rec)
		c.mu.Unlock()
		c.m.closes.Inc()
	}
}

// drainCloses makes the reader take every close event in the ring now:
// the programs wake it only when the ring fills up.
func (c *Component) drainCloses() {
	select {
	case <-c.flushed: // a stale signal
	default:
	}
	if err := c.rb.Flush(); err != nil {
		return
	}
	select {
	case <-c.flushed:
	case <-time.After(time.Second):
		c.m.errors.WithLabelValues("ringbuf").Inc()
	}
}

// drainIter runs the owners iterator, whose effect is on the maps.
func drainIter(k *kernel) error { return readIter(k.ownersIter, drain) }

// drain reads an iterator whose programs act on maps, not on its output.
func drain(r io.Reader) error {
	_, err := io.Copy(io.Discard, r)
	return err
}

// monotonicNs is CLOCK_MONOTONIC, the clock of bpf_ktime_get_ns.
func monotonicNs() uint64 {
	var ts unix.Timespec
	_ = unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	return uint64(ts.Nano())
}
