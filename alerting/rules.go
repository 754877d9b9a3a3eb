package alerting

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"text/template"
	"time"

	"github.com/netstrata/netstrata/internal/config"
)

// Rule is one alerting rule. Every kind measures one value per series
// (an interface, a node, a service, an exporter…); the series is active
// while its value is above Threshold, becomes firing once it has been
// active for For, and resolves when its value falls to ResolveThreshold
// or below (hysteresis) and stays there KeepFiringFor.
type Rule struct {
	Name     string `yaml:"name"`
	Kind     string `yaml:"kind"`
	Disabled bool   `yaml:"disabled"`
	// Subject: traffic_spike measures a node (agents) or an interface
	// (SNMP); silence watches an exporter (flows), an snmp_device or an
	// agent (a node's sockets).
	Subject string `yaml:"subject"`
	// Metric: session_health measures rtt_p95_ms, jitter_p95_ms or
	// retransmit_ratio.
	Metric string `yaml:"metric"`
	// Threshold fires above it; ResolveThreshold (0: Threshold) resolves
	// at or below it. Units: utilisation 0..1, spike growth (× the
	// baseline median), milliseconds, retransmits per segment sent,
	// flow/SNMP disagreement (× either way), silence seconds.
	Threshold        float64 `yaml:"threshold"`
	ResolveThreshold float64 `yaml:"resolve_threshold"`
	// Min ignores small series: bits/s of increase (traffic_spike),
	// segments sent in the window (session_health), SNMP bytes in the
	// window (flow_snmp_mismatch).
	Min float64 `yaml:"min"`
	// Window is the look-back of the measured value (silence: how far
	// back a reporter is remembered).
	Window time.Duration `yaml:"window"`
	// Baseline (traffic_spike) is the look-back before Window whose median
	// is the normal level; Resolution its bucket for node traffic.
	Baseline   time.Duration `yaml:"baseline"`
	Resolution time.Duration `yaml:"resolution"`
	// For is how long a series stays active before it fires;
	// KeepFiringFor how long a firing alert outlives its condition.
	For           time.Duration `yaml:"for"`
	KeepFiringFor time.Duration `yaml:"keep_firing_for"`
	// Labels are added to the alert's; Annotations are text/templates
	// over .Labels, .Value, .Threshold (functions pct, ms, bps, secs).
	Labels      map[string]string `yaml:"labels"`
	Annotations map[string]string `yaml:"annotations"`
}

// Rule kinds.
const (
	KindUtilisation    = "interface_utilisation"
	KindTrafficSpike   = "traffic_spike"
	KindSessionHealth  = "session_health"
	KindFlowSNMP       = "flow_snmp_mismatch"
	KindSilence        = "silence"
	SubjectNode        = "node"
	SubjectInterface   = "interface"
	SubjectExporter    = "exporter"
	SubjectSNMPDevice  = "snmp_device"
	SubjectAgent       = "agent"
	MetricRTT          = "rtt_p95_ms"
	MetricJitter       = "jitter_p95_ms"
	MetricRetransmits  = "retransmit_ratio"
	defaultSpikeWindow = time.Minute
)

var (
	ruleName  = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	labelName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	// subjects and metrics each kind accepts ("" when it takes none).
	kindSubjects = map[string][]string{
		KindUtilisation:   {""},
		KindTrafficSpike:  {SubjectNode, SubjectInterface},
		KindSessionHealth: {""},
		KindFlowSNMP:      {""},
		KindSilence:       {SubjectExporter, SubjectSNMPDevice, SubjectAgent},
	}
	kindMetrics = map[string][]string{
		KindSessionHealth: {MetricRTT, MetricJitter, MetricRetransmits},
	}
)

// DefaultRules ship enabled: utilisation, spikes of nodes and interfaces,
// session health of services, flow/SNMP disagreement and silence of every
// kind of reporter.
func DefaultRules() []Rule {
	warn := map[string]string{"severity": "warning"}
	crit := map[string]string{"severity": "critical"}
	return []Rule{
		{Name: "InterfaceUtilisationHigh", Kind: KindUtilisation, Threshold: 0.9, ResolveThreshold: 0.8,
			Window: 2 * time.Minute, For: 5 * time.Minute, Labels: warn},
		{Name: "NodeTrafficSpike", Kind: KindTrafficSpike, Subject: SubjectNode, Threshold: 3, ResolveThreshold: 1.5,
			Min: 10e6, Window: defaultSpikeWindow, Baseline: 30 * time.Minute, Resolution: 10 * time.Second, For: time.Minute, Labels: warn},
		{Name: "InterfaceTrafficSpike", Kind: KindTrafficSpike, Subject: SubjectInterface, Threshold: 3, ResolveThreshold: 1.5,
			Min: 50e6, Window: 2 * time.Minute, Baseline: 30 * time.Minute, For: 2 * time.Minute, Labels: warn},
		{Name: "ServiceRTTHigh", Kind: KindSessionHealth, Metric: MetricRTT, Threshold: 100, ResolveThreshold: 80,
			Min: 1000, Window: 5 * time.Minute, For: 5 * time.Minute, Labels: warn},
		{Name: "ServiceJitterHigh", Kind: KindSessionHealth, Metric: MetricJitter, Threshold: 50, ResolveThreshold: 40,
			Min: 1000, Window: 5 * time.Minute, For: 5 * time.Minute, Labels: warn},
		{Name: "ServiceRetransmitsHigh", Kind: KindSessionHealth, Metric: MetricRetransmits, Threshold: 0.02, ResolveThreshold: 0.01,
			Min: 1000, Window: 5 * time.Minute, For: 5 * time.Minute, Labels: warn},
		{Name: "FlowSNMPMismatch", Kind: KindFlowSNMP, Threshold: 2, ResolveThreshold: 1.5,
			Min: 100e6, Window: 30 * time.Minute, For: 15 * time.Minute, Labels: warn},
		{Name: "ExporterSilent", Kind: KindSilence, Subject: SubjectExporter, Threshold: 300, Window: 24 * time.Hour, Labels: crit},
		{Name: "SNMPDeviceSilent", Kind: KindSilence, Subject: SubjectSNMPDevice, Threshold: 300, Window: 24 * time.Hour, Labels: crit},
		{Name: "AgentSilent", Kind: KindSilence, Subject: SubjectAgent, Threshold: 300, Window: 24 * time.Hour, Labels: crit},
	}
}

// withDefaults fills what a rule left unset from its kind's shipped rule.
func (r Rule) withDefaults() Rule {
	if r.ResolveThreshold == 0 {
		r.ResolveThreshold = r.Threshold
	}
	if r.Window == 0 {
		r.Window = 5 * time.Minute
		if r.Kind == KindTrafficSpike {
			r.Window = defaultSpikeWindow
		}
	}
	if r.Kind == KindTrafficSpike {
		if r.Baseline == 0 {
			r.Baseline = 30 * time.Minute
		}
		if r.Resolution == 0 {
			r.Resolution = 10 * time.Second
		}
	}
	return r
}

// validate names the bad field of the rule at field ("alerting.rules[2]").
func (r Rule) validate(field string) error {
	errs := []error{
		config.Check(ruleName.MatchString(r.Name), field+".name", "%q is not a name of letters, digits and _", r.Name),
		config.Check(kindSubjects[r.Kind] != nil, field+".kind", "%q is not one of interface_utilisation, traffic_spike, session_health, flow_snmp_mismatch, silence", r.Kind),
		config.Check(r.Threshold > 0, field+".threshold", "must be positive"),
		config.Check(r.ResolveThreshold >= 0 && (r.ResolveThreshold == 0 || r.ResolveThreshold <= r.Threshold),
			field+".resolve_threshold", "must be between 0 and threshold"),
		config.Check(r.Min >= 0, field+".min", "must not be negative"),
		config.Check(r.Window >= 0 && r.Baseline >= 0 && r.Resolution >= 0 && r.For >= 0 && r.KeepFiringFor >= 0,
			field, "durations must not be negative"),
	}
	if subjects, ok := kindSubjects[r.Kind]; ok {
		errs = append(errs, config.Check(slices.Contains(subjects, r.Subject), field+".subject", "%q is not one of %q for %s", r.Subject, subjects, r.Kind))
	}
	metrics := kindMetrics[r.Kind]
	if metrics == nil {
		metrics = []string{""}
	}
	errs = append(errs, config.Check(slices.Contains(metrics, r.Metric), field+".metric", "%q is not one of %q for %s", r.Metric, metrics, r.Kind))
	for k := range r.Labels {
		errs = append(errs, config.Check(labelName.MatchString(k), field+".labels", "%q is not a label name", k))
	}
	for k, v := range r.Annotations {
		if _, err := template.New(k).Funcs(templateFuncs).Parse(v); err != nil {
			errs = append(errs, fmt.Errorf("%s.annotations.%s: %w", field, k, err))
		}
	}
	return errors.Join(errs...)
}
