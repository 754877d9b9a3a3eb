package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/netstrata/netstrata/internal/bus"
	"github.com/netstrata/netstrata/internal/record"
	"github.com/netstrata/netstrata/internal/telemetry"
)

// service is what every component and embedded server offers.
type service interface {
	Start(ctx context.Context) error
	Stop() error
}

// env is what components are built from in one process.
type env struct {
	cfg      *Config
	reporter *telemetry.Reporter
	producer *bus.Producer // shared by the sources of this process
	// helpers are services a build asked for (the producer): the runner
	// starts them before the component that needs them.
	helpers []running

	mu        sync.Mutex
	layersOff map[string]string // investigation layer -> why its optional component is off
}

// setLayerOff records that an optional component's layer is off, and why.
func (e *env) setLayerOff(layer, why string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.layersOff == nil {
		e.layersOff = map[string]string{}
	}
	e.layersOff[layer] = why
}

// offLayers is what the api says of layers with no data in this process.
func (e *env) offLayers() map[string]string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return maps.Clone(e.layersOff)
}

// publisher returns the process's producer, creating it on first use.
func (e *env) publisher() (*bus.Producer, error) {
	if e.producer != nil {
		return e.producer, nil
	}
	p, err := bus.NewProducer(e.cfg.Kafka, e.reporter.Component("kafka"), record.Topics...)
	if err != nil {
		return nil, err
	}
	e.producer = p
	e.helpers = append(e.helpers, running{name: "kafka-producer", svc: p})
	return p, nil
}

// publishing builds a source that publishes through the process's
// producer (created, and started before the source, on first use).
func publishing(build func(p bus.Publisher, r *telemetry.Reporter) (service, error)) func(*env, *telemetry.Reporter) (service, error) {
	return func(e *env, r *telemetry.Reporter) (service, error) {
		p, err := e.publisher()
		if err != nil {
			return nil, err
		}
		return build(p, r)
	}
}

// component is one runnable piece of a command.
type component struct {
	name string
	http string // its /metrics + /healthz listen address; "" for none
	// optional components log why they are off instead of failing the
	// process (the eBPF agent without root or BPF, in standalone).
	optional bool
	// layer is the investigation layer the component feeds ("sockets").
	layer string
	build func(*env, *telemetry.Reporter) (service, error)
}

// running is a started component and its HTTP listener.
type running struct {
	name string
	svc  service
	http *telemetry.Server
}

// runner starts services in order and stops them in reverse: the
// sources before the producer they publish through, the producer (which
// flushes) before the embedded broker.
type runner struct {
	log      *slog.Logger
	started  []running
	stopOnce sync.Once
}

// start starts svc and, when http is set, its /metrics listener.
func (rn *runner) start(ctx context.Context, run running, http string, r *telemetry.Reporter) error {
	if err := run.svc.Start(ctx); err != nil {
		return err
	}
	if http != "" {
		var err error
		if run.http, err = telemetry.Listen(http, r.Handler(), rn.log); err != nil {
			_ = run.svc.Stop()
			return fmt.Errorf("metrics listener: %w", err)
		}
		rn.log.Info("component started", "component", run.name, "metrics", "http://"+run.http.Addr()+"/metrics")
	} else {
		rn.log.Info("component started", "component", run.name)
	}
	rn.started = append(rn.started, run)
	return nil
}

// stopAll stops what started, in reverse order, once.
func (rn *runner) stopAll() {
	rn.stopOnce.Do(func() {
		for i := len(rn.started) - 1; i >= 0; i-- {
			r := rn.started[i]
			if err := r.svc.Stop(); err != nil {
				rn.log.Warn("stop", "component", r.name, "error", err)
			}
			if r.http != nil {
				_ = r.http.Stop()
			}
			rn.log.Info("stopped", "component", r.name)
		}
	})
}

// build builds c, then starts the helpers its build asked for, then c.
func (rn *runner) build(ctx context.Context, e *env, c component, r *telemetry.Reporter) error {
	svc, err := c.build(e, r)
	helpers := e.helpers // started even when the build then failed: they are shared
	e.helpers = nil
	for _, h := range helpers {
		if err := rn.start(ctx, h, "", r); err != nil {
			return fmt.Errorf("%s: %w", h.name, err)
		}
	}
	if err != nil {
		return err
	}
	return rn.start(ctx, running{name: c.name, svc: svc}, c.http, r)
}

func runCommand(ctx context.Context, cmd, only string, cfg *Config, stderr io.Writer) error {
	log := telemetry.NewLogger(cfg.Log, stderr)
	slog.SetDefault(log)
	reporter := telemetry.NewReporter(log)
	e := &env{cfg: cfg, reporter: reporter}
	rn := &runner{log: log}
	defer rn.stopAll()

	comps, err := commandComponents(cmd, only, cfg)
	if err != nil {
		return err
	}
	for _, c := range comps {
		r := reporter.Component(c.name)
		if err := rn.build(ctx, e, c, r); err != nil {
			if !c.optional {
				return fmt.Errorf("%s: %w", c.name, err)
			}
			why := firstLine(err.Error())
			log.Warn("component off", "component", c.name, "reason", err)
			r.SetNote("layer", "off: "+why)
			if c.layer != "" {
				e.setLayerOff(c.layer, c.name+" is off: "+why)
			}
		}
	}
	if len(rn.started) == 0 {
		return errors.New("nothing to run")
	}
	log.Info("netstrata running", "command", cmd, "version", version, "pid", os.Getpid())
	<-ctx.Done()
	log.Info("shutting down", "signal", context.Cause(ctx))
	done := make(chan struct{})
	go func() { rn.stopAll(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		return errors.New("shutdown took longer than 30 s")
	}
	return nil
}

// commandComponents lists what a command runs, in start order.
func commandComponents(cmd, only string, cfg *Config) ([]component, error) {
	c, ok := commands[cmd]
	if !ok {
		return nil, fmt.Errorf("unknown command %q", cmd)
	}
	if cmd != "standalone" {
		return c.components(cfg), nil
	}
	all := []component{}
	if cfg.Embedded.Kafka.Enable {
		all = append(all, embeddedKafka(cfg))
	}
	if cfg.Embedded.ClickHouse.Enable {
		all = append(all, embeddedClickHouse(cfg))
	}
	for _, name := range standaloneOrder {
		if cc, ok := commands[name]; ok {
			for _, comp := range cc.components(cfg) {
				// The eBPF agent needs root and BPF; without them
				// standalone says why and carries on.
				comp.optional = comp.optional || name == "npm-agent"
				all = append(all, comp)
			}
		}
	}
	if only == "" {
		return all, nil
	}
	want := map[string]bool{}
	for _, n := range strings.Split(only, ",") {
		n = strings.TrimSpace(n)
		switch n {
		case "kafka", "clickhouse":
			n = "embedded-" + n
		}
		want[n] = true
	}
	var out []component
	for _, c := range all {
		if want[c.name] {
			out = append(out, c)
			delete(want, c.name)
		}
	}
	if len(want) > 0 {
		var bad []string
		for n := range want {
			bad = append(bad, n)
		}
		sort.Strings(bad)
		return nil, fmt.Errorf("--only: unknown or disabled %s (choose from kafka, clickhouse, %s)", strings.Join(bad, ", "), strings.Join(standaloneOrder, ", "))
	}
	return out, nil
}

// standaloneOrder starts the sinks before the sources so that nothing a
// source publishes waits long for its consumer.
var standaloneOrder = []string{"correlator", "api", "alerting", "snmp-poller", "flow-collector", "npm-agent"}

// embeddedKafka starts kfake and points the Kafka configuration at it.
func embeddedKafka(cfg *Config) component {
	return component{name: "embedded-kafka", build: func(e *env, r *telemetry.Reporter) (service, error) {
		return &embeddedKafkaService{cfg: cfg, r: r}, nil
	}}
}

type embeddedKafkaService struct {
	cfg *Config
	r   *telemetry.Reporter
	b   *bus.Embedded
}

func (s *embeddedKafkaService) Start(context.Context) error {
	b, err := bus.StartEmbedded(s.cfg.Embedded.Kafka.EmbeddedConfiguration, s.r)
	if err != nil {
		return err
	}
	s.b = b
	s.cfg.Kafka.Brokers = []string{b.Addr()}
	return nil
}

func (s *embeddedKafkaService) Stop() error { return s.b.Stop(context.Background()) }

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
