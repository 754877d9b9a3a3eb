package benchpipeline

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	dto "github.com/prometheus/client_model/go"
	"gopkg.in/yaml.v3"

	"github.com/netstrata/netstrata/correlator"
	flowcollector "github.com/netstrata/netstrata/flow-collector"
	"github.com/netstrata/netstrata/internal/bus"
	"github.com/netstrata/netstrata/internal/record"
	"github.com/netstrata/netstrata/internal/schema/schematest"
	"github.com/netstrata/netstrata/internal/store"
	"github.com/netstrata/netstrata/internal/telemetry"
)

func TestMain(m *testing.M) { os.Exit(schematest.Main(m)) }

// stageAges collects, per stored flow, how old it was at each stage end
// (seconds since its datagram was received).
type stageAges struct {
	mu                          sync.Mutex
	measuring                   bool
	polled, insertBegan, stored []float64
	batches                     int
	rows                        int
	last                        time.Time // of the latest call
}

func (s *stageAges) observe(f correlator.StoredFlows) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.measuring {
		return
	}
	s.batches++
	s.rows += len(f.ReceivedMs)
	s.last = time.Now()
	for _, ms := range f.ReceivedMs {
		received := time.UnixMilli(ms)
		s.polled = append(s.polled, f.Polled.Sub(received).Seconds())
		s.insertBegan = append(s.insertBegan, f.InsertBegan.Sub(f.Polled).Seconds())
		s.stored = append(s.stored, f.Stored.Sub(received).Seconds())
	}
}

// quantile returns the q-quantile of v (sorted in place).
func quantile(v []float64, q float64) float64 {
	if len(v) == 0 {
		return 0
	}
	slices.Sort(v)
	return v[min(len(v)-1, int(float64(len(v))*q))]
}

// BenchmarkFreshness measures how long a flow takes from its datagram
// received by the flow collector to its row queryable in ClickHouse, at a
// steady rate: IPFIX datagrams over loopback UDP into the flow collector,
// which publishes to the embedded Kafka, consumed by the correlator into
// the embedded ClickHouse, all with their default configuration, in this
// process (as `netstrata standalone` runs them).
//
//	go test -run '^$' -bench BenchmarkFreshness -benchtime 1x ./cmd/netstrata/benchpipeline/
//
// It reports freshness_p50_s and freshness_p99_s (received → stored)
// and where the time goes, per flow: received → polled by the correlator
// (the producer's linger and request, the broker, the consumer's fetch
// wait, and waiting in the client while the previous batch is stored),
// polled → INSERT began (decoding, enrichment, ingest progress and
// fencing) and the INSERT; before that, the datagram's wait in the
// collector's socket (sent → received, socket_p50_s, socket_p99_s, not in
// the freshness: a flow's age starts when it is read); the producer's own share (publish → acknowledged)
// from its histogram (netstrata_kafka_produce_latency_seconds,
// interpolated within buckets). The environment sets the traffic:
// NETSTRATA_BENCH_RATE flows/s (100,000), NETSTRATA_BENCH_SECONDS measured
// (20, after 5 s of warm-up) and NETSTRATA_BENCH_CONVERSATIONS (5,000);
// NETSTRATA_BENCH_CORRELATOR and NETSTRATA_BENCH_KAFKA change settings of
// the correlator and kafka sections (YAML, see override), and
// NETSTRATA_TEST_MERGE_NICE the embedded engine's merge_nice (see
// schematest.EnvMergeNice).
func BenchmarkFreshness(b *testing.B) {
	rate := benchEnv(b, "NETSTRATA_BENCH_RATE", 100_000)
	secs := benchEnv(b, "NETSTRATA_BENCH_SECONDS", 20)
	conversations := benchEnv(b, "NETSTRATA_BENCH_CONVERSATIONS", 5000)
	for range b.N {
		p := startPipeline(b)
		gen := newFlowGenerator(conversations, 1)
		ctx, cancel := context.WithCancel(context.Background())
		conn, err := net.DialUDP("udp", nil, p.collectorAddr)
		if err != nil {
			b.Fatal(err)
		}
		// The template and a first datagram, stored once the correlator
		// has its schema and has joined the group: start-up is not
		// measured.
		for _, d := range [][]byte{ipfixTemplate(1, time.Now()), gen.datagram(time.Now())} {
			if _, err := conn.Write(d); err != nil {
				b.Fatal(err)
			}
		}
		p.waitStored(flowsPerDatagram, 5*time.Minute)
		var sent int
		var sendErr error
		done := make(chan struct{})
		const warmUp = 5 * time.Second
		go func() {
			defer close(done)
			sent, sendErr = send(ctx, conn, gen, rate, warmUp+time.Duration(secs)*time.Second)
			sent += flowsPerDatagram
		}()
		time.Sleep(warmUp)
		p.ages.mu.Lock()
		p.ages.measuring = true
		p.ages.mu.Unlock()
		b.ResetTimer()
		began := time.Now()
		<-done
		took := time.Since(began)
		b.StopTimer()
		cancel()
		if sendErr != nil {
			b.Fatal(sendErr)
		}
		// What is in flight when the sender stops is measured too.
		p.waitStored(int64(sent), time.Minute)
		p.ages.mu.Lock()
		a := &p.ages
		b.ReportMetric(quantile(a.stored, 0.5), "freshness_p50_s")
		b.ReportMetric(quantile(a.stored, 0.99), "freshness_p99_s")
		b.ReportMetric(quantile(a.polled, 0.5), "polled_p50_s")
		b.ReportMetric(quantile(a.polled, 0.99), "polled_p99_s")
		b.ReportMetric(quantile(a.insertBegan, 0.5), "decode_p50_s")
		b.ReportMetric(quantile(a.insertBegan, 0.99), "decode_p99_s")
		insert := make([]float64, len(a.stored))
		for i := range insert {
			insert[i] = a.stored[i] - a.polled[i] - a.insertBegan[i]
		}
		b.ReportMetric(quantile(insert, 0.5), "insert_p50_s")
		b.ReportMetric(quantile(insert, 0.99), "insert_p99_s")
		b.ReportMetric(float64(a.rows)/float64(max(1, a.batches)), "rows/insert")
		b.ReportMetric(float64(a.rows)/took.Seconds(), "flows/s")
		p50, p99 := histogramQuantiles(b, p.collectorReg, "netstrata_kafka_produce_latency_seconds", 0.5, 0.99)
		b.ReportMetric(p50, "produce_p50_s")
		b.ReportMetric(p99, "produce_p99_s")
		if p50, p99, err := p.socketWait(began); err == nil {
			b.ReportMetric(p50, "socket_p50_s")
			b.ReportMetric(p99, "socket_p99_s")
		} else {
			b.Logf("socket wait: %v", err)
		}
		b.ReportMetric(counter(b, p.correlatorReg, "netstrata_kafka_consumer_catch_ups_total"), "catch_ups")
		b.Logf("sent %d flows at %d/s for %v (after %v of warm-up); %d stored in %d INSERTs while measuring; kernel drops %v",
			sent, rate, took.Round(time.Millisecond), warmUp, a.rows, a.batches, p.collector.KernelDrops())
		p.ages.mu.Unlock()
		p.stop()
	}
}

// send writes datagrams of flows at rate flows/s for d, in bursts every
// 5 ms (as a busy exporter's stream looks on a collector), and returns how
// many flows it sent.
func send(ctx context.Context, conn *net.UDPConn, gen *flowGenerator, rate int, d time.Duration) (int, error) {
	const tick = 5 * time.Millisecond
	t := time.NewTicker(tick)
	defer t.Stop()
	start := time.Now()
	sent := 0
	for now := start; now.Sub(start) < d; now = <-t.C {
		if ctx.Err() != nil {
			return sent, nil
		}
		due := int(now.Sub(start).Seconds() * float64(rate))
		for sent < due {
			if _, err := conn.Write(gen.datagram(now)); err != nil {
				return sent, fmt.Errorf("send: %w", err)
			}
			sent += flowsPerDatagram
		}
	}
	return sent, nil
}

// pipeline is the flow collector, the embedded Kafka, the correlator and
// the embedded ClickHouse, running in this process.
type pipeline struct {
	b             *testing.B
	collector     *flowcollector.Component
	collectorReg  *telemetry.Reporter
	correlatorReg *telemetry.Reporter
	collectorAddr *net.UDPAddr
	ch            store.Configuration // the embedded ClickHouse's database, as the writer
	count         func() (int64, error)
	// socketWait returns p50 and p99 of a flow's time_received less its
	// end (the generator ends each flow when it sends its datagram): the
	// time the datagram waited in the socket, for flows received since.
	socketWait func(since time.Time) (p50, p99 float64, err error)
	ages       stageAges
	stops      []func() error
}

func startPipeline(b *testing.B) *pipeline {
	b.Helper()
	ctx := context.Background()
	p := &pipeline{b: b}
	k, err := bus.StartEmbedded(bus.EmbeddedConfiguration{Listen: "127.0.0.1:0"}, nil)
	if err != nil {
		b.Fatal(err)
	}
	p.stops = append(p.stops, func() error { return k.Stop(ctx) })
	kcfg := bus.DefaultConfiguration()
	kcfg.Brokers = []string{k.Addr()}
	override(b, "NETSTRATA_BENCH_KAFKA", &kcfg)
	if err := bus.EnsureTopics(ctx, kcfg, append([]string{record.TopicDeadLetter}, record.Topics...)...); err != nil {
		b.Fatal(err)
	}
	ch := schematest.Database(b)
	p.ch = ch

	quiet := func() *telemetry.Reporter {
		return telemetry.NewReporter(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	}
	cr := quiet()
	p.correlatorReg = cr
	ccfg := correlator.DefaultConfiguration()
	override(b, "NETSTRATA_BENCH_CORRELATOR", &ccfg)
	c, err := correlator.New(cr, ccfg, correlator.Dependencies{Kafka: kcfg, ClickHouse: ch, Stored: p.ages.observe})
	if err != nil {
		b.Fatal(err)
	}
	if err := c.Start(ctx); err != nil {
		b.Fatal(err)
	}
	p.stops = append(p.stops, c.Stop)

	p.collectorReg = quiet()
	prod, err := bus.NewProducer(kcfg, p.collectorReg, record.TopicFlows)
	if err != nil {
		b.Fatal(err)
	}
	if err := prod.Start(ctx); err != nil {
		b.Fatal(err)
	}
	fcfg := flowcollector.DefaultConfiguration()
	fcfg.NetFlowListen, fcfg.SFlowListen = []string{freeUDP(b)}, nil
	fcfg.TemplatesFile = filepath.Join(b.TempDir(), "templates")
	if p.collector, err = flowcollector.New(p.collectorReg, fcfg, flowcollector.Dependencies{Publisher: prod}); err != nil {
		b.Fatal(err)
	}
	if err := p.collector.Start(ctx); err != nil {
		b.Fatal(err)
	}
	// Stopped in this order: the collector, its producer, then the rest.
	p.stops = append(p.stops, prod.Stop, p.collector.Stop)
	if p.collectorAddr, err = net.ResolveUDPAddr("udp", fcfg.NetFlowListen[0]); err != nil {
		b.Fatal(err)
	}

	sc, err := store.Open(ctx, ch)
	if err != nil {
		b.Fatal(err)
	}
	p.stops = append(p.stops, sc.Close)
	p.count = func() (int64, error) {
		var n uint64
		err := sc.QueryRow(ctx, "SELECT count() FROM flows").Scan(&n)
		return int64(n), err
	}
	p.socketWait = func(since time.Time) (p50, p99 float64, err error) {
		var q []float64
		err = sc.QueryRow(ctx, `SELECT quantilesExact(0.5, 0.99)(toUnixTimestamp64Milli(time_received) - toUnixTimestamp64Milli(time_flow_end)) / 1000
			FROM flows WHERE time_received >= fromUnixTimestamp64Milli({since:Int64})`, clickhouse.Named("since", since.UnixMilli())).Scan(&q)
		if err == nil && len(q) == 2 {
			p50, p99 = q[0], q[1]
		}
		return p50, p99, err
	}
	return p
}

// waitStored waits until n flows are stored and no INSERT came for a
// second, or d passes.
func (p *pipeline) waitStored(n int64, d time.Duration) {
	deadline := time.Now().Add(d)
	for {
		got, err := p.count()
		p.ages.mu.Lock()
		quiet := time.Since(p.ages.last) > time.Second
		p.ages.mu.Unlock()
		if err == nil && got >= n && quiet {
			return
		}
		if time.Now().After(deadline) {
			p.b.Logf("after %v: %d of %d flows stored (%v)", d, got, n, err)
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func (p *pipeline) stop() {
	for _, stop := range slices.Backward(p.stops) {
		if err := stop(); err != nil {
			p.b.Logf("stop: %v", err)
		}
	}
}

// freeUDP returns a loopback UDP address nothing listens on.
func freeUDP(b *testing.B) string {
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().String()
}

// histogramQuantiles estimates quantiles of a histogram in r's registry,
// interpolating linearly within buckets.
func histogramQuantiles(b *testing.B, r *telemetry.Reporter, name string, qs ...float64) (p50, p99 float64) {
	mfs, err := r.Gatherer.Gather()
	if err != nil {
		b.Fatal(err)
	}
	var h *dto.Histogram
	for _, mf := range mfs {
		if mf.GetName() == name && len(mf.GetMetric()) > 0 {
			h = mf.GetMetric()[0].GetHistogram()
		}
	}
	if h == nil || h.GetSampleCount() == 0 {
		return 0, 0
	}
	out := make([]float64, len(qs))
	for i, q := range qs {
		want := q * float64(h.GetSampleCount())
		lower, below := 0.0, 0.0
		out[i] = lower
		for _, bk := range h.GetBucket() {
			n := float64(bk.GetCumulativeCount())
			if n >= want {
				out[i] = lower + (bk.GetUpperBound()-lower)*(want-below)/max(n-below, 1)
				break
			}
			lower, below = bk.GetUpperBound(), n
			out[i] = lower
		}
	}
	return out[0], out[1]
}

// override applies the YAML in the environment variable name, if set,
// over a configuration section: `NETSTRATA_BENCH_CORRELATOR='{batch_max_wait:
// 1s}'` measures another setting in the same binary.
func override(b *testing.B, name string, section any) {
	if s := os.Getenv(name); s != "" {
		if err := yaml.Unmarshal([]byte(s), section); err != nil {
			b.Fatalf("%s: %v", name, err)
		}
	}
}

// counter returns the value of a counter in r's registry (0 when absent).
func counter(b *testing.B, r *telemetry.Reporter, name string) float64 {
	mfs, err := r.Gatherer.Gather()
	if err != nil {
		b.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name && len(mf.GetMetric()) > 0 {
			return mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	return 0
}

// benchEnv reads an integer setting of the benchmark from the environment.
func benchEnv(b *testing.B, name string, def int) int {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	var v int
	if _, err := fmt.Sscan(s, &v); err != nil || v <= 0 {
		b.Fatalf("%s=%q: want a positive count", name, s)
	}
	return v
}
