package correlator

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/netstrata/netstrata/internal/bus"
	"github.com/netstrata/netstrata/internal/record"
	"github.com/netstrata/netstrata/internal/schema"
)

// Unfinished batches. A batch of flows is several INSERTs (the rollups,
// the raw flows and their views, then the progress), each idempotent under
// a token made of the batch's offset ranges. A member killed among them
// leaves some stored and the progress behind; whoever reads the records
// again may batch them otherwise, and its tokens would not match. So a
// member records a batch's ranges (ingest_batches) before its first
// INSERT, and a member that claims a partition finds there the batch
// left unfinished on it and inserts exactly that batch first, as one
// group: the INSERTs that landed are dropped by their tokens, the others
// made.

// unfinishedBatch is a batch of flows begun and not finished: its offset
// ranges, one per partition.
type unfinishedBatch struct {
	ranges []string          // as recorded (bus.OffsetRange.String), for the tokens
	parts  []bus.OffsetRange // the same, read
}

// recordBatch records the flows' ranges of a batch about to be inserted.
func (c *Component) recordBatch(ctx context.Context, conn driver.Conn, ranges []string) error {
	if err := c.insertMark(ctx, conn, schema.TableIngestBatches, "writer_group, topic, ranges", ranges, [][]any{{c.cfg.Group, record.TopicFlows, ranges}}); err != nil {
		return fmt.Errorf("record batch: %w", err)
	}
	return nil
}

// finishUnfinished inserts first the batches left unfinished on the
// flow partitions of batches this member has not checked since it
// claimed them.
func (c *Component) finishUnfinished(ctx context.Context, conn driver.Conn, batches []bus.PartitionBatch) error {
	var unchecked []int32
	c.claimsMu.Lock()
	for _, pb := range batches {
		tp := topicPartition{pb.Topic, pb.Partition}
		if pb.Topic == record.TopicFlows && !c.claims[tp].checked {
			unchecked = append(unchecked, pb.Partition)
		}
	}
	c.claimsMu.Unlock()
	if len(unchecked) == 0 {
		return nil
	}
	floors, _, err := c.readProgress(ctx, conn)
	if err != nil {
		return err
	}
	since := time.Now()
	for _, p := range unchecked {
		fl, ok := floors[topicPartition{record.TopicFlows, p}]
		if !ok {
			since = time.Unix(0, 0)
			break
		}
		if t := time.UnixMilli(fl.updatedMs).Add(-replayClockSlack); t.Before(since) {
			since = t
		}
	}
	found, err := c.readBatches(ctx, conn, since)
	if err != nil {
		return err
	}
	for _, u := range found {
		if !u.unfinished(floors, unchecked) {
			continue
		}
		if err := c.finish(ctx, conn, u); err != nil {
			return err
		}
	}
	c.claimsMu.Lock()
	for _, p := range unchecked {
		tp := topicPartition{record.TopicFlows, p}
		if cl, ok := c.claims[tp]; ok {
			cl.checked = true
			c.claims[tp] = cl
		}
	}
	c.claimsMu.Unlock()
	return nil
}

// readBatches reads the batches of flows this member's group began
// since a time, oldest first.
func (c *Component) readBatches(ctx context.Context, conn driver.Conn, since time.Time) ([]unfinishedBatch, error) {
	rows, err := conn.Query(ctx, "SELECT ranges FROM "+schema.TableIngestBatches+
		" WHERE writer_group = {group:String} AND topic = {topic:String} AND time >= fromUnixTimestamp64Milli({since:Int64}, 'UTC') ORDER BY time",
		driver.NamedValue{Name: "group", Value: c.cfg.Group}, driver.NamedValue{Name: "topic", Value: record.TopicFlows},
		driver.NamedValue{Name: "since", Value: since.UnixMilli()})
	if err != nil {
		return nil, fmt.Errorf("read begun batches: %w", err)
	}
	defer rows.Close()
	var out []unfinishedBatch
	for rows.Next() {
		var u unfinishedBatch
		if err := rows.Scan(&u.ranges); err != nil {
			return nil, fmt.Errorf("read begun batches: %w", err)
		}
		for _, s := range u.ranges {
			r, err := bus.ParseOffsetRange(s)
			if err != nil {
				return nil, fmt.Errorf("read begun batches: %w", err)
			}
			u.parts = append(u.parts, r)
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read begun batches: %w", err)
	}
	return out, nil
}

// unfinished reports whether the batch touches one of the partitions
// and its progress was not stored.
func (u unfinishedBatch) unfinished(floors map[topicPartition]progress, partitions []int32) bool {
	touches, behind := false, false
	for _, r := range u.parts {
		touches = touches || slices.Contains(partitions, r.Partition)
		fl, ok := floors[topicPartition{record.TopicFlows, r.Partition}]
		behind = behind || !ok || fl.offset < r.Last
	}
	return touches && behind
}

// finish reads the unfinished batch's records from Kafka, all of them,
// whoever owns their partitions now, and inserts them as one batch with
// the tokens of the first try. Several members that find it at once
// insert it once: the tokens drop the later INSERTs. When Kafka no
// longer holds the first records of a range (retention), what is left
// is inserted under the first try's tokens; when it holds none, there
// is nothing left for anyone to insert again.
func (c *Component) finish(ctx context.Context, conn driver.Conn, u unfinishedBatch) error {
	rctx, cancel := context.WithTimeout(ctx, unfinishedReadTimeout)
	recs, err := bus.ReadRanges(rctx, c.deps.Kafka, record.TopicFlows, u.parts)
	cancel()
	if err != nil {
		if ctx.Err() != nil {
			return err
		}
		c.m.unfinished.WithLabelValues("unreadable").Inc()
		c.warn.Warn("unfinished", "cannot read again the records of a batch a stopped member left unfinished: its rollups may count again what it stored of them if they are read later",
			"ranges", u.ranges, "error", err)
		return nil
	}
	var again []bus.PartitionBatch
	for p, rs := range recs {
		again = append(again, bus.PartitionBatch{Topic: record.TopicFlows, Partition: p, Records: rs, Polled: time.Now()})
	}
	if err := c.handle(ctx, conn, again, 1, &u); err != nil {
		return err
	}
	c.m.unfinished.WithLabelValues("finished").Inc()
	c.r.Log.Info("finished a batch left unfinished by a stopped member", "ranges", u.ranges)
	return nil
}

// unfinishedReadTimeout bounds the reading of an unfinished batch's
// records: they are at most a batch.
const unfinishedReadTimeout = 30 * time.Second
