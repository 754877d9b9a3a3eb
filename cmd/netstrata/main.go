// Command netstrata is the one binary of netstrata: one subcommand per
// component, and `standalone` to run them all on embedded Kafka and
// ClickHouse.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

const usage = `netstrata — multi-layer network traffic analysis (SNMP, flows, eBPF)

Usage:
  netstrata <command> [--config FILE] [flags]

Commands:
  standalone       embedded Kafka + embedded ClickHouse + every component in one process
  snmp-poller      poll switches and routers over SNMP, publish interface rates
  flow-collector   receive NetFlow v5/v9, IPFIX and sFlow, publish flows
  npm-agent        eBPF agent: per-socket RTT, jitter, retransmits, bytes, pods
  correlator       Kafka -> ClickHouse, enrichment and cross-layer joins
  api              HTTP API (investigate, topn, interfaces, sockets, traffic map)
  investigate      ask a running API why traffic spiked (netstrata investigate --help)
  demo             run the whole pipeline on a lab of namespaces and investigate a spike (root)
  config           print the effective configuration (defaults + file + env) as YAML
  version          print the version

Configuration: one YAML file for all components (--config, or $NETSTRATA_CONFIG),
each in its own section; any scalar is overridable by NETSTRATA_<SECTION>_<KEY>,
e.g. NETSTRATA_KAFKA_BROKERS=k1:9092,k2:9092 or NETSTRATA_API_LISTEN=0.0.0.0:8080.
See README.md for every key.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stdout, usage)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "version", "--version":
		fmt.Fprintln(stdout, "netstrata", version)
		return 0
	case "investigate":
		return runInvestigate(rest, stdout, stderr)
	case "demo":
		return runDemo(rest, stdout, stderr)
	}
	if _, ok := commands[cmd]; !ok && cmd != "config" {
		fmt.Fprintf(stderr, "netstrata: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
	fs := flag.NewFlagSet("netstrata "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", os.Getenv("NETSTRATA_CONFIG"), "YAML configuration file (default: built-in defaults)")
	only := ""
	probe := false
	if cmd == "npm-agent" {
		fs.BoolVar(&probe, "probe", false, "print which eBPF program types and strategies this kernel accepts, and exit (non-zero when none can run)")
	}
	if cmd == "standalone" {
		fs.StringVar(&only, "only", "", "start only these, comma-separated: kafka, clickhouse and component names (e.g. --only kafka,clickhouse)")
	}
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: netstrata %s [--config FILE]\n\n%s\n\nFlags:\n", cmd, commandHelp(cmd))
		fs.PrintDefaults()
	}
	if err := fs.Parse(rest); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	cfg := DefaultConfig()
	cfg.runs = componentsRun(cmd, only)
	if err := cfg.Load(*configPath, os.Environ()); err != nil {
		fmt.Fprintf(stderr, "netstrata %s: %v\n", cmd, err)
		return 1
	}
	if probe {
		return runProbe(cfg, stdout)
	}
	if cmd == "config" {
		if err := cfg.Write(stdout); err != nil {
			fmt.Fprintf(stderr, "netstrata config: %v\n", err)
			return 1
		}
		return 0
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := runCommand(ctx, cmd, only, cfg, stderr); err != nil {
		fmt.Fprintf(stderr, "netstrata %s: %v\n", cmd, err)
		return 1
	}
	return 0
}

// componentsRun names the components a command runs (nil: all, for
// `config` and a full standalone).
func componentsRun(cmd, only string) map[string]bool {
	switch cmd {
	case "config":
		return nil
	case "standalone":
		if only == "" {
			return nil
		}
		m := map[string]bool{}
		for _, n := range strings.Split(only, ",") {
			m[strings.TrimSpace(n)] = true
		}
		return m
	}
	return map[string]bool{cmd: true}
}

func commandHelp(cmd string) string {
	if c, ok := commands[cmd]; ok {
		return c.help
	}
	return "Prints the effective configuration (defaults, then the file, then NETSTRATA_* variables)."
}
