package bus

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/netstrata/netstrata/internal/telemetry"
)

// gaps notices records the group never handled: a consumer that falls
// behind retention has its offset reset by the client to the oldest record
// still kept, silently. The topics are not compacted and the producer is
// idempotent without transactions, so consecutive records of a partition
// have consecutive offsets, and any jump is records lost to retention.
type gaps struct {
	mu      sync.Mutex
	next    map[string]map[int32]int64 // offset the next record should have
	skipped *prometheus.CounterVec
	log     *telemetry.RateLimited
}

func newGaps(r *telemetry.Reporter) (*gaps, error) {
	f := telemetry.NewMetrics(r.Registry, "kafka")
	g := &gaps{next: map[string]map[int32]int64{}, log: telemetry.NewRateLimited(r.Log, time.Minute),
		skipped: f.CounterVec("records_skipped_total", "Records deleted by retention before the group handled them (the consumer was reset past them).", "topic")}
	if err := f.Err(); err != nil {
		return nil, err
	}
	return g, nil
}

// seed starts from the group's committed offsets, so that a gap across a
// restart is seen too.
func (g *gaps) seed(ctx context.Context, adm *kadm.Client, group string) error {
	offsets, err := adm.FetchOffsets(ctx, group)
	if errors.Is(err, kerr.GroupIDNotFound) {
		return nil // a new group: nothing handled yet
	}
	if err != nil {
		return fmt.Errorf("fetch committed offsets of %s: %w", group, err)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	offsets.Each(func(o kadm.OffsetResponse) {
		if o.Err == nil && o.At >= 0 {
			g.set(o.Topic, o.Partition, o.At)
		}
	})
	return nil
}

func (g *gaps) set(topic string, p int32, next int64) {
	if g.next[topic] == nil {
		g.next[topic] = map[int32]int64{}
	}
	g.next[topic][p] = next
}

// check compares a partition's records with where the group stood and
// returns how many were skipped before them.
func (g *gaps) check(topic string, p int32, records []*kgo.Record) int64 {
	if len(records) == 0 {
		return 0
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	var n int64
	if want, ok := g.next[topic][p]; ok && records[0].Offset > want {
		n = records[0].Offset - want
		g.skipped.WithLabelValues(topic).Add(float64(n))
		g.log.Warn(fmt.Sprintf("%s/%d", topic, p), "records deleted by retention before they were handled; the consumer skipped them",
			"topic", topic, "partition", p, "skipped", n, "from", want, "to", records[0].Offset)
	}
	g.set(topic, p, records[len(records)-1].Offset+1)
	return n
}

// forget drops partitions another member may move on from.
func (g *gaps) forget(m map[string][]int32) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for topic, ps := range m {
		for _, p := range ps {
			delete(g.next[topic], p)
		}
	}
}
