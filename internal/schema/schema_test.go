package schema_test

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/netstrata/netstrata/internal/schema"
	"github.com/netstrata/netstrata/internal/schema/schematest"
)

// base is the hour the test data starts at: recent, so that no TTL has
// expired it yet.
var base = time.Now().UTC().Truncate(time.Hour).Add(-3 * time.Hour)

// at rewrites the fixed dates of the queries below ("2026-01-01 09" to
// "2026-01-01 12") to hours from base.
func at(q string) string {
	for h := 9; h <= 12; h++ {
		q = strings.ReplaceAll(q, fmt.Sprintf("2026-01-01 %02d", h), base.Add(time.Duration(h-9)*time.Hour).Format("2006-01-02 15"))
	}
	return q
}

// insert runs an INSERT with a deduplication token, as the correlator does.
func insert(t *testing.T, conn driver.Conn, token, query string) {
	t.Helper()
	ctx := clickhouse.Context(context.Background(), clickhouse.WithSettings(clickhouse.Settings{
		"insert_deduplication_token":                         token,
		"deduplicate_blocks_in_dependent_materialized_views": 1,
	}))
	if err := conn.Exec(ctx, at(query)); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

// scalar reads one value.
func scalar[T any](t *testing.T, conn driver.Conn, query string) T {
	t.Helper()
	var v T
	if err := conn.QueryRow(context.Background(), at(query)).Scan(&v); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return v
}

const flowCols = `(time_received, time_flow_end, exporter_ip, exporter_name, sampling_rate, in_if, in_if_name, out_if, out_if_name,
	src_ip, dst_ip, src_port, dst_port, proto, bytes, packets, application, src_pod, dst_pod, kafka_partition, kafka_offset)`

func TestFlowRollupsScaleBySamplingAndFoldTheClientPort(t *testing.T) {
	conn, _ := schematest.Open(t, schema.DefaultOptions())
	insert(t, conn, "flows/0/1-3", `INSERT INTO flows `+flowCols+` VALUES
		('2026-01-01 10:00:05', 0, '::ffff:192.0.2.1', 'sw1', 100, 3, 'eth3', 4, 'eth4', '::ffff:10.0.0.1', '::ffff:10.0.0.2', 50000, 443, 6, 1000, 10, 'https', 'web-1', 'api-1', 0, 1),
		('2026-01-01 10:00:40', 0, '::ffff:192.0.2.1', 'sw1', 100, 3, 'eth3', 4, 'eth4', '::ffff:10.0.0.1', '::ffff:10.0.0.2', 50001, 443, 6, 500, 5, 'https', 'web-1', 'api-1', 0, 2),
		('2026-01-01 10:01:10', 0, '::ffff:192.0.2.1', 'sw1', 100, 4, 'eth4', 3, 'eth3', '::ffff:10.0.0.2', '::ffff:10.0.0.1', 443, 50000, 6, 2000, 20, 'https', 'api-1', 'web-1', 0, 3)`)

	// Two flows of the first minute differ only by the client port, folded to 0.
	if n := scalar[uint64](t, conn, "SELECT count() FROM flows_1m FINAL"); n != 2 {
		t.Errorf("flows_1m rows = %d, want 2", n)
	}
	var bytes, packets, flows uint64
	var dport, sport uint16
	if err := conn.QueryRow(context.Background(), at(`SELECT bytes, packets, flows, dst_port, src_port FROM flows_1m FINAL
		WHERE time = '2026-01-01 10:00:00'`)).Scan(&bytes, &packets, &flows, &dport, &sport); err != nil {
		t.Fatal(err)
	}
	if bytes != 150000 || packets != 1500 || flows != 2 || dport != 443 || sport != 0 {
		t.Errorf("10:00 rollup = %d B %d pkts %d flows ports %d->%d, want 150000 B 1500 pkts 2 flows 0->443", bytes, packets, flows, sport, dport)
	}
	// The return flow keeps the service port as source.
	if p := scalar[uint16](t, conn, "SELECT src_port FROM flows_1m FINAL WHERE time = '2026-01-01 10:01:00'"); p != 443 {
		t.Errorf("return flow src_port = %d, want 443", p)
	}
	if b := scalar[uint64](t, conn, "SELECT sum(bytes) FROM flows_1h WHERE time = '2026-01-01 10:00:00'"); b != 350000 {
		t.Errorf("flows_1h bytes = %d, want 350000", b)
	}
	// Per interface: eth3 received 150000 B and sent 200000 B.
	in := scalar[uint64](t, conn, "SELECT sum(bytes) FROM interface_flows_5m WHERE if_index = 3 AND direction = 'in'")
	out := scalar[uint64](t, conn, "SELECT sum(bytes) FROM interface_flows_5m WHERE if_index = 3 AND direction = 'out'")
	if in != 150000 || out != 200000 {
		t.Errorf("eth3 flow bytes in/out = %d/%d, want 150000/200000", in, out)
	}
	if off := scalar[uint64](t, conn, "SELECT max(max_offset) FROM ingest_progress WHERE topic = 'netstrata.flows.v1' AND partition = 0"); off != 3 {
		t.Errorf("ingest_progress max_offset = %d, want 3", off)
	}
}

func TestRetriedInsertWithTheSameTokenCountsOnce(t *testing.T) {
	conn, _ := schematest.Open(t, schema.DefaultOptions())
	q := `INSERT INTO flows ` + flowCols + ` VALUES
		('2026-01-01 10:00:05', 0, '::ffff:192.0.2.1', 'sw1', 10, 3, 'eth3', 4, 'eth4', '::ffff:10.0.0.1', '::ffff:10.0.0.2', 50000, 443, 6, 1000, 10, 'https', '', '', 1, 7)`
	insert(t, conn, "flows/1/7-7", q)
	insert(t, conn, "flows/1/7-7", q)
	for _, c := range []struct{ query string }{
		{"SELECT count() FROM flows"},
		{"SELECT sum(flows) FROM flows_1m"},
		{"SELECT sum(flows) FROM flows_1h"},
		{"SELECT sum(flows) FROM interface_flows_5m WHERE direction = 'in'"},
		{"SELECT sum(rows) FROM ingest_progress"},
	} {
		if n := scalar[uint64](t, conn, c.query); n != 1 {
			t.Errorf("%s = %d, want 1", c.query, n)
		}
	}
	insert(t, conn, "flows/1/8-8", strings.Replace(q, ", 1, 7)", ", 1, 8)", 1))
	if n := scalar[uint64](t, conn, "SELECT sum(flows) FROM flows_1m"); n != 2 {
		t.Errorf("after a new token flows_1m = %d, want 2", n)
	}
}

const socketCols = `(time, node, local_ip, local_port, remote_ip, remote_port, direction, pid, comm, local_pod,
	remote_pod, bytes_sent, bytes_received, retransmits, srtt_us, srtt_max_us, jitter_us, connect_latency_us, netns, socket_id, kafka_partition, kafka_offset)`

func TestFlowSocketCorrelationMatchesEitherDirection(t *testing.T) {
	conn, _ := schematest.Open(t, schema.DefaultOptions())
	// One flow 10.0.0.1:50000 -> 10.0.0.2:443 seen by a switch; the client
	// socket on node-a and the server socket on node-b see it from each end.
	insert(t, conn, "f", `INSERT INTO flows `+flowCols+` VALUES
		('2026-01-01 10:00:50', '2026-01-01 10:00:30', '::ffff:192.0.2.1', 'sw1', 10, 3, 'eth3', 4, 'eth4', '::ffff:10.0.0.1', '::ffff:10.0.0.2', 50000, 443, 6, 1000, 10, 'https', '', '', 0, 1),
		('2026-01-01 10:00:50', '2026-01-01 10:00:30', '::ffff:192.0.2.1', 'sw1', 10, 3, 'eth3', 4, 'eth4', '::ffff:10.0.0.9', '::ffff:10.0.0.2', 50000, 443, 6, 1000, 10, 'https', '', '', 0, 2)`)
	insert(t, conn, "s", `INSERT INTO sockets `+socketCols+` VALUES
		('2026-01-01 10:00:20', 'node-a', '::ffff:10.0.0.1', 50000, '::ffff:10.0.0.2', 443, 'client', 11, 'curl', 'web-1', 'api-1', 9000, 80000, 2, 1500, 3000, 200, 900, 1, 1, 0, 1),
		('2026-01-01 10:00:20', 'node-b', '::ffff:10.0.0.2', 443, '::ffff:10.0.0.1', 50000, 'server', 22, 'nginx', 'api-1', 'web-1', 80000, 9000, 0, 1400, 2000, 100, 0, 1, 2, 0, 2),
		('2026-01-01 10:03:20', 'node-a', '::ffff:10.0.0.1', 50000, '::ffff:10.0.0.2', 443, 'client', 11, 'curl', 'web-1', 'api-1', 9000, 80000, 2, 1500, 3000, 200, 900, 1, 1, 0, 3)`)
	rows, err := conn.Query(context.Background(), at(`SELECT node, comm, socket_direction, flow_bytes_a_to_b, flow_bytes_b_to_a, srtt_avg_us
		FROM flow_socket_correlation(from = '2026-01-01 09:00:00', to = '2026-01-01 11:00:00') ORDER BY node`))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var node, comm, dir string
		var ab, ba uint64
		var rtt float64
		if err := rows.Scan(&node, &comm, &dir, &ab, &ba, &rtt); err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprintf("%s %s %s %d %d %.0f", node, comm, dir, ab, ba, rtt))
	}
	want := []string{"node-a curl client 10000 0 1500", "node-b nginx server 10000 0 1400"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("correlation = %q, want %q", got, want)
	}
}

func TestSocketRollupKeepsRTTQuantilesPerServiceEndpoint(t *testing.T) {
	conn, _ := schematest.Open(t, schema.DefaultOptions())
	var values []string
	for i := range 100 {
		// 100 client connections to one service, RTT 1..100 ms.
		values = append(values, fmt.Sprintf("('2026-01-01 10:00:%02d', 'node-a', '::ffff:10.0.0.1', %d, '::ffff:10.0.0.2', 443, 'client', 11, 'curl', 'web-1', 'api-1', 100, 1000, %d, %d, %d, 10, 500, 1, %d, 0, %d)",
			i%60, 40000+i, i%2, (i+1)*1000, (i+1)*1000, i, i))
	}
	insert(t, conn, "s", "INSERT INTO sockets "+socketCols+" VALUES "+strings.Join(values, ","))
	var samples, sockets, retr, connects uint64
	var q []float64
	if err := conn.QueryRow(context.Background(), at(`SELECT sum(samples), uniqMerge(sockets), sum(retransmits), sum(connects),
		quantilesTDigestMerge(0.5, 0.9, 0.99)(srtt_us)
		FROM sockets_1m WHERE remote_port = 443 AND local_port = 0 GROUP BY node, remote_ip, remote_port`)).Scan(&samples, &sockets, &retr, &connects, &q); err != nil {
		t.Fatal(err)
	}
	if samples != 100 || sockets != 100 || retr != 50 || connects != 100 {
		t.Errorf("samples %d sockets %d retransmits %d connects %d, want 100 100 50 100", samples, sockets, retr, connects)
	}
	if len(q) != 3 || math.Abs(q[0]-50000) > 3000 || math.Abs(q[2]-99000) > 3000 {
		t.Errorf("RTT quantiles = %v, want about [50000 90000 99000]", q)
	}
}

func TestInterfaceReconciliationComparesSNMPOctetsWithSampledFlows(t *testing.T) {
	conn, _ := schematest.Open(t, schema.DefaultOptions())
	insert(t, conn, "i", `INSERT INTO ifstats (time, prev_time, device, device_ip, if_index, if_name, speed_bps, rate_valid, delta_in_octets, delta_out_octets, kafka_partition, kafka_offset) VALUES
		('2026-01-01 10:01:00', '2026-01-01 10:00:00', 'sw1', '::ffff:192.0.2.1', 3, 'eth3', 1000000000, true, 100000, 400000, 0, 1),
		('2026-01-01 10:02:00', '2026-01-01 10:01:00', 'sw1', '::ffff:192.0.2.1', 3, 'eth3', 1000000000, true, 100000, 0, 0, 2),
		('2026-01-01 10:03:00', '2026-01-01 10:02:00', 'sw1', '::ffff:192.0.2.1', 3, 'eth3', 1000000000, false, 999999, 999999, 0, 3)`)
	insert(t, conn, "f", `INSERT INTO flows `+flowCols+` VALUES
		('2026-01-01 10:00:05', 0, '::ffff:192.0.2.1', 'sw1', 100, 3, 'eth3', 4, 'eth4', '::ffff:10.0.0.1', '::ffff:10.0.0.2', 50000, 443, 6, 1000, 10, 'https', '', '', 0, 1),
		('2026-01-01 10:00:05', 0, '::ffff:192.0.2.1', 'sw1', 100, 4, 'eth4', 3, 'eth3', '::ffff:10.0.0.2', '::ffff:10.0.0.1', 443, 50000, 6, 2000, 10, 'https', '', '', 0, 2)`)
	var device, ifName string
	var snmpIn, snmpOut, flowIn, flowOut, polls uint64
	var inRatio, outRatio float64
	if err := conn.QueryRow(context.Background(), at(`SELECT device, if_name, snmp_in_bytes, snmp_out_bytes, flow_in_bytes, flow_out_bytes, polls, in_ratio, out_ratio
		FROM interface_reconciliation(from = '2026-01-01 10:00:00', to = '2026-01-01 10:05:00') WHERE if_index = 3`)).Scan(
		&device, &ifName, &snmpIn, &snmpOut, &flowIn, &flowOut, &polls, &inRatio, &outRatio); err != nil {
		t.Fatal(err)
	}
	if device != "sw1" || ifName != "eth3" || snmpIn != 200000 || snmpOut != 400000 || flowIn != 100000 || flowOut != 200000 || polls != 2 {
		t.Errorf("got %s %s snmp %d/%d flows %d/%d polls %d", device, ifName, snmpIn, snmpOut, flowIn, flowOut, polls)
	}
	if inRatio != 0.5 || outRatio != 0.5 {
		t.Errorf("ratios %v/%v, want 0.5/0.5", inRatio, outRatio)
	}
}

func TestPodIPsAndLatestInterfacesFollowTheirSources(t *testing.T) {
	conn, _ := schematest.Open(t, schema.DefaultOptions())
	insert(t, conn, "p", `INSERT INTO pods (time, uid, name, namespace, node, ips, owner_kind, owner_name, deleted, kafka_partition, kafka_offset) VALUES
		('2026-01-01 10:00:00', 'u1', 'web-1', 'shop', 'node-a', ['::ffff:10.0.0.1', '2001:db8::1'], 'ReplicaSet', 'web', false, 0, 1),
		('2026-01-01 11:00:00', 'u1', 'web-1', 'shop', 'node-a', ['::ffff:10.0.0.1', '2001:db8::1'], 'ReplicaSet', 'web', true, 0, 2),
		('2026-01-01 11:05:00', 'u2', 'db-0', 'shop', 'node-b', ['::ffff:10.0.0.1'], 'StatefulSet', 'db', false, 0, 3)`)
	at := func(ts string) string {
		return scalar[string](t, conn, `SELECT name FROM pod_ips WHERE ip = toIPv6('10.0.0.1') AND time <= '`+ts+`' ORDER BY time DESC LIMIT 1`)
	}
	if a, b := at("2026-01-01 10:30:00"), at("2026-01-01 12:00:00"); a != "web-1" || b != "db-0" {
		t.Errorf("10.0.0.1 at 10:30 = %q, at 12:00 = %q; want web-1, db-0", a, b)
	}
	insert(t, conn, "i", `INSERT INTO ifstats (time, device, device_ip, if_index, if_name, speed_bps, kafka_partition, kafka_offset) VALUES
		('2026-01-01 10:00:00', 'sw1', '::ffff:192.0.2.1', 3, 'old', 100, 0, 1),
		('2026-01-01 10:01:00', 'sw1', '::ffff:192.0.2.1', 3, 'eth3', 1000, 0, 2)`)
	if n := scalar[string](t, conn, "SELECT if_name FROM interfaces_latest FINAL WHERE if_index = 3"); n != "eth3" {
		t.Errorf("latest name = %q, want eth3", n)
	}
}

func TestSyncTTLFollowsTheOptions(t *testing.T) {
	o := schema.DefaultOptions()
	conn, _ := schematest.Open(t, o)
	o.FlowsTTL = 2 * 24 * time.Hour
	if err := schema.SyncTTL(context.Background(), conn, o); err != nil {
		t.Fatal(err)
	}
	def := scalar[string](t, conn, "SELECT create_table_query FROM system.tables WHERE database = currentDatabase() AND name = 'flows'")
	if !strings.Contains(def, "toIntervalSecond(172800)") {
		t.Errorf("flows TTL not changed: %s", def)
	}
}

func TestOptionsValidateNamesTheField(t *testing.T) {
	o := schema.DefaultOptions()
	o.SocketsTTL = time.Minute
	err := o.Validate("correlator.schema")
	if err == nil || !strings.Contains(err.Error(), "correlator.schema.sockets_ttl") {
		t.Errorf("Validate = %v, want an error naming correlator.schema.sockets_ttl", err)
	}
	if err := schema.DefaultOptions().Validate("x"); err != nil {
		t.Errorf("defaults: %v", err)
	}
}
