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
  alerting         evaluate alerting rules, explain and notify (Alertmanager, webhooks)
  investigate      ask a running API why traffic spiked (netstrata investigate --help)
  alerts           list the alerts firing now, or their history, from a running API
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
	if cmd == "--version" {
		cmd = "version"
	}
	c, ok := commands[cmd]
	if !ok {
		fmt.Fprintf(stderr, "netstrata: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
	if c.run != nil {
		return c.run(rest, stdout, stderr)
	}
	return runServices(cmd, rest, stdout, stderr)
}

// runServices is a command that runs services (components, embedded
// servers) until a signal: it reads the configuration, then runs them.
func runServices(cmd string, rest []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("netstrata "+cmd, flag.ContinueOnError)
	only := ""
	probe := false
	if cmd == "npm-agent" {
		fs.BoolVar(&probe, "probe", false, "print which eBPF program types and strategies this kernel accepts, and exit (non-zero when none can run)")
	}
	if cmd == "standalone" {
		fs.StringVar(&only, "only", "", "start only these, comma-separated: kafka, clickhouse and component names (e.g. --only kafka,clickhouse)")
	}
	cfg, code := loadConfig(cmd, fs, rest, func() map[string]bool { return componentsRun(cmd, only) }, stderr)
	if cfg == nil {
		return code
	}
	if probe {
		return runProbe(cfg, stdout)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := runCommand(ctx, cmd, only, cfg, stderr); err != nil {
		fmt.Fprintf(stderr, "netstrata %s: %v\n", cmd, err)
		return 1
	}
	return 0
}

// runConfig is `netstrata config`: the effective configuration as YAML.
func runConfig(rest []string, stdout, stderr io.Writer) int {
	cfg, code := loadConfig("config", flag.NewFlagSet("netstrata config", flag.ContinueOnError), rest, nil, stderr)
	if cfg == nil {
		return code
	}
	if err := cfg.Write(stdout); err != nil {
		fmt.Fprintf(stderr, "netstrata config: %v\n", err)
		return 1
	}
	return 0
}

// loadConfig parses a command's flags (--config and those already on
// fs) and loads the configuration of the components it runs; a nil
// configuration comes with the exit code.
func loadConfig(cmd string, fs *flag.FlagSet, args []string, runs func() map[string]bool, stderr io.Writer) (*Config, int) {
	fs.SetOutput(stderr)
	configPath := fs.String("config", os.Getenv("NETSTRATA_CONFIG"), "YAML configuration file (default: built-in defaults)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: netstrata %s [--config FILE]\n\n%s\n\nFlags:\n", cmd, commands[cmd].help)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, 0
		}
		return nil, 2
	}
	cfg := DefaultConfig()
	if runs != nil {
		cfg.runs = runs()
	}
	if err := cfg.Load(*configPath, os.Environ()); err != nil {
		fmt.Fprintf(stderr, "netstrata %s: %v\n", cmd, err)
		return nil, 1
	}
	return cfg, 0
}

// componentsRun names the components a command runs (nil: all, for a
// full standalone).
func componentsRun(cmd, only string) map[string]bool {
	switch cmd {
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
