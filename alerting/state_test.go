package alerting

import (
	"strings"
	"testing"
	"time"
)

func nodeSeries(node string, v float64) series {
	return series{labels: map[string]string{"node": node}, info: map[string]string{"subject": "node " + node}, value: v, subject: subject{Node: node}}
}

// step applies one evaluation and marks what is due as fired, as the
// component does.
func step(st *ruleState, now time.Time, ss ...series) (fired, resolved []*Alert) {
	due, res := st.apply(ss, now)
	for _, a := range due {
		a.StartsAt = now
	}
	return due, res
}

func TestAlertFiresAfterForAndResolvesOnlyBelowTheResolveThreshold(t *testing.T) {
	r := Rule{Name: "Spike", Kind: KindTrafficSpike, Subject: SubjectNode, Threshold: 3, ResolveThreshold: 1.5, For: 20 * time.Second,
		Labels: map[string]string{"severity": "warning"}}.withDefaults()
	st := newRuleState(r)
	t0 := time.Unix(1_700_000_000, 0)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }

	if f, _ := step(st, at(0), nodeSeries("w1", 4)); len(f) != 0 {
		t.Fatal("fired before for elapsed")
	}
	if f, _ := step(st, at(10), nodeSeries("w1", 5)); len(f) != 0 {
		t.Fatal("fired before for elapsed")
	}
	f, _ := step(st, at(20), nodeSeries("w1", 5))
	if len(f) != 1 {
		t.Fatalf("not fired after for: %d", len(f))
	}
	a := f[0]
	if a.Labels["alertname"] != "Spike" || a.Labels["node"] != "w1" || a.Labels["severity"] != "warning" || a.Labels["kind"] != KindTrafficSpike {
		t.Errorf("labels %v", a.Labels)
	}
	if a.Annotations["summary"] == "" {
		t.Error("no summary annotation")
	}
	// In the hysteresis band (1.5 < v <= 3) a firing alert stays.
	if f, res := step(st, at(30), nodeSeries("w1", 2)); len(f)+len(res) != 0 {
		t.Fatalf("transition in the hysteresis band: fired %d resolved %d", len(f), len(res))
	}
	// Below the resolve threshold the series is not returned: resolved.
	_, res := step(st, at(40))
	if len(res) != 1 || res[0] != a || !a.EndsAt.Equal(at(40)) || a.Status() != "resolved" {
		t.Fatalf("not resolved: %v", res)
	}
	// A new activation is a new pending alert, not an instant firing.
	if f, _ := step(st, at(50), nodeSeries("w1", 4)); len(f) != 0 {
		t.Fatal("re-fired without waiting for")
	}
}

func TestPendingAlertInHysteresisBandIsDropped(t *testing.T) {
	r := Rule{Name: "Util", Kind: KindUtilisation, Threshold: 0.9, ResolveThreshold: 0.8, For: time.Minute}.withDefaults()
	st := newRuleState(r)
	t0 := time.Unix(1_700_000_000, 0)
	step(st, t0, nodeSeries("w1", 0.95))
	step(st, t0.Add(30*time.Second), nodeSeries("w1", 0.85)) // back under the threshold while pending
	if f, _ := step(st, t0.Add(70*time.Second), nodeSeries("w1", 0.95)); len(f) != 0 {
		t.Fatal("a pending alert that dipped under the threshold kept its for clock")
	}
	if len(st.active) != 1 {
		t.Fatalf("%d active", len(st.active))
	}
}

func TestKeepFiringForHoldsAResolution(t *testing.T) {
	r := Rule{Name: "Util", Kind: KindUtilisation, Threshold: 0.9, KeepFiringFor: time.Minute}.withDefaults()
	st := newRuleState(r)
	t0 := time.Unix(1_700_000_000, 0)
	if f, _ := step(st, t0, nodeSeries("w1", 0.95)); len(f) != 1 {
		t.Fatal("for 0 did not fire at once")
	}
	if _, res := step(st, t0.Add(30*time.Second)); len(res) != 0 {
		t.Fatal("resolved within keep_firing_for")
	}
	if _, res := step(st, t0.Add(61*time.Second)); len(res) != 1 {
		t.Fatal("not resolved after keep_firing_for")
	}
}

func TestFingerprintDependsOnLabelsOnly(t *testing.T) {
	a := fingerprint(map[string]string{"a": "1", "b": "2"})
	if b := fingerprint(map[string]string{"b": "2", "a": "1"}); a != b {
		t.Error("fingerprint depends on map order")
	}
	if c := fingerprint(map[string]string{"a": "12"}); a == c {
		t.Error("different labels, same fingerprint")
	}
	if d := fingerprint(map[string]string{"a": "1\xffb", "": "2"}); a == d {
		t.Error("label boundaries are not part of the fingerprint")
	}
}

func TestConfigurationNamesTheBadRuleField(t *testing.T) {
	cfg := DefaultConfiguration()
	cfg.Rules = []Rule{
		{Name: "Ok", Kind: KindSilence, Subject: SubjectAgent, Threshold: 60},
		{Name: "Bad", Kind: KindSessionHealth, Metric: "latency", Threshold: 1},
		{Name: "Bad2", Kind: KindUtilisation, Threshold: 0.5, ResolveThreshold: 0.9},
		{Name: "Bad3", Kind: "spike", Threshold: 1, Annotations: map[string]string{"x": "{{"}},
	}
	err := cfg.Validate()
	for _, want := range []string{"alerting.rules[1].metric", "alerting.rules[2].resolve_threshold", "alerting.rules[3].kind", "alerting.rules[3].annotations.x"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not name %s", err, want)
		}
	}
	if err := DefaultConfiguration().Validate(); err != nil {
		t.Fatalf("default configuration: %v", err)
	}
	for i, r := range DefaultRules() {
		if err := r.validate("default"); err != nil {
			t.Errorf("default rule %d: %v", i, err)
		}
	}
}

func TestOperatorRuleReplacesTheShippedOneOfTheSameName(t *testing.T) {
	cfg := DefaultConfiguration()
	cfg.Rules = []Rule{
		{Name: "InterfaceUtilisationHigh", Kind: KindUtilisation, Threshold: 0.5},
		{Name: "AgentSilent", Disabled: true, Kind: KindSilence, Subject: SubjectAgent, Threshold: 1},
		{Name: "Mine", Kind: KindSilence, Subject: SubjectExporter, Threshold: 60},
	}
	rules := cfg.EffectiveRules()
	byName := map[string]Rule{}
	for _, r := range rules {
		byName[r.Name] = r
	}
	if byName["InterfaceUtilisationHigh"].Threshold != 0.5 || byName["InterfaceUtilisationHigh"].ResolveThreshold != 0.5 {
		t.Errorf("override not applied: %+v", byName["InterfaceUtilisationHigh"])
	}
	if _, ok := byName["AgentSilent"]; ok {
		t.Error("disabled rule evaluated")
	}
	if _, ok := byName["Mine"]; !ok || len(rules) != len(DefaultRules())+1-1 {
		t.Errorf("%d rules", len(rules))
	}
}
