package main

import (
	"path/filepath"

	"github.com/netstrata/netstrata/alerting"
	"github.com/netstrata/netstrata/api"
	"github.com/netstrata/netstrata/correlator"
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
	Correlator    CorrelatorSection    `yaml:"correlator"`
	// The API serves /metrics and /healthz on its own listen address.
	API      api.Configuration `yaml:"api"`
	Alerting AlertingSection   `yaml:"alerting"`
}

// AlertingSection is alerting's configuration.
type AlertingSection struct {
	HTTP                   string `yaml:"http"`
	alerting.Configuration `yaml:",inline"`
}

// SNMPPollerSection is snmp-poller's configuration.
type SNMPPollerSection struct {
	HTTP                     string `yaml:"http"`
	snmppoller.Configuration `yaml:",inline"`
}

// CorrelatorSection is correlator's configuration.
type CorrelatorSection struct {
	HTTP                     string `yaml:"http"`
	correlator.Configuration `yaml:",inline"`
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
		Correlator:    CorrelatorSection{HTTP: "127.0.0.1:9104", Configuration: correlator.DefaultConfiguration()},
		API:           api.DefaultConfiguration(),
		Alerting:      AlertingSection{HTTP: "127.0.0.1:9105", Configuration: alerting.DefaultConfiguration()},
	}
}

// fillComponentPaths puts component state under data_dir when unset.
func (c *Config) fillComponentPaths() {
	// Alerting asks this process's API for verdicts with its first token
	// unless it was given one.
	if c.Alerting.API.Token == "" && len(c.API.Tokens) > 0 && c.Alerting.API.URL == "http://"+c.API.Listen {
		c.Alerting.API.Token = c.API.Tokens[0]
	}
	if c.FlowCollector.TemplatesFile == "" {
		c.FlowCollector.TemplatesFile = filepath.Join(c.DataDir, "flow-collector", "templates.json")
	}
}

// validateComponents checks the sections of the components that will run
// (all of them when c.runs is nil): a poller host need not carry API
// tokens.
func (c *Config) validateComponents() []error {
	var errs []error
	if c.runs == nil || c.runs["snmp-poller"] {
		errs = append(errs, c.SNMPPoller.Validate(), checkHTTP("snmp_poller.http", c.SNMPPoller.HTTP))
	}
	if c.runs == nil || c.runs["flow-collector"] {
		errs = append(errs, c.FlowCollector.Validate(), checkHTTP("flow_collector.http", c.FlowCollector.HTTP))
	}
	if c.runs == nil || c.runs["npm-agent"] {
		errs = append(errs, c.NPMAgent.Validate(), checkHTTP("npm_agent.http", c.NPMAgent.HTTP))
	}
	if c.runs == nil || c.runs["correlator"] {
		errs = append(errs, c.Correlator.Validate(), checkHTTP("correlator.http", c.Correlator.HTTP))
	}
	if c.runs == nil || c.runs["api"] {
		errs = append(errs, c.API.Validate())
	}
	if c.runs == nil || c.runs["alerting"] {
		errs = append(errs, c.Alerting.Validate(), checkHTTP("alerting.http", c.Alerting.HTTP))
	}
	return errs
}

func (c *Config) maskSecrets() {
	c.SNMPPoller.Configuration = c.SNMPPoller.Redacted()
	for i := range c.API.Tokens {
		c.API.Tokens[i] = "********"
	}
	c.Alerting.Configuration = c.Alerting.Redacted()
}

func checkHTTP(field, addr string) error {
	if addr == "" {
		return nil
	}
	return config.CheckListen(field, addr)
}
