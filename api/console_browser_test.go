package api

import (
	"context"
	"encoding/json"
	"flag"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/netstrata/netstrata/api/query"
	"github.com/netstrata/netstrata/console"
	"github.com/netstrata/netstrata/internal/schema"
	"github.com/netstrata/netstrata/internal/schema/schematest"
	"github.com/netstrata/netstrata/internal/testenv"
)

var updateScreenshots = flag.Bool("update-screenshots", false, "write the console's screenshots to docs/screenshots")

// consoleBrowser is what the browser test needs: the built console, the
// system's Chromium and the console's playwright-core (npm ci).
func consoleBrowser(t testing.TB) (app fs.FS, chromium string) {
	t.Helper()
	app, ok := console.Assets()
	if !ok {
		testenv.Skip(t, "console not built: make console (npm ci && npm run build in console/), then rebuild the test")
	}
	chromium = testenv.Command(t, "chromium")
	if _, err := os.Stat("../console/node_modules/playwright-core"); err != nil {
		testenv.Skip(t, "no playwright-core: cd console && npm ci")
	}
	return app, chromium
}

// browserAPI is an API over a fresh database serving the built console.
func browserAPI(t *testing.T) (*testAPI, string) {
	app, chromium := consoleBrowser(t)
	conn, st := schematest.Open(t, schema.DefaultOptions())
	c, err := New(testReporter(), testConfig(), Dependencies{Store: schematest.Reader(t, st), Console: app})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Stop() })
	deadline := time.Now().Add(time.Minute)
	for c.conn.Load() == nil {
		if time.Now().After(deadline) {
			t.Fatal("API did not connect to the database")
		}
		time.Sleep(20 * time.Millisecond)
	}
	return &testAPI{c: c, conn: conn, url: "http://" + c.Addr()}, chromium
}

// The console in headless Chromium over the seed scenario (four frontend
// pods on worker-1 triple their traffic to :8081 in minutes 40–50): the
// checks themselves are in console/e2e/browser.mjs, which fails on the
// first that does not hold and on any error in the browser's console.
func TestConsoleInBrowserShowsTheInvestigationAndItsViews(t *testing.T) {
	a, chromium := browserAPI(t)
	s := newScenario()
	seedWorker1(t, a, s, true, false)
	alertURL := seedFiringAlert(t, a, s)

	// The same API with a token, for the console's token dialog.
	cfg := testConfig()
	cfg.AuthDisabled, cfg.Tokens = false, []string{testToken}
	app, _ := console.Assets()
	guarded, err := New(testReporter(), cfg, Dependencies{Store: a.c.deps.Store, Console: app})
	if err != nil {
		t.Fatal(err)
	}
	if err := guarded.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = guarded.Stop() })

	facts := scenarioFacts(t, a, chromium, s)
	facts["spikeStart"] = s.start.Add(40 * time.Minute).Format("2006-01-02 15:04:05Z")
	facts["spikeEnd"] = s.start.Add(50 * time.Minute).Format("2006-01-02 15:04:05Z")
	facts["device"], facts["ifIndex"], facts["guarded"], facts["token"] = "sw1", 3, "http://"+guarded.Addr(), testToken
	facts["alertURL"] = alertURL
	if os.Getenv("NETSTRATA_E2E_HOLD") != "" { // to drive the console by hand
		b, _ := json.Marshal(facts)
		t.Logf("NETSTRATA_E2E='%s'", b)
		time.Sleep(10 * time.Minute)
	}
	testenv.BrowserScript(t, "../console", "e2e/browser.mjs", facts)
}

// The investigate page over the seed scenario stored without the agent's
// sockets and without SNMP: console/e2e/missing.mjs checks that it names
// both layers and says unknown wherever it needs them, never 0.
func TestConsoleInBrowserNamesTheMissingLayers(t *testing.T) {
	a, chromium := browserAPI(t)
	s := newScenario()
	seedWorker1(t, a, s, true, false, "sockets", "snmp")
	facts := scenarioFacts(t, a, chromium, s)
	facts["missing"] = []string{"snmp", "sockets"}
	testenv.BrowserScript(t, "../console", "e2e/missing.mjs", facts)
}

// scenarioFacts are what every browser script over the seed scenario
// needs: where the console is, the browser, where screenshots go (the
// committed ones with -update-screenshots), the range and its subject.
func scenarioFacts(t *testing.T, a *testAPI, chromium string, s scenario) map[string]any {
	shots := t.TempDir()
	if *updateScreenshots {
		shots, _ = filepath.Abs("../docs/screenshots")
	}
	return map[string]any{
		"base": a.url, "chromium": chromium, "screenshots": shots,
		"from": s.start.Format(time.RFC3339), "to": s.end.Format(time.RFC3339),
		"node": "worker-1", "port": "8081", "pods": []string{"shop/frontend-0", "shop/frontend-1", "shop/frontend-2", "shop/frontend-3"},
		"exporterLost": seedExporterLost,
	}
}

// seedFiringAlert records the alert the alerting component would have
// fired on the scenario's spike, with its verdict and console link, and
// returns that link.
func seedFiringAlert(t *testing.T, a *testAPI, s scenario) string {
	t.Helper()
	at := s.start.Add(50 * time.Minute)
	link := "http://netstrata.example/?" + url.Values{"kind": {"node"}, "node": {"worker-1"},
		"from": {s.start.Format(time.RFC3339)}, "to": {s.end.Format(time.RFC3339)}}.Encode()
	err := a.conn.Exec(context.Background(), `INSERT INTO alerts
		(time, fingerprint, rule, kind, status, starts_at, ends_at, value, labels, annotations, generator_url, instance) VALUES
		({t:DateTime64(3)}, 'f1', 'NodeTrafficSpike', 'traffic_spike', 'firing', {t:DateTime64(3)}, 0, 3.1,
			{'alertname': 'NodeTrafficSpike', 'severity': 'warning', 'node': 'worker-1', 'subject': 'node worker-1'},
			{'summary': 'traffic of node worker-1 3.1× its baseline', 'verdict': 'traffic spike on worker-1 to :8081',
			 'top_ports': '8081 (97%)', 'top_pods': 'shop/frontend-0 (25%), shop/frontend-1 (25%), shop/frontend-2 (25%)',
			 'session_health': 'healthy', 'investigate_url': '`+link+`'}, '`+link+`', 'a')`, // a link has no quote
		clickhouse.Named("t", query.Time(at)))
	if err != nil {
		t.Fatal(err)
	}
	return link
}
