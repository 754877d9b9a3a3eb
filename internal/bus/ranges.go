package bus

import (
	"context"
	"fmt"

	"github.com/twmb/franz-go/pkg/kgo"
)

// OffsetRange is a partition's records from First to Last (inclusive).
type OffsetRange struct {
	Partition   int32
	First, Last int64
}

// String is the range as "partition:first-last", the form a handler
// records it in (the correlator's tokens and ingest_batches).
func (r OffsetRange) String() string {
	return fmt.Sprintf("%d:%d-%d", r.Partition, r.First, r.Last)
}

// ParseOffsetRange reads a range written by String.
func ParseOffsetRange(s string) (OffsetRange, error) {
	var r OffsetRange
	if _, err := fmt.Sscanf(s, "%d:%d-%d", &r.Partition, &r.First, &r.Last); err != nil {
		return OffsetRange{}, fmt.Errorf("offset range %q: %w", s, err)
	}
	return r, nil
}

// ReadRanges reads exactly the records of topic in the ranges, with a
// client of its own outside any group: for a handler that must handle
// again the very records a stopped member began to handle (see the
// correlator's unfinished batches), whoever owns their partitions now.
// It fails when ctx ends before every range's last record came (e.g.
// when retention deleted them).
func ReadRanges(ctx context.Context, cfg Configuration, topic string, ranges []OffsetRange) (map[int32][]*kgo.Record, error) {
	opts, err := cfg.clientOptions()
	if err != nil {
		return nil, err
	}
	offsets := map[int32]kgo.Offset{}
	last := map[int32]int64{}
	for _, r := range ranges {
		offsets[r.Partition] = kgo.NewOffset().At(r.First)
		last[r.Partition] = r.Last
	}
	cl, err := kgo.NewClient(append(opts, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: offsets}))...)
	if err != nil {
		return nil, fmt.Errorf("read ranges of %s: %w", topic, err)
	}
	defer cl.Close()
	out := map[int32][]*kgo.Record{}
	for len(last) > 0 {
		fetches := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("read ranges of %s: %d partitions short: %w", topic, len(last), err)
		}
		fetches.EachRecord(func(rec *kgo.Record) {
			end, ok := last[rec.Partition]
			if !ok || rec.Offset > end {
				return
			}
			out[rec.Partition] = append(out[rec.Partition], rec)
			if rec.Offset == end {
				delete(last, rec.Partition)
			}
		})
	}
	return out, nil
}
