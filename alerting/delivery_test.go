package alerting

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/netstrata/netstrata/internal/telemetry"
)

func testReporter() *telemetry.Reporter {
	level := slog.LevelWarn
	if os.Getenv("NETSTRATA_ALERTING_DEBUG") != "" {
		level = slog.LevelDebug
	}
	return telemetry.NewReporter(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))).Component("alerting")
}

func testDelivery() DeliveryConfiguration {
	d := DefaultConfiguration().Delivery
	d.MinBackoff, d.MaxBackoff, d.Timeout = 10*time.Millisecond, 50*time.Millisecond, 2*time.Second
	return d
}

// webhookSink records the messages a webhook receives; it answers 503
// while down is set (and counts those refused).
type webhookSink struct {
	srv     *httptest.Server
	down    atomic.Bool
	refused atomic.Int64
	mu      sync.Mutex
	got     []webhookMessage
}

func newWebhookSink(t *testing.T) *webhookSink {
	s := &webhookSink{}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.down.Load() {
			s.refused.Add(1)
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		var m webhookMessage
		if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		s.mu.Lock()
		s.got = append(s.got, m)
		s.mu.Unlock()
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *webhookSink) messages() []webhookMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]webhookMessage(nil), s.got...)
}

func testAlert(node, status string) *Alert {
	a := &Alert{Fingerprint: "fp-" + node, Rule: "Spike", Labels: map[string]string{"alertname": "Spike", "node": node},
		Annotations: map[string]string{"summary": "spike on " + node, "verdict": "load growth to :8081"},
		StartsAt:    time.Now(), GeneratorURL: "http://console/?node=" + node}
	if status == "resolved" {
		a.EndsAt = time.Now()
	}
	return a
}

func TestWebhookReceiverDownForAWhileLosesNothing(t *testing.T) {
	sink := newWebhookSink(t)
	sink.down.Store(true)
	m, err := newMetrics(testReporter())
	if err != nil {
		t.Fatal(err)
	}
	rc := newReceiver("webhook:test", webhookSender(http.DefaultClient, sink.srv.URL), 1,
		func(a *Alert) string { return a.Fingerprint + "/" + a.Status() }, testDelivery(), m)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { rc.run(ctx, time.Second); close(done) }()
	defer func() { cancel(); <-done }()

	now := time.Now()
	rc.enqueue(now, testAlert("w1", "firing"), testAlert("w2", "firing"))
	rc.enqueue(now, testAlert("w1", "resolved"))
	rc.enqueue(now, testAlert("w1", "firing")) // the same transition again: coalesced
	deadline := time.Now().Add(10 * time.Second)
	for testutil.ToFloat64(m.failures.WithLabelValues("webhook:test")) < 5 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	sink.down.Store(false)
	for len(sink.messages()) < 3 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	got := sink.messages()
	if len(got) != 3 {
		t.Fatalf("received %d messages, want 3 (w1 firing, w2 firing, w1 resolved): %+v", len(got), got)
	}
	if got[0].Status != "firing" || got[0].Alerts[0].Labels["node"] != "w1" || got[2].Status != "resolved" {
		t.Errorf("order or status wrong: %s %s %s", got[0].Status, got[1].Status, got[2].Status)
	}
	if !strings.HasPrefix(got[0].Text, "[FIRING] Spike node=w1: spike on w1 — load growth to :8081 <http://console/?node=w1|investigate>") {
		t.Errorf("text %q", got[0].Text)
	}
	if d := testutil.ToFloat64(m.dropped.WithLabelValues("webhook:test", "retry_budget")); d != 0 {
		t.Errorf("%v dropped", d)
	}
}

func TestUndeliverableNotificationsAreDroppedAfterTheBudgetAndCounted(t *testing.T) {
	sink := newWebhookSink(t)
	sink.down.Store(true)
	m, err := newMetrics(testReporter())
	if err != nil {
		t.Fatal(err)
	}
	d := testDelivery()
	d.RetryFor = 50 * time.Millisecond
	d.QueueSize = 2
	rc := newReceiver("webhook:budget", webhookSender(http.DefaultClient, sink.srv.URL), 1,
		func(a *Alert) string { return a.Fingerprint + "/" + a.Status() }, d, m)
	rc.enqueue(time.Now(), testAlert("w1", "firing"), testAlert("w2", "firing"), testAlert("w3", "firing"))
	if q := testutil.ToFloat64(m.dropped.WithLabelValues("webhook:budget", "queue_full")); q != 1 {
		t.Errorf("queue_full drops %v, want 1", q)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { rc.run(ctx, 0); close(done) }()
	deadline := time.Now().Add(10 * time.Second)
	for len(rc.head()) > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
	if q := testutil.ToFloat64(m.dropped.WithLabelValues("webhook:budget", "retry_budget")); q != 2 {
		t.Errorf("retry_budget drops %v, want 2", q)
	}
}
