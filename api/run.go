package api

import (
	"context"
	"fmt"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// run executes a SELECT with the query timeout also set on the server,
// timing it under name.
func (c *Component) run(ctx context.Context, name, sql string, args []any, scan func(driver.Rows) error) error {
	conn, err := c.db()
	if err != nil {
		return err
	}
	settings := clickhouse.Settings{}
	if dl, ok := ctx.Deadline(); ok {
		if secs := int(time.Until(dl).Seconds()); secs >= 1 {
			settings["max_execution_time"] = secs
		}
	}
	ctx = clickhouse.Context(ctx, clickhouse.WithSettings(settings))
	began := time.Now()
	rows, err := conn.Query(ctx, sql, args...)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return fmt.Errorf("%s: scan: %w", name, err)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	took := time.Since(began)
	c.metrics.queries.WithLabelValues(name).Observe(took.Seconds())
	c.r.Log.Debug("query", "name", name, "took", took)
	return nil
}
