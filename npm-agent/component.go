// Package npmagent is the NPM layer: it loads netstrata's eBPF programs,
// follows every TCP socket of the node and publishes one record per
// active socket per interval (bytes, RTT, jitter, retransmits, connect
// latency, lifecycle), attributed to its process, container and pod.
package npmagent

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/cilium/ebpf/ringbuf"
	"google.golang.org/protobuf/proto"
	"k8s.io/client-go/kubernetes"

	"github.com/netstrata/netstrata/internal/bus"
	"github.com/netstrata/netstrata/internal/periodic"
	"github.com/netstrata/netstrata/internal/record"
	"github.com/netstrata/netstrata/internal/telemetry"
)

// Dependencies are what the agent needs from outside.
type Dependencies struct {
	Publisher bus.Publisher
	// Kube overrides the in-cluster client (tests); nil finds it.
	Kube kubernetes.Interface
}

// Component is the running agent.
type Component struct {
	r    *telemetry.Reporter
	cfg  Configuration
	deps Dependencies
	m    *metrics
	log  *telemetry.RateLimited

	k    *kernel
	rb   *ringbuf.Reader
	attr *attributor
	pods *podWatcher

	flushed chan struct{} // the reader took what a Flush asked for

	mu       sync.Mutex // guards tr, lastEmit and samples
	tr       *tracker
	lastEmit time.Time
	samples  int

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// New checks the configuration; nothing touches the kernel before Start.
func New(r *telemetry.Reporter, cfg Configuration, deps Dependencies) (*Component, error) {
	if cfg.Node == "" {
		cfg.Node = defaultNode()
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if deps.Publisher == nil {
		return nil, errors.New("npm_agent: no publisher")
	}
	m, err := newMetrics(r)
	if err != nil {
		return nil, err
	}
	return &Component{r: r, cfg: cfg, deps: deps, m: m, log: telemetry.NewRateLimited(r.Log, time.Minute),
		flushed: make(chan struct{}, 1)}, nil
}

// Start loads and attaches the programs, takes a first look at every
// socket, and starts collecting. It fails, with the reason, when eBPF is
// not available (not root, no BTF, old kernel).
func (c *Component) Start(ctx context.Context) error {
	k, err := loadKernel(c.cfg)
	if err != nil {
		return err
	}
	c.k = k
	c.m.mapCapacity.Set(float64(c.cfg.MaxSockets))
	c.rb, err = ringbuf.NewReader(k.maps.Events)
	if err != nil {
		k.close()
		return fmt.Errorf("ring buffer reader: %w", err)
	}
	c.attr = newAttributor(c.cfg.CgroupRoot, c.cfg.ProcRoot)
	ctx, c.cancel = context.WithCancel(ctx)
	if err := c.startPods(ctx); err != nil {
		c.cancel()
		c.cancel = nil
		c.stopKernel()
		return err
	}
	c.tr = newTracker(monotonicNs(), int(c.cfg.MaxSockets), 1<<20, c.cfg.EmitIdle)
	c.lastEmit = time.Now()
	c.r.Log.Info("npm agent attached", "hooks", k.hooks, "node", c.cfg.Node,
		"interval", c.cfg.Interval, "sample_interval", c.cfg.SampleInterval,
		"cgroup_root", c.attr.cgroupRoot, "kubernetes", c.pods != nil)
	// Learn the owners of the sockets that were there before us: twice,
	// since a listener found late in the first walk gives the direction
	// of its accepted sockets in the second.
	c.findOwners()
	c.findOwners()
	// The baseline: activity is counted from now on.
	c.mu.Lock()
	err = c.pass()
	c.mu.Unlock()
	if err != nil {
		c.cancel()
		c.cancel = nil
		c.stopKernel()
		return fmt.Errorf("first socket pass: %w", err)
	}
	c.wg.Add(2)
	go func() { defer c.wg.Done(); c.readCloses() }()
	go func() { defer c.wg.Done(); c.loop(ctx) }()
	c.r.SetHealth("bpf", nil)
	return nil
}

func (c *Component) startPods(ctx context.Context) error {
	if c.cfg.Kubernetes == "off" {
		return nil
	}
	client := c.deps.Kube
	if client == nil {
		var err error
		if client, err = inClusterClient(); err != nil {
			return err
		}
	}
	if client == nil {
		return nil // not in Kubernetes: process and cgroup only
	}
	c.pods = newPodWatcher(client, c.cfg.Node, c.cfg.PodResync, c.deps.Publisher, func(deleted bool) {
		c.m.published.WithLabelValues(record.TopicPods).Inc()
	})
	c.attr.podOf = c.pods.podOf
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		if err := c.pods.run(ctx); err != nil {
			c.r.SetHealth("kubernetes", err)
		}
	}()
	return nil
}

// Stop detaches the programs, publishes what was collected and waits.
func (c *Component) Stop() error {
	if c.cancel == nil {
		return nil
	}
	c.cancel()
	c.collect(true) // the last records, while the reader still runs
	if c.rb != nil {
		_ = c.rb.Close()
	}
	c.wg.Wait()
	c.stopKernel()
	return nil
}

func (c *Component) stopKernel() {
	if c.rb != nil {
		_ = c.rb.Close()
	}
	if c.k != nil {
		c.k.close()
	}
}

// loop samples every SampleInterval and publishes every Interval.
func (c *Component) loop(ctx context.Context) {
	periodic.Every(ctx, c.cfg.SampleInterval, func() {
		c.mu.Lock()
		c.samples++
		emit := c.samples >= c.cfg.samplesPerInterval()
		c.mu.Unlock()
		c.collect(emit)
	})
}

// collect reads every socket once and, when emit is set, publishes the
// interval's records.
func (c *Component) collect(emit bool) {
	start := time.Now()
	if emit {
		c.drainCloses()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tr.newUnowned() > 0 {
		c.mu.Unlock()
		c.findOwners()
		c.mu.Lock()
	}
	if err := c.pass(); err != nil {
		c.m.errors.WithLabelValues("iterator").Inc()
		c.log.Warn("iter", "socket iterator failed", "error", err)
		c.r.SetHealth("collect", err)
		return
	}
	c.r.SetHealth("collect", nil)
	c.readCounters()
	if emit {
		c.emit()
	}
	c.m.collectSeconds.Observe(time.Since(start).Seconds())
}

// emit publishes the interval's records; c.mu is held.
func (c *Component) emit() {
	now := time.Now()
	wallNs, monoNs := uint64(now.UnixNano()), monotonicNs()
	key := []byte(c.cfg.Node)
	n := c.tr.emit(emitContext{
		node:       c.cfg.Node,
		nowNs:      wallNs,
		intervalNs: uint64(now.Sub(c.lastEmit)),
		monoToWall: func(ns uint64) uint64 { return wallNs - (monoNs - ns) },
		attribute:  c.attr.attribute,
	}, func(r *record.SocketStats) {
		// One record at a time: 100k sockets never sit in memory twice.
		b, err := proto.Marshal(r)
		if err != nil {
			c.m.errors.WithLabelValues("marshal").Inc()
			return
		}
		c.deps.Publisher.Publish(record.TopicSockets, key, b)
	})
	c.lastEmit, c.samples = now, 0
	c.m.published.WithLabelValues(record.TopicSockets).Add(float64(n))
	c.m.liveSockets.Set(float64(len(c.tr.socks)))
	c.m.closesDropped.Add(float64(c.tr.droppedCloses))
	c.m.untracked.Add(float64(c.tr.untracked))
	c.tr.droppedCloses, c.tr.untracked = 0, 0
	if n > 0 {
		c.r.Log.Debug("published socket records", "records", n)
	}
}

// findOwners runs the task_file iterator, which fills the owner of
// sockets the lifecycle hooks could not attribute.
func (c *Component) findOwners() {
	if c.k.ownersIter == nil {
		return
	}
	if err := drainIter(c.k); err != nil {
		c.m.errors.WithLabelValues("owners").Inc()
		c.log.Warn("owners", "owner iterator failed", "error", err)
	}
	c.m.ownerRuns.Inc()
}

func (c *Component) readCounters() {
	v, err := c.k.counters()
	if err != nil {
		c.m.errors.WithLabelValues("counters").Inc()
		return
	}
	c.m.setKernelCounters(v, c.cfg.MaxSockets)
}
