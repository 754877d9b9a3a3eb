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

// recordProgress marks the batch's flows stored in ingest_progress,
// once every table of the batch is written: the rollups, the raw flows
// and the views of their INSERT (flows_5tuple_1h). Until then the batch
// is unfinished (see unfinished.go), and whoever takes its partitions
// inserts it again under the same tokens, which fill in exactly what a
// killed member left out. The progress view of flows skips this writer's
// INSERTs (schema version 21).
func (c *Component) recordProgress(ctx context.Context, conn driver.Conn, b *batch) error {
	if len(b.flowParts) == 0 {
		return nil
	}
	settings := insertSettings(c.cfg.Group, token(c.cfg.Group, schema.TableIngestProgress, b.ranges[schema.TableFlows]))
	// On a cluster, stored on its shard before the offsets are committed.
	settings["distributed_foreground_insert"] = 1
	ctx = clickhouse.Context(ctx, clickhouse.WithSettings(settings))
	ins, err := conn.PrepareBatch(ctx, "INSERT INTO "+schema.TableIngestProgress+" (writer_group, topic, partition, max_offset, rows, updated)")
	if err != nil {
		return fmt.Errorf("record progress: %w", err)
	}
	now := time.Now().UTC()
	for _, p := range b.flowParts {
		if err := ins.Append(c.cfg.Group, record.TopicFlows, uint32(p.partition), uint64(p.last), p.rows, now); err != nil {
			_ = ins.Abort()
			return fmt.Errorf("record progress: %w", err)
		}
	}
	if err := ins.Send(); err != nil {
		return fmt.Errorf("record progress: %w", err)
	}
	return nil
}
