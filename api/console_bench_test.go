package api

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// BenchmarkConsole measures the console over the benchmark's data set
// (bench_test.go: 50M flow rows, 10M socket rows over 24 hours) in
// Debian's Chromium: the investigate page's time to be fully drawn and
// the frame times of a 10,000-point flow chart. Figures only.
//
//	go test -run '^$' -bench Console -benchtime 1x -timeout 90m ./api/
func BenchmarkConsole(b *testing.B) {
	app, chromium := consoleBrowser(b)
	a := benchAPI(b)
	c, err := New(testReporter(), testConfig(), Dependencies{Store: a.c.deps.Store, Console: app})
	if err != nil {
		b.Fatal(err)
	}
	if err := c.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	defer func() { _ = c.Stop() }()
	for c.conn.Load() == nil {
		time.Sleep(20 * time.Millisecond)
	}
	facts, _ := json.Marshal(map[string]any{"base": "http://" + c.Addr(), "chromium": chromium, "node": "worker-1", "runs": 5,
		"from": bench.end.Add(-24 * time.Hour).Format(time.RFC3339), "to": bench.end.Format(time.RFC3339), "span": 86400})
	for b.Loop() {
		cmd := exec.Command("node", "e2e/bench.mjs")
		cmd.Dir = "../console"
		cmd.Env = append(os.Environ(), "NETSTRATA_E2E="+string(facts))
		out, err := cmd.CombinedOutput()
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			b.Log(line)
		}
		if err != nil {
			b.Fatalf("browser bench: %v", err)
		}
	}
}
