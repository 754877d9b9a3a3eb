package alerting

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
)

// amAlert is an alert as Alertmanager's v2 API takes it (postableAlert).
type amAlert struct {
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL,omitempty"`
}

// alertmanagerSender posts batches to base/api/v2/alerts. A firing
// alert's endsAt lies four re-send intervals ahead, as Prometheus does,
// so that Alertmanager resolves it by itself if every replica dies.
func alertmanagerSender(hc *http.Client, base string, resend time.Duration) sender {
	endpoint := strings.TrimSuffix(base, "/") + "/api/v2/alerts"
	return func(ctx context.Context, batch []*Alert) error {
		out := make([]amAlert, len(batch))
		for i, a := range batch {
			ends := a.EndsAt
			if ends.IsZero() {
				ends = time.Now().Add(4 * resend)
			}
			out[i] = amAlert{Labels: a.Labels, Annotations: a.Annotations, StartsAt: a.StartsAt.UTC(), EndsAt: ends.UTC(), GeneratorURL: a.GeneratorURL}
		}
		return postJSON(ctx, hc, endpoint, out)
	}
}

// webhookMessage is the generic webhook's body: one transition of one
// alert, with a Slack-compatible text. Key identifies the transition:
// delivery is at least once, a receiver drops a key it already has.
type webhookMessage struct {
	Version string         `json:"version"`
	Key     string         `json:"key"`
	Status  string         `json:"status"`
	Alerts  []webhookAlert `json:"alerts"`
	Text    string         `json:"text"`
}

type webhookAlert struct {
	Status       string            `json:"status"`
	Fingerprint  string            `json:"fingerprint"`
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	Value        float64           `json:"value"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       *time.Time        `json:"endsAt,omitempty"`
	GeneratorURL string            `json:"generatorURL,omitempty"`
}

// webhookSender posts each transition as its own message.
func webhookSender(hc *http.Client, endpoint string) sender {
	return func(ctx context.Context, batch []*Alert) error {
		for _, a := range batch {
			wa := webhookAlert{Status: a.Status(), Fingerprint: a.Fingerprint, Labels: a.Labels, Annotations: a.Annotations,
				Value: a.Value, StartsAt: a.StartsAt.UTC(), GeneratorURL: a.GeneratorURL}
			if !a.EndsAt.IsZero() {
				e := a.EndsAt.UTC()
				wa.EndsAt = &e
			}
			msg := webhookMessage{Version: "1", Key: a.key(), Status: a.Status(), Alerts: []webhookAlert{wa}, Text: slackText(a)}
			if err := postJSON(ctx, hc, endpoint, msg); err != nil {
				return err
			}
		}
		return nil
	}
}

// slackText is one line a chat shows: status, rule, subject, summary,
// verdict and a link to the investigation (Slack's <url|label> form).
func slackText(a *Alert) string {
	var b strings.Builder
	fmt.Fprintf(&b, "[%s] %s", strings.ToUpper(a.Status()), a.Labels["alertname"])
	keys := make([]string, 0, len(a.Labels))
	for k := range a.Labels {
		if k != "alertname" && k != "kind" && k != "severity" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, " %s=%s", k, a.Labels[k])
	}
	if s := a.Annotations["summary"]; s != "" {
		b.WriteString(": " + s)
	}
	if v := a.Annotations["verdict"]; v != "" && a.EndsAt.IsZero() {
		b.WriteString(" — " + v)
	}
	if a.GeneratorURL != "" {
		fmt.Fprintf(&b, " <%s|investigate>", a.GeneratorURL)
	}
	return b.String()
}

// postJSON posts v and wants a 2xx answer.
func postJSON(ctx context.Context, hc *http.Client, endpoint string, v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("post %s: %w", redactURL(endpoint), err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("post %s: %s: %s", redactURL(endpoint), resp.Status, bytes.TrimSpace(msg))
	}
	return nil
}

// redactURL keeps scheme and host: a webhook's path, query or user part
// often holds its secret (Slack's do).
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Scheme + "://" + u.Host
}

// receiverName is a metric label for a receiver: its kind and host.
func receiverName(kind, s string) string {
	if u, err := url.Parse(s); err == nil {
		return kind + ":" + u.Host
	}
	return kind
}
