package alertingtest

import (
	"context"
	"fmt"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// Load is the SELECT work a ClickHouse server has done since it started
// (system.events, server-wide: the embedded engine keeps no query_log):
// queries, rows and bytes read, and their time in seconds.
type Load struct{ Queries, Rows, Bytes, Seconds float64 }

// ReadLoad reads the server's Load so far.
func ReadLoad(ctx context.Context, conn driver.Conn) (Load, error) {
	rows, err := conn.Query(ctx, `SELECT event, value FROM system.events
		WHERE event IN ('SelectQuery', 'SelectedRows', 'SelectedBytes', 'SelectQueryTimeMicroseconds')`)
	if err != nil {
		return Load{}, fmt.Errorf("read system.events: %w", err)
	}
	defer rows.Close()
	var l Load
	for rows.Next() {
		var event string
		var v uint64
		if err := rows.Scan(&event, &v); err != nil {
			return Load{}, fmt.Errorf("read system.events: %w", err)
		}
		switch event {
		case "SelectQuery":
			l.Queries = float64(v)
		case "SelectedRows":
			l.Rows = float64(v)
		case "SelectedBytes":
			l.Bytes = float64(v)
		case "SelectQueryTimeMicroseconds":
			l.Seconds = float64(v) / 1e6
		}
	}
	return l, rows.Err()
}

// Sub is the load done between o and l.
func (l Load) Sub(o Load) Load {
	return Load{l.Queries - o.Queries, l.Rows - o.Rows, l.Bytes - o.Bytes, l.Seconds - o.Seconds}
}

// Add sums two loads.
func (l Load) Add(o Load) Load {
	return Load{l.Queries + o.Queries, l.Rows + o.Rows, l.Bytes + o.Bytes, l.Seconds + o.Seconds}
}

// Scale is l times f.
func (l Load) Scale(f float64) Load {
	return Load{l.Queries * f, l.Rows * f, l.Bytes * f, l.Seconds * f}
}
