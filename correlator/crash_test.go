package correlator

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/proto"

	"github.com/netstrata/netstrata/internal/bus"
	"github.com/netstrata/netstrata/internal/record"
	"github.com/netstrata/netstrata/internal/schema"
	"github.com/netstrata/netstrata/internal/schema/schematest"
	"github.com/netstrata/netstrata/internal/telemetry"
)

// stream produces n flows in chunks over about d, in the background;
// the returned function waits for the end.
func (e *env) stream(n int, d time.Duration) func() {
	const chunk = 200
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		pause := d / time.Duration((n+chunk-1)/chunk)
		now := nowNs()
		for i := 0; i < n; i += chunk {
			var recs []*kgo.Record
			for j := i; j < min(i+chunk, n); j++ {
				b, _ := proto.Marshal(testFlow(j, now+uint64(j)))
				recs = append(recs, &kgo.Record{Topic: record.TopicFlows, Partition: int32(j % e.partitions), Value: b})
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			err := e.prod.ProduceSync(ctx, recs...).FirstErr()
			cancel()
			if err != nil {
				e.t.Errorf("produce: %v", err)
				return
			}
			time.Sleep(pause)
		}
	}()
	return wg.Wait
}

func (e *env) produceFlows(n int) {
	e.t.Helper()
	now := nowNs()
	var recs []*kgo.Record
	for j := range n {
		b, _ := proto.Marshal(testFlow(j, now+uint64(j)))
		recs = append(recs, &kgo.Record{Topic: record.TopicFlows, Partition: int32(j % e.partitions), Value: b})
	}
	e.produceRaw(recs...)
}

func TestACrashBetweenInsertAndCommitStoresEveryRecordOnce(t *testing.T) {
	e := newEnv(t)
	const n = 4000
	e.produceFlows(n)

	// The first process stores its third batch, then dies before
	// committing it.
	first := startChild(t, e.childConfig("g", 300, 3))
	first.wait(2 * time.Minute)
	stored, committed := e.count("SELECT count() FROM flows"), e.committed("g", record.TopicFlows)
	if int64(stored) <= committed {
		t.Fatalf("after the crash %d rows stored, %d offsets committed: the crash did not fall between insert and commit", stored, committed)
	}
	t.Logf("crash left %d rows stored and %d committed", stored, committed)

	// The next one fetches from the committed offsets in batches of
	// another size: its batches straddle what was stored.
	startChild(t, e.childConfig("g", 700, 0))
	e.waitRows("SELECT count() FROM flows", n, 2*time.Minute)
	time.Sleep(time.Second)
	e.assertExactlyOnce("flows", n)
	e.assertRollups(n)
}

// A member killed after a batch's rollups are stored and before its raw
// flows are leaves no progress for it; the next member reads the
// records again in batches of another size, finds the unfinished batch
// and inserts it again as it was: the rollups count every flow once.
func TestABatchLeftUnfinishedIsFinishedExactly(t *testing.T) {
	e := newEnv(t)
	const n = 4000
	e.produceFlows(n)
	first := e.childConfig("g", 300, 0)
	first.KillBeforeFlowsOf = 3
	startChild(t, first).wait(2 * time.Minute)
	if raw, rolled := e.count("SELECT count() FROM flows"), e.count("SELECT sum(flows) FROM flows_1m"); rolled <= raw {
		t.Fatalf("after the kill %d raw flows and %d in flows_1m: the kill did not fall between the rollups and the raw flows", raw, rolled)
	}
	e.assertFinishedByNextMember(n)
}

func TestKill9MidStreamAndRestartStoresExactlyN(t *testing.T) {
	e := newEnv(t)
	const n = 12000
	done := e.stream(n, 6*time.Second)
	a := startChild(t, e.childConfig("g", 500, 0))
	e.waitRows("SELECT count() FROM flows", n/5, 2*time.Minute)
	a.kill9()
	b := startChild(t, e.childConfig("g", 900, 0))
	e.waitRows("SELECT count() FROM flows", n/2, 2*time.Minute)
	b.kill9()
	startChild(t, e.childConfig("g", 400, 0))
	done()
	e.waitRows("SELECT count() FROM flows", n, 2*time.Minute)
	time.Sleep(time.Second)
	e.assertExactlyOnce("flows", n)
	e.assertRollups(n)
}

func TestTwoMembersShareThePartitionsAndAKillLosesNothing(t *testing.T) {
	e := newEnv(t)
	const n = 12000
	done := e.stream(n, 8*time.Second)
	a := startChild(t, e.childConfig("g", 300, 0))
	b := startChild(t, e.childConfig("g", 300, 0))
	deadline := time.Now().Add(time.Minute)
	for !(ownsFlows(a) && ownsFlows(b)) {
		if time.Now().After(deadline) {
			t.Fatalf("the two members did not share the flow partitions")
		}
		time.Sleep(100 * time.Millisecond)
	}
	e.waitRows("SELECT count() FROM flows", n/3, 2*time.Minute)
	a.kill9()
	done()
	e.waitRows("SELECT count() FROM flows", n, 2*time.Minute)
	time.Sleep(time.Second)
	e.assertExactlyOnce("flows", n)
	e.assertRollups(n)
}

// ownsFlows reports whether the child logged an assignment of flow
// partitions.
func ownsFlows(c *child) bool {
	for _, line := range strings.Split(c.out.String(), "\n") {
		if strings.Contains(line, "partitions assigned") && strings.Contains(line, record.TopicFlows+":[") {
			return true
		}
	}
	return false
}

func TestTheDatabaseGoingAwayStallsConsumptionAndLosesNothing(t *testing.T) {
	e := newEnv(t)
	_, r := e.start(testConfiguration("g", 500))
	e.produceFlows(2000)
	e.waitRows("SELECT count() FROM flows", 2000, time.Minute)
	schematest.Restart(t, func() {
		now := nowNs()
		var recs []*kgo.Record
		for j := 2000; j < 4000; j++ {
			b, _ := proto.Marshal(testFlow(j, now))
			recs = append(recs, &kgo.Record{Topic: record.TopicFlows, Partition: int32(j % e.partitions), Value: b})
		}
		e.produceRaw(recs...)
		deadline := time.Now().Add(time.Minute)
		for gathered(r, "netstrata_kafka_handler_retries_total") < 2 {
			if time.Now().After(deadline) {
				t.Fatal("the correlator did not retry while the database was away")
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
	e.waitRows("SELECT count() FROM flows", 4000, 2*time.Minute)
	time.Sleep(time.Second)
	e.assertExactlyOnce("flows", 4000)
	e.assertRollups(4000)
}

// gathered sums the values of a counter or gauge of a reporter.
func gathered(r *telemetry.Reporter, name string) float64 {
	mfs, err := r.Gatherer.Gather()
	if err != nil {
		return -1
	}
	sum := 0.0
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			sum += m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
	}
	return sum
}

var _ prometheus.Gatherer = (*prometheus.Registry)(nil)

// A batch's partitions are inserted by concurrent groups. When one
// group's INSERT fails, the batch is handed again: the groups that were
// stored are skipped, the failed one is retried, and every record is
// stored once.
func TestAFailedInsertGroupIsRetriedWithoutDuplicatingTheOthers(t *testing.T) {
	e := newEnv(t)
	const n = 4000
	e.produceFlows(n)
	cfg := testConfiguration("g", 10_000)
	cfg.InsertConcurrency = 2
	r := telemetry.NewReporter(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})))
	c, err := New(r, cfg, Dependencies{Kafka: e.kcfg, ClickHouse: e.ch})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	failures := 0
	c.beforeInsert = func(table string, ranges []string) error {
		mu.Lock()
		defer mu.Unlock()
		// Partitions 1 and 3 make the second group; fail its first two tries.
		if table == "flows" && slices.ContainsFunc(ranges, func(r string) bool { return strings.HasPrefix(r, "1:") }) && failures < 2 {
			failures++
			return errors.New("injected insert failure")
		}
		return nil
	}
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Stop() })
	e.waitRows("SELECT count() FROM flows", n, 2*time.Minute)
	time.Sleep(time.Second)
	mu.Lock()
	if failures != 2 {
		t.Errorf("%d injected failures, want 2", failures)
	}
	mu.Unlock()
	e.assertExactlyOnce("flows", n)
	e.assertRollups(n)
	if got := testutil.ToFloat64(c.m.insertErrors.WithLabelValues("flows")); got != 2 {
		t.Errorf("insert errors counted %v, want 2", got)
	}
}

// The views of the raw flows' INSERT run after its rows are stored, one
// after another, and not atomically with them. A member killed among
// them (here: flows_5tuple_1h's view fails, the member retries and is
// killed) leaves the raw flows stored and flows_5tuple_1h short; the
// batch is not marked stored, so the next member inserts it again under
// the same tokens: flows_5tuple_1h then counts every flow once.
func TestAKillAmongTheRawInsertsViewsLeavesNoRollupShort(t *testing.T) {
	e := newEnv(t)
	const n = 4000
	ctx := context.Background()
	cfg := DefaultConfiguration()
	if err := schema.Ensure(ctx, e.conn, cfg.Schema.For(e.ch)); err != nil {
		t.Fatal(err)
	}
	var view string
	if err := e.conn.QueryRow(ctx, "SELECT create_table_query FROM system.tables WHERE database = currentDatabase() AND name = 'flows_5tuple_1h_mv'").Scan(&view); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{
		"CREATE TABLE fail_5tuple (x UInt8) ENGINE = Memory",
		"INSERT INTO fail_5tuple VALUES (1)",
		"DROP VIEW flows_5tuple_1h_mv",
		view + " WHERE throwIf((SELECT count() FROM fail_5tuple) > 0, 'injected failure of the flows_5tuple_1h view') = 0",
	} {
		if err := e.conn.Exec(ctx, s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	e.produceFlows(n)
	first := startChild(t, e.childConfig("g", 300, 0))
	e.waitRows("SELECT count() FROM flows", 1, 2*time.Minute)
	waitLog(t, first, "injected failure", time.Minute)
	first.kill9()
	if raw, tuples := e.count("SELECT count() FROM flows"), e.count("SELECT sum(flows) FROM flows_5tuple_1h"); tuples >= raw {
		t.Fatalf("after the kill %d raw flows and %d in flows_5tuple_1h: the view did not fail after the raw flows were stored", raw, tuples)
	}
	for _, s := range []string{"DROP VIEW flows_5tuple_1h_mv", view, "DROP TABLE fail_5tuple"} {
		if err := e.conn.Exec(ctx, s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	e.assertFinishedByNextMember(n)
}

// A batch left unfinished whose first records Kafka no longer holds
// (retention) is finished with what is left, under the tokens of its
// first try: its rollups, stored whole by the first try, are not added
// to again, and the flows the next member reads count once.
func TestABatchPartlyDroppedByKafkaIsFinishedWithoutCountingTwice(t *testing.T) {
	e := newEnv(t)
	const n = 4000
	e.produceFlows(n)
	first := e.childConfig("g", 300, 0)
	first.KillBeforeFlowsOf = 3
	startChild(t, first).wait(2 * time.Minute)
	var ranges []string
	if err := e.conn.QueryRow(context.Background(), "SELECT ranges FROM ingest_batches ORDER BY time DESC LIMIT 1").Scan(&ranges); err != nil {
		t.Fatal(err)
	}
	// Kafka drops the first half of each range of the unfinished batch.
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	drop, lost := kadm.Offsets{}, uint64(0)
	for _, s := range ranges {
		r, err := bus.ParseOffsetRange(s)
		if err != nil {
			t.Fatal(err)
		}
		mid := r.First + (r.Last-r.First+1)/2
		drop.Add(kadm.Offset{Topic: record.TopicFlows, Partition: r.Partition, At: mid, LeaderEpoch: -1})
		lost += uint64(mid - r.First)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := kadm.NewClient(cl).DeleteRecords(ctx, drop); err != nil {
		t.Fatal(err)
	}
	startChild(t, e.childConfig("g", 700, 0))
	e.waitRows("SELECT count() FROM flows", n-lost, 2*time.Minute)
	time.Sleep(time.Second)
	if got := e.count("SELECT count() FROM flows"); got != n-lost {
		t.Errorf("flows holds %d rows, want %d (%d dropped by Kafka before stored)", got, n-lost, lost)
	}
	if d := e.count("SELECT toUInt64(count() - uniqExact(kafka_partition, kafka_offset)) FROM flows"); d != 0 {
		t.Errorf("flows holds %d duplicate rows", d)
	}
	// The first try stored the whole batch's rollups.
	for _, table := range []string{schema.TableFlows1m, schema.TableFlows1h} {
		if got := e.count("SELECT sum(flows) FROM " + table); got != n {
			t.Errorf("%s counts %d flows, want %d", table, got, n)
		}
	}
	if got := e.count("SELECT sum(flows) FROM flows_5tuple_1h"); got != n-lost {
		t.Errorf("flows_5tuple_1h counts %d flows, want %d", got, n-lost)
	}
}

// assertFinishedByNextMember starts another member, which finishes the
// batch a killed one left unfinished: every table then counts the n
// flows once.
func (e *env) assertFinishedByNextMember(n uint64) {
	e.t.Helper()
	next := startChild(e.t, e.childConfig("g", 700, 0))
	e.waitRows("SELECT count() FROM flows", n, 2*time.Minute)
	e.waitRows("SELECT sum(flows) FROM flows_5tuple_1h", n, time.Minute)
	time.Sleep(time.Second)
	e.assertExactlyOnce("flows", n)
	e.assertRollups(n)
	if !strings.Contains(next.out.String(), "finished a batch left unfinished") {
		e.t.Errorf("the next member did not finish the unfinished batch")
	}
}
