package api

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/netstrata/netstrata/internal/schema/schematest"
	"github.com/netstrata/netstrata/internal/store"
)

// In standalone the correlator creates the database a moment after the
// API starts: the API must not wait a whole reconnect interval for it.
func TestAPIConnectsSoonAfterTheDatabaseAppears(t *testing.T) {
	st := schematest.Database(t) // named, not created yet
	cfg := testConfig()
	cfg.ReconnectInterval = 10 * time.Minute
	c := startTestAPI(t, cfg, schematest.Reader(t, st))
	healthz := func() int {
		resp, err := http.Get("http://" + c.Addr() + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	deadline := time.Now().Add(time.Minute)
	for c.dbError() == "not connected yet" && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if code := healthz(); code != http.StatusServiceUnavailable {
		t.Fatalf("healthz before the database exists: %d", code)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := store.Open(ctx, st) // the writer creates the database
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for healthz() != http.StatusOK {
		if time.Now().After(deadline) {
			t.Fatalf("not healthy a minute after the database appeared (reconnect interval %s): %s", cfg.ReconnectInterval, c.dbError())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// dbError is why the API has no connection ("" when it has one).
func (c *Component) dbError() string {
	c.dbMu.Lock()
	defer c.dbMu.Unlock()
	if c.dbErr == nil {
		return ""
	}
	return c.dbErr.Error()
}
