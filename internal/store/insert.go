package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// Insert writes rows into table with an explicit column list. fill appends
// the rows to the batch. A non-empty token makes the insert idempotent:
// ClickHouse drops a block whose token it has seen within the table's
// non_replicated_deduplication_window, so retrying the same Kafka offset
// range after a crash cannot double-count. Rollup tables fed by
// materialized views need the window too.
func Insert(ctx context.Context, conn driver.Conn, table string, columns []string, token string, fill func(driver.Batch) error) error {
	if token != "" {
		// Without the second setting ClickHouse drops the repeated block
		// from the table but still feeds it to the materialized views,
		// double-counting every rollup.
		ctx = clickhouse.Context(ctx, clickhouse.WithSettings(clickhouse.Settings{
			"insert_deduplication_token":                         token,
			"deduplicate_blocks_in_dependent_materialized_views": 1,
		}))
	}
	batch, err := conn.PrepareBatch(ctx, "INSERT INTO "+table+" ("+strings.Join(columns, ", ")+")")
	if err != nil {
		return fmt.Errorf("insert %s: prepare: %w", table, err)
	}
	if err := fill(batch); err != nil {
		_ = batch.Abort()
		return fmt.Errorf("insert %s: %w", table, err)
	}
	if batch.Rows() == 0 {
		_ = batch.Abort()
		return nil
	}
	if err := batch.Send(); err != nil {
		return fmt.Errorf("insert %s (%d rows): %w", table, batch.Rows(), err)
	}
	return nil
}
