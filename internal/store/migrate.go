package store

import (
	"context"
	"fmt"
	"sort"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// Migration is one versioned schema step. Statements must be idempotent
// (IF NOT EXISTS) so that a crash half-way through is repaired by running
// the step again. Run, when set, runs after the statements, for a step
// that depends on what the database holds; it must be idempotent too.
type Migration struct {
	Version    int
	Name       string
	Statements []string
	Run        func(ctx context.Context, conn driver.Conn) error
}

// Migrate applies, in version order, the migrations of a schema (a name
// such as "correlator") that are not recorded yet in schema_migrations.
func Migrate(ctx context.Context, conn driver.Conn, schema string, migrations []Migration) (applied int, err error) {
	err = conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		schema LowCardinality(String), version UInt32, name String,
		applied_at DateTime64(3) DEFAULT now64(3)
	) ENGINE = MergeTree ORDER BY (schema, version)`)
	if err != nil {
		return 0, fmt.Errorf("migrations table: %w", err)
	}
	done := map[int]bool{}
	rows, err := conn.Query(ctx, "SELECT version FROM schema_migrations WHERE schema = {schema:String}", driver.NamedValue{Name: "schema", Value: schema})
	if err != nil {
		return 0, fmt.Errorf("read migrations: %w", err)
	}
	for rows.Next() {
		var v uint32
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return 0, fmt.Errorf("read migrations: %w", err)
		}
		done[int(v)] = true
	}
	rows.Close()
	sorted := append([]Migration(nil), migrations...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Version < sorted[j].Version })
	for _, m := range sorted {
		if done[m.Version] {
			continue
		}
		for i, stmt := range m.Statements {
			if err := conn.Exec(ctx, stmt); err != nil {
				return applied, fmt.Errorf("migration %s %d (%s) statement %d: %w", schema, m.Version, m.Name, i+1, err)
			}
		}
		if m.Run != nil {
			if err := m.Run(ctx, conn); err != nil {
				return applied, fmt.Errorf("migration %s %d (%s): %w", schema, m.Version, m.Name, err)
			}
		}
		if err := conn.Exec(ctx, "INSERT INTO schema_migrations (schema, version, name) VALUES ({schema:String}, {version:UInt32}, {name:String})",
			driver.NamedValue{Name: "schema", Value: schema}, driver.NamedValue{Name: "version", Value: uint32(m.Version)}, driver.NamedValue{Name: "name", Value: m.Name}); err != nil {
			return applied, fmt.Errorf("record migration %s %d: %w", schema, m.Version, err)
		}
		applied++
	}
	return applied, nil
}
