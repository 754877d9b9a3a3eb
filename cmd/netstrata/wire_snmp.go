package main

import (
	"github.com/netstrata/netstrata/internal/bus"
	"github.com/netstrata/netstrata/internal/telemetry"
	snmppoller "github.com/netstrata/netstrata/snmp-poller"
)

func init() {
	commands["snmp-poller"] = command{
		help: `Polls IF-MIB over SNMP v1/v2c/v3 on every target of snmp_poller.targets (and
snmp_poller.targets_file, re-read on change) and publishes one record per
interface per poll — bps, pps, errors, discards, utilisation, names — to
netstrata.ifstats.v1, keyed by device. Counter wraps, reboots and
discontinuities reset the baseline instead of producing absurd rates.`,
		components: func(cfg *Config) []component {
			return []component{{name: "snmp-poller", http: cfg.SNMPPoller.HTTP,
				build: publishing(func(p bus.Publisher, r *telemetry.Reporter) (service, error) {
					return snmppoller.New(r, cfg.SNMPPoller.Configuration, snmppoller.Dependencies{Publisher: p})
				})}}
		},
	}
}
