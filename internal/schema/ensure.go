package schema

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/netstrata/netstrata/internal/store"
)

// Ensure brings the database to the current schema: it applies the
// migrations not applied yet, then makes every table's TTL match o.
// Concurrent callers (several correlators starting at once) are safe:
// every statement is idempotent.
func Ensure(ctx context.Context, conn driver.Conn, o Options) error {
	if _, err := store.Migrate(ctx, conn, Name, Migrations(o)); err != nil {
		return err
	}
	return SyncTTL(ctx, conn, o)
}

// SyncTTL changes the TTL of every table whose stored TTL differs from o,
// so that retention follows the configuration after the tables exist.
// The new TTL is materialized on existing parts (a background mutation);
// on a cluster, of the local tables of every shard.
func SyncTTL(ctx context.Context, conn driver.Conn, o Options) error {
	rows, err := conn.Query(ctx, "SELECT name, create_table_query FROM system.tables WHERE database = currentDatabase()")
	if err != nil {
		return fmt.Errorf("read table definitions: %w", err)
	}
	defs := map[string]string{}
	for rows.Next() {
		var name, def string
		if err := rows.Scan(&name, &def); err != nil {
			rows.Close()
			return fmt.Errorf("read table definitions: %w", err)
		}
		defs[name] = def
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read table definitions: %w", err)
	}
	ttls := o.ttlSeconds()
	tables := make([]string, 0, len(ttls))
	for t := range ttls {
		tables = append(tables, t)
	}
	sort.Strings(tables)
	for _, table := range tables {
		local := o.localTable(table)
		def, ok := defs[local]
		if !ok {
			return fmt.Errorf("table %s is missing", local)
		}
		want := fmt.Sprintf("toIntervalSecond(%d)", ttls[table])
		if strings.Contains(def, want) {
			continue
		}
		if err := conn.Exec(ctx, "ALTER TABLE "+local+o.onCluster()+" MODIFY "+ttlClause(timeColumn[table], ttls[table])); err != nil {
			return fmt.Errorf("change TTL of %s: %w", table, err)
		}
	}
	return nil
}
