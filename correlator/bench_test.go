package correlator

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/netip"
	"os"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/proto"

	"github.com/netstrata/netstrata/internal/bus"
	"github.com/netstrata/netstrata/internal/record"
	"github.com/netstrata/netstrata/internal/schema"
	"github.com/netstrata/netstrata/internal/schema/schematest"
	"github.com/netstrata/netstrata/internal/store"
	"github.com/netstrata/netstrata/internal/telemetry"
)

// benchFlows builds n flows: 5000 client IPs, 200 servers, 20 service
// ports, ephemeral client ports, two exporters with 48 interfaces, varied
// sizes and a sampling rate of 100, with half of the flows in the return
// direction.
//
// With conversations = 0 every flow draws its client, server, port and
// interfaces anew, so that nearly every flow is its own row in the
// rollups too (the worst case: a scan or a flood from random sources).
// With conversations > 0 the flows repeat that many conversations (a
// client, a server port and the interfaces on their path), the rest
// changing per flow, which is what the rollups are made for.
func benchFlows(n, conversations int, start time.Time, spread time.Duration) [][]byte {
	rng := rand.New(rand.NewPCG(1, 2))
	services := []uint32{443, 80, 53, 5432, 6379, 9092, 8080, 22, 3306, 27017, 8443, 9000, 11211, 25, 123, 389, 636, 2049, 5672, 9200}
	type conversation struct {
		client, server netip.Addr
		port, in, out  uint32
	}
	draw := func() conversation {
		return conversation{
			client: netip.AddrFrom4([4]byte{10, 1, byte(rng.IntN(20)), byte(rng.IntN(250))}),
			server: netip.AddrFrom4([4]byte{10, 2, byte(rng.IntN(2)), byte(rng.IntN(100))}),
			port:   services[rng.IntN(len(services))],
			in:     uint32(1 + rng.IntN(48)), out: uint32(1 + rng.IntN(48)),
		}
	}
	known := make([]conversation, conversations)
	for i := range known {
		known[i] = draw()
	}
	out := make([][]byte, n)
	for i := range out {
		var c conversation
		if conversations > 0 {
			c = known[rng.IntN(conversations)]
		} else {
			c = draw()
		}
		f := &record.Flow{
			Type: record.FlowType_FLOW_TYPE_IPFIX, TimeReceivedNs: uint64(start.Add(spread * time.Duration(i) / time.Duration(n)).UnixNano()),
			ExporterIp: ip([]string{"192.0.2.1", "192.0.2.2"}[i%2]), SamplingRate: 100, Sequence: uint32(i),
			InIf: c.in, OutIf: c.out, Proto: 6,
			SrcIp: record.IPBytes(c.client), DstIp: record.IPBytes(c.server),
			SrcPort: uint32(32768 + rng.IntN(28000)), DstPort: c.port,
			Bytes: uint64(64 + rng.IntN(1400)), Packets: uint64(1 + rng.IntN(10)), TcpFlags: 0x18, Etype: 0x800,
			Application: "https",
		}
		if rng.IntN(2) == 0 { // the return direction
			f.SrcIp, f.DstIp, f.SrcPort, f.DstPort = f.DstIp, f.SrcIp, f.DstPort, f.SrcPort
			f.InIf, f.OutIf = f.OutIf, f.InIf
		}
		out[i], _ = proto.Marshal(f)
	}
	return out
}

// benchEnv reads an integer setting of the benchmark from the environment.
func benchEnv(b *testing.B, name string, def int) int {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	var v int
	if _, err := fmt.Sscan(s, &v); err != nil || v < 0 {
		b.Fatalf("%s=%q: want a count", name, s)
	}
	return v
}

// BenchmarkIngestFlows measures, against the embedded ClickHouse and the
// embedded Kafka in this process: sustained flows/s of a backlog
// (flows/s), end-to-end freshness at a steady rate below capacity
// (freshness_p50_s, freshness_p99_s: Kafka timestamp to queryable row),
// and the stored size of a flow after merges (bytes/flow_raw in the flows
// table, bytes/flow_all with every rollup).
//
//	go test -run '^$' -bench BenchmarkIngestFlows -benchtime 1x ./correlator
//
// The environment sets the traffic: NETSTRATA_BENCH_FLOWS the backlog
// (1,000,000), NETSTRATA_BENCH_CONVERSATIONS how many conversations the
// flows repeat (0: none, every flow new; see benchFlows) and
// NETSTRATA_BENCH_EVENT_RATE the flows/s of the traffic the backlog's
// timestamps describe (300,000) and NETSTRATA_BENCH_STEADY_RATE the
// flows/s of the freshness phase (20,000).
func BenchmarkIngestFlows(b *testing.B) {
	backlog := 1_000_000
	if s := os.Getenv("NETSTRATA_BENCH_FLOWS"); s != "" {
		if _, err := fmt.Sscan(s, &backlog); err != nil {
			b.Fatal(err)
		}
	}
	conversations, eventRate := benchEnv(b, "NETSTRATA_BENCH_CONVERSATIONS", 0), benchEnv(b, "NETSTRATA_BENCH_EVENT_RATE", 300_000)
	rate := benchEnv(b, "NETSTRATA_BENCH_STEADY_RATE", 20_000)
	for range b.N {
		e := newEnv(b)
		prod, err := kgo.NewClient(kgo.SeedBrokers(e.brokers...), kgo.RecordPartitioner(kgo.RoundRobinPartitioner()),
			kgo.ProducerBatchCompression(kgo.ZstdCompression()), kgo.ProducerLinger(5*time.Millisecond),
			kgo.MaxBufferedRecords(200_000))
		if err != nil {
			b.Fatal(err)
		}
		defer prod.Close()
		produce := func(values [][]byte) {
			var wg sync.WaitGroup
			wg.Add(len(values))
			for _, v := range values {
				prod.Produce(context.Background(), &kgo.Record{Topic: record.TopicFlows, Value: v}, func(_ *kgo.Record, err error) {
					if err != nil {
						b.Error(err)
					}
					wg.Done()
				})
			}
			wg.Wait()
		}

		// 1. Throughput: a backlog, then the correlator drains it.
		// The backlog's flows are stamped as traffic of eventRate flows/s
		// that ended now, as a correlator that fell behind finds them.
		span := time.Duration(float64(backlog) / float64(eventRate) * float64(time.Second))
		produce(benchFlows(backlog, conversations, time.Now().Add(-span), span))
		r := telemetry.NewReporter(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
		cfg := DefaultConfiguration()
		c, err := New(r, cfg, Dependencies{Kafka: e.kcfg, ClickHouse: e.ch})
		if err != nil {
			b.Fatal(err)
		}
		benchVariant(b, e, c)
		var handled atomic.Int64
		c.beforeFence = func() { handled.Add(1) }
		var mu sync.Mutex
		var ages []float64
		measuring := false
		c.onFreshness = func(a []float64) {
			mu.Lock()
			if measuring {
				ages = append(ages, a...)
			}
			mu.Unlock()
		}
		b.ResetTimer()
		began := time.Now()
		if err := c.Start(context.Background()); err != nil {
			b.Fatal(err)
		}
		// The rate is taken from the first tenth stored to the last, so
		// that start-up (schema, group join) does not count.
		e.waitRows("SELECT count() FROM flows", uint64(backlog/10), 30*time.Minute)
		tenth, cpu := time.Now(), cpuTime()
		startup := tenth.Sub(began)
		e.waitRows("SELECT count() FROM flows", uint64(backlog), 30*time.Minute)
		took := time.Since(tenth)
		b.StopTimer()
		b.ReportMetric(float64(backlog-backlog/10)/took.Seconds(), "flows/s")
		b.ReportMetric((cpuTime()-cpu).Seconds()*1e6/float64(backlog-backlog/10), "cpu_us/flow")
		b.ReportMetric(float64(handled.Load()), "batches")

		// 2. Freshness at a steady rate for 15 s. The backlog's last
		// batch reports its ages just after its rows became visible: wait
		// for that before measuring.
		time.Sleep(time.Second)
		mu.Lock()
		measuring = true
		mu.Unlock()
		const secs = 15
		stopQueries := queryLoad(b, e, benchEnv(b, "NETSTRATA_BENCH_QUERIES", 0))
		steady := benchFlows(rate*secs, conversations, time.Now(), secs*time.Second)
		tick := time.NewTicker(100 * time.Millisecond)
		for i := 0; i < len(steady); i += rate / 10 {
			<-tick.C
			go produce(steady[i:min(i+rate/10, len(steady))])
		}
		tick.Stop()
		e.waitRows("SELECT count() FROM flows", uint64(backlog+len(steady)), 5*time.Minute)
		stopQueries()
		mu.Lock()
		sort.Float64s(ages)
		if len(ages) > 0 {
			b.ReportMetric(ages[len(ages)/2], "freshness_p50_s")
			b.ReportMetric(ages[len(ages)*99/100], "freshness_p99_s")
		}
		mu.Unlock()
		_ = c.Stop()
		peak := peakRSS()
		c.fenced = fenceCheck{} // the ceilings insert without fencing

		// 3. The same run's ceilings: decoding alone, and the engine's
		// insert of the same rows into a table without views.
		benchCeilings(b, e, c, benchFlows(backlog, conversations, time.Now().Add(-span), span))

		// 4. Size on disk after merges.
		ctx := context.Background()
		for _, t := range []string{"flows", "flows_1m", "flows_1h", "flows_5tuple_1h", "interface_flows_5m"} {
			if err := e.conn.Exec(ctx, "OPTIMIZE TABLE "+t+" FINAL"); err != nil {
				b.Logf("optimize %s: %v", t, err)
			}
		}
		raw := e.count("SELECT sum(bytes_on_disk) FROM system.parts WHERE database = currentDatabase() AND table = 'flows' AND active")
		all := e.count("SELECT sum(bytes_on_disk) FROM system.parts WHERE database = currentDatabase() AND active")
		rows := e.count("SELECT count() FROM flows")
		b.ReportMetric(float64(raw)/float64(rows), "bytes/flow_raw")
		b.ReportMetric(float64(all)/float64(rows), "bytes/flow_all")
		b.Logf("process peak RSS before the ceilings (correlator, embedded Kafka and ClickHouse): %s", peak)
		b.Logf("backlog %d flows: first tenth after %v (start-up included), the rest in %v, on %d CPUs; %d rows stored, %d bytes raw, %d bytes with rollups",
			backlog, startup.Round(time.Millisecond), took.Round(time.Millisecond), runtime.NumCPU(), rows, raw, all)
	}
}

// benchVariant applies the variant of the correlator that the
// environment asks for, to measure a part's share of the cost in
// alternating runs: NETSTRATA_BENCH_WITHOUT_VIEWS, materialized views
// (comma-separated) dropped before the correlator starts, then
// NETSTRATA_BENCH_SQL_FILE, statements (each ending with ";" and a new
// line) run on the schema (another form of a view, say),
// NETSTRATA_BENCH_INSERT_SETTINGS, settings (name=value, comma-separated)
// added to every INSERT, NETSTRATA_BENCH_BATCH_MAX_RECORDS and
// NETSTRATA_BENCH_INSERT_CONCURRENCY, the correlator's batch_max_records
// and insert_concurrency.
func benchVariant(b *testing.B, e *env, c *Component) {
	views, sqlFile := os.Getenv("NETSTRATA_BENCH_WITHOUT_VIEWS"), os.Getenv("NETSTRATA_BENCH_SQL_FILE")
	if views != "" || sqlFile != "" {
		ctx := context.Background()
		if err := schema.Ensure(ctx, e.conn, c.cfg.Schema.For(e.ch)); err != nil {
			b.Fatal(err)
		}
		var stmts []string
		for _, v := range strings.Split(views, ",") {
			if v != "" {
				stmts = append(stmts, "DROP VIEW "+v)
			}
		}
		if sqlFile != "" {
			text, err := os.ReadFile(sqlFile)
			if err != nil {
				b.Fatal(err)
			}
			stmts = append(stmts, strings.Split(string(text), ";\n")...)
		}
		for _, s := range stmts {
			if s = strings.TrimSpace(s); s != "" {
				if err := e.conn.Exec(ctx, s); err != nil {
					b.Fatalf("%s: %v", s, err)
				}
			}
		}
		b.Logf("without the views %q, then the statements of %q", views, sqlFile)
	}
	if n := benchEnv(b, "NETSTRATA_BENCH_BATCH_MAX_RECORDS", 0); n > 0 {
		c.cfg.BatchMaxRecords = n
		b.Logf("batch_max_records %d", n)
	}
	if n := benchEnv(b, "NETSTRATA_BENCH_INSERT_CONCURRENCY", 0); n > 0 {
		c.cfg.InsertConcurrency = n
		b.Logf("insert_concurrency %d", n)
	}
	if settings := os.Getenv("NETSTRATA_BENCH_INSERT_SETTINGS"); settings != "" {
		c.extraInsertSettings = clickhouse.Settings{}
		for _, kv := range strings.Split(settings, ",") {
			k, v, _ := strings.Cut(kv, "=")
			c.extraInsertSettings[k] = v
		}
		b.Logf("INSERT settings %v", c.extraInsertSettings)
	}
}

// peakRSS is the process's peak resident memory so far, as the kernel
// reports it.
func peakRSS() string {
	s, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return err.Error()
	}
	for _, l := range strings.Split(string(s), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

// ceilingGroup is the rows of one INSERT in the ceilings: what a group
// of a full batch (BatchMaxRecords over InsertConcurrency) holds.
func ceilingGroup(cfg Configuration) int { return cfg.BatchMaxRecords / cfg.InsertConcurrency }

// benchCeilings measures, on the backlog's flows, what bounds the
// correlator in this run: decode_flows/s, its own decoding, enrichment
// and column building on one goroutine (BenchmarkDecodeFlows' work), and
// bare_insert_flows/s, its INSERTs of the decoded rows, as many at once
// and as large as in a full batch, into a copy of the flows table without
// views (client encoding, HTTP and the engine's insert).
func benchCeilings(b *testing.B, e *env, c *Component, values [][]byte) {
	ctx := context.Background()
	const bare = "flows_bare"
	if err := e.conn.Exec(ctx, "CREATE TABLE "+bare+" AS "+schema.TableFlows); err != nil {
		b.Fatal(err)
	}
	defer func() { _ = e.conn.Exec(ctx, "DROP TABLE "+bare) }()
	conn, err := store.Open(ctx, e.ch)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	// The fencing of a batch: its progress read before decoding and its
	// epochs read again before the INSERTs.
	began := time.Now()
	const fences = 20
	for range fences {
		if _, _, err := c.readProgress(ctx, conn); err != nil {
			b.Fatal(err)
		}
		if _, err := c.readEpochs(ctx, conn); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(time.Since(began).Milliseconds())/fences, "fence_ms/batch")
	per, groups := ceilingGroup(c.cfg), c.cfg.InsertConcurrency
	var decoding, inserting, insertCPU, cpu time.Duration
	for from := 0; from < len(values); from += per * groups {
		batches := make([]*batch, 0, groups)
		began := time.Now()
		for g := from; g < min(from+per*groups, len(values)); g += per {
			bt := newTestBatch()
			recs := make([]*kgo.Record, 0, per)
			for i, v := range values[g:min(g+per, len(values))] {
				recs = append(recs, &kgo.Record{Offset: int64(g + i), Value: v, Timestamp: time.Now()})
			}
			bt.flows.reserve(len(recs))
			c.decodeBatch(bt, bus.PartitionBatch{Topic: record.TopicFlows, Partition: int32(g / per), Records: recs}, progress{offset: -1})
			batches = append(batches, bt)
		}
		decoding += time.Since(began)
		began, cpu = time.Now(), cpuTime()
		if err := c.eachGroup(batches, func(bt *batch) error {
			return c.insert(ctx, conn, bare, bt.ranges[schema.TableFlows], bt.flows.len(), bt.flows.columns())
		}); err != nil {
			b.Fatal(err)
		}
		inserting += time.Since(began)
		insertCPU += cpuTime() - cpu
	}
	if n := e.count("SELECT count() FROM " + bare); n != uint64(len(values)) {
		b.Fatalf("%d rows in %s, want %d", n, bare, len(values))
	}
	b.ReportMetric(float64(len(values))/decoding.Seconds(), "decode_flows/s")
	b.ReportMetric(float64(len(values))/inserting.Seconds(), "bare_insert_flows/s")
	b.ReportMetric(insertCPU.Seconds()*1e6/float64(len(values)), "bare_insert_cpu_us/flow")
}

// cpuTime is the CPU time this process (correlator, embedded Kafka and
// ClickHouse) used so far, user and system: on a shared machine, what a
// change costs is clearer in it than in the wall clock.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// queryLoad runs n heavy API-like queries at once, in a loop, as the
// embedded ClickHouse's read-only user (the API's), until the returned
// stop, which reports their latency and failures: what ingest freshness
// is while dashboards hammer the database.
func queryLoad(b *testing.B, e *env, n int) (stop func()) {
	if n == 0 {
		return func() {}
	}
	conn, err := store.Open(context.Background(), schematest.Reader(b, e.ch))
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var mu sync.Mutex
	var took []float64
	failed := 0
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Alternate a conversation TopN and a port TopN over every flow.
			q := "SELECT src_ip, dst_ip, sum(bytes) AS b FROM flows GROUP BY src_ip, dst_ip ORDER BY b DESC LIMIT 10"
			if i%2 == 1 {
				q = "SELECT dst_port, sum(bytes) AS b, uniq(src_ip) FROM flows GROUP BY dst_port ORDER BY b DESC LIMIT 10"
			}
			for ctx.Err() == nil {
				began := time.Now()
				rows, err := conn.Query(ctx, q)
				if err == nil {
					for rows.Next() {
					}
					err = rows.Err()
					rows.Close()
				}
				mu.Lock()
				if err != nil && ctx.Err() == nil {
					if failed++; failed == 1 {
						b.Logf("first query failure: %v", err)
					}
				} else if err == nil {
					took = append(took, time.Since(began).Seconds())
				}
				mu.Unlock()
			}
		}()
	}
	return func() {
		cancel()
		wg.Wait()
		conn.Close()
		sort.Float64s(took)
		if len(took) > 0 {
			b.ReportMetric(took[len(took)*95/100], "query_p95_s")
		}
		b.ReportMetric(float64(len(took)), "queries")
		b.ReportMetric(float64(failed), "query_failures")
		b.Logf("%d concurrent heavy queries as the reader: %d answered, %d failed", n, len(took), failed)
	}
}

// BenchmarkDecodeFlows measures the correlator's own CPU per flow:
// protobuf decoding, enrichment lookups and column building, without
// Kafka or ClickHouse (flows/s on one core).
func BenchmarkDecodeFlows(b *testing.B) {
	c := decodeComponent(b)
	values := benchFlows(100_000, 0, time.Now(), time.Minute)
	recs := make([]*kgo.Record, len(values))
	for i, v := range values {
		recs[i] = &kgo.Record{Offset: int64(i), Value: v}
	}
	d := a16("192.0.2.1")
	for i := uint32(1); i <= 48; i++ {
		c.ifs.update(d, i, ifInfo{device: "sw1", name: fmt.Sprint("eth", i), speed: 1e10})
	}
	b.ResetTimer()
	for range b.N {
		bt := newTestBatch()
		bt.flows.reserve(len(recs))
		c.decodeBatch(bt, bus.PartitionBatch{Topic: record.TopicFlows, Records: recs}, progress{offset: -1})
		_ = bt.flows.columns()
	}
	b.ReportMetric(float64(b.N*len(recs))/b.Elapsed().Seconds(), "flows/s")
}

// BenchmarkRollUpFlows measures the Go side of the flow rollups: a
// batch's aggregation and the columns of its rollup INSERTs, for a batch
// of 300,000 flows of NETSTRATA_BENCH_CONVERSATIONS conversations (0:
// every flow new).
func BenchmarkRollUpFlows(b *testing.B) {
	c := decodeComponent(b)
	values := benchFlows(300_000, benchEnv(b, "NETSTRATA_BENCH_CONVERSATIONS", 0), time.Now(), time.Second)
	recs := make([]*kgo.Record, len(values))
	for i, v := range values {
		recs[i] = &kgo.Record{Offset: int64(i), Value: v}
	}
	bt := newTestBatch()
	c.decodeBatch(bt, bus.PartitionBatch{Topic: record.TopicFlows, Records: recs}, progress{offset: -1})
	b.ResetTimer()
	for range b.N {
		for _, t := range rollUp(bt.flows).tables(bt.flows) {
			_ = t.columns()
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/1e3/float64(b.N*len(recs)), "us/flow")
}
