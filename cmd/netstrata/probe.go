package main

import (
	"fmt"
	"io"

	npmagent "github.com/netstrata/netstrata/npm-agent"
)

// runProbe is `netstrata npm-agent --probe`: the probe table, and exit 1
// when no strategy can run.
func runProbe(cfg *Config, stdout io.Writer) int {
	p := npmagent.ProbeKernel(cfg.NPMAgent.Configuration)
	p.Write(stdout)
	if p.Chosen == "" {
		fmt.Fprintln(stdout, "\nno strategy can run: the agent would exit")
		return 1
	}
	return 0
}
