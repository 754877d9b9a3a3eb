package flowcollector

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/netstrata/netstrata/internal/bus"
	"github.com/netstrata/netstrata/internal/record"
	"github.com/netstrata/netstrata/internal/telemetry"
)

// Dependencies is what the collector needs from outside.
type Dependencies struct {
	Publisher bus.Publisher
}

// Component is the flow collector.
type Component struct {
	r    *telemetry.Reporter
	cfg  Configuration
	pub  bus.Publisher
	apps *classifier

	sampling  *samplingOverrides
	decap     *prefixTable[decapKinds]
	journal   *journal
	budget    *templateBudget
	labels    *exporterLabels
	exporters *exporters
	pending   *pendingSets
	metrics   *metrics
	badLog    *telemetry.RateLimited

	sockets []*socket
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	stop    sync.Once
}

// New builds the collector; nothing listens until Start.
func New(r *telemetry.Reporter, cfg Configuration, deps Dependencies) (*Component, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if deps.Publisher == nil {
		return nil, errors.New("flow collector: no publisher")
	}
	if s, ok := deps.Publisher.(spreader); ok && !cfg.PartitionByExporter {
		s.Spread(record.TopicFlows)
	}
	apps, err := newClassifier(cfg.Applications)
	if err != nil {
		return nil, fmt.Errorf("flow_collector.applications: %w", err)
	}
	sampling, err := newSamplingOverrides(cfg.SamplingRates)
	if err != nil {
		return nil, fmt.Errorf("flow_collector.sampling_rates: %w", err)
	}
	decap, err := newDecapsulation(cfg.Decapsulation)
	if err != nil {
		return nil, err
	}
	// A second collector on one registry is handed the registered
	// vectors, which the exporter labels then curry.
	m, err := newMetrics(r.Registry)
	if err != nil {
		return nil, err
	}
	c := &Component{
		r:        r,
		cfg:      cfg,
		pub:      deps.Publisher,
		apps:     apps,
		sampling: sampling,
		decap:    decap,
		journal:  newJournal(cfg.TemplatesFile),
		metrics:  m,
		badLog:   telemetry.NewRateLimited(r.Log, time.Minute),
	}
	c.budget = newTemplateBudget(cfg, c.journal, c.metrics)
	c.labels = newExporterLabels(c.metrics, cfg.MetricsMaxExporters)
	c.exporters = newExporters(c, cfg)
	c.budget.largest = c.exporters.largest
	c.pending = newPendingSets(c, cfg.PendingTimeout, cfg.PendingMaxSets)
	return c, nil
}

// Start restores saved templates, binds the sockets and starts one
// decoding goroutine per socket.
func (c *Component) Start(ctx context.Context) error {
	c.restore()
	workers := c.cfg.Workers
	if workers == 0 {
		workers = runtime.NumCPU()
	}
	for _, l := range []struct {
		addrs []string
		kind  listenerKind
	}{{c.cfg.NetFlowListen, kindNetFlow}, {c.cfg.SFlowListen, kindSFlow}} {
		for _, a := range l.addrs {
			socks, err := openSockets(a, l.kind, workers, c.cfg.ReceiveBuffer)
			if err != nil {
				c.closeSockets()
				return fmt.Errorf("flow collector: %w", err)
			}
			c.sockets = append(c.sockets, socks...)
		}
	}
	warned := map[string]bool{}
	for i, s := range c.sockets {
		c.metrics.receiveBuffer.WithLabelValues(s.listen, strconv.Itoa(i)).Set(float64(s.granted))
		if s.granted < c.cfg.ReceiveBuffer && !warned[s.listen] {
			warned[s.listen] = true
			c.r.Log.Warn("kernel capped the receive buffer: bursts may be dropped; raise net.core.rmem_max or run with CAP_NET_ADMIN",
				"listen", s.listen, "asked", c.cfg.ReceiveBuffer, "granted", s.granted)
		}
	}
	ctx, c.cancel = context.WithCancel(ctx)
	for _, s := range c.sockets {
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			c.receive(s)
		}()
	}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		c.housekeeping(ctx)
	}()
	c.r.Log.Info("flow collector listening", "netflow", c.Addrs(kindNetFlow), "sflow", c.Addrs(kindSFlow), "workers", workers)
	return nil
}

// Addrs returns the bound addresses of one kind of listener (netflow or
// sflow), one per configured address; tests use it with port 0.
func (c *Component) Addrs(kind listenerKind) []netip.AddrPort {
	var out []netip.AddrPort
	seen := map[string]bool{}
	for _, s := range c.sockets {
		if s.kind != kind || seen[s.listen] {
			continue
		}
		seen[s.listen] = true
		out = append(out, s.conn.LocalAddr().(*net.UDPAddr).AddrPort())
	}
	return out
}

// receive is one socket's loop: read, decode, publish, in one goroutine,
// so that nothing queues in user space (overload is dropped, and
// counted, by the kernel) and datagrams of one exporter stay in order.
func (c *Component) receive(s *socket) {
	d := newDecoder(c)
	buf := make([]byte, 65536)
	for {
		n, from, err := s.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			c.badLog.Warn("read"+s.listen, "read datagram", "listen", s.listen, "error", err)
			continue
		}
		d.handle(s.kind, buf[:n], from, time.Now())
	}
}

// rankInterval is how often the exporter metric labels go to the
// busiest exporters and idle exporters are forgotten.
const rankInterval = 10 * time.Second

// housekeeping persists templates on change, expires waiting sets and
// idle exporters, ranks exporters for their metric labels and refreshes
// the kernel drop counters.
func (c *Component) housekeeping(ctx context.Context) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	lastRank := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.journal.dirty:
			c.persist()
		case now := <-tick.C:
			c.pending.expire(now)
			c.updateKernelDrops()
			if c.journal.waiting() {
				c.persist()
			}
			if err := c.journal.sync(); err != nil {
				c.badLog.Warn("persist", "cannot save templates", "file", c.cfg.TemplatesFile, "error", err)
			}
			if now.Sub(lastRank) >= rankInterval {
				lastRank = now
				c.exporters.expire(now)
				c.labels.rank(c.exporters.all())
			}
		}
	}
}

// KernelDrops sums the kernel's drop counters of every socket per listen
// address.
func (c *Component) KernelDrops() map[string]uint64 {
	inodes := map[uint64]bool{}
	for _, s := range c.sockets {
		inodes[s.inode] = true
	}
	drops, err := kernelDrops(inodes)
	if err != nil {
		c.badLog.Warn("drops", "cannot read kernel drops", "error", err)
		return nil
	}
	out := map[string]uint64{}
	for _, s := range c.sockets {
		out[s.listen] += drops[s.inode]
	}
	return out
}

func (c *Component) updateKernelDrops() {
	for l, n := range c.KernelDrops() {
		c.metrics.kernelDrops.WithLabelValues(l).Set(float64(n))
	}
}

func (c *Component) closeSockets() {
	for _, s := range c.sockets {
		s.conn.Close()
	}
}

// Stop closes the sockets, waits for the workers and saves the templates.
func (c *Component) Stop() error {
	c.stop.Do(func() {
		if c.cancel != nil {
			c.cancel()
		}
		c.closeSockets()
		c.wg.Wait()
		c.persist()
		if err := c.journal.sync(); err != nil {
			c.r.Log.Warn("cannot save templates", "file", c.cfg.TemplatesFile, "error", err)
		}
		c.journal.close()
	})
	return nil
}

// spreader is a publisher that can spread a topic's records over its
// partitions regardless of their key (bus.Producer).
type spreader interface{ Spread(topic string) }
