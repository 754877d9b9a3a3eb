package query

import (
	"context"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// Run executes a SELECT with args bound, calling scan on each row; name
// labels its metrics and logs, and its errors.
type Run func(ctx context.Context, name, sql string, args []any, scan func(driver.Rows) error) error
