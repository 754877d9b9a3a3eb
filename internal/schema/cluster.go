package schema

import (
	"fmt"
	"maps"
	"regexp"
	"strings"
	"time"

	"github.com/netstrata/netstrata/internal/store"
)

// A ClickHouse cluster (Options.Cluster set) gets the same schema rendered
// for replication and sharding, with every statement ON CLUSTER:
//
//   - each table is <name>_local, a Replicated*MergeTree of the same
//     engine family, replicated through ZooKeeper/Keeper under
//     /clickhouse/tables/{shard}/{database}/<name>_local with the
//     {shard} and {replica} macros of each server;
//   - <name> itself is a Distributed table over the <name>_local of every
//     shard, so that queries, the API and inserts use the names they use
//     on one machine;
//   - materialized views read and write the local tables, so that each
//     shard rolls up the rows it holds; the flow rollups the correlator
//     writes itself (version 20) are sharded like the raw flows;
//   - raw rows are sharded by a key that keeps what a rollup or lookup
//     merges on one shard: a conversation (the sorted IP pair, for flows
//     and sockets alike), a device, a pod, an alert. A rollup row then has
//     all its contributions on one shard, and the sums, any() and uniq
//     states of different shards never need merging with each other
//     (queries sum across shards, as they already sum across parts).
//
// A cluster database is made at the current schema: the steps that
// convert a single-node database made by an older version (7, 8, 11, 15)
// have nothing to do, the interface tables version 8 re-keys are
// created in their re-keyed form by versions 2 and 5, and the steps that
// read the database are replaced by what they do on an empty one
// (fresh, in clusterMigrations).

// localSuffix names the shard-local table behind a Distributed one.
const localSuffix = "_local"

// shardingKeys are the Distributed tables' keys for the tables that
// components insert into; derived tables written only by views on each
// shard have none (an insert into their Distributed table is refused).
var shardingKeys = map[string]string{
	TableFlows: conversationKey,
	// The correlator writes the flow rollups itself (version 20): a
	// conversation's rows go to the shard of its raw flows, an
	// interface's to one shard.
	TableFlows1m:          conversationKey,
	TableFlows1h:          conversationKey,
	TableInterfaceFlows5m: "cityHash64(exporter_ip, if_index)",
	TableSockets:          "cityHash64(least(local_ip, remote_ip), greatest(local_ip, remote_ip))",
	TableIfStats:          "cityHash64(device_ip)",
	TablePods:             "cityHash64(uid)",
	TableAlerts:           "cityHash64(fingerprint)",
	TableAlertPending:     "cityHash64(fingerprint)",
	TableAlertDeliveries:  "cityHash64(fingerprint)",
	// The correlator inserts its fencing claims; its progress rows are
	// written by views on each shard, and readers take the max over all.
	TableIngestProgress: "cityHash64(writer_group, topic, partition)",
	TableIngestBatches:  "cityHash64(writer_group)",
}

// conversationKey shards flows and their rollups by the sorted IP pair.
const conversationKey = "cityHash64(least(src_ip, dst_ip), greatest(src_ip, dst_ip))"

// clusterTables are every table that has a local and a Distributed form.
var clusterTables = func() map[string]bool {
	m := map[string]bool{TableIngestProgress: true, TableIngestBatches: true}
	for t := range timeColumn {
		m[t] = true
	}
	return m
}()

// localTable is the name of table's storage: itself on one machine, its
// shard-local table on a cluster.
func (o Options) localTable(table string) string {
	if o.Cluster == "" {
		return table
	}
	return table + localSuffix
}

// onCluster is " ON CLUSTER <name>", or nothing on one machine.
func (o Options) onCluster() string {
	if o.Cluster == "" {
		return ""
	}
	return " ON CLUSTER " + o.Cluster
}

// convertsOldDatabases are the migrations whose step (Run) converts a
// single-server database made by an older version, which a cluster
// database never is.
var convertsOldDatabases = map[int]bool{7: true, 8: true, 11: true, 15: true}

// clusterMigrations renders single-node migrations for o.Cluster.
func (d ddl) clusterMigrations(single []store.Migration) []store.Migration {
	current := map[string]string{
		d.interfacesLatest():  d.interfacesLatestByDevice(),
		d.interfaceSNMP5m():   d.interfaceSNMP5mByDevice(),
		d.interfaceSNMP5mMV(): d.interfaceSNMP5mByDeviceMV(),
	}
	// Version 15 alters ingest_progress in place (Run, not rendered
	// here): a cluster's is made per writer group from the start.
	maps.Copy(current, d.progressByGroup())
	fresh := map[int][]string{
		14: {flows5TupleCoverage(time.Unix(0, 0).UTC())}, // no flow before the table: complete from the start
	}
	out := make([]store.Migration, 0, len(single))
	for _, m := range single {
		if _, ok := fresh[m.Version]; m.Run != nil && !ok && !convertsOldDatabases[m.Version] {
			panic(fmt.Sprintf("schema: migration %d reads the database; give it a cluster form in cluster.go", m.Version))
		}
		c := store.Migration{Version: m.Version, Name: m.Name}
		for _, s := range append(append([]string(nil), m.Statements...), fresh[m.Version]...) {
			if r, ok := current[s]; ok {
				s = r
			}
			c.Statements = append(c.Statements, d.clusterStatements(s)...)
		}
		out = append(out, c)
	}
	return out
}

var (
	createTableRE = regexp.MustCompile(`^CREATE TABLE IF NOT EXISTS (\w+) \(`)
	createMVRE    = regexp.MustCompile(`^CREATE MATERIALIZED VIEW IF NOT EXISTS (\w+) TO (\w+) AS`)
	createViewRE  = regexp.MustCompile(`^CREATE VIEW IF NOT EXISTS (\w+) AS`)
	refreshRE     = regexp.MustCompile(`^CREATE MATERIALIZED VIEW IF NOT EXISTS (\w+) (REFRESH [^\n]*) APPEND TO (\w+) AS`)
	alterRE       = regexp.MustCompile(`^ALTER TABLE (\w+) `)
	dropViewRE    = regexp.MustCompile(`^DROP VIEW IF EXISTS (\w+)$`)
	engineRE      = regexp.MustCompile(`(?m)^\) ENGINE = (\w*MergeTree)(?:\((.*)\))?$`)
	fromRE        = regexp.MustCompile(`\bFROM (\w+)\b`)
)

// clusterStatements renders one single-node statement for the cluster:
// a table becomes its local table and its Distributed table; a column
// change applies to both; a materialized view moves to the local tables;
// a plain view, reading the Distributed tables, is only made ON CLUSTER.
func (d ddl) clusterStatements(s string) []string {
	on := d.o.onCluster()
	switch {
	case createTableRE.MatchString(s):
		table := createTableRE.FindStringSubmatch(s)[1]
		local := d.o.localTable(table)
		return []string{d.replicated(createTableRE.ReplaceAllString(s, "CREATE TABLE IF NOT EXISTS "+local+on+" ("), local),
			d.distributed(table)}
	case createMVRE.MatchString(s):
		m := createMVRE.FindStringSubmatch(s)
		return []string{d.fromLocal(createMVRE.ReplaceAllString(s, "CREATE MATERIALIZED VIEW IF NOT EXISTS "+m[1]+on+" TO "+d.o.localTable(m[2])+" AS"))}
	case refreshRE.MatchString(s):
		// Each replica refreshes its shard's blocks; the replicas' equal
		// inserts are deduplicated, and a block doubled anyway is one
		// readers do not use (its flows differ from flows_1h's).
		m := refreshRE.FindStringSubmatch(s)
		return []string{d.fromLocal(refreshRE.ReplaceAllLiteralString(s, "CREATE MATERIALIZED VIEW IF NOT EXISTS "+m[1]+on+" "+m[2]+" APPEND TO "+d.o.localTable(m[3])+" AS"))}
	case createViewRE.MatchString(s):
		return []string{createViewRE.ReplaceAllString(s, "CREATE VIEW IF NOT EXISTS $1"+on+" AS")}
	case dropViewRE.MatchString(s):
		return []string{s + on}
	case alterRE.MatchString(s):
		table := alterRE.FindStringSubmatch(s)[1]
		rest := strings.TrimPrefix(s, "ALTER TABLE "+table+" ")
		return []string{"ALTER TABLE " + d.o.localTable(table) + on + " " + rest, "ALTER TABLE " + table + on + " " + rest}
	}
	panic(fmt.Sprintf("schema: no cluster form for %.60q", s))
}

// replicated turns the MergeTree engine of a local table's DDL into its
// Replicated form, and its deduplication window into the replicated one.
// fromLocal makes a view read the local tables of the replicated ones.
func (d ddl) fromLocal(s string) string {
	return fromRE.ReplaceAllStringFunc(s, func(from string) string {
		if t := strings.TrimPrefix(from, "FROM "); clusterTables[t] {
			return "FROM " + d.o.localTable(t)
		}
		return from
	})
}

func (d ddl) replicated(s, local string) string {
	m := engineRE.FindStringSubmatch(s)
	if m == nil {
		panic("schema: no MergeTree engine in the DDL of " + local)
	}
	args := "'/clickhouse/tables/{shard}/{database}/" + local + "', '{replica}'"
	if m[2] != "" {
		args += ", " + m[2]
	}
	s = engineRE.ReplaceAllLiteralString(s, ") ENGINE = Replicated"+m[1]+"("+args+")")
	return strings.Replace(s, "non_replicated_deduplication_window", "replicated_deduplication_window", 1)
}

// distributed is the DDL of the Distributed table named table, over the
// local tables of every shard of the cluster.
func (d ddl) distributed(table string) string {
	args := fmt.Sprintf("%s, %s, %s", d.o.Cluster, d.o.Database, d.o.localTable(table))
	if key, ok := shardingKeys[table]; ok {
		args += ", " + key
	}
	return "CREATE TABLE IF NOT EXISTS " + table + d.o.onCluster() + " AS " + d.o.localTable(table) + "\nENGINE = Distributed(" + args + ")"
}
