package api

import (
	"context"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/netstrata/netstrata/internal/testenv"
)

// BenchmarkConsole measures the console over the benchmark's data set
// (bench_test.go: 50M flow rows, 10M socket rows over 24 hours) in
// Debian's Chromium: the investigate page's time to be fully drawn (from
// navigation to every chart drawn: the page, the /investigate and series
// requests and the rendering; reported as ms-drawn-median) and the frame
// times of a 10,000-point flow chart. Figures only. Part of
// scripts/bench.d/api.sh (make bench); alone:
//
//	NETSTRATA_BENCH_FLOWS=50000000 go test -run '^$' -bench Console -benchtime 1x -timeout 90m ./api/
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
	facts := map[string]any{"base": "http://" + c.Addr(), "chromium": chromium, "node": "worker-1", "runs": 5,
		"from": bench.end.Add(-24 * time.Hour).Format(time.RFC3339), "to": bench.end.Format(time.RFC3339), "span": 86400}
	for b.Loop() {
		out := testenv.BrowserScript(b, "../console", "e2e/bench.mjs", facts)
		if m := drawnMedian.FindSubmatch(out); m != nil {
			ms, _ := strconv.ParseFloat(string(m[1]), 64)
			b.ReportMetric(ms, "ms-drawn-median")
		}
	}
}

// drawnMedian finds bench.mjs's figure of the investigate page: from
// navigation to every chart drawn, the investigate request included.
var drawnMedian = regexp.MustCompile(`investigate page fully drawn, median of \d+: (\d+) ms`)
