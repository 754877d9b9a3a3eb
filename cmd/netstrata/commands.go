package main

// command describes a subcommand: its help and the components it runs.
type command struct {
	help       string
	components func(*Config) []component
}

// commands is filled by the files that wire each component.
var commands = map[string]command{
	"standalone": {help: `Runs embedded Kafka (kfake) and embedded ClickHouse (chDB) and every
component in one process, on loopback. Components whose sources are absent
idle; the eBPF agent is skipped with a logged reason when not root or when
the kernel lacks BPF. For a laptop, a demo or a small site.`},
}
