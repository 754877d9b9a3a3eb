package api

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/netstrata/netstrata/internal/schema"
	"github.com/netstrata/netstrata/internal/schema/schematest"
	"github.com/netstrata/netstrata/internal/store"
	"github.com/netstrata/netstrata/internal/telemetry"
)

// One embedded ClickHouse serves the whole test binary (the engine runs
// once per process); each test gets its own database.
func TestMain(m *testing.M) { os.Exit(schematest.Main(m)) }

func testReporter() *telemetry.Reporter {
	level := slog.LevelWarn
	if os.Getenv("NETSTRATA_API_DEBUG") != "" {
		level = slog.LevelDebug
	}
	return telemetry.NewReporter(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))).Component("api")
}

// testAPI is a started API on a fresh database with the schema applied.
type testAPI struct {
	c    *Component
	conn driver.Conn
	url  string
}

func startTestAPI(t testing.TB, cfg Configuration, st store.Configuration) *Component {
	t.Helper()
	c, err := New(testReporter(), cfg, Dependencies{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Stop(); err != nil {
			t.Errorf("stop: %v", err)
		}
	})
	return c
}

func testConfig() Configuration {
	cfg := DefaultConfiguration()
	cfg.Listen = "127.0.0.1:0"
	cfg.AuthDisabled = true
	cfg.ReconnectInterval = 200 * time.Millisecond
	return cfg
}

func newTestAPI(t testing.TB) *testAPI {
	t.Helper()
	conn, st := schematest.Open(t, schema.DefaultOptions())
	c := startTestAPI(t, testConfig(), schematest.Reader(t, st)) // the API reads as the read-only user
	deadline := time.Now().Add(time.Minute)
	for c.conn.Load() == nil {
		if time.Now().After(deadline) {
			t.Fatal("API did not connect to the database")
		}
		time.Sleep(20 * time.Millisecond)
	}
	return &testAPI{c: c, conn: conn, url: "http://" + c.Addr()}
}

// get calls path with q and decodes the JSON body into out (if not nil),
// returning the status.
func (a *testAPI) get(t testing.TB, path string, q url.Values, out any) int {
	t.Helper()
	u := a.url + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if out != nil {
		if err := json.Unmarshal(body, out); err != nil {
			t.Fatalf("GET %s: %d, decode %q: %v", u, resp.StatusCode, body, err)
		}
	}
	if resp.StatusCode != http.StatusOK && testing.Verbose() {
		t.Logf("GET %s: %d %s", u, resp.StatusCode, body)
	}
	return resp.StatusCode
}
