package main

import (
	"path/filepath"

	flowcollector "github.com/netstrata/netstrata/flow-collector"
	"github.com/netstrata/netstrata/internal/config"
	npmagent "github.com/netstrata/netstrata/npm-agent"
	snmppoller "github.com/netstrata/netstrata/snmp-poller"
)

// componentSections holds one YAML section per component. Each has its
// own /metrics + /healthz listen address (`http`).
type componentSections struct {
	SNMPPoller    SNMPPollerSection    `yaml:"snmp_poller"`
	FlowCollector FlowCollectorSection `yaml:"flow_collector"`
	NPMAgent      NPMAgentSection      `yaml:"npm_agent"`
}

// SNMPPollerSection is snmp-poller's configuration.
type SNMPPollerSection struct {
	HTTP                     string `yaml:"http"`
	snmppoller.Configuration `yaml:",inline"`
}

// NPMAgentSection is npm-agent's configuration.
type NPMAgentSection struct {
	HTTP                   string `yaml:"http"`
	npmagent.Configuration `yaml:",inline"`
}

// FlowCollectorSection is flow-collector's configuration.
type FlowCollectorSection struct {
	HTTP                        string `yaml:"http"`
	flowcollector.Configuration `yaml:",inline"`
}

func defaultComponentSections() componentSections {
	return componentSections{
		SNMPPoller:    SNMPPollerSection{HTTP: "127.0.0.1:9101", Configuration: snmppoller.DefaultConfiguration()},
		FlowCollector: FlowCollectorSection{HTTP: "127.0.0.1:9102", Configuration: flowcollector.DefaultConfiguration()},
		NPMAgent:      NPMAgentSection{HTTP: "127.0.0.1:9103", Configuration: npmagent.DefaultConfiguration()},
	}
}

// fillComponentPaths puts component state under data_dir when unset.
func (c *Config) fillComponentPaths() {
	if c.FlowCollector.TemplatesFile == "" {
		c.FlowCollector.TemplatesFile = filepath.Join(c.DataDir, "flow-collector", "templates.json")
	}
}

func (c *Config) validateComponents() []error {
	return []error{
		c.SNMPPoller.Validate(),
		checkHTTP("snmp_poller.http", c.SNMPPoller.HTTP),
		c.FlowCollector.Validate(),
		checkHTTP("flow_collector.http", c.FlowCollector.HTTP),
		c.NPMAgent.Validate(),
		checkHTTP("npm_agent.http", c.NPMAgent.HTTP),
	}
}

func (c *Config) maskSecrets() {
	c.SNMPPoller.Configuration = c.SNMPPoller.Redacted()
}

func checkHTTP(field, addr string) error {
	if addr == "" {
		return nil
	}
	return config.CheckListen(field, addr)
}
