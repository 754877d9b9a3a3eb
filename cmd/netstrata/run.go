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
	return p, nil
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

func runCommand(ctx context.Context, cmd, only string, cfg *Config, stderr io.Writer) error {
	log := telemetry.NewLogger(cfg.Log, stderr)
	slog.SetDefault(log)
	reporter := telemetry.NewReporter(log)
	e := &env{cfg: cfg, reporter: reporter}
	var started []running
	var stopOnce sync.Once
	stopAll := func() {
		stopOnce.Do(func() {
			stopProducer := func() {
				if e.producer != nil {
					if err := e.producer.Stop(); err != nil {
						log.Warn("stop kafka producer", "error", err)
					}
					e.producer = nil
				}
			}
			// Reverse start order: sources, then the sinks, then the
			// embedded services; the producer flushes before the
			// embedded broker goes.
			for i := len(started) - 1; i >= 0; i-- {
				r := started[i]
				if r.name == "embedded-kafka" {
					stopProducer()
				}
				if err := r.svc.Stop(); err != nil {
					log.Warn("stop", "component", r.name, "error", err)
				}
				if r.http != nil {
					_ = r.http.Stop()
				}
				log.Info("stopped", "component", r.name)
			}
			stopProducer()
		})
	}
	defer stopAll()

	comps, err := commandComponents(cmd, only, cfg)
	if err != nil {
		return err
	}
	for _, c := range comps {
		r := reporter.Component(c.name)
		svc, err := c.build(e, r)
		if err == nil {
			err = svc.Start(ctx)
		}
		if err != nil {
			if c.optional {
				why := firstLine(err.Error())
				log.Warn("component off", "component", c.name, "reason", err)
				r.SetNote("layer", "off: "+why)
				if c.layer != "" {
					e.setLayerOff(c.layer, c.name+" is off: "+why)
				}
				continue
			}
			return fmt.Errorf("%s: %w", c.name, err)
		}
		run := running{name: c.name, svc: svc}
		if c.http != "" {
			if run.http, err = telemetry.Listen(c.http, r.Handler(), log); err != nil {
				_ = svc.Stop()
				return fmt.Errorf("%s: metrics listener: %w", c.name, err)
			}
			log.Info("component started", "component", c.name, "metrics", "http://"+run.http.Addr()+"/metrics")
		} else {
			log.Info("component started", "component", c.name)
		}
		started = append(started, run)
	}
	if e.producer != nil {
		if err := e.producer.Start(ctx); err != nil {
			return err
		}
	}
	if len(started) == 0 {
		return errors.New("nothing to run")
	}
	log.Info("netstrata running", "command", cmd, "version", version, "pid", os.Getpid())
	<-ctx.Done()
	log.Info("shutting down", "signal", context.Cause(ctx))
	done := make(chan struct{})
	go func() { stopAll(); close(done) }()
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
var standaloneOrder = []string{"correlator", "api", "snmp-poller", "flow-collector", "npm-agent"}

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
