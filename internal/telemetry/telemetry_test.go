package telemetry

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestHealthzTurnsUnhealthyAndBackNamingTheCheck(t *testing.T) {
	var logs bytes.Buffer
	r := NewReporter(slog.New(slog.NewTextHandler(&logs, nil))).Component("correlator")
	srv := httptest.NewServer(r.Handler())
	defer srv.Close()
	get := func() (int, string) {
		resp, err := http.Get(srv.URL + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	r.SetHealth("clickhouse", nil)
	if code, _ := get(); code != 200 {
		t.Fatalf("healthy: %d", code)
	}
	for range 3 {
		r.SetHealth("clickhouse", errors.New("connection refused"))
	}
	code, body := get()
	if code != 503 || !strings.Contains(body, `"name":"correlator/clickhouse","status":"failing"`) {
		t.Fatalf("unhealthy: %d %s", code, body)
	}
	if strings.Contains(body, "connection refused") {
		t.Errorf("the public /healthz shows the error: %s", body)
	}
	rec := httptest.NewRecorder()
	r.Health.Detailed().ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if !strings.Contains(rec.Body.String(), `"error":"connection refused"`) {
		t.Errorf("the detailed health lacks the error: %s", rec.Body.String())
	}
	if n := strings.Count(logs.String(), "unhealthy"); n != 1 {
		t.Fatalf("state change logged %d times, want once:\n%s", n, logs.String())
	}
	r.SetHealth("clickhouse", nil)
	if code, _ := get(); code != 200 {
		t.Fatalf("recovered: %d", code)
	}
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("/metrics: %v", err)
	}
	resp.Body.Close()
}

func TestHealthzShowsANoteWithoutTurningUnhealthy(t *testing.T) {
	r := NewReporter(slog.New(slog.NewTextHandler(io.Discard, nil))).Component("npm-agent")
	r.SetNote("layer", "off: no eBPF strategy can run on this kernel")
	rec := httptest.NewRecorder()
	r.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/healthz", nil))
	body := rec.Body.String()
	if rec.Code != 200 || !strings.Contains(body, `"name":"npm-agent/layer","status":"ok","detail":"off: no eBPF strategy can run on this kernel"`) {
		t.Fatalf("%d %s", rec.Code, body)
	}
}

func TestRateLimitedLogsOncePerIntervalAndCountsTheRest(t *testing.T) {
	var logs bytes.Buffer
	rl := NewRateLimited(slog.New(slog.NewTextHandler(&logs, nil)), 50*time.Millisecond)
	for range 100 {
		rl.Warn("bad-template", "unknown template")
	}
	if n := strings.Count(logs.String(), "unknown template"); n != 1 {
		t.Fatalf("logged %d times, want 1", n)
	}
	time.Sleep(60 * time.Millisecond)
	rl.Warn("bad-template", "unknown template")
	if !strings.Contains(logs.String(), "suppressed=99") {
		t.Fatalf("suppressed count missing:\n%s", logs.String())
	}
}

func TestRegisterHandsTheSecondInstanceTheRegisteredCollector(t *testing.T) {
	reg := prometheus.NewRegistry()
	newVec := func() *prometheus.CounterVec {
		return NewMetrics(reg, "test").CounterVec("dropped_total", "x", "topic")
	}
	first, second := newVec(), newVec()
	second.WithLabelValues("flows").Add(3)
	if got := testutil.ToFloat64(first.WithLabelValues("flows")); got != 3 {
		t.Fatalf("the second instance counted into an unregistered duplicate: registered series = %v", got)
	}
	m := NewMetrics(reg, "test")
	m.Counter("dropped_total", "x") // the same name as a CounterVec
	if m.Err() == nil {
		t.Error("a collector of another type under a registered name was accepted")
	}
}

func TestRateLimitedSilencesOnlyItsOwnCallSite(t *testing.T) {
	var logs bytes.Buffer
	rl := NewRateLimited(slog.New(slog.NewTextHandler(&logs, nil)), time.Hour)
	for range 3 {
		rl.Warn("decode", "bad socket record")
		rl.Warn("decode", "bad close event") // same key, another call site
	}
	for _, msg := range []string{"bad socket record", "bad close event"} {
		if n := strings.Count(logs.String(), msg); n != 1 {
			t.Errorf("%q logged %d times, want 1:\n%s", msg, n, logs.String())
		}
	}
}

func TestMetricsFactoryHandsASecondInstanceTheRegisteredCollector(t *testing.T) {
	reg := prometheus.NewRegistry()
	first := NewMetrics(reg, "test").CounterVec("dropped_total", "x", "topic")
	f := NewMetrics(reg, "test")
	second := f.CounterVec("dropped_total", "x", "topic")
	if f.Err() != nil {
		t.Fatal(f.Err())
	}
	second.WithLabelValues("a").Inc()
	if got := testutil.ToFloat64(first.WithLabelValues("a")); got != 1 {
		t.Errorf("the first instance reads %v, want the second's 1", got)
	}
	g := NewMetrics(reg, "test")
	g.Gauge("dropped_total", "another kind")
	if g.Err() == nil {
		t.Error("a gauge registered where a counter is: no error")
	}
}
