package schema_test

import (
	"context"
	"testing"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/netstrata/netstrata/internal/schema"
	"github.com/netstrata/netstrata/internal/schema/schematest"
)

// TestDeclaredColumnsAreTheRawTablesColumns checks the Go declaration of
// each raw table's columns against the table Ensure creates: a column
// renamed, retyped, added or dropped in the DDL without its constant (or
// the other way round) fails here rather than in the correlator's INSERT
// or an API query.
func TestDeclaredColumnsAreTheRawTablesColumns(t *testing.T) {
	conn, _ := schematest.Open(t, schema.DefaultOptions())
	for _, table := range []string{schema.TableFlows, schema.TableSockets, schema.TableIfStats, schema.TablePods} {
		engine := map[string]string{}
		rows, err := conn.Query(context.Background(), "SELECT name, type FROM system.columns WHERE database = currentDatabase() AND table = {t:String}",
			driver.NamedValue{Name: "t", Value: table})
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var name, typ string
			if err := rows.Scan(&name, &typ); err != nil {
				t.Fatal(err)
			}
			engine[name] = typ
		}
		rows.Close()
		declared := schema.Columns(table)
		if len(engine) == 0 || len(declared) == 0 {
			t.Fatalf("%s: %d columns in the engine, %d declared", table, len(engine), len(declared))
		}
		for _, c := range declared {
			typ, ok := engine[c.Name]
			switch {
			case !ok:
				t.Errorf("%s.%s is declared but the table has no such column", table, c.Name)
			case typ != c.Type:
				t.Errorf("%s.%s is declared %s, the table has %s", table, c.Name, c.Type, typ)
			}
			delete(engine, c.Name)
		}
		for name, typ := range engine {
			t.Errorf("%s.%s (%s) is not declared in internal/schema/columns.go", table, name, typ)
		}
	}
	if schema.Columns(schema.TableFlows1m) != nil {
		t.Error("Columns of a rollup: want nil (only raw tables are declared)")
	}
}
