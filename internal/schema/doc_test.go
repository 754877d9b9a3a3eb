package schema_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/netstrata/netstrata/internal/schema"
	"github.com/netstrata/netstrata/internal/schema/schematest"
)

// TestSchemaDocExamplesRun runs every SQL example of SCHEMA.md, so that
// the document the API is written against stays true.
func TestSchemaDocExamplesRun(t *testing.T) {
	doc, err := os.ReadFile("SCHEMA.md")
	if err != nil {
		t.Fatal(err)
	}
	var queries []string
	for _, block := range strings.Split(string(doc), "```sql\n")[1:] {
		queries = append(queries, block[:strings.Index(block, "```")])
	}
	if len(queries) < 6 {
		t.Fatalf("found %d SQL examples in SCHEMA.md", len(queries))
	}
	conn, _ := schematest.Open(t, schema.DefaultOptions())
	ctx := clickhouse.Context(context.Background(), clickhouse.WithParameters(clickhouse.Parameters{
		"from": "2026-01-01 00:00:00", "to": "2026-01-02 00:00:00", "exporter": "192.0.2.1",
	}))
	for _, q := range queries {
		rows, err := conn.Query(ctx, q)
		if err != nil {
			t.Errorf("SCHEMA.md example fails: %v\n%s", err, q)
			continue
		}
		rows.Close()
	}
}
