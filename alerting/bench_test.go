package alerting

import (
	"context"
	"fmt"
	runtimemetrics "runtime/metrics"
	"syscall"
	"testing"
	"time"

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
	from := now.Add(-35 * time.Minute)
	began := time.Now()
	schematest.InsertIfStats(b, conn, schematest.IfLoad{Devices: 200, Interfaces: 50, From: from, Step: time.Minute, Steps: 35,
		SpeedBps: 10e9, Utilisation: 0.4})
	for n := range 50 {
		schematest.InsertSockets(b, conn, schematest.SocketLoad{Node: fmt.Sprintf("node-%d", n), Namespace: "bench",
			ClientPrefix: fmt.Sprintf("client-%d-", n), Subnet: n, Clients: 100, Services: 100,
			ServicePod: fmt.Sprintf("svc-%d", n), Service: fmt.Sprintf("10.2.%d.1", n), ServiceNode: fmt.Sprintf("node-%d", n), Port: 10000,
			From: from, Step: 10 * time.Second, Steps: 210, Bytes: 100_000, RTTUs: 2000, JitterUs: 300, Retransmits: 1})
	}
	for e := range 10 {
		l := schematest.SocketLoad{Node: "node-0", Namespace: "bench", ClientPrefix: "c-", Subnet: 200 + e, Clients: 10,
			ServicePod: "svc-0", Service: "10.2.0.1", Port: 10000, From: from, Step: time.Minute, Steps: 35, Bytes: 1_000_000}
		schematest.InsertFlows(b, conn, schematest.FlowLoad{SocketLoad: l, Exporter: fmt.Sprintf("10.0.0.%d", e+1), InIf: 1, OutIf: 2, Sampling: 100})
	}
	b.Logf("loaded 350k interface polls, 1.05M socket intervals, 3.5k flows in %v", time.Since(began).Round(time.Second))

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
	var readRows, readBytes uint64
	if err := conn.Exec(ctx, "SYSTEM FLUSH LOGS"); err == nil {
		_ = conn.QueryRow(ctx, `SELECT sum(read_rows), sum(read_bytes) FROM system.query_log
			WHERE type = 'QueryFinish' AND current_database = currentDatabase() AND query_kind = 'Select'
				AND event_time >= {t:DateTime}`, named("t", began.UTC().Format(time.DateTime))).Scan(&readRows, &readBytes)
	}
	if readRows > 0 {
		evals := n + 1 // with the warm-up
		b.ReportMetric(float64(readRows)/evals, "ch-rows-read/eval")
		b.ReportMetric(float64(readBytes)/evals/1e6, "ch-MB-read/eval")
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
