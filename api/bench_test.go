package api

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/netstrata/netstrata/internal/schema"
	"github.com/netstrata/netstrata/internal/schema/schematest"
	"github.com/netstrata/netstrata/internal/store"
)

// The benchmarks measure investigate, topn, explore and filter completion
// over 24 hours of a large data set in the embedded ClickHouse:
// NETSTRATA_BENCH_FLOWS flow rows (default 50M) and
// NETSTRATA_BENCH_SOCKETS socket rows (default 10M), with SNMP polls of
// the flows' interfaces each minute,
// generated server-side with INSERT … SELECT FROM numbers() so that the
// materialized views fill the rollups as the correlator's inserts would.
//
//	go test -run '^$' -bench 'Investigate|TopN|Explore|FilterComplete' -benchtime 5x -timeout 90m ./api/

var bench struct {
	once sync.Once
	api  *testAPI
	end  time.Time
	err  error
}

func benchSize(env string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(env)); err == nil && v > 0 {
		return v
	}
	return def
}

func benchAPI(b *testing.B) *testAPI {
	bench.once.Do(func() {
		srv := schematest.Server(b)
		st := schematest.Writer(srv)
		st.Database = "netstrata_api_bench"
		st.MaxExecutionTime = time.Hour
		ctx := context.Background()
		conn, err := store.Open(ctx, st)
		if err != nil {
			bench.err = err
			return
		}
		if err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+st.Database+" SYNC"); err != nil {
			bench.err = err
			return
		}
		if conn, err = store.Open(ctx, st); err != nil {
			bench.err = err
			return
		}
		if err := schema.Ensure(ctx, conn, schema.DefaultOptions()); err != nil {
			bench.err = err
			return
		}
		bench.end = time.Now().UTC().Truncate(time.Minute)
		flows, sockets := benchSize("NETSTRATA_BENCH_FLOWS", 50_000_000), benchSize("NETSTRATA_BENCH_SOCKETS", 10_000_000)
		began := time.Now()
		if bench.err = seedBench(ctx, conn, bench.end, flows, sockets); bench.err != nil {
			return
		}
		fmt.Fprintf(os.Stderr, "bench: seeded %d flow rows and %d socket rows over 24h in %s\n", flows, sockets, time.Since(began).Round(time.Second))
		if bench.err = settleMerges(ctx, conn, 15*time.Minute); bench.err != nil {
			return
		}
		// The session blocks the hourly refresh would have built over the day.
		began = time.Now()
		if bench.err = schematest.BuildSessionBlocksContext(ctx, conn, schema.DefaultOptions()); bench.err != nil {
			return
		}
		fmt.Fprintf(os.Stderr, "bench: session blocks built in %s\n", time.Since(began).Round(time.Second))
		c, err := New(testReporter(), testConfig(), Dependencies{Store: schematest.Reader(b, st)})
		if err != nil {
			bench.err = err
			return
		}
		if bench.err = c.Start(ctx); bench.err != nil {
			return
		}
		for c.conn.Load() == nil {
			time.Sleep(20 * time.Millisecond)
		}
		bench.api = &testAPI{c: c, conn: conn, url: "http://" + c.Addr()}
	})
	if bench.err != nil {
		b.Fatal(bench.err)
	}
	return bench.api
}

// seedBench spreads the rows evenly over the 24 hours before end: 5000
// recurring conversations from 2000 hosts on 20 nodes to 200 services
// through 4 exporters; worker-1's pods send 20× as much to :8081 for
// the 30 minutes starting 3 hours before end.
func seedBench(ctx context.Context, conn interface {
	Exec(context.Context, string, ...any) error
}, end time.Time, flows, sockets int) error {
	start := end.Add(-24 * time.Hour).Unix()
	spike := end.Add(-3 * time.Hour).Unix()
	const chunk = 5_000_000
	for off := 0; off < flows; off += chunk {
		n := min(chunk, flows-off)
		err := conn.Exec(ctx, fmt.Sprintf(`INSERT INTO flows (time_received, time_flow_start, time_flow_end, flow_type, exporter_ip, sampling_rate,
	in_if, out_if, src_ip, dst_ip, src_port, dst_port, proto, bytes, packets, application,
	src_pod, src_namespace, src_node, dst_pod, dst_namespace, dst_node)
SELECT t, t, t, 'ipfix', toIPv6(IPv4NumToString(toUInt32(167772161 + conv %% 4))), 100,
	1 + conv %% 48, 49 + conv %% 16, toIPv6(IPv4NumToString(toUInt32(167837696 + host))), toIPv6(IPv4NumToString(toUInt32(167903232 + svc))),
	toUInt16(32768 + number %% 28000), toUInt16(arrayElement([80, 443, 5432, 53, 8081, 6379, 9092, 8080], 1 + svc %% 8)), 6,
	toUInt64(1500 * (1 + number %% 20) * if(node = 1 AND svc %% 8 = 4 AND toUnixTimestamp(t) >= %[3]d AND toUnixTimestamp(t) < %[3]d + 1800, 20, 1)),
	toUInt64(1 + number %% 20), 'app-' || toString(svc %% 8),
	'pod-' || toString(host), 'ns-' || toString(host %% 10), 'worker-' || toString(node), 'svc-' || toString(svc), 'ns-svc', 'worker-' || toString(svc %% 20 + 1)
FROM (
	SELECT number, number %% 5000 AS conv, conv %% 2000 AS host, conv %% 200 AS svc, 1 + host %% 20 AS node,
		toDateTime64(%[1]d + intDiv(number * 86400, %[2]d), 3, 'UTC') AS t
	FROM numbers(%[4]d, %[5]d)
)`, start, flows, spike, off, n))
		if err != nil {
			return fmt.Errorf("seed flows at %d: %w", off, err)
		}
	}
	for off := 0; off < sockets; off += chunk {
		n := min(chunk, sockets-off)
		err := conn.Exec(ctx, fmt.Sprintf(`INSERT INTO sockets (time, interval_ms, node, netns, socket_id, local_ip, local_port, remote_ip, remote_port, direction,
	pid, comm, local_pod, local_namespace, remote_pod, remote_namespace, remote_node,
	bytes_sent, bytes_received, segs_out, segs_in, retransmits, srtt_us, srtt_min_us, srtt_max_us, jitter_us, connect_latency_us, state)
SELECT t, 60000, 'worker-' || toString(node), 4026531840, conv, toIPv6(IPv4NumToString(toUInt32(167837696 + host))), toUInt16(32768 + conv %% 28000),
	toIPv6(IPv4NumToString(toUInt32(167903232 + svc))), toUInt16(arrayElement([80, 443, 5432, 53, 8081, 6379, 9092, 8080], 1 + svc %% 8)), 'client',
	toUInt32(1000 + host), 'proc-' || toString(svc %% 8), 'pod-' || toString(host), 'ns-' || toString(host %% 10), 'svc-' || toString(svc), 'ns-svc', 'worker-' || toString(svc %% 20 + 1),
	sent, sent / 5, sent / 1448 + 1, sent / 7000 + 1, toUInt32(number %% 3), toUInt32(500 + number %% 1000), 400, 2000, toUInt32(50 + number %% 100), 0, 1
FROM (
	SELECT number, number %% 5000 AS conv, conv %% 2000 AS host, conv %% 200 AS svc, 1 + host %% 20 AS node,
		toDateTime64(%[1]d + intDiv(number * 86400, %[2]d), 3, 'UTC') AS t,
		toUInt64(100000 * (1 + number %% 10) * if(node = 1 AND svc %% 8 = 4 AND toUnixTimestamp(t) >= %[3]d AND toUnixTimestamp(t) < %[3]d + 1800, 20, 1)) AS sent
	FROM numbers(%[4]d, %[5]d)
)`, start, sockets, spike, off, n))
		if err != nil {
			return fmt.Errorf("seed sockets at %d: %w", off, err)
		}
	}
	return seedBenchSNMP(ctx, conn, start)
}

// seedBenchSNMP polls every interface the flows name (exporters
// 10.0.0.1–4, in_if 1–48, out_if 49–64) each minute over the 24 hours,
// so that an investigation of a node has a path interface to chart.
func seedBenchSNMP(ctx context.Context, conn interface {
	Exec(context.Context, string, ...any) error
}, start int64) error {
	err := conn.Exec(ctx, fmt.Sprintf(`INSERT INTO ifstats (time, prev_time, device, device_ip, sys_name, if_index, if_name, speed_bps, oper_status, admin_status,
	hc_counters, rate_valid, delta_in_octets, delta_out_octets, delta_in_pkts, delta_out_pkts, in_bps, out_bps, in_pps, out_pps, in_utilization, out_utilization)
SELECT t, t - 60, 'sw' || toString(dev + 1), toIPv6(IPv4NumToString(toUInt32(167772161 + dev))), 'sw' || toString(dev + 1), idx, 'Gi0/' || toString(idx),
	10000000000, 1, 1, true, true, octets, octets, octets / 1000, octets / 1000, octets * 8 / 60, octets * 8 / 60, octets / 60000, octets / 60000,
	octets * 8 / 60 / 1e10, octets * 8 / 60 / 1e10
FROM (
	SELECT intDiv(number, 4 * 64) AS minute, intDiv(number %% (4 * 64), 64) AS dev, 1 + number %% 64 AS idx,
		toDateTime64(%d + minute * 60, 3, 'UTC') AS t, toUInt64(1000000 * (1 + (minute + idx) %% 7)) AS octets
	FROM numbers(1440 * 4 * 64)
)`, start))
	if err != nil {
		return fmt.Errorf("seed ifstats: %w", err)
	}
	return nil
}

// settleMerges waits for the background merges the seeding started:
// 24 hours of ingest have had them run, minutes of seeding have not.
func settleMerges(ctx context.Context, conn driver.Conn, limit time.Duration) error {
	began := time.Now()
	for time.Since(began) < limit {
		var n uint64
		if err := conn.QueryRow(ctx, "SELECT count() FROM system.merges WHERE database = currentDatabase()").Scan(&n); err != nil {
			return fmt.Errorf("wait for merges: %w", err)
		}
		if n == 0 {
			break
		}
		time.Sleep(time.Second)
	}
	fmt.Fprintf(os.Stderr, "bench: background merges settled in %s\n", time.Since(began).Round(time.Second))
	return nil
}

func benchGet(b *testing.B, a *testAPI, path string, q url.Values, out any) {
	for b.Loop() {
		if st := a.get(b, path, q, out); st != 200 {
			b.Fatalf("GET %s: %d", path, st)
		}
	}
}

func BenchmarkInvestigateNode24h(b *testing.B) {
	a := benchAPI(b)
	var inv Investigation
	benchGet(b, a, "/api/v1/investigate", url.Values{"node": {"worker-1"}, "from": {"-24h"}, "to": {bench.end.Format(time.RFC3339)}}, &inv)
	b.ReportMetric(float64(len(inv.Contributors.Pods)), "pods")
	b.Logf("verdict: %s", inv.Verdict.Summary)
}

func BenchmarkTopNDstPort24h(b *testing.B) {
	a := benchAPI(b)
	var r TopNResponse
	benchGet(b, a, "/api/v1/flows/topn", url.Values{"by": {"dst_port"}, "from": {"-24h"}, "to": {bench.end.Format(time.RFC3339)}}, &r)
	b.Logf("source %s, top %s", r.Source, r.Rows[0].Key)
}

func BenchmarkTopNConversation24h(b *testing.B) {
	a := benchAPI(b)
	var r TopNResponse
	benchGet(b, a, "/api/v1/flows/topn", url.Values{"by": {"conversation"}, "from": {"-24h"}, "to": {bench.end.Format(time.RFC3339)}, "limit": {"50"}}, &r)
}

func BenchmarkTopNSrcPodFiltered1h(b *testing.B) {
	a := benchAPI(b)
	var r TopNResponse
	benchGet(b, a, "/api/v1/flows/topn", url.Values{"by": {"src_pod"}, "from": {"-1h"}, "to": {bench.end.Format(time.RFC3339)}, "dst_port": {"8081"}}, &r)
}
