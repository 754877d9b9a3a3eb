package main

import (
	"fmt"
	"io"
)

// command describes a subcommand: its help, and either the components
// it runs as services (until a signal) or, for a program that is not a
// service (investigate, demo, config, version), the function that is it.
type command struct {
	help       string
	components func(*Config) []component
	run        func(args []string, stdout, stderr io.Writer) int
}

// commands is filled by the files that wire each component.
var commands = map[string]command{
	"standalone": {help: `Runs embedded Kafka (kfake) and embedded ClickHouse (chDB) and every
component in one process, on loopback. Components whose sources are absent
idle; the eBPF agent is skipped with a logged reason when not root or when
the kernel lacks BPF. For a laptop, a demo or a small site.`},
}

func init() {
	// In init: runConfig reads commands for its help.
	commands["config"] = command{help: "Prints the effective configuration (defaults, then the file, then NETSTRATA_* variables).",
		run: runConfig}
	commands["version"] = command{help: "Prints the version.", run: func(_ []string, stdout, _ io.Writer) int {
		fmt.Fprintln(stdout, "netstrata", version)
		return 0
	}}
}
