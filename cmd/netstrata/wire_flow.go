package main

import (
	flowcollector "github.com/netstrata/netstrata/flow-collector"
	"github.com/netstrata/netstrata/internal/bus"
	"github.com/netstrata/netstrata/internal/telemetry"
)

func init() {
	commands["flow-collector"] = command{
		help: `Receives NetFlow v5/v9 and IPFIX (flow_collector.netflow_listen, default
127.0.0.1:2055 and :4739) and sFlow v5 (flow_collector.sflow_listen, :6343),
decodes them, classifies applications, and publishes flows to Kafka
(netstrata.flows.v1, keyed by exporter). v9/IPFIX templates are saved to
flow_collector.templates_file so a restart decodes at once.`,
		components: func(cfg *Config) []component {
			return []component{{name: "flow-collector", http: cfg.FlowCollector.HTTP,
				build: publishing(func(p bus.Publisher, r *telemetry.Reporter) (service, error) {
					return flowcollector.New(r, cfg.FlowCollector.Configuration, flowcollector.Dependencies{Publisher: p})
				})}}
		},
	}
}
