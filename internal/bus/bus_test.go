package bus

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"os/exec"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/netstrata/netstrata/internal/telemetry"
	"github.com/netstrata/netstrata/internal/testenv"
)

func quietReporter() *telemetry.Reporter {
	return telemetry.NewReporter(slog.New(slog.NewTextHandler(io.Discard, nil)))
}

func startBroker(t *testing.T, dataDir string) *Embedded {
	t.Helper()
	e, err := StartEmbedded(EmbeddedConfiguration{Listen: "127.0.0.1:0", DataDir: dataDir, Partitions: 2}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func testConfig(addr string) Configuration {
	c := DefaultConfiguration()
	c.Brokers = []string{addr}
	c.Partitions = 2
	return c
}

// produceN publishes n records whose value is their sequence number.
func produceN(t *testing.T, cfg Configuration, topic string, from, n int) *telemetry.Reporter {
	t.Helper()
	r := quietReporter()
	p, err := NewProducer(cfg, r, topic)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := EnsureTopics(ctx, cfg, topic); err != nil {
		t.Fatal(err)
	}
	val := make([]byte, 8)
	for i := from; i < from+n; i++ {
		binary.BigEndian.PutUint64(val, uint64(i))
		v := append([]byte(nil), val...)
		// Block rather than drop in the test: the buffer is bounded.
		for p.cl.BufferedProduceRecords() >= int64(cfg.MaxBufferedRecords)-1 {
			time.Sleep(time.Millisecond)
		}
		p.Publish(topic, []byte(fmt.Sprintf("dev-%d", i%16)), v)
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if err := p.Stop(); err != nil {
		t.Fatal(err)
	}
	return r
}

// collector is a Handler that records every value it sees.
type collector struct {
	mu       sync.Mutex
	seen     map[uint64]int
	handled  int
	assigned int
	owned    map[int32]bool
	failN    int // fail this many Handle calls first
	// stall, when it returns true, makes Handle hang as a stuck process
	// would.
	stall func() bool
}

func newCollector() *collector { return &collector{seen: map[uint64]int{}, owned: map[int32]bool{}} }

func (c *collector) Handle(ctx context.Context, batches []PartitionBatch) error {
	c.mu.Lock()
	if c.stall != nil && c.stall() {
		c.mu.Unlock()
		<-ctx.Done()
		return ctx.Err()
	}
	defer c.mu.Unlock()
	if c.failN > 0 {
		c.failN--
		return fmt.Errorf("database away")
	}
	for _, b := range batches {
		for _, r := range b.Records {
			c.seen[binary.BigEndian.Uint64(r.Value)]++
			c.handled++
		}
	}
	return nil
}
func (c *collector) Assigned(_ context.Context, m map[string][]int32) {
	c.mu.Lock()
	c.assigned++
	for _, ps := range m {
		for _, p := range ps {
			c.owned[p] = true
		}
	}
	c.mu.Unlock()
}
func (c *collector) Revoked(_ context.Context, m map[string][]int32) {
	c.mu.Lock()
	for _, ps := range m {
		for _, p := range ps {
			delete(c.owned, p)
		}
	}
	c.mu.Unlock()
}

func (c *collector) owns() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.owned)
}

func (c *collector) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.handled
}

func waitFor(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func newTestConsumer(t *testing.T, cfg Configuration, group, topic string, h Handler) *Consumer {
	t.Helper()
	cc := DefaultConsumerConfiguration(group)
	cc.SessionTimeout = 6 * time.Second
	cc.MaxPollRecords = 5000
	c, err := NewConsumer(cfg, cc, []string{topic}, h, quietReporter())
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	return c
}

// assertCommittedAtEnd checks the group's committed offsets equal the end
// offsets: nothing left behind, nothing committed past the log.
func assertCommittedAtEnd(t *testing.T, cfg Configuration, group, topic string) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(cfg.Brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	ctx := context.Background()
	waitFor(t, "committed offsets to reach the end", 30*time.Second, func() bool {
		committed, err := adm.FetchOffsets(ctx, group)
		if err != nil {
			return false
		}
		ends, err := adm.ListEndOffsets(ctx, topic)
		if err != nil {
			return false
		}
		ok := true
		ends.Each(func(o kadm.ListedOffset) {
			c, found := committed.Lookup(topic, o.Partition)
			if !found || c.At != o.Offset {
				ok = false
			}
		})
		return ok
	})
}

func TestConsumerGroupTakesOverFromCrashedMemberWithoutLoss(t *testing.T) {
	const n = 1_000_000
	e := startBroker(t, "")
	defer e.Stop(context.Background())
	cfg := testConfig(e.Addr())
	topic := "netstrata.test.v1"
	if err := EnsureTopics(context.Background(), cfg, topic); err != nil {
		t.Fatal(err)
	}
	a, b := newCollector(), newCollector()
	a.stall = func() bool { return a.handled >= 50_000 && b.count() > 0 }
	ca := newTestConsumer(t, cfg, "g", topic, a)
	cb := newTestConsumer(t, cfg, "g", topic, b)
	// Both members own a partition before the records arrive, so that
	// neither can read everything alone.
	waitFor(t, "both members to own a partition", time.Minute, func() bool { return a.owns() == 1 && b.owns() == 1 })
	produceN(t, cfg, topic, 0, n)
	// Let both work until a hangs mid-stream, then crash it: close its
	// client without leaving the group or committing, as kill -9 would.
	waitFor(t, "both members to consume", time.Minute, func() bool { return a.count() >= 50_000 && b.count() > 0 })
	ca.cancel()
	<-ca.done
	ca.cl.Close()
	waitFor(t, "the survivor to consume everything", 3*time.Minute, func() bool {
		b.mu.Lock()
		defer b.mu.Unlock()
		a.mu.Lock()
		defer a.mu.Unlock()
		union := len(b.seen)
		for k := range a.seen {
			if _, dup := b.seen[k]; !dup {
				union++
			}
		}
		return union == n
	})
	assertCommittedAtEnd(t, cfg, "g", topic)
	cb.Stop()
	if b.assigned < 2 {
		t.Fatalf("the survivor was assigned partitions %d times; the crashed member's partition never moved", b.assigned)
	}
	if a.count() >= n/2 {
		t.Fatalf("the crashed member handled %d records: it crashed too late to test a takeover", a.count())
	}

	// A new member of the group resumes exactly at the committed offsets:
	// nothing more to read.
	produceN(t, cfg, topic, n, 10)
	c := newCollector()
	cc := newTestConsumer(t, cfg, "g", topic, c)
	waitFor(t, "the new member to read the 10 new records", time.Minute, func() bool { return c.count() >= 10 })
	time.Sleep(500 * time.Millisecond)
	cc.Stop()
	if c.count() != 10 {
		t.Fatalf("new member read %d records, want exactly the 10 produced after the commit", c.count())
	}
	for i := n; i < n+10; i++ {
		if c.seen[uint64(i)] != 1 {
			t.Fatalf("record %d seen %d times", i, c.seen[uint64(i)])
		}
	}
}

func TestHandlerFailureRetriesSameRecordsBeforeCommitting(t *testing.T) {
	e := startBroker(t, "")
	defer e.Stop(context.Background())
	cfg := testConfig(e.Addr())
	topic := "netstrata.retry.v1"
	produceN(t, cfg, topic, 0, 1000)
	h := newCollector()
	h.failN = 3
	c := newTestConsumer(t, cfg, "g", topic, h)
	waitFor(t, "all records after the failures", time.Minute, func() bool { return h.count() >= 1000 })
	assertCommittedAtEnd(t, cfg, "g", topic)
	c.Stop()
	if len(h.seen) != 1000 || h.count() != 1000 {
		t.Fatalf("saw %d distinct / %d total, want 1000 / 1000", len(h.seen), h.count())
	}
}

func TestEmbeddedBrokerKeepsRecordsAndOffsetsAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	e := startBroker(t, dir)
	cfg := testConfig(e.Addr())
	topic := "netstrata.persist.v1"
	produceN(t, cfg, topic, 0, 5000)
	first := newCollector()
	c := newTestConsumer(t, cfg, "g", topic, first)
	waitFor(t, "first pass", time.Minute, func() bool { return first.count() >= 5000 })
	assertCommittedAtEnd(t, cfg, "g", topic)
	c.Stop()
	e.Stop(context.Background())

	e2 := startBroker(t, dir)
	defer e2.Stop(context.Background())
	cfg = testConfig(e2.Addr())
	produceN(t, cfg, topic, 5000, 1000)
	second := newCollector()
	c2 := newTestConsumer(t, cfg, "g", topic, second)
	waitFor(t, "second pass", time.Minute, func() bool { return second.count() >= 1000 })
	time.Sleep(500 * time.Millisecond)
	c2.Stop()
	if second.count() != 1000 {
		t.Fatalf("after restart the group read %d records, want the 1000 new ones only", second.count())
	}
	// The old records survived too: a fresh group reads all 6000.
	all := newCollector()
	c3 := newTestConsumer(t, cfg, "fresh", topic, all)
	waitFor(t, "fresh group", time.Minute, func() bool { return all.count() >= 6000 })
	c3.Stop()
	if len(all.seen) != 6000 {
		t.Fatalf("fresh group saw %d distinct records, want 6000", len(all.seen))
	}
}

// kcat (librdkafka) is a second, independent Kafka client: it must read
// what netstrata produced, zstd batches included.
func TestKcatReadsWhatNetstrataProduced(t *testing.T) {
	kcat := testenv.Command(t, "kcat")
	e := startBroker(t, "")
	defer e.Stop(context.Background())
	cfg := testConfig(e.Addr())
	topic := "netstrata.kcat.v1"
	produceN(t, cfg, topic, 0, 100)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, kcat, "-C", "-b", e.Addr(), "-t", topic, "-o", "beginning", "-e", "-q",
		"-f", "%k %S\n").CombinedOutput()
	if err != nil {
		t.Fatalf("kcat: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != 100 {
		t.Fatalf("kcat read %d records, want 100:\n%s", len(lines), out)
	}
	sort.Strings(lines)
	for _, l := range lines {
		if !strings.HasPrefix(l, "dev-") || !strings.HasSuffix(l, " 8") {
			t.Fatalf("kcat record %q: want key dev-N and an 8-byte value", l)
		}
	}
}

func TestEmbeddedBrokerRefusesANonLoopbackAddress(t *testing.T) {
	e, err := StartEmbedded(EmbeddedConfiguration{Listen: "0.0.0.0:0", DataDir: t.TempDir(), Partitions: 2}, nil)
	if err == nil {
		_ = e.Stop(context.Background())
		t.Fatal("the embedded broker listened on every interface")
	}
	if !strings.Contains(err.Error(), "loopback") {
		t.Errorf("error does not say why: %v", err)
	}
}

// TestConsumerCountsRecordsRetentionDeletedBeforeItsTurn: a group that
// fell behind retention is reset past the deleted records; they are
// counted and the rest are handled.
func TestConsumerCountsRecordsRetentionDeletedBeforeItsTurn(t *testing.T) {
	e := startBroker(t, t.TempDir())
	defer e.Stop(context.Background())
	cfg := testConfig(e.Addr())
	const topic, group = "gaps", "gaps-group"
	produceN(t, cfg, topic, 0, 1000)
	first := newCollector()
	c := newTestConsumer(t, cfg, group, topic, first)
	waitFor(t, "the first 1000 records", 30*time.Second, func() bool { return first.count() == 1000 })
	assertCommittedAtEnd(t, cfg, group, topic)
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}

	// 1000 more, of which retention deletes the first 300 per partition
	// before the group comes back.
	produceN(t, cfg, topic, 1000, 1000)
	cl, err := kgo.NewClient(kgo.SeedBrokers(cfg.Brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	ctx := context.Background()
	committed, err := adm.FetchOffsets(ctx, group)
	if err != nil {
		t.Fatal(err)
	}
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	del := kadm.Offsets{}
	var deleted, remaining int64
	ends.Each(func(o kadm.ListedOffset) {
		at, _ := committed.Lookup(topic, o.Partition)
		cut := min(at.At+300, o.Offset)
		del.Add(kadm.Offset{Topic: topic, Partition: o.Partition, At: cut})
		deleted += cut - at.At
		remaining += o.Offset - cut
	})
	resp, err := adm.DeleteRecords(ctx, del)
	if err == nil {
		err = resp.Error()
	}
	if err != nil {
		t.Skipf("the broker cannot delete records: %v", err)
	}

	r := quietReporter()
	second := newCollector()
	cc := DefaultConsumerConfiguration(group)
	cc.SessionTimeout = 6 * time.Second
	c2, err := NewConsumer(cfg, cc, []string{topic}, second, r)
	if err != nil {
		t.Fatal(err)
	}
	if err := c2.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer c2.Stop()
	waitFor(t, "the records retention kept", 30*time.Second, func() bool { return int64(second.count()) == remaining })
	if got := testutil.ToFloat64(c2.gaps.skipped.WithLabelValues(topic)); int64(got) != deleted {
		t.Errorf("skipped = %v, want %d", got, deleted)
	}
}
