package correlator

import (
	"context"
	"fmt"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/netstrata/netstrata/internal/record"
	"github.com/netstrata/netstrata/internal/schema"
)

// storedPartition is what one batch stored of one flow partition.
type storedPartition struct {
	partition int32
	last      int64 // highest offset
	rows      uint64
}

// recordProgressAfter records the batch's progress in the background,
// after the progress of the batch before: the batch's INSERTs are all
// made, so the next batch need not wait for its mark. The offsets may
// be committed before the mark lands: a member that claims the
// partitions meanwhile takes the batch for unfinished and inserts it
// again under its tokens, which drop every row; a mark that failed is
// covered by the next batch's (the progress is a maximum). This member
// reads its own marks as stored at once (readProgress), landed or not.
func (c *Component) recordProgressAfter(ctx context.Context, conn driver.Conn, b *batch) {
	if len(b.flowParts) == 0 {
		return
	}
	ranges, parts := b.ranges[schema.TableFlows], b.flowParts
	c.progressMu.Lock()
	defer c.progressMu.Unlock()
	now := time.Now().UnixMilli()
	for _, p := range b.flowParts {
		tp := topicPartition{record.TopicFlows, p.partition}
		if m, ok := c.marked[tp]; !ok || m.offset < p.last {
			c.marked[tp] = progress{offset: p.last, updatedMs: now}
		}
	}
	before, done := c.progressDone, make(chan struct{})
	c.progressDone = done
	c.progressWG.Add(1)
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), progressTimeout)
	go func() {
		defer c.progressWG.Done()
		defer close(done)
		defer cancel()
		if before != nil {
			<-before
		}
		if err := c.recordProgress(ctx, conn, ranges, parts); err != nil {
			c.m.insertErrors.WithLabelValues(schema.TableIngestProgress).Inc()
			c.warn.Warn("progress", "cannot record the progress of a stored batch: the next batch's covers it", "error", err)
		}
	}()
}

// withMarks raises the floors read from ingest_progress to the marks
// this member made, which may not have landed yet.
func (c *Component) withMarks(floors map[topicPartition]progress) {
	c.progressMu.Lock()
	defer c.progressMu.Unlock()
	for tp, m := range c.marked {
		if fl, ok := floors[tp]; !ok || fl.offset < m.offset {
			floors[tp] = m
		}
	}
}

// progressTimeout bounds the INSERT of a batch's progress.
const progressTimeout = 30 * time.Second

// recordProgress marks the batch's flows stored in ingest_progress,
// once every table of the batch is written: the rollups, the raw flows
// and the views of their INSERT (flows_5tuple_1h). Until then the batch
// is unfinished (see unfinished.go), and whoever takes its partitions
// inserts it again under the same tokens, which fill in exactly what a
// killed member left out. The progress view of flows skips this writer's
// INSERTs (schema version 21).
func (c *Component) recordProgress(ctx context.Context, conn driver.Conn, ranges []string, parts []storedPartition) error {
	now := time.Now().UTC()
	rows := make([][]any, 0, len(parts))
	for _, p := range parts {
		rows = append(rows, []any{c.cfg.Group, record.TopicFlows, uint32(p.partition), uint64(p.last), p.rows, now})
	}
	if err := c.insertMark(ctx, conn, schema.TableIngestProgress, "writer_group, topic, partition, max_offset, rows, updated", ranges, rows); err != nil {
		return fmt.Errorf("record progress: %w", err)
	}
	return nil
}

// insertMark makes an INSERT of bookkeeping rows (a batch begun, a batch
// stored) for the batch of ranges, idempotent under its token and, on a
// cluster, stored on its shard before it returns: what it marks is
// trusted as soon as it has.
func (c *Component) insertMark(ctx context.Context, conn driver.Conn, table, columns string, ranges []string, rows [][]any) error {
	settings := insertSettings(c.cfg.Group, token(c.cfg.Group, table, ranges))
	settings["distributed_foreground_insert"] = 1
	ctx = clickhouse.Context(ctx, clickhouse.WithSettings(settings))
	ins, err := conn.PrepareBatch(ctx, "INSERT INTO "+table+" ("+columns+")")
	if err != nil {
		return err
	}
	for _, row := range rows {
		if err := ins.Append(row...); err != nil {
			_ = ins.Abort()
			return err
		}
	}
	return ins.Send()
}
