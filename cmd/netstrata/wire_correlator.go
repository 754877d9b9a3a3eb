package main

import (
	"github.com/netstrata/netstrata/correlator"
	"github.com/netstrata/netstrata/internal/telemetry"
)

func init() {
	commands["correlator"] = command{
		help: `Consumes netstrata.ifstats.v1, .flows.v1, .sockets.v1 and .pods.v1 as the
consumer group correlator.group, enriches flows and sockets (interface
names, pods by time), and writes them to ClickHouse exactly once: offsets
are committed only after the insert, and the stored Kafka offsets plus
insert deduplication tokens make a crash between the two harmless. Applies
the schema migrations at start. Run several for more throughput (up to
one per partition). Poison records go to netstrata.deadletter.v1.`,
		components: func(cfg *Config) []component {
			return []component{{name: "correlator", http: cfg.Correlator.HTTP,
				build: func(e *env, r *telemetry.Reporter) (service, error) {
					return correlator.New(r, cfg.Correlator.Configuration, correlator.Dependencies{Kafka: cfg.Kafka, ClickHouse: cfg.correlatorStore()})
				}}}
		},
	}
}
