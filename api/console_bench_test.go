package api

import (
	"context"
	"io/fs"
	"os"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/netstrata/netstrata/internal/testenv"
)

// BenchmarkConsole measures the console over the benchmark's data set
// (bench_test.go: 50M flow rows, 10M socket rows over 24 hours) in
// Debian's Chromium: the investigate page's time to be fully drawn (from
// navigation to every chart and table drawn: the page, the /investigate
// and series requests and the rendering; reported as ms-drawn-median,
// with its parts) and the frame
// times of a 10,000-point flow chart. Figures only. Part of
// scripts/bench.d/api.sh (make bench); alone:
//
//	NETSTRATA_BENCH_FLOWS=50000000 go test -run '^$' -bench Console -benchtime 1x -timeout 90m ./api/
//
// NETSTRATA_BENCH_CONSOLE_BASE=<a console's dist/app folder> serves
// that build too, from another API over the same data, and times its
// investigate page in alternation with this one's (base-ms-…): a
// before/after in the same run. NETSTRATA_BENCH_CONSOLE_RUNS: page loads
// per console (default 5).
func BenchmarkConsole(b *testing.B) {
	app, chromium := consoleBrowser(b)
	a := benchAPI(b)
	c := consoleServer(b, a, app)
	facts := map[string]any{"base": "http://" + c.Addr(), "chromium": chromium, "node": "worker-1", "runs": benchSize("NETSTRATA_BENCH_CONSOLE_RUNS", 5),
		"from": bench.end.Add(-24 * time.Hour).Format(time.RFC3339), "to": bench.end.Format(time.RFC3339), "span": 86400}
	if dir := os.Getenv("NETSTRATA_BENCH_CONSOLE_BASE"); dir != "" {
		facts["compare"] = "http://" + consoleServer(b, a, os.DirFS(dir)).Addr()
	}
	for b.Loop() {
		out := testenv.BrowserScript(b, "../console", "e2e/bench.mjs", facts)
		for _, f := range consoleFigures {
			if m := f.re.FindSubmatch(out); m != nil {
				ms, _ := strconv.ParseFloat(string(m[1]), 64)
				b.ReportMetric(ms, f.unit)
			}
		}
	}
}

// consoleServer is another API over the benchmark's database serving
// the console in app (a base build to compare with).
func consoleServer(b *testing.B, a *testAPI, app fs.FS) *Component {
	c, err := New(testReporter(), testConfig(), Dependencies{Store: a.c.deps.Store, Console: app})
	if err != nil {
		b.Fatal(err)
	}
	if err := c.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = c.Stop() })
	for c.conn.Load() == nil {
		time.Sleep(20 * time.Millisecond)
	}
	return c
}

// consoleFigures are bench.mjs's figures of the investigate page, from
// navigation: to every chart and table drawn (ms-drawn-median), and its
// parts: the app's first API request, the last API answer, and the
// drawing after it; base- for the base console, when given.
var consoleFigures = []struct {
	re   *regexp.Regexp
	unit string
}{
	{regexp.MustCompile(`(?m)^figure: investigate page fully drawn, median of \d+: (\d+) ms`), "ms-drawn-median"},
	{regexp.MustCompile(`(?m)^figure: investigate page .*app started (\d+) ms`), "ms-started-median"},
	{regexp.MustCompile(`(?m)^figure: investigate page .*requests answered (\d+) ms`), "ms-answered-median"},
	{regexp.MustCompile(`(?m)^figure: investigate page .*drawing (\d+) ms`), "ms-drawing-median"},
	{regexp.MustCompile(`(?m)^figure: investigate page .*/investigate request (\d+) ms`), "ms-investigate-median"},
	{regexp.MustCompile(`(?m)^figure: base console [^:]*: investigate page fully drawn, median of \d+: (\d+) ms`), "base-ms-drawn-median"},
	{regexp.MustCompile(`(?m)^figure: base console .*/investigate request (\d+) ms`), "base-ms-investigate-median"},
	{regexp.MustCompile(`(?m)^figure: base console .*requests answered (\d+) ms`), "base-ms-answered-median"},
	{regexp.MustCompile(`(?m)^figure: base console .*drawing (\d+) ms`), "base-ms-drawing-median"},
}
