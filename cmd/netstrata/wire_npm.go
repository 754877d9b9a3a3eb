package main

import (
	"github.com/netstrata/netstrata/internal/telemetry"
	npmagent "github.com/netstrata/netstrata/npm-agent"
)

func init() {
	commands["npm-agent"] = command{
		help: `Loads the eBPF programs (lifecycle tracepoints + a socket-storage iterator)
and publishes, every npm_agent.interval (10s), one record per active TCP
socket — bytes, segments, retransmits, RTT and jitter, connect latency,
process, cgroup, container — to netstrata.sockets.v1, and in Kubernetes the
pods of this node to netstrata.pods.v1. Needs root, or CAP_BPF, CAP_PERFMON
and CAP_NET_ADMIN, on Linux 5.11+ with BTF.`,
		components: func(cfg *Config) []component {
			return []component{{name: "npm-agent", http: cfg.NPMAgent.HTTP,
				build: func(e *env, r *telemetry.Reporter) (service, error) {
					p, err := e.publisher()
					if err != nil {
						return nil, err
					}
					return npmagent.New(r, cfg.NPMAgent.Configuration, npmagent.Dependencies{Publisher: p})
				}}}
		},
	}
}
