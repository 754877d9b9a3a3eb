package schema

import (
	"context"
	"fmt"
	"strings"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// Version 11 adds what an address's network is to flows and their
// rollups: its AS name and country beside the AS number flows already
// had (the exporter's, or the correlator's IP database's when the exporter
// sent none).

// asColumns are the AS enrichment of the raw flows table that version 11
// added after dst_as.
const asColumns = `
	src_as_name ` + lc + `,
	dst_as_name ` + lc + `,
	src_country ` + lc + `,
	dst_country ` + lc + `,`

// rollupASColumns are the AS enrichment of one side in flows_1m and
// flows_1h. They follow from the key (the address and, for an AS number
// the exporter sent, the exporter), so any stored value is the value.
func rollupASColumns(side string) string {
	return fmt.Sprintf(`
	%[1]s_as SimpleAggregateFunction(any, UInt32),
	%[1]s_as_name %[2]s,
	%[1]s_country %[2]s,`, side, anyLC)
}

// flowsASColumns adds the raw table's AS columns to a database made
// before version 11; the views of the rollups read them.
func flowsASColumns() string {
	return "ALTER TABLE " + TableFlows + " " + addColumns(asColumns, "dst_as")
}

// rollupASStatements adds the AS columns to a rollup made before
// version 11.
func rollupASStatement(table string) string {
	return "ALTER TABLE " + table + " " + addColumns(rollupASColumns("src")+rollupASColumns("dst"), "dst_node")
}

// addColumns turns column definitions ("name type,\n...") into ADD COLUMN
// IF NOT EXISTS clauses placed one after the other from after.
func addColumns(defs, after string) string {
	var clauses []string
	for _, def := range strings.Split(strings.TrimSpace(defs), ",\n") {
		def = strings.TrimSuffix(strings.TrimSpace(def), ",")
		clauses = append(clauses, "ADD COLUMN IF NOT EXISTS "+def+" AFTER "+after)
		after = strings.Fields(def)[0]
	}
	return strings.Join(clauses, ", ")
}

// upgradeToV11 adds the AS columns and makes the rollups' views carry
// them; a run cut short is redone whole (every step is idempotent).
func (d ddl) upgradeToV11(ctx context.Context, conn driver.Conn) error {
	stmts := []string{flowsASColumns(), rollupASStatement(TableFlows1m), rollupASStatement(TableFlows1h),
		"DROP VIEW IF EXISTS flows_1h_mv", "DROP VIEW IF EXISTS flows_1m_mv",
		d.flows1mMV(), d.flows1hMV()}
	for _, s := range stmts {
		if err := conn.Exec(ctx, s); err != nil {
			return fmt.Errorf("add AS columns: %w", err)
		}
	}
	return nil
}
