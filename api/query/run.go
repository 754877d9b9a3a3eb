package query

import (
	"context"
	"fmt"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// Run executes a SELECT with args bound, calling scan on each row; name
// labels its metrics and logs, and its errors.
type Run func(ctx context.Context, name, sql string, args []any, scan func(driver.Rows) error) error

// Select runs sql on conn and calls scan on each row; errors carry name.
func Select(ctx context.Context, conn driver.Conn, name, sql string, args []any, scan func(driver.Rows) error) error {
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
	return nil
}
