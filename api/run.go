package api

import (
	"context"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/netstrata/netstrata/api/query"
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
	if err := query.Select(ctx, conn, name, sql, args, scan); err != nil {
		return err
	}
	took := time.Since(began)
	c.metrics.queries.WithLabelValues(name).Observe(took.Seconds())
	c.r.Log.Debug("query", "name", name, "took", took)
	return nil
}
