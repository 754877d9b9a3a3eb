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
		ctx = clickhouse.Context(ctx, clickhouse.WithSettings(DedupSettings(token)))
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

// DedupSettings make an INSERT idempotent under token: ClickHouse drops
// a block whose token it has seen within the table's deduplication
// window. Every writer that retries inserts uses them (the one way rows
// are deduplicated).
func DedupSettings(token string) clickhouse.Settings {
	return clickhouse.Settings{
		"insert_deduplication_token": token,
		"insert_deduplicate":         1,
		// Without it ClickHouse drops the repeated block from the table
		// but still feeds it to the materialized views, double-counting
		// every rollup.
		"deduplicate_blocks_in_dependent_materialized_views": 1,
	}
}

// WireTypes returns the types an INSERT into table sends its columns as,
// for clickhouse.WithColumnNamesAndTypes: the table's own types with
// LowCardinality dropped. clickhouse-go fills a LowCardinality column one
// boxed value and map lookup at a time (half of the correlator's own
// encoding CPU), a String column with one copy of the slice; the server
// converts on insert. It also spares the HTTP protocol a DESCRIBE per
// INSERT. The native protocol ignores the option and takes the server's
// types.
func WireTypes(ctx context.Context, conn driver.Conn, table string, columns []string) ([]clickhouse.ColumnNameAndType, error) {
	rows, err := conn.Query(ctx, "SELECT name, type FROM system.columns WHERE database = currentDatabase() AND table = {table:String}",
		driver.NamedValue{Name: "table", Value: table})
	if err != nil {
		return nil, fmt.Errorf("columns of %s: %w", table, err)
	}
	defer rows.Close()
	types := map[string]string{}
	for rows.Next() {
		var name, typ string
		if err := rows.Scan(&name, &typ); err != nil {
			return nil, fmt.Errorf("columns of %s: %w", table, err)
		}
		types[name] = wireType(typ)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("columns of %s: %w", table, err)
	}
	out := make([]clickhouse.ColumnNameAndType, len(columns))
	for i, name := range columns {
		typ, ok := types[name]
		if !ok {
			return nil, fmt.Errorf("columns of %s: no column %s", table, name)
		}
		out[i] = clickhouse.ColumnNameAndType{Name: name, Type: typ}
	}
	return out, nil
}

// wireType drops a top-level LowCardinality from a column type, also
// inside a SimpleAggregateFunction (a rollup's any() of a name), which is
// sent as its argument's type.
func wireType(t string) string {
	if inner, ok := strings.CutPrefix(t, "SimpleAggregateFunction("); ok && strings.HasSuffix(inner, ")") {
		if _, arg, ok := strings.Cut(inner[:len(inner)-1], ", "); ok {
			t = arg
		}
	}
	if inner, ok := strings.CutPrefix(t, "LowCardinality("); ok && strings.HasSuffix(inner, ")") {
		return inner[:len(inner)-1]
	}
	return t
}
