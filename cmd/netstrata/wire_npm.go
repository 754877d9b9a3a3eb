package main

import (
	"github.com/netstrata/netstrata/internal/bus"
	"github.com/netstrata/netstrata/internal/telemetry"
	npmagent "github.com/netstrata/netstrata/npm-agent"
)

func init() {
	commands["npm-agent"] = command{
		help: `Loads the eBPF programs (a lifecycle tracepoint and a walk over every TCP
socket) and publishes, every npm_agent.interval (10s), one record per active
TCP socket — bytes, segments, retransmits, RTT and jitter, connect latency,
process, cgroup, container — to netstrata.sockets.v1, and in Kubernetes the
pods of this node to netstrata.pods.v1.

At start it probes which program types this kernel accepts by loading them
and runs the first strategy that works: sk_storage_iter (an iterator over
the socket-storage map) or tcp_iter (iter/tcp in every network namespace,
for kernels that refuse iterators over maps). npm_agent.strategy forces one.
--probe prints what was found and exits. Needs root, or CAP_BPF and
CAP_PERFMON (plus CAP_SYS_ADMIN for tcp_iter), on Linux 5.12+ with BTF.`,
		components: func(cfg *Config) []component {
			return []component{{name: "npm-agent", http: cfg.NPMAgent.HTTP, layer: "sockets",
				build: publishing(func(p bus.Publisher, r *telemetry.Reporter) (service, error) {
					return npmagent.New(r, cfg.NPMAgent.Configuration, npmagent.Dependencies{Publisher: p})
				})}}
		},
	}
}
