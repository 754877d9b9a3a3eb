package alerting

import (
	"crypto/sha256"
	"encoding/hex"
	"maps"
	"sort"
	"strings"
	"time"
)

// Alert is one series of a rule that is pending or firing.
type Alert struct {
	Fingerprint  string
	Rule         string
	Kind         string
	Labels       map[string]string
	Annotations  map[string]string
	Value        float64
	ActiveAt     time.Time // when the condition became true
	StartsAt     time.Time // when it fired; zero while pending
	LastActive   time.Time // the last evaluation that found the condition true
	EndsAt       time.Time // when it resolved; zero while firing
	GeneratorURL string
	subject      subject
	info         map[string]string
}

// Firing says whether the alert has fired.
func (a *Alert) Firing() bool { return !a.StartsAt.IsZero() && a.EndsAt.IsZero() }

// Status is "firing" or "resolved" (an alert that was sent).
func (a *Alert) Status() string {
	if a.EndsAt.IsZero() {
		return "firing"
	}
	return "resolved"
}

// ruleState holds one rule's pending and firing alerts by fingerprint.
type ruleState struct {
	rule   Rule
	active map[string]*Alert
}

func newRuleState(r Rule) *ruleState { return &ruleState{rule: r, active: map[string]*Alert{}} }

// apply moves the rule's alerts by this evaluation's series, measured at
// now, and returns those that should fire now (pending for at least For)
// and those that resolved. A firing alert stays while its value is
// above ResolveThreshold (the series were read down to it) and for
// KeepFiringFor after; a pending alert whose condition fails is dropped.
func (st *ruleState) apply(ss []series, now time.Time) (due, resolved []*Alert) {
	r := st.rule
	seen := map[string]bool{}
	for _, s := range ss {
		labels := alertLabels(r, s.labels)
		fp := fingerprint(labels)
		a, known := st.active[fp]
		if !known && s.value <= r.Threshold {
			continue // below the firing threshold and not firing: hysteresis band
		}
		if known && !a.Firing() && s.value <= r.Threshold {
			continue // a pending alert needs the full threshold
		}
		seen[fp] = true
		if !known {
			a = &Alert{Fingerprint: fp, Rule: r.Name, Kind: r.Kind, Labels: labels, ActiveAt: now}
			st.active[fp] = a
		}
		a.Value, a.LastActive, a.subject, a.info = s.value, now, s.subject, s.info
		a.Annotations = annotate(r, mergeLabels(labels, s.info), s.value)
		if !a.Firing() && now.Sub(a.ActiveAt) >= r.For {
			due = append(due, a)
		}
	}
	for fp, a := range st.active {
		if seen[fp] {
			continue
		}
		if !a.Firing() {
			delete(st.active, fp)
			continue
		}
		if now.Sub(a.LastActive) >= r.KeepFiringFor {
			delete(st.active, fp)
			a.EndsAt = now
			resolved = append(resolved, a)
		}
	}
	sortAlerts(due)
	sortAlerts(resolved)
	return due, resolved
}

// firing lists the rule's firing alerts.
func (st *ruleState) firing() []*Alert {
	var out []*Alert
	for _, a := range st.active {
		if a.Firing() {
			out = append(out, a)
		}
	}
	sortAlerts(out)
	return out
}

// alertLabels are the rule's labels, then the series', then alertname
// and kind (which neither may replace).
func alertLabels(r Rule, own map[string]string) map[string]string {
	l := make(map[string]string, len(r.Labels)+len(own)+2)
	maps.Copy(l, r.Labels)
	for k, v := range own {
		if v != "" {
			l[k] = v
		}
	}
	l["alertname"] = r.Name
	l["kind"] = r.Kind
	return l
}

func mergeLabels(a, b map[string]string) map[string]string {
	m := maps.Clone(a)
	maps.Copy(m, b)
	return m
}

// fingerprint identifies an alert by its labels, as Alertmanager does.
func fingerprint(labels map[string]string) string {
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k)
		b.WriteByte(0xff)
		b.WriteString(labels[k])
		b.WriteByte(0xff)
	}
	sum := sha256.Sum256([]byte(b.String()))
	return hex.EncodeToString(sum[:8])
}

func sortAlerts(as []*Alert) {
	sort.Slice(as, func(i, j int) bool { return as[i].Fingerprint < as[j].Fingerprint })
}
