package schematest

import (
	"context"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/netstrata/netstrata/internal/schema"
)

// BuildSessionBlocks builds the 6-hour blocks of flows_5tuple_6h from
// the flows written so far, as the hourly refresh would once they have
// ended: the view is created again (not SYNC: that waits for the engine
// to release the view; a refreshable view refreshes when it
// is created; SYSTEM REFRESH is not allowed on the embedded engine) and
// its first refresh awaited.
func BuildSessionBlocks(tb testing.TB, conn driver.Conn, o schema.Options) {
	tb.Helper()
	if err := BuildSessionBlocksContext(context.Background(), conn, o); err != nil {
		tb.Fatal(err)
	}
}

// BuildSessionBlocksContext is BuildSessionBlocks for a benchmark's seeding.
func BuildSessionBlocksContext(ctx context.Context, conn driver.Conn, o schema.Options) error {
	if err := conn.Exec(ctx, "DROP VIEW IF EXISTS "+schema.ViewFlows5Tuple6h); err != nil {
		return err
	}
	if err := conn.Exec(ctx, schema.SessionBlocksView(o)); err != nil {
		return err
	}
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		var done uint64
		var failure string
		err := conn.QueryRow(ctx, `SELECT count(), any(exception) FROM system.view_refreshes
			WHERE database = currentDatabase() AND view = '`+schema.ViewFlows5Tuple6h+`' AND last_success_time IS NOT NULL AND status != 'Running'`).Scan(&done, &failure)
		if err != nil {
			return err
		}
		if done > 0 {
			return nil
		}
	}
	return context.DeadlineExceeded
}
