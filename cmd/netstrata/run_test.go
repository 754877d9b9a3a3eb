package main

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"testing"

	"github.com/netstrata/netstrata/internal/telemetry"
)

// orderService records when it starts and stops.
type orderService struct {
	name string
	log  *[]string
}

func (s orderService) Start(context.Context) error {
	*s.log = append(*s.log, "start "+s.name)
	return nil
}
func (s orderService) Stop() error { *s.log = append(*s.log, "stop "+s.name); return nil }

func TestTheProducerStartsBeforeItsFirstSourceAndStopsAfterTheLast(t *testing.T) {
	var log []string
	cfg := DefaultConfig()
	cfg.Kafka.Brokers = []string{"127.0.0.1:1"} // never dialled: nothing is published
	reporter := telemetry.NewReporter(slog.New(slog.NewTextHandler(io.Discard, nil)))
	e := &env{cfg: cfg, reporter: reporter}
	rn := &runner{log: reporter.Log}
	comp := func(name string, publishes bool) component {
		return component{name: name, build: func(e *env, _ *telemetry.Reporter) (service, error) {
			if publishes {
				if _, err := e.publisher(); err != nil {
					return nil, err
				}
			}
			return orderService{name, &log}, nil
		}}
	}
	for _, c := range []component{comp("sink", false), comp("source-1", true), comp("source-2", true)} {
		if err := rn.build(context.Background(), e, c, reporter.Component(c.name)); err != nil {
			t.Fatal(err)
		}
	}
	rn.stopAll()
	var names []string
	for _, r := range rn.started {
		names = append(names, r.name)
	}
	if want := []string{"sink", "kafka-producer", "source-1", "source-2"}; !slices.Equal(names, want) {
		t.Errorf("started %v, want %v", names, want)
	}
	if want := []string{"start sink", "start source-1", "start source-2", "stop source-2", "stop source-1", "stop sink"}; !slices.Equal(log, want) {
		t.Errorf("order %v, want %v", log, want)
	}
}
