package alerting

import (
	"context"
	runtimemetrics "runtime/metrics"
	"syscall"
	"testing"
	"time"

	"github.com/netstrata/netstrata/alerting/alertingtest"
	"github.com/netstrata/netstrata/internal/schema"
	"github.com/netstrata/netstrata/internal/schema/schematest"
)

// BenchmarkDefaultRules evaluates the shipped rules over 10,000 SNMP
// interfaces (200 devices × 50, polled every minute) and 5,000 services
// (50 nodes × 100 services, one client each, agent interval 10 s), 35
// minutes of each (the spike rules' baseline): what one 30-second tick
// costs. Reported per evaluation: wall time, CPU of the Go side, CPU of
// the whole process (the embedded ClickHouse runs in it, so this is
// alerting plus its queries), queries and the rows ClickHouse read.
func BenchmarkDefaultRules(b *testing.B) {
	conn, st := schematest.Open(b, schema.DefaultOptions())
	now := time.Now().UTC().Truncate(time.Minute)
	began := time.Now()
	what := alertingtest.LoadFleet(b, conn, now)
	b.Logf("loaded %s in %v", what, time.Since(began).Round(time.Second))

	cfg := DefaultConfiguration()
	cfg.Election, cfg.API.URL = "none", ""
	c, err := New(testReporter(), cfg, Dependencies{Store: st})
	if err != nil {
		b.Fatal(err)
	}
	c.states = map[string]*ruleState{}
	for _, r := range c.rules {
		c.states[r.Name] = newRuleState(r)
	}
	ctx := context.Background()
	var queries int
	var series int
	perKind := map[string]time.Duration{}
	c.evaluate(ctx, conn, now) // warm the engine's caches
	load0, err := alertingtest.ReadLoad(ctx, conn)
	if err != nil {
		b.Fatal(err)
	}
	goCPU0, procCPU0 := goCPU(), processCPU()
	b.ResetTimer()
	for i := range b.N {
		db := &database{conn: conn, limit: cfg.MaxSeriesPerRule + 1, cache: map[string]any{},
			queries: func(kind string, took time.Duration) { queries++; perKind[kind] += took }}
		for _, r := range c.rules {
			ss, err := measurers[r.Kind](ctx, db, r, now.Add(time.Duration(i)*time.Second))
			if err != nil {
				b.Fatalf("%s: %v", r.Name, err)
			}
			series += len(ss)
			c.states[r.Name].apply(ss, now)
		}
	}
	b.StopTimer()
	n := float64(b.N)
	b.ReportMetric((goCPU()-goCPU0)*1000/n, "go-cpu-ms/eval")
	b.ReportMetric((processCPU()-procCPU0)*1000/n, "process-cpu-ms/eval")
	b.ReportMetric(float64(queries)/n, "queries/eval")
	b.ReportMetric(float64(series)/n, "series/eval")
	for kind, d := range perKind {
		b.Logf("%-24s %6.0f ms per evaluation", kind, float64(d.Milliseconds())/n)
	}
	if load, err := alertingtest.ReadLoad(ctx, conn); err == nil {
		l := load.Sub(load0).Scale(1 / n)
		b.ReportMetric(l.Queries, "ch-queries/eval")
		b.ReportMetric(l.Rows, "ch-rows-read/eval")
		b.ReportMetric(l.Bytes/1e6, "ch-MB-read/eval")
		b.ReportMetric(l.Seconds, "ch-query-s/eval")
	}
}

// goCPU is the CPU time spent in Go code so far, seconds.
func goCPU() float64 {
	s := []runtimemetrics.Sample{{Name: "/cpu/classes/user:cpu-seconds"}}
	runtimemetrics.Read(s)
	return s[0].Value.Float64()
}

// processCPU is the process's user and system CPU time so far, seconds.
func processCPU() float64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}
