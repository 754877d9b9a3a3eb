package bus

import (
	"context"
	"encoding/binary"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/twmb/franz-go/pkg/kgo"
)

// TestAPartitionFetchedTwiceIsOneBatchInOffsetOrder: a poll that catches
// up (see Consumer.poll) holds two fetches of the same partitions; the
// handler gets one batch per partition, its records in offset order.
func TestAPartitionFetchedTwiceIsOneBatchInOffsetOrder(t *testing.T) {
	g, err := newGaps(quietReporter())
	if err != nil {
		t.Fatal(err)
	}
	c := &Consumer{gaps: g}
	recs := func(p int32, from, n int64) []*kgo.Record {
		out := make([]*kgo.Record, n)
		for i := range out {
			out[i] = &kgo.Record{Topic: "t", Partition: p, Offset: from + int64(i)}
		}
		return out
	}
	fetch := func(parts ...kgo.FetchPartition) kgo.Fetch {
		return kgo.Fetch{Topics: []kgo.FetchTopic{{Topic: "t", Partitions: parts}}}
	}
	polled := time.Now()
	fetches := kgo.Fetches{
		fetch(kgo.FetchPartition{Partition: 0, Records: recs(0, 0, 3), HighWatermark: 3}, kgo.FetchPartition{Partition: 1, Records: recs(1, 10, 2), HighWatermark: 12}),
		fetch(kgo.FetchPartition{Partition: 0, Records: recs(0, 3, 4), HighWatermark: 7}),
	}
	batches := c.partitionBatches(fetches, 5, polled)
	if len(batches) != 2 {
		t.Fatalf("%d batches, want one per partition: %+v", len(batches), batches)
	}
	for _, b := range batches {
		want := map[int32][2]int64{0: {0, 7}, 1: {10, 12}}[b.Partition]
		if len(b.Records) != int(want[1]-want[0]) || b.HighWatermark != want[1] || b.Generation != 5 || !b.Polled.Equal(polled) {
			t.Errorf("partition %d: %d records, high watermark %d, generation %d; want %d records up to %d in generation 5",
				b.Partition, len(b.Records), b.HighWatermark, b.Generation, want[1]-want[0], want[1])
		}
		for i, r := range b.Records {
			if r.Offset != want[0]+int64(i) {
				t.Errorf("partition %d: record %d has offset %d, want %d", b.Partition, i, r.Offset, want[0]+int64(i))
			}
		}
	}
}

// TestCatchingUpUnderASlowHandlerHandlesEveryRecordOnceInOrder: records
// keep coming while every batch takes its time, so polls find a fetch
// waiting and catch up; every record is handled once, each partition's
// records in offset order and in one batch per call, and the offsets are
// committed to the end.
func TestCatchingUpUnderASlowHandlerHandlesEveryRecordOnceInOrder(t *testing.T) {
	e := startBroker(t, "")
	defer e.Stop(context.Background())
	cfg := testConfig(e.Addr())
	const topic, n = "netstrata.catchup.v1", 20_000
	h := &orderChecker{t: t, next: map[int32]int64{}, seen: map[uint64]bool{}}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range 10 {
			produceN(t, cfg, topic, i*n/10, n/10)
			time.Sleep(100 * time.Millisecond)
		}
	}()
	cc := DefaultConsumerConfiguration("catchup")
	cc.FetchMinBytes, cc.FetchMaxWait, cc.MaxPollRecords = 1, 20*time.Millisecond, 5000
	c, err := NewConsumer(cfg, cc, []string{topic}, h, quietReporter())
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer c.Stop()
	wg.Wait()
	waitFor(t, "every record handled", time.Minute, func() bool { return h.count() == n })
	assertCommittedAtEnd(t, cfg, "catchup", topic)
	if got := testutil.ToFloat64(c.caughtUp); got == 0 {
		t.Error("no poll caught up although every batch took 25 times the fetch wait")
	}
}

// orderChecker is a slow Handler that checks what it is handed.
type orderChecker struct {
	t    *testing.T
	mu   sync.Mutex
	next map[int32]int64
	seen map[uint64]bool
}

func (h *orderChecker) Handle(_ context.Context, batches []PartitionBatch) error {
	time.Sleep(500 * time.Millisecond)
	h.mu.Lock()
	defer h.mu.Unlock()
	in := map[int32]bool{}
	for _, b := range batches {
		if in[b.Partition] {
			h.t.Errorf("partition %d twice in one call", b.Partition)
		}
		in[b.Partition] = true
		for _, r := range b.Records {
			if want, ok := h.next[b.Partition]; ok && r.Offset != want {
				h.t.Errorf("partition %d: offset %d after %d", b.Partition, r.Offset, want-1)
			}
			h.next[b.Partition] = r.Offset + 1
			v := binary.BigEndian.Uint64(r.Value)
			if h.seen[v] {
				h.t.Errorf("record %d handled twice", v)
			}
			h.seen[v] = true
		}
	}
	return nil
}

func (h *orderChecker) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.seen)
}

func (h *orderChecker) Assigned(context.Context, map[string][]int32) {}
func (h *orderChecker) Revoked(context.Context, map[string][]int32)  {}
