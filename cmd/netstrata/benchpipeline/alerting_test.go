package benchpipeline

import (
	"context"
	"log/slog"
	"net"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/netstrata/netstrata/alerting"
	"github.com/netstrata/netstrata/alerting/alertingtest"
	"github.com/netstrata/netstrata/internal/store"
	"github.com/netstrata/netstrata/internal/telemetry"
)

// BenchmarkFreshnessWhileAlerting measures whether alerting disturbs
// ingest: the pipeline of BenchmarkFreshness at a steady rate, over a
// database that also holds the alerting benchmark's fleet (10,000 SNMP
// interfaces, 5,000 services, 35 minutes), in phases of
// NETSTRATA_BENCH_SECONDS (60) without and with the alerting component
// evaluating the shipped rules every 30 s against the same embedded
// ClickHouse (as `netstrata standalone` runs it), alternated
// NETSTRATA_BENCH_ROUNDS (2) times.
//
//	go test -run '^$' -bench BenchmarkFreshnessWhileAlerting -benchtime 1x ./cmd/netstrata/benchpipeline/
//
// It reports the flows' freshness (received → queryable) p50, p99 and
// max without alerting (off_*) and with it (on_*); per evaluation, the
// ClickHouse load of alerting's queries (queries, rows and MB read,
// query seconds: system.events, less the phases without), its wall time,
// and the process CPU the phases with alerting cost over those without
// (noisy: the pipeline keeps the cores busy).
func BenchmarkFreshnessWhileAlerting(b *testing.B) {
	rate := benchEnv(b, "NETSTRATA_BENCH_RATE", 100_000)
	phase := time.Duration(benchEnv(b, "NETSTRATA_BENCH_SECONDS", 60)) * time.Second
	rounds := benchEnv(b, "NETSTRATA_BENCH_ROUNDS", 2)
	for range b.N {
		p := startPipeline(b)
		ctx, cancel := context.WithCancel(context.Background())
		udp, err := net.DialUDP("udp", nil, p.collectorAddr)
		if err != nil {
			b.Fatal(err)
		}
		gen := newFlowGenerator(5000, 1)
		for _, d := range [][]byte{ipfixTemplate(1, time.Now()), gen.datagram(time.Now())} {
			if _, err := udp.Write(d); err != nil {
				b.Fatal(err)
			}
		}
		p.waitStored(flowsPerDatagram, 5*time.Minute) // the schema is there
		sc, err := store.Open(ctx, p.ch)
		if err != nil {
			b.Fatal(err)
		}
		loaded := time.Now()
		what := alertingtest.LoadFleet(b, sc, loaded.UTC().Truncate(time.Minute))
		b.Logf("loaded %s in %v", what, time.Since(loaded).Round(time.Second))

		const warmUp = 5 * time.Second
		done := make(chan error, 1)
		go func() {
			_, err := send(ctx, udp, gen, rate, warmUp+2*time.Duration(rounds)*phase)
			done <- err
		}()
		time.Sleep(warmUp)
		p.ages.mu.Lock()
		p.ages.measuring = true
		p.ages.mu.Unlock()
		b.ResetTimer()
		var off, on phases
		evals, evalSeconds := 0.0, 0.0
		for range rounds {
			off.add(p.measurePhase(phase, sc))
			al, r := startAlerting(b, p.ch)
			on.add(p.measurePhase(phase, sc))
			if err := al.Stop(); err != nil {
				b.Logf("alerting stop: %v", err)
			}
			n, s := evaluationStats(b, r)
			evals, evalSeconds = evals+n, evalSeconds+s
		}
		b.StopTimer()
		cancel()
		if err := <-done; err != nil {
			b.Fatal(err)
		}
		off.report(b, "off")
		on.report(b, "on")
		b.ReportMetric(evals, "evaluations")
		if evals > 0 {
			b.ReportMetric(evalSeconds/evals, "eval_wall_s")
			b.ReportMetric((on.cpuRate()-off.cpuRate())*on.seconds/evals, "eval_process_cpu_s")
			reportQueryLoad(b, off, on, evals)
		}
		sc.Close()
		p.stop()
	}
}

// phase is one measured stretch: the freshness of the flows stored in
// it, its bounds and the process's CPU time over it.
type phase struct {
	ages     []float64
	from, to time.Time
	cpu      float64
	load     alertingtest.Load // ClickHouse's SELECT work
}

// phases are those of one kind (with or without alerting).
type phases struct {
	list    []phase
	ages    []float64
	seconds float64
	cpu     float64
}

func (ps *phases) add(p phase) {
	ps.list = append(ps.list, p)
	ps.ages = append(ps.ages, p.ages...)
	ps.seconds += p.to.Sub(p.from).Seconds()
	ps.cpu += p.cpu
}

func (ps *phases) cpuRate() float64 { return ps.cpu / ps.seconds }

func (ps *phases) report(b *testing.B, name string) {
	b.ReportMetric(quantile(ps.ages, 0.5), name+"_freshness_p50_s")
	b.ReportMetric(quantile(ps.ages, 0.99), name+"_freshness_p99_s")
	b.ReportMetric(quantile(ps.ages, 1), name+"_freshness_max_s")
	b.ReportMetric(float64(len(ps.ages))/ps.seconds, name+"_flows/s")
	for i, p := range ps.list {
		b.Logf("%s phase %d: %d flows stored, freshness p99 %.2f s, CPU %.1f s over %v", name, i+1, len(p.ages),
			quantile(append([]float64(nil), p.ages...), 0.99), p.cpu, p.to.Sub(p.from).Round(time.Second))
	}
}

// measurePhase measures the freshness of the flows stored over d, and
// the CPU and ClickHouse work it took.
func (p *pipeline) measurePhase(d time.Duration, conn driver.Conn) phase {
	p.ages.mu.Lock()
	first := len(p.ages.stored)
	p.ages.mu.Unlock()
	ph := phase{from: time.Now()}
	cpu := processCPU()
	load := p.load(conn)
	time.Sleep(d)
	ph.cpu, ph.to, ph.load = processCPU()-cpu, time.Now(), p.load(conn).Sub(load)
	p.ages.mu.Lock()
	ph.ages = append([]float64(nil), p.ages.stored[first:]...)
	p.ages.mu.Unlock()
	return ph
}

func (p *pipeline) load(conn driver.Conn) alertingtest.Load {
	l, err := alertingtest.ReadLoad(context.Background(), conn)
	if err != nil {
		p.b.Fatal(err)
	}
	return l
}

// startAlerting runs the alerting component with its defaults (the
// shipped rules every 30 s, the first at once) and no verdicts, over ch.
func startAlerting(b *testing.B, ch store.Configuration) (*alerting.Component, *telemetry.Reporter) {
	r := telemetry.NewReporter(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	cfg := alerting.DefaultConfiguration()
	cfg.Election, cfg.API.URL = "none", ""
	al, err := alerting.New(r.Component("alerting"), cfg, alerting.Dependencies{Store: ch, Instance: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	if err := al.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	return al, r
}

// evaluationStats reads how many evaluations ran and their total seconds.
func evaluationStats(b *testing.B, r *telemetry.Reporter) (n, seconds float64) {
	mfs, err := r.Gatherer.Gather()
	if err != nil {
		b.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "netstrata_alerting_evaluation_seconds" && len(mf.GetMetric()) > 0 {
			h := mf.GetMetric()[0].GetHistogram()
			return float64(h.GetSampleCount()), h.GetSampleSum()
		}
	}
	return 0, 0
}

// reportQueryLoad reports the ClickHouse SELECT work of alerting per
// evaluation: that of the phases with it, less that of the phases
// without at the same rate (the correlator's own reads, this benchmark's).
func reportQueryLoad(b *testing.B, off, on phases, evals float64) {
	var with, without alertingtest.Load
	for _, p := range on.list {
		with = with.Add(p.load)
	}
	for _, p := range off.list {
		without = without.Add(p.load)
	}
	b.Logf("SELECT work without alerting (subtracted at the same rate): %.0f queries, %.0f rows read over %.0f s", without.Queries, without.Rows, off.seconds)
	l := with.Sub(without.Scale(on.seconds / off.seconds)).Scale(1 / evals)
	b.ReportMetric(l.Queries, "ch_queries/eval")
	b.ReportMetric(l.Rows, "ch_rows_read/eval")
	b.ReportMetric(l.Bytes/1e6, "ch_MB_read/eval")
	b.ReportMetric(l.Seconds, "ch_query_s/eval")
}

// processCPU is the process's user and system CPU time so far, seconds.
func processCPU() float64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}
