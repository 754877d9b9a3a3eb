package schema_test

import (
	"os"
	"testing"

	"github.com/netstrata/netstrata/internal/schema/schematest"
)

func TestMain(m *testing.M) { os.Exit(schematest.Main(m)) }
