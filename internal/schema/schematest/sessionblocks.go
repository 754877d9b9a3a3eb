package schematest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/netstrata/netstrata/internal/schema"
)

// BuildSessionBlocks builds the 6-hour blocks of flows_5tuple_6h from
// the flows written so far, as the hourly refreshes would have once each
// block ended: the table is emptied (a refresh may have run while the
// flows were being written) and the view created again — a refreshable
// view refreshes when it is created, and SYSTEM REFRESH is not allowed on
// the embedded engine — then its first refresh awaited.
func BuildSessionBlocks(tb testing.TB, conn driver.Conn, o schema.Options) {
	tb.Helper()
	if err := BuildSessionBlocksContext(context.Background(), conn, o); err != nil {
		tb.Fatal(err)
	}
}

// BuildSessionBlocksContext is BuildSessionBlocks for a benchmark's seeding.
func BuildSessionBlocksContext(ctx context.Context, conn driver.Conn, o schema.Options) error {
	// Not SYNC: that waits for the engine to release the view.
	for _, stmt := range []string{"DROP VIEW IF EXISTS " + schema.ViewFlows5Tuple6h, "TRUNCATE TABLE " + schema.TableFlows5Tuple6h, schema.SessionBlocksView(o)} {
		if err := conn.Exec(ctx, stmt); err != nil {
			return fmt.Errorf("%.40s: %w", stmt, err)
		}
	}
	var id string
	if err := conn.QueryRow(ctx, "SELECT toString(uuid) FROM system.tables WHERE database = currentDatabase() AND name = '"+schema.ViewFlows5Tuple6h+"'").Scan(&id); err != nil {
		return fmt.Errorf("find %s: %w", schema.ViewFlows5Tuple6h, err)
	}
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		var done uint64
		err := conn.QueryRow(ctx, `SELECT count() FROM system.view_refreshes
			WHERE toString(uuid) = '`+id+`' AND last_success_time IS NOT NULL AND status != 'Running'`).Scan(&done)
		if err != nil {
			return err
		}
		if done > 0 {
			return nil
		}
	}
	return fmt.Errorf("%s did not refresh within 2 minutes", schema.ViewFlows5Tuple6h)
}
