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
	"golang.org/x/sys/unix"
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
	failures int // passes failed in a row

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

// Start probes what this kernel accepts, loads and attaches the programs
// of the best strategy, takes a first look at every socket, and starts
// collecting. It fails, with the probe table, when no strategy can run.
func (c *Component) Start(ctx context.Context) error {
	k, err := loadKernel(c.cfg)
	if err != nil {
		var ns *NoStrategyError
		if errors.As(err, &ns) {
			c.m.setProbe(ns.Probe, "")
			return fmt.Errorf("%w\n%s", err, ns.Probe)
		}
		return err
	}
	c.k = k
	c.m.setProbe(k.probe, k.strat.name)
	c.m.mapCapacity.Set(float64(c.cfg.MaxSockets))
	c.rb, err = ringbuf.NewReader(k.maps.Events)
	if err != nil {
		k.close()
		return fmt.Errorf("ring buffer reader: %w", err)
	}
	c.attr = newAttributor(c.cfg.CgroupRoot, c.cfg.ProcRoot)
	ctx, c.cancel = context.WithCancel(ctx)
	if err := c.startPods(ctx); err != nil {
		c.abort()
		return err
	}
	c.tr = newTracker(monotonicNs(), int(c.cfg.MaxSockets), 1<<20, c.cfg.EmitIdle)
	c.lastEmit = time.Now()
	c.r.Log.Info("npm agent attached", "strategy", k.strat.name, "hooks", k.hooks, "node", c.cfg.Node,
		"interval", c.cfg.Interval, "sample_interval", c.cfg.SampleInterval,
		"cgroup_root", c.attr.cgroupRoot, "kubernetes", c.pods != nil, "not_available", k.probe.why())
	c.noteStrategy()
	if err := c.baseline(); err != nil {
		c.abort()
		return fmt.Errorf("first socket pass: %w", err)
	}
	c.wg.Add(2)
	go func() { defer c.wg.Done(); c.readCloses() }()
	go func() { defer c.wg.Done(); c.loop(ctx) }()
	c.r.SetHealth("bpf", nil)
	return nil
}

// baseline learns the owners of the sockets that were there before us
// (twice, since a listener found late in the first walk gives the
// direction of its accepted sockets in the second), gives them storage,
// and reads every socket once: activity is counted from then on.
func (c *Component) baseline() error {
	c.findOwners()
	c.findOwners()
	if err := c.k.adopt(); err != nil {
		c.m.errors.WithLabelValues("adopt").Inc()
		c.r.Log.Warn("sockets from before the agent not adopted", "error", err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.walkOrFallBack()
}

// abort undoes a Start that failed half way.
func (c *Component) abort() {
	c.cancel()
	c.cancel = nil
	c.stopKernel()
}

// noteStrategy says in /healthz which strategy runs and why not a better one.
func (c *Component) noteStrategy() {
	note := c.k.strat.name + ": " + c.k.strat.summary
	if why := c.k.probe.why(); why != "" {
		note += " (not available: " + why + ")"
	}
	c.r.SetNote("strategy", note)
}

// walkOrFallBack runs a pass; when the kernel refuses the running walk
// and npm_agent.strategy is auto, it moves to the next strategy the probe
// found and tries again. c.mu is held.
func (c *Component) walkOrFallBack() error {
	for {
		err := c.pass()
		if err == nil {
			c.failures = 0
			return nil
		}
		c.failures++
		if !c.shouldFallBack(err) {
			return err
		}
		next, ok := c.k.next()
		if !ok {
			return err
		}
		from := c.k.strat.name
		if uerr := c.k.use(next); uerr != nil {
			return errors.Join(err, uerr)
		}
		c.failures = 0
		c.m.fallbacks.Inc()
		c.m.setProbe(c.k.probe, next.name)
		c.noteStrategy()
		c.r.Log.Warn("strategy refused at run time, falling back", "from", from, "to", next.name, "error", err)
	}
}

// shouldFallBack: the kernel refused the walk (permission), or it failed
// three passes in a row; never when the operator forced a strategy.
func (c *Component) shouldFallBack(err error) bool {
	if c.cfg.Strategy != StrategyAuto && c.cfg.Strategy != "" {
		return false
	}
	return errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) || errors.Is(err, unix.EOPNOTSUPP) || c.failures >= 3
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
	if err := c.walkOrFallBack(); err != nil {
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
		strategy:   c.k.strat.name,
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
