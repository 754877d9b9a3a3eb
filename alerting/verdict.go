package alerting

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/netstrata/netstrata/api/apiv1"
	"github.com/netstrata/netstrata/api/client"
)

// apiExplainer asks the API's investigate endpoint.
type apiExplainer struct{ c *client.Client }

func newAPIExplainer(cfg APIConfiguration) explainer {
	return apiExplainer{c: &client.Client{BaseURL: cfg.URL, Token: cfg.Token, HTTP: &http.Client{Timeout: cfg.Timeout}}}
}

func (e apiExplainer) explain(ctx context.Context, s subject, from, to time.Time) (explanation, error) {
	q := s.query()
	q.Set("from", from.UTC().Format(time.RFC3339))
	q.Set("to", to.UTC().Format(time.RFC3339))
	inv, err := e.c.Investigate(ctx, q)
	if err != nil {
		return explanation{}, err
	}
	return verdictAnnotations(inv), nil
}

// verdictAnnotations are the investigation's verdict, its top
// contributors and its session health as annotations.
func verdictAnnotations(inv *apiv1.Investigation) explanation {
	a := map[string]string{}
	if inv.Verdict.Summary != "" {
		a["verdict"] = inv.Verdict.Summary
		a["verdict_kind"] = inv.Verdict.Kind
	}
	if len(inv.Verdict.Evidence) > 0 {
		a["evidence"] = strings.Join(inv.Verdict.Evidence, "; ")
	}
	for name, cs := range map[string][]apiv1.Contributor{
		"top_ports": inv.Contributors.Ports, "top_pods": inv.Contributors.Pods, "top_processes": inv.Contributors.Processes,
		"top_senders": inv.Contributors.Senders, "top_receivers": inv.Contributors.Receivers,
	} {
		if s := topContributors(cs, 3); s != "" {
			a[name] = s
		}
	}
	if s := sessionHealth(inv.Health, 3); s != "" {
		a["session_health"] = s
	}
	if inv.Spike != nil {
		a["spike_window"] = inv.Spike.Start.UTC().Format(time.RFC3339) + " – " + inv.Spike.End.UTC().Format(time.RFC3339)
	}
	return explanation{annotations: a, spike: inv.Spike != nil}
}

// topContributors names the first n contributors with their share of
// the increase: "8081 (92%), 443 (5%)".
func topContributors(cs []apiv1.Contributor, n int) string {
	var parts []string
	for i, c := range cs {
		if i == n {
			break
		}
		parts = append(parts, fmt.Sprintf("%s (%.0f%%)", c.Key, c.Share*100))
	}
	return strings.Join(parts, ", ")
}

// sessionHealth sums up the first n paths' health in the spike: RTT,
// retransmits and whether it degraded against the baseline.
func sessionHealth(hs []apiv1.SessionHealth, n int) string {
	var parts []string
	for i, h := range hs {
		if i == n {
			break
		}
		s := fmt.Sprintf("%s: RTT %.1f ms, retransmits %.2f%%", h.Path, h.Spike.RTTAvgUs/1000, h.Spike.RetransmitRate*100)
		if h.Degraded {
			s += " (degraded: " + h.Reason + ")"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, "; ")
}
