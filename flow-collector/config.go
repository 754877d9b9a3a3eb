// Package flowcollector receives NetFlow v5/v9, IPFIX and sFlow v5
// datagrams, decodes them with goflow2's decoders, maps them to
// record.Flow and publishes them to netstrata.flows.v1 keyed by exporter
// (see Configuration.PartitionByExporter for how they are partitioned).
package flowcollector

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/netstrata/netstrata/internal/config"
)

// Configuration is the flow_collector section.
type Configuration struct {
	// NetFlowListen receives NetFlow v5, v9 and IPFIX (version sniffed per
	// datagram). Production listens on 0.0.0.0.
	NetFlowListen []string `yaml:"netflow_listen"`
	// SFlowListen receives sFlow v5.
	SFlowListen []string `yaml:"sflow_listen"`
	// Workers is the number of SO_REUSEPORT sockets, each with its own
	// decode goroutine, per listen address; 0 means one per core.
	Workers int `yaml:"workers"`
	// ReceiveBuffer is the kernel receive buffer asked for each socket, in
	// bytes; a warning is logged when the kernel grants less
	// (net.core.rmem_max).
	ReceiveBuffer int `yaml:"receive_buffer"`

	// TemplatesFile keeps NetFlow v9/IPFIX templates and learnt sampling
	// rates across restarts, as a journal appended on each change and
	// compacted when it has grown to twice what it describes; "" keeps
	// them in memory only.
	TemplatesFile string `yaml:"templates_file"`
	// PendingTimeout is how long data for a template not yet seen waits
	// for it; PendingMaxSets bounds how many such sets wait per exporter.
	PendingTimeout time.Duration `yaml:"pending_timeout"`
	PendingMaxSets int           `yaml:"pending_max_sets"`
	// MaxExporters bounds the exporters tracked (state and metrics).
	// When it is reached, the least recently seen exporter silent for at
	// least ExporterEvictionMinIdle makes room; when none is, datagrams
	// from further exporters are dropped and counted.
	MaxExporters int `yaml:"max_exporters"`
	// ExporterIdleTimeout forgets exporters silent for that long (their
	// templates, sampling rates and metric labels).
	ExporterIdleTimeout time.Duration `yaml:"exporter_idle_timeout"`
	// ExporterEvictionMinIdle protects exporters heard from within that
	// time from being evicted to make room for a new one, so that a
	// flood of forged sources cannot push out the exporters in use.
	ExporterEvictionMinIdle time.Duration `yaml:"exporter_eviction_min_idle"`
	// ExporterNetworks, when not empty, is the only place exporters are
	// accepted from (addresses or prefixes; for sFlow the agent address).
	ExporterNetworks []string `yaml:"exporter_networks"`
	// MetricsMaxExporters bounds the exporters that get their own label
	// in per-exporter metrics: the busiest ones; the rest share "other".
	MetricsMaxExporters int `yaml:"metrics_max_exporters"`
	// PartitionByExporter keeps each exporter's flows on one Kafka
	// partition, in order (the record key, the exporter's address, is
	// hashed): for an outside consumer that needs them in order. One busy
	// exporter then loads one partition and one correlator member. By
	// default each produce batch goes whole to one partition and the next
	// to another, so one exporter spreads over every partition; the
	// ordering that matters (sequence accounting, templates) is done in
	// the collector before publishing, and the correlator needs none.
	PartitionByExporter bool `yaml:"partition_by_exporter"`

	// Template budgets. A template is kept and persisted, so what
	// exporters may declare is bounded; when a count or the bytes are
	// exhausted, the least recently used template makes room (for the
	// bytes, one of the exporter holding the most).
	MaxTemplatesPerExporter int `yaml:"max_templates_per_exporter"`
	MaxTemplatesPerDomain   int `yaml:"max_templates_per_domain"`
	// MaxTemplateFields refuses templates declaring more fields.
	MaxTemplateFields int `yaml:"max_template_fields"`
	// MaxTemplateBytes bounds the memory all templates of all exporters
	// may hold (an estimate of their in-memory size).
	MaxTemplateBytes int64 `yaml:"max_template_bytes"`

	// SamplingRates overrides what exporters announce: the most specific
	// matching entry wins over options templates and sFlow headers.
	SamplingRates []SamplingOverride `yaml:"sampling_rates"`
	// DefaultSamplingRate applies when neither the exporter nor an
	// override says anything (1: unsampled).
	DefaultSamplingRate uint64 `yaml:"default_sampling_rate"`
	// MaxSamplingRate refuses (and counts) records, samples and
	// announcements with a higher rate: a forged rate multiplies every
	// byte counted downstream.
	MaxSamplingRate uint64 `yaml:"max_sampling_rate"`

	// SFlowByteBasis is what an sFlow sample's bytes count: "ip" (the IP
	// packet, as NetFlow and IPFIX count it: mixed exporters and SNMP
	// reconciliation then agree) or "frame" (the layer-2 frame, as sFlow
	// reports it). Each flow says which it got (byte_basis).
	SFlowByteBasis string `yaml:"sflow_byte_basis"`

	// Decapsulation looks through tunnels in the packet headers sFlow
	// samples carry, per exporter (the most specific entry wins): the
	// inner packet is stored as the flow, the outer endpoints in
	// tunnel_src_ip/tunnel_dst_ip. Off for every exporter not listed.
	// IPFIX packet sections are not decapsulated (their records' own
	// elements describe the outer packet).
	Decapsulation []DecapsulationRule `yaml:"decapsulation"`

	// ClockSkewThreshold is how far an exporter's clock may be off the
	// collector's (export time vs receive time) before a warning is
	// logged and its flows are shifted by the measured skew.
	ClockSkewThreshold time.Duration `yaml:"clock_skew_threshold"`

	// Applications adds to or replaces the IANA port → application map:
	// keys are "tcp/8443", "udp/5353" or "any/9000", values the name.
	Applications map[string]string `yaml:"applications"`
}

// SamplingOverride sets the sampling rate of an exporter or of every
// exporter in a subnet.
type SamplingOverride struct {
	Exporter string `yaml:"exporter"` // an address or a prefix (10.0.0.0/8)
	Rate     uint64 `yaml:"rate"`
}

// DecapsulationRule names the tunnels looked through for an exporter or
// every exporter in a subnet.
type DecapsulationRule struct {
	Exporter string `yaml:"exporter"` // an address or a prefix (10.0.0.0/8)
	// Tunnels are among vxlan (UDP 4789), gre, mpls (MPLS in IP or in
	// UDP 6635) and srv6 (IPv6 carrying a packet, with or without a
	// segment routing header); empty: none (to exempt part of a subnet).
	Tunnels []string `yaml:"tunnels"`
}

// DefaultConfiguration listens on loopback on the standard ports.
func DefaultConfiguration() Configuration {
	return Configuration{
		NetFlowListen:           []string{"127.0.0.1:2055", "127.0.0.1:4739"},
		SFlowListen:             []string{"127.0.0.1:6343"},
		ReceiveBuffer:           32 << 20,
		PendingTimeout:          10 * time.Second,
		PendingMaxSets:          256,
		MaxExporters:            10_000,
		ExporterIdleTimeout:     time.Hour,
		ExporterEvictionMinIdle: 5 * time.Minute,
		MetricsMaxExporters:     100,
		MaxTemplatesPerExporter: 4096,
		MaxTemplatesPerDomain:   1024,
		MaxTemplateFields:       512,
		MaxTemplateBytes:        16 << 20,
		DefaultSamplingRate:     1,
		MaxSamplingRate:         1 << 20,
		SFlowByteBasis:          byteBasisIP,
		ClockSkewThreshold:      2 * time.Second,
	}
}

// Validate names the bad field.
func (c Configuration) Validate() error {
	var errs []error
	for i, a := range c.NetFlowListen {
		errs = append(errs, config.CheckListen(fmt.Sprintf("flow_collector.netflow_listen[%d]", i), a))
	}
	for i, a := range c.SFlowListen {
		errs = append(errs, config.CheckListen(fmt.Sprintf("flow_collector.sflow_listen[%d]", i), a))
	}
	errs = append(errs,
		config.Check(len(c.NetFlowListen)+len(c.SFlowListen) > 0, "flow_collector.netflow_listen", "no listen address at all"),
		config.Check(c.Workers >= 0, "flow_collector.workers", "must be 0 (one per core) or more"),
		config.Check(c.ReceiveBuffer >= 0, "flow_collector.receive_buffer", "must not be negative"),
		config.Check(c.PendingTimeout >= 0, "flow_collector.pending_timeout", "must not be negative"),
		config.Check(c.PendingMaxSets >= 0, "flow_collector.pending_max_sets", "must not be negative"),
		config.Check(c.MaxExporters > 0, "flow_collector.max_exporters", "must be positive"),
		config.Check(c.ExporterIdleTimeout > 0, "flow_collector.exporter_idle_timeout", "must be positive"),
		config.Check(c.ExporterEvictionMinIdle >= 0, "flow_collector.exporter_eviction_min_idle", "must not be negative"),
		config.Check(c.MetricsMaxExporters > 0, "flow_collector.metrics_max_exporters", "must be positive"),
		config.Check(c.MaxTemplatesPerExporter > 0, "flow_collector.max_templates_per_exporter", "must be positive"),
		config.Check(c.MaxTemplatesPerDomain > 0, "flow_collector.max_templates_per_domain", "must be positive"),
		config.Check(c.MaxTemplateFields > 0 && c.MaxTemplateFields <= 65535, "flow_collector.max_template_fields", "must be between 1 and 65535"),
		config.Check(c.MaxTemplateBytes >= templateCost(c.MaxTemplateFields), "flow_collector.max_template_bytes",
			"must hold at least one template of max_template_fields (%d bytes)", templateCost(c.MaxTemplateFields)),
		config.Check(c.DefaultSamplingRate > 0, "flow_collector.default_sampling_rate", "must be positive"),
		config.Check(c.MaxSamplingRate > 0, "flow_collector.max_sampling_rate", "must be positive"),
		config.Check(c.SFlowByteBasis == byteBasisIP || c.SFlowByteBasis == byteBasisFrame, "flow_collector.sflow_byte_basis", "must be %q or %q", byteBasisIP, byteBasisFrame),
		config.Check(c.ClockSkewThreshold > 0, "flow_collector.clock_skew_threshold", "must be positive"),
		config.Check(c.DefaultSamplingRate <= c.MaxSamplingRate, "flow_collector.default_sampling_rate", "above max_sampling_rate (%d)", c.MaxSamplingRate),
	)
	for i, n := range c.ExporterNetworks {
		if _, err := parseExporterPrefix(n); err != nil {
			errs = append(errs, fmt.Errorf("flow_collector.exporter_networks[%d]: %w", i, err))
		}
	}
	for i, o := range c.SamplingRates {
		field := fmt.Sprintf("flow_collector.sampling_rates[%d]", i)
		if _, err := parseExporterPrefix(o.Exporter); err != nil {
			errs = append(errs, fmt.Errorf("%s.exporter: %w", field, err))
		}
		errs = append(errs, config.Check(o.Rate > 0, field+".rate", "must be positive"),
			config.Check(o.Rate <= c.MaxSamplingRate, field+".rate", "above max_sampling_rate (%d)", c.MaxSamplingRate))
	}
	if _, err := newDecapsulation(c.Decapsulation); err != nil {
		errs = append(errs, err)
	}
	for k, v := range c.Applications {
		if _, _, err := parseAppKey(k); err != nil {
			errs = append(errs, fmt.Errorf("flow_collector.applications[%q]: %w", k, err))
		}
		errs = append(errs, config.Check(strings.TrimSpace(v) != "", fmt.Sprintf("flow_collector.applications[%q]", k), "empty name"))
	}
	return errors.Join(errs...)
}

// parseExporterPrefix accepts an address (a /32 or /128) or a prefix.
func parseExporterPrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, err
		}
		if p.Addr().Is4In6() {
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}
