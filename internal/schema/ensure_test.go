package schema_test

import (
	"context"
	"testing"

	"github.com/netstrata/netstrata/internal/schema"
	"github.com/netstrata/netstrata/internal/schema/schematest"
)

func TestEnsureCreatesEveryTableAndIsIdempotent(t *testing.T) {
	conn, _ := schematest.Open(t, schema.DefaultOptions())
	ctx := context.Background()
	if err := schema.Ensure(ctx, conn, schema.DefaultOptions()); err != nil {
		t.Fatalf("second Ensure: %v", err)
	}
}
