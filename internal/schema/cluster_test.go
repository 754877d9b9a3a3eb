package schema_test

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/netstrata/netstrata/internal/record"
	"github.com/netstrata/netstrata/internal/schema"
	"github.com/netstrata/netstrata/internal/schema/schematest"
	"github.com/netstrata/netstrata/internal/store"
)

var updateGolden = flag.Bool("update-golden", false, "rewrite testdata/*.sql from the rendered DDL")

// clusterOptions are the default options for a cluster named
// netstrata_cluster holding the database netstrata.
func clusterOptions() schema.Options {
	return schema.DefaultOptions().For(store.Configuration{Cluster: "netstrata_cluster", Database: "netstrata"})
}

// renderMigrations writes every migration's statements, in order, as a
// SQL script.
func renderMigrations(ms []store.Migration) string {
	var b strings.Builder
	for _, m := range ms {
		fmt.Fprintf(&b, "-- Version %d: %s\n", m.Version, m.Name)
		if len(m.Statements) == 0 {
			b.WriteString("-- (nothing to do on a cluster: it is created at the current schema)\n")
		}
		for _, s := range m.Statements {
			b.WriteString(s + ";\n\n")
		}
		if m.Run != nil {
			b.WriteString("-- (and a step that reads the database)\n")
		}
	}
	return b.String()
}

func TestClusterDDLMatchesGolden(t *testing.T) {
	got := renderMigrations(schema.Migrations(clusterOptions()))
	path := filepath.Join("testdata", "cluster.sql")
	if *updateGolden {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update-golden after checking the DDL)", err)
	}
	if got != string(want) {
		t.Errorf("cluster DDL differs from %s; review with -update-golden and git diff", path)
	}
}

func TestClusterDDLHasNoStepThatReadsOneServer(t *testing.T) {
	for _, m := range schema.Migrations(clusterOptions()) {
		if m.Run != nil {
			t.Errorf("migration %d runs code against one server; a cluster needs its statements ON CLUSTER", m.Version)
		}
		for _, s := range m.Statements {
			if !strings.Contains(s, " ON CLUSTER netstrata_cluster") {
				t.Errorf("migration %d: statement not ON CLUSTER: %.80s", m.Version, s)
			}
			if strings.Contains(s, "ENGINE = ") && !strings.Contains(s, "ENGINE = Replicated") && !strings.Contains(s, "ENGINE = Distributed") {
				t.Errorf("migration %d: table neither replicated nor distributed: %.80s", m.Version, s)
			}
		}
	}
}

func TestSingleServerDDLIsUnchangedByTheClusterRendering(t *testing.T) {
	for _, m := range schema.Migrations(schema.DefaultOptions().For(store.Configuration{Database: "netstrata"})) {
		for _, s := range m.Statements {
			if strings.Contains(s, "ON CLUSTER") || strings.Contains(s, "Replicated") || strings.Contains(s, "_local") {
				t.Errorf("migration %d renders cluster DDL without a cluster: %.80s", m.Version, s)
			}
		}
	}
}

// onOneServer turns cluster DDL into what one chDB server can run: no ON
// CLUSTER, plain engines for the replicated ones (the ZooKeeper path and
// replica name dropped) and, for each Distributed table, a Merge table
// over its local table that reads the same rows.
var (
	replicatedRE  = regexp.MustCompile(`Replicated(\w*MergeTree)\('[^']*', '\{replica\}'(?:, )?`)
	distributedRE = regexp.MustCompile(`Distributed\(netstrata_cluster, netstrata, (\w+)(?:, .*)?\)$`)
)

func onOneServer(s, database string) string {
	s = strings.ReplaceAll(s, " ON CLUSTER netstrata_cluster", "")
	s = replicatedRE.ReplaceAllString(s, "$1(")
	s = strings.ReplaceAll(s, "MergeTree()", "MergeTree")
	s = strings.Replace(s, "replicated_deduplication_window", "non_replicated_deduplication_window", 1)
	return distributedRE.ReplaceAllString(s, "Merge("+database+", '^$1$$')")
}

// TestClusterDDLRunsOnOneServerAndRollsUpTheLocalTables executes the
// cluster DDL with what a single server cannot run (replication,
// distribution) replaced, so that every table, view and column change
// is checked by the engine, the views write the local rollups, and the
// sharding keys are valid expressions of their tables.
func TestClusterDDLRunsOnOneServerAndRollsUpTheLocalTables(t *testing.T) {
	cfg := schematest.Database(t)
	ctx := context.Background()
	conn, err := store.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, m := range schema.Migrations(clusterOptions()) {
		for _, s := range m.Statements {
			if err := conn.Exec(ctx, onOneServer(s, cfg.Database)); err != nil {
				t.Fatalf("migration %d: %v\n%s", m.Version, err, onOneServer(s, cfg.Database))
			}
		}
	}
	for table, key := range schema.ShardingKeys() {
		if err := conn.Exec(ctx, "SELECT "+key+" FROM "+table+"_local LIMIT 1"); err != nil {
			t.Errorf("sharding key of %s: %v", table, err)
		}
	}
	insert(t, conn, "flows/0/1-2", `INSERT INTO flows_local `+flowCols+` VALUES
		('2026-01-01 10:00:05', 0, '::ffff:192.0.2.1', 'sw1', 100, 3, 'eth3', 4, 'eth4', '::ffff:10.0.0.1', '::ffff:10.0.0.2', 50000, 443, 6, 1000, 10, 'https', 'web-1', 'api-1', 0, 1),
		('2026-01-01 10:00:40', 0, '::ffff:192.0.2.1', 'sw1', 100, 3, 'eth3', 4, 'eth4', '::ffff:10.0.0.1', '::ffff:10.0.0.2', 50001, 443, 6, 500, 5, 'https', 'web-1', 'api-1', 0, 2)`)
	if b := scalar[uint64](t, conn, "SELECT sum(bytes) FROM flows_1h WHERE time = '2026-01-01 10:00:00'"); b != 150000 {
		t.Errorf("flows_1h bytes through the local views = %d, want 150000", b)
	}
	if n := scalar[uint64](t, conn, "SELECT max(max_offset) FROM ingest_progress WHERE topic = '"+record.TopicFlows+"'"); n != 2 {
		t.Errorf("ingest_progress max offset = %d, want 2", n)
	}
}
