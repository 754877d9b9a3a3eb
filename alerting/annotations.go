package alerting

import (
	"fmt"
	"maps"
	"strings"
	"text/template"
	"time"
)

// templateFuncs format values in annotation templates.
var templateFuncs = template.FuncMap{
	"pct":  func(v float64) string { return fmt.Sprintf("%.1f%%", v*100) },
	"ms":   func(v float64) string { return fmt.Sprintf("%.1f ms", v) },
	"bps":  formatBps,
	"secs": func(v float64) string { return (time.Duration(v) * time.Second).String() },
}

// defaultAnnotations say what fired, per kind and metric; a rule's own
// annotations replace them key by key.
func defaultAnnotations(r Rule) map[string]string {
	switch r.Kind {
	case KindUtilisation:
		return map[string]string{
			"summary": `{{.Labels.device}} {{.Labels.if_name}} at {{pct .Value}} {{.Labels.direction}}`,
			"description": `Utilisation of {{.Labels.device}} {{.Labels.if_name}} (ifIndex {{.Labels.if_index}}) averaged {{pct .Value}} ` +
				`{{.Labels.direction}} over the rule's window; it fires above {{pct .Threshold}}.`,
		}
	case KindTrafficSpike:
		return map[string]string{
			"summary":     `traffic of {{.Labels.subject}} {{printf "%.1f" .Value}}× its baseline`,
			"description": `{{.Labels.subject}} carries {{printf "%.1f" .Value}}× the median of its baseline (threshold {{printf "%.1f" .Threshold}}×).`,
		}
	case KindSessionHealth:
		what := map[string]string{
			MetricRTT:         `RTT p95 {{ms .Value}}`,
			MetricJitter:      `jitter p95 {{ms .Value}}`,
			MetricRetransmits: `retransmits {{pct .Value}} of segments`,
		}[r.Metric]
		return map[string]string{"summary": `service {{.Labels.service}}: ` + what}
	case KindFlowSNMP:
		return map[string]string{
			"summary": `{{.Labels.device}} {{.Labels.if_name}}: flows and SNMP disagree {{printf "%.1f" .Value}}×`,
			"description": `Flow bytes × sampling rate over SNMP octets is {{.Labels.ratio}} on {{.Labels.device}} ifIndex {{.Labels.if_index}}: ` +
				`a wrong sampling rate or lost exports.`,
		}
	case KindSilence:
		return map[string]string{"summary": `{{.Labels.subject}} has not reported for {{secs .Value}}`}
	}
	return nil
}

// annotate renders the rule's annotations for one series.
func annotate(r Rule, labels map[string]string, value float64) map[string]string {
	tmpls := defaultAnnotations(r)
	if tmpls == nil {
		tmpls = map[string]string{}
	}
	maps.Copy(tmpls, r.Annotations)
	data := struct {
		Labels           map[string]string
		Value, Threshold float64
	}{labels, value, r.Threshold}
	out := make(map[string]string, len(tmpls))
	for k, src := range tmpls {
		t, err := template.New(k).Funcs(templateFuncs).Option("missingkey=zero").Parse(src)
		if err != nil {
			out[k] = src // validated at load; kept as written
			continue
		}
		var b strings.Builder
		if err := t.Execute(&b, data); err != nil {
			out[k] = src + " (template error: " + err.Error() + ")"
			continue
		}
		out[k] = b.String()
	}
	return out
}

func formatBps(v float64) string {
	units := []string{"b/s", "kb/s", "Mb/s", "Gb/s", "Tb/s"}
	i := 0
	for v >= 1000 && i < len(units)-1 {
		v /= 1000
		i++
	}
	return fmt.Sprintf("%.1f %s", v, units[i])
}
