package schema

import (
	"context"
	"fmt"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// upgradeToV7 brings a database made before version 7 to the DDL of
// this version: AggregatingMergeTree rollups and compact parts.
func (d ddl) upgradeToV7(ctx context.Context, conn driver.Conn) error {
	if err := d.aggregatingRollups(ctx, conn); err != nil {
		return err
	}
	engines, err := tableEngines(ctx, conn)
	if err != nil {
		return err
	}
	for table := range d.o.ttlSeconds() {
		if table == TableAlerts || table == TableAlertPending || table == TableAlertDeliveries || engines[table] == "" {
			continue // made after version 7, with compact parts already
		}
		if err := conn.Exec(ctx, "ALTER TABLE "+table+" MODIFY SETTING "+compactParts); err != nil {
			return fmt.Errorf("compact parts for %s: %w", table, err)
		}
	}
	return nil
}

// aggregatingRollups converts flows_1m and flows_1h, created as
// SummingMergeTree before version 7, to the AggregatingMergeTree of
// flowsRollup, keeping their rows. Each step checks what the database
// holds, so that a run cut short is finished by the next one:
//
//  1. the views writing to or reading from the rollups are dropped;
//  2. a SummingMergeTree rollup is renamed <table>_summing;
//  3. the rollup is created anew (IF NOT EXISTS) and, while a
//     <table>_summing exists, emptied and refilled from it, which is
//     then dropped;
//  4. the views are created again.
func (d ddl) aggregatingRollups(ctx context.Context, conn driver.Conn) error {
	engines, err := tableEngines(ctx, conn)
	if err != nil {
		return err
	}
	if engines[TableFlows1m] == "AggregatingMergeTree" && engines[TableFlows1h] == "AggregatingMergeTree" &&
		engines[TableFlows1m+"_summing"] == "" && engines[TableFlows1h+"_summing"] == "" {
		return nil // created by this version, or converted already
	}
	// The views created below read the AS columns of version 11.
	stmts := []string{flowsASColumns()}
	for _, v := range []string{"interface_flows_5m_mv", "flows_1h_mv", "flows_1m_mv"} {
		stmts = append(stmts, "DROP VIEW IF EXISTS "+v)
	}
	for _, table := range []string{TableFlows1m, TableFlows1h} {
		old := table + "_summing"
		if engines[table] == "SummingMergeTree" && engines[old] == "" {
			stmts = append(stmts, "RENAME TABLE "+table+" TO "+old)
			engines[old] = "SummingMergeTree"
		}
		stmts = append(stmts, d.flowsRollup(table))
		if engines[old] != "" {
			stmts = append(stmts, "TRUNCATE TABLE "+table,
				"INSERT INTO "+table+" ("+flowsRollupV3Columns+") SELECT "+flowsRollupV3Columns+" FROM "+old,
				"DROP TABLE "+old)
		}
	}
	stmts = append(stmts, d.flows1mMV(), d.flows1hMV(), d.interfaceFlows5mMV())
	for _, s := range stmts {
		if err := conn.Exec(ctx, s); err != nil {
			return fmt.Errorf("convert flow rollups: %w", err)
		}
	}
	return nil
}

// flowsRollupV3Columns are the columns of flows_1m and flows_1h before
// version 11.
const flowsRollupV3Columns = `time, exporter_ip, exporter_name, in_if, in_if_name, out_if, out_if_name,
	direction, proto, application, src_port, dst_port, src_ip, dst_ip,
	src_pod, src_namespace, src_workload, src_node, dst_pod, dst_namespace, dst_workload, dst_node,
	bytes, packets, flows`

// tableEngines maps the tables of the current database to their engine.
func tableEngines(ctx context.Context, conn driver.Conn) (map[string]string, error) {
	return tableProperty(ctx, conn, "engine")
}

// tableProperty maps the tables of the current database to one column of
// system.tables (engine, sorting_key, ...).
func tableProperty(ctx context.Context, conn driver.Conn, column string) (map[string]string, error) {
	rows, err := conn.Query(ctx, "SELECT name, "+column+" FROM system.tables WHERE database = currentDatabase()")
	if err != nil {
		return nil, fmt.Errorf("read table %s: %w", column, err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var name, v string
		if err := rows.Scan(&name, &v); err != nil {
			return nil, fmt.Errorf("read table %s: %w", column, err)
		}
		out[name] = v
	}
	return out, rows.Err()
}
