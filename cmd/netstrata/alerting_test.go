package main

import (
	"context"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/netstrata/netstrata/alerting"
	"github.com/netstrata/netstrata/alerting/alertingtest"
	"github.com/netstrata/netstrata/api"
	"github.com/netstrata/netstrata/internal/schema"
	"github.com/netstrata/netstrata/internal/schema/schematest"
	"github.com/netstrata/netstrata/internal/store"
	"github.com/netstrata/netstrata/internal/telemetry"
)

// TestSpikeAlertCarriesTheVerdictThroughAlertmanager runs the API and
// alerting on one database, drives a spike of four pods to port 8081 on
// worker-1 into it, and checks that the alert Alertmanager delivers names
// the culprit port and pods (the investigation's verdict) and links to
// the console's investigate view of the node, then resolves.
func TestSpikeAlertCarriesTheVerdictThroughAlertmanager(t *testing.T) {
	am := alertingtest.StartAlertmanager(t)
	conn, st := schematest.Open(t, schema.DefaultOptions())
	r := telemetry.NewReporter(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	a := startAPI(t, r, st)
	waitHealthy(t, "http://"+a.Addr()+"/healthz")

	tr := alertingtest.StartTraffic(t, conn, 5_000)
	cfg := alerting.DefaultConfiguration()
	cfg.Interval, cfg.Election, cfg.DefaultRules = time.Second, "none", false
	cfg.Rules = []alerting.Rule{{Name: "NodeTrafficSpike", Kind: alerting.KindTrafficSpike, Subject: alerting.SubjectNode,
		Threshold: 3, ResolveThreshold: 1.5, Min: 1000, Window: 6 * time.Second, Baseline: time.Minute, Resolution: 2 * time.Second,
		For: 3 * time.Second, Labels: map[string]string{"severity": "warning"}}}
	cfg.API.URL, cfg.ConsoleURL = "http://"+a.Addr(), "https://netstrata.example"
	cfg.Alertmanagers = []string{am.URL}
	al, err := alerting.New(r.Component("alerting"), cfg, alerting.Dependencies{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	if err := al.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = al.Stop() })

	time.Sleep(3 * time.Second)
	tr.Set(100_000)
	match := map[string]string{"alertname": "NodeTrafficSpike", "node": "worker-1"}
	fired, err := am.WaitAlert(ctx, "firing", match)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("annotations: %v", fired.Annotations)
	ann := fired.Annotations
	if !strings.Contains(ann["top_ports"], "8081") {
		t.Errorf("top_ports %q does not name 8081", ann["top_ports"])
	}
	if !strings.Contains(ann["top_pods"], "frontend-") {
		t.Errorf("top_pods %q does not name the frontends", ann["top_pods"])
	}
	if ann["verdict"] == "" || strings.HasPrefix(ann["verdict"], "unavailable") {
		t.Errorf("verdict %q", ann["verdict"])
	}
	if !strings.HasPrefix(fired.GeneratorURL, "https://netstrata.example/?") || !strings.Contains(fired.GeneratorURL, "node=worker-1") ||
		ann["investigate_url"] != fired.GeneratorURL {
		t.Errorf("generatorURL %q, investigate_url %q", fired.GeneratorURL, ann["investigate_url"])
	}
	// netstrata alerts shows it, with its verdict, from the API.
	out := cli(t, "alerts", "--api", "http://"+a.Addr())
	for _, want := range []string{"firing", "NodeTrafficSpike", "node=worker-1", "load growth"} {
		if !strings.Contains(out, want) {
			t.Errorf("netstrata alerts does not show %q:\n%s", want, out)
		}
	}
	tr.Set(5_000)
	if _, err := am.WaitAlert(ctx, "resolved", match); err != nil {
		t.Fatal(err)
	}
	if out := cli(t, "alerts", "--api", "http://"+a.Addr()); !strings.Contains(out, "no alerts") {
		t.Errorf("resolved alert still listed as firing:\n%s", out)
	}
	if out := cli(t, "alerts", "--api", "http://"+a.Addr(), "--history", "--since", "1h"); strings.Count(out, "NodeTrafficSpike") != 2 {
		t.Errorf("history does not list the firing and the resolution:\n%s", out)
	}
}

// cli runs the netstrata command line and returns its output.
func cli(t *testing.T, args ...string) string {
	t.Helper()
	var out, errb strings.Builder
	if code := run(args, &out, &errb); code != 0 {
		t.Fatalf("netstrata %v: exit %d: %s", args, code, errb.String())
	}
	return out.String()
}

// startAPI runs the API without authentication on loopback, reading st
// as the read-only user.
func startAPI(t *testing.T, r *telemetry.Reporter, st store.Configuration) *api.Component {
	t.Helper()
	acfg := api.DefaultConfiguration()
	acfg.Listen, acfg.AuthDisabled, acfg.ReconnectInterval = "127.0.0.1:0", true, 200*time.Millisecond
	a, err := api.New(r.Component("api"), acfg, api.Dependencies{Store: schematest.Reader(t, st)})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Stop() })
	return a
}

func waitHealthy(t *testing.T, url string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not healthy: %v", url, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
