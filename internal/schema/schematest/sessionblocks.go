package schematest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/netstrata/netstrata/internal/schema"
)

// BuildSessionBlocks builds the 6-hour blocks of flows_5tuple_6h and
// flow_sessions_6h, and the hours of flow_sessions_1h, from the flows
// written so far, as the hourly refreshes
// would have once each block ended: each table is emptied (a refresh may
// have run while the flows were being written) and its view created
// again — a refreshable view refreshes when it is created, and SYSTEM
// REFRESH is not allowed on the embedded engine — then its first refresh
// awaited.
func BuildSessionBlocks(tb testing.TB, conn driver.Conn, o schema.Options) {
	tb.Helper()
	if err := BuildSessionBlocksContext(context.Background(), conn, o); err != nil {
		tb.Fatal(err)
	}
}

// BuildSessionBlocksContext is BuildSessionBlocks for a benchmark's seeding.
func BuildSessionBlocksContext(ctx context.Context, conn driver.Conn, o schema.Options) error {
	for _, v := range []struct{ view, table string }{
		{schema.ViewFlows5Tuple6h, schema.TableFlows5Tuple6h},
		{schema.ViewFlowSessions1h, schema.TableFlowSessions1h},
		{schema.ViewFlowSessions6h, schema.TableFlowSessions6h},
	} {
		if err := rebuild(ctx, conn, v.view, v.table, schema.SessionBlocksViews(o)[v.table]); err != nil {
			return err
		}
	}
	return nil
}

// rebuild empties table and creates its refreshable view again, then
// waits for the view's first refresh.
func rebuild(ctx context.Context, conn driver.Conn, view, table, ddl string) error {
	// Not SYNC: that waits for the engine to release the view.
	for _, stmt := range []string{"DROP VIEW IF EXISTS " + view, "TRUNCATE TABLE " + table, ddl} {
		if err := conn.Exec(ctx, stmt); err != nil {
			return fmt.Errorf("%.40s: %w", stmt, err)
		}
	}
	var id string
	if err := conn.QueryRow(ctx, "SELECT toString(uuid) FROM system.tables WHERE database = currentDatabase() AND name = '"+view+"'").Scan(&id); err != nil {
		return fmt.Errorf("find %s: %w", view, err)
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
	return fmt.Errorf("%s did not refresh within 2 minutes", view)
}
