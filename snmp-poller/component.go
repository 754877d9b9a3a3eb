package snmppoller

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/netstrata/netstrata/internal/bus"
	"github.com/netstrata/netstrata/internal/telemetry"
)

// Dependencies is what the poller needs from outside.
type Dependencies struct {
	Publisher bus.Publisher
}

// Component is the SNMP poller.
type Component struct {
	r       *telemetry.Reporter
	cfg     Configuration
	pub     bus.Publisher
	metrics *metrics
	badLog  *telemetry.RateLimited
	sched   *scheduler

	static []resolvedTarget

	mu      sync.Mutex
	file    []resolvedTarget
	targets map[string]*target

	cancel context.CancelFunc
	wg     sync.WaitGroup
	stop   sync.Once
}

// New validates the configuration and builds the poller; nothing is polled
// until Start.
func New(r *telemetry.Reporter, cfg Configuration, deps Dependencies) (*Component, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if deps.Publisher == nil {
		return nil, errors.New("snmp poller: no publisher")
	}
	static, err := resolveAll(cfg.Targets, cfg.Defaults, "snmp_poller.targets")
	if err != nil {
		return nil, err
	}
	m, err := newMetrics(r.Registry)
	if err != nil {
		return nil, err
	}
	c := &Component{
		r:       r,
		cfg:     cfg,
		pub:     deps.Publisher,
		metrics: m,
		badLog:  telemetry.NewRateLimited(r.Log, time.Minute),
		sched:   newScheduler(cfg.Workers, cfg.Jitter, cfg.MaxBackoff),
		static:  static,
		targets: map[string]*target{},
	}
	c.sched.run = c.poll
	c.sched.done = c.observe
	return c, nil
}

// Start loads the targets file, if any, and starts polling.
func (c *Component) Start(ctx context.Context) error {
	ctx, c.cancel = context.WithCancel(ctx)
	var sum [32]byte
	if c.cfg.TargetsFile != "" {
		sum = c.reloadTargetsFile(sum)
	}
	c.apply()
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		c.sched.loop(ctx)
	}()
	if c.cfg.TargetsFile != "" {
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			c.watchTargetsFile(ctx, sum)
		}()
	}
	c.r.Log.Info("snmp poller started", "targets", len(c.static)+len(c.file), "workers", c.cfg.Workers)
	return nil
}

// Stop ends polling and waits for the polls in flight (each is bounded by
// its timeout and retries).
func (c *Component) Stop() error {
	c.stop.Do(func() {
		if c.cancel != nil {
			c.cancel()
		}
		c.wg.Wait()
	})
	return nil
}

// setFileTargets replaces the targets that come from the file.
func (c *Component) setFileTargets(list []resolvedTarget) {
	c.mu.Lock()
	c.file = list
	c.mu.Unlock()
	if c.cancel != nil { // started: apply now; otherwise Start applies
		c.apply()
	}
}

// apply reconciles the running targets with the configuration and the
// file: new ones are scheduled, removed ones unscheduled, changed ones
// restarted with a fresh baseline. A file target whose name is also a
// configured target is ignored.
func (c *Component) apply() {
	c.mu.Lock()
	defer c.mu.Unlock()
	want := make(map[string]resolvedTarget, len(c.static)+len(c.file))
	for _, t := range c.static {
		want[t.Name] = t
	}
	for _, t := range c.file {
		if _, dup := want[t.Name]; dup {
			c.badLog.Warn("dup:"+t.Name, "targets file entry ignored: name already configured", "target", t.Name)
			continue
		}
		want[t.Name] = t
	}
	now := time.Now()
	for name, t := range c.targets {
		if w, ok := want[name]; !ok || w != t.cfg {
			c.sched.remove(t)
			c.metrics.forget(name)
			delete(c.targets, name)
		}
	}
	for name, cfg := range want {
		if _, ok := c.targets[name]; ok {
			continue
		}
		t := newTarget(cfg)
		c.targets[name] = t
		c.sched.add(t, now)
	}
	c.metrics.targets.Set(float64(len(c.targets)))
}

// observe records a finished poll in the metrics and logs changes of a
// target's state (failures are rate-limited per target).
func (c *Component) observe(t *target, res pollResult, lag, took time.Duration, skipped int) {
	name := t.cfg.Name
	c.metrics.polls.WithLabelValues(name).Inc()
	c.metrics.duration.Observe(took.Seconds())
	c.metrics.lag.Observe(lag.Seconds())
	if skipped > 0 {
		c.metrics.skipped.WithLabelValues(name).Add(float64(skipped))
	}
	if res.err != nil {
		c.metrics.failures.WithLabelValues(name).Inc()
		if res.timedOut {
			c.metrics.timeouts.WithLabelValues(name).Inc()
		}
		c.badLog.Warn("poll:"+name, "poll failed", "target", name, "timeout", res.timedOut, "error", res.err)
		t.lastFailed = true
		return
	}
	if t.lastFailed {
		c.r.Log.Info("poll recovered", "target", name)
		t.lastFailed = false
	}
	c.noteSlow(t, took, skipped)
	c.metrics.interfaces.WithLabelValues(name).Set(float64(res.interfaces))
	c.metrics.records.Add(float64(res.interfaces))
}

// noteSlow warns once when a target's polls start to outlive its
// interval, with what the device needs, and says when they fit again.
// The skipped slots themselves are counted per target; slots skipped
// because the poll waited for a worker are the fleet's problem.
func (c *Component) noteSlow(t *target, took time.Duration, skipped int) {
	iv := t.cfg.Interval
	switch {
	case skipped > 0 && took < iv:
		c.badLog.Warn("late:"+t.cfg.Name, "poll started late: slots skipped; every worker was busy (raise workers)",
			"target", t.cfg.Name, "walk_time", took.Round(time.Millisecond), "interval", iv, "skipped", skipped)
	case skipped > 0 && !t.slow:
		t.slow = true
		c.r.Log.Warn("poll outlives its interval: slots skipped", "target", t.cfg.Name,
			"walk_time", took.Round(time.Millisecond), "interval", iv,
			"sustainable_interval", sustainableInterval(took), "skipped", skipped)
	case skipped == 0 && t.slow && took < iv:
		t.slow = false
		c.r.Log.Info("poll fits its interval again", "target", t.cfg.Name, "walk_time", took.Round(time.Millisecond), "interval", iv)
	}
}

// sustainableInterval is the shortest whole-second interval a poll of
// this duration keeps, with a quarter of headroom for a slower walk.
func sustainableInterval(took time.Duration) time.Duration {
	return (took + took/4 + time.Second - 1).Truncate(time.Second)
}
