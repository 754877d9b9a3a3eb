package alerting

import (
	"context"
	"net/url"
	"strings"
	"time"
)

// explainer gives the verdict of a subject over a range.
type explainer interface {
	explain(ctx context.Context, s subject, from, to time.Time) (explanation, error)
}

// explanation is an investigation as annotations, and whether it found
// a spike in the range.
type explanation struct {
	annotations map[string]string
	spike       bool
}

// minInvestigation is the shortest range the investigation accepts.
const minInvestigation = 5 * time.Minute

// investigationRange is the range the investigation of an alert of r
// covers: the rule's baseline and window for a spike (so that it finds
// the same spike; at least the 5 minutes the API asks for), else the
// hour before.
func investigationRange(r Rule, now time.Time) (from, to time.Time) {
	back := time.Hour
	if r.Kind == KindTrafficSpike {
		back = max(r.Baseline+r.Window, minInvestigation)
	}
	to = now.Truncate(time.Second)
	return to.Add(-back), to
}

// consoleLink is the console's investigate view of the subject over the
// range, or its alerts page for an alert without a subject.
func consoleLink(console string, r Rule, s subject, from, to time.Time) string {
	base := strings.TrimSuffix(console, "/")
	if s.zero() {
		return base + "/alerts?" + url.Values{"rule": {r.Name}}.Encode()
	}
	q := s.query()
	switch {
	case s.Node != "":
		q.Set("kind", "node")
	case s.Device != "":
		q.Set("kind", "interface")
	default:
		q.Set("kind", "ip")
	}
	q.Set("from", from.UTC().Format(time.RFC3339))
	q.Set("to", to.UTC().Format(time.RFC3339))
	return base + "/?" + q.Encode()
}
