package chdb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
)

func httpGet(t *testing.T, u string) (int, string) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

func TestPlainHTTP(t *testing.T) {
	srv := startServer(t, t.TempDir())
	base := "http://" + srv.Addr()

	if code, body := httpGet(t, base+"/ping"); code != 200 || body != "Ok.\n" {
		t.Errorf("/ping = %d %q", code, body)
	}
	if code, body := httpGet(t, base+"/"); code != 200 || body != "Ok.\n" {
		t.Errorf("/ = %d %q", code, body)
	}
	if code, body := httpGet(t, authed(srv, base+"/?query="+url.QueryEscape("SELECT 1"))); code != 200 || body != "1\n" {
		t.Errorf("SELECT 1 = %d %q", code, body)
	}
	if code, body := httpGet(t, authed(srv, base+"/?default_format=JSONEachRow&param_x=41&query="+url.QueryEscape("SELECT {x:UInt8} + 1 AS y"))); code != 200 || body != "{\"y\":42}\n" {
		t.Errorf("param query = %d %q", code, body)
	}
	resp, err := http.Post(authed(srv, base+"/"), "text/plain", strings.NewReader("SELECT 'a' AS s, 2 AS n FORMAT CSV"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "\"a\",2\n" {
		t.Errorf("POST = %d %q", resp.StatusCode, body)
	}
	if resp.Header.Get("X-ClickHouse-Query-Id") == "" || resp.Header.Get("X-ClickHouse-Summary") == "" {
		t.Errorf("missing X-ClickHouse headers: %v", resp.Header)
	}

	// Inserts with text formats, the statement in the URL or in the body.
	post := func(query, body string) {
		t.Helper()
		u := base + "/"
		if query != "" {
			u += "?query=" + url.QueryEscape(query)
		}
		resp, err := http.Post(authed(srv, u), "text/plain", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("%q + %q: %d %s", query, body, resp.StatusCode, b)
		}
	}
	post("CREATE TABLE t (a UInt32, s String) ENGINE = MergeTree ORDER BY a", "")
	post("INSERT INTO t FORMAT TSV", "1\tone\n2\ttwo;\n")
	post("", "INSERT INTO t FORMAT CSV\n3,\"th\nree\"\n")
	post("INSERT INTO t FORMAT JSONEachRow", `{"a":4,"s":"four"}`)
	post("INSERT INTO t VALUES", "(5, 'five'),\n(6, 'six')")
	post("", "INSERT INTO t (a, s) VALUES (7, 'seven')")
	post("INSERT INTO t FORMAT TSV", "") // no data: nothing inserted, no hang on stdin
	if code, body := httpGet(t, authed(srv, base+"/?query="+url.QueryEscape("SELECT count(), sum(a), sum(length(s)) FROM t"))); code != 200 || body != "7\t28\t29\n" {
		t.Errorf("after inserts = %d %q", code, body)
	}

	code, body2 := httpGet(t, authed(srv, base+"/?query="+url.QueryEscape("SELECT * FROM missing")))
	if code != 500 || !strings.HasPrefix(body2, "Code: 60. DB::Exception:") {
		t.Errorf("error = %d %q", code, body2)
	}
	if err := srv.Ping(context.Background()); err != nil {
		t.Error(err)
	}
}

// The main scenario of internal/store: modern table types, a TTL, a
// materialized view into a SummingMergeTree, a million rows through
// clickhouse-go's batch API, and the same answers after a restart.
func TestStoreScenario(t *testing.T) {
	dir := t.TempDir()
	srv := startServer(t, dir)
	conn := openCH(t, srv)
	ctx := context.Background()

	mustExec(t, conn, ctx, `CREATE TABLE flows (
		ts       DateTime64(3, 'UTC'),
		src      IPv6,
		dst      IPv6,
		src_port UInt16,
		dst_port UInt16,
		proto    UInt8,
		bytes    UInt64,
		packets  UInt64,
		exporter LowCardinality(String),
		tags     Array(String),
		attrs    Map(String, UInt64)
	) ENGINE = MergeTree
	ORDER BY (exporter, ts)
	TTL toDateTime(ts) + INTERVAL 30 DAY`)
	mustExec(t, conn, ctx, `CREATE TABLE flows_by_exporter (
		exporter LowCardinality(String),
		proto    UInt8,
		bytes    UInt64,
		packets  UInt64,
		flows    UInt64
	) ENGINE = SummingMergeTree ORDER BY (exporter, proto)`)
	mustExec(t, conn, ctx, `CREATE MATERIALIZED VIEW flows_by_exporter_mv TO flows_by_exporter AS
		SELECT exporter, proto, sum(bytes) AS bytes, sum(packets) AS packets, count() AS flows
		FROM flows GROUP BY exporter, proto`)

	const rows, batchRows = 1_000_000, 200_000
	type key struct {
		exporter string
		proto    uint8
	}
	type sums struct{ bytes, packets, flows uint64 }
	want := map[key]sums{}
	var wantBytes, wantPackets, wantTags, wantAttr, wantPorts uint64
	exporters := []string{"edge-1", "edge-2", "core-a", "core-b", "dc-x", "dc-y", "lab"}
	protos := []uint8{6, 17, 1}
	tagSets := [][]string{nil, {"a"}, {"b", "c"}}
	start := time.Now().UTC().Truncate(time.Millisecond).Add(-time.Hour)
	began := time.Now()
	for b := 0; b < rows/batchRows; b++ {
		batch, err := conn.PrepareBatch(ctx, "INSERT INTO flows")
		if err != nil {
			t.Fatal(err)
		}
		for j := 0; j < batchRows; j++ {
			i := b*batchRows + j
			ex, pr := exporters[i%len(exporters)], protos[i%len(protos)]
			by, pk := uint64(40+i%1460), uint64(1+i%13)
			src := net.IP{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, byte(i >> 24), byte(i >> 16), byte(i >> 8), byte(i)}
			dst := net.IPv4(10, byte(i>>16), byte(i>>8), byte(i)).To16()
			tags := tagSets[i%len(tagSets)]
			attrs := map[string]uint64{"k": uint64(i % 5)}
			if err := batch.Append(start.Add(time.Duration(i)*time.Millisecond), src, dst,
				uint16(i%65536), uint16(443), pr, by, pk, ex, tags, attrs); err != nil {
				t.Fatal(err)
			}
			k := key{ex, pr}
			s := want[k]
			s.bytes += by
			s.packets += pk
			s.flows++
			want[k] = s
			wantBytes += by
			wantPackets += pk
			wantTags += uint64(len(tags))
			wantAttr += uint64(i % 5)
			wantPorts += uint64(i % 65536)
		}
		if err := batch.Send(); err != nil {
			t.Fatalf("batch %d: %v", b, err)
		}
	}
	t.Logf("inserted %d rows in %v", rows, time.Since(began))

	check := func(conn clickhouse.Conn) {
		t.Helper()
		var (
			count, bytes, packets, tags, attr, ports uint64
			minTS, maxTS                             time.Time
			firstSrc                                 net.IP
		)
		if err := conn.QueryRow(ctx, `SELECT count(), sum(bytes), sum(packets), sum(length(tags)),
			sum(attrs['k']), sum(src_port), min(ts), max(ts), argMin(src, ts) FROM flows`).
			Scan(&count, &bytes, &packets, &tags, &attr, &ports, &minTS, &maxTS, &firstSrc); err != nil {
			t.Fatal(err)
		}
		if count != rows || bytes != wantBytes || packets != wantPackets || tags != wantTags || attr != wantAttr || ports != wantPorts {
			t.Errorf("raw table: count %d bytes %d packets %d tags %d attr %d ports %d; want %d %d %d %d %d %d",
				count, bytes, packets, tags, attr, ports, rows, wantBytes, wantPackets, wantTags, wantAttr, wantPorts)
		}
		if !minTS.Equal(start) || !maxTS.Equal(start.Add((rows-1)*time.Millisecond)) {
			t.Errorf("ts range %v..%v, want %v..%v", minTS, maxTS, start, start.Add((rows-1)*time.Millisecond))
		}
		if firstSrc.String() != "2001:db8::" {
			t.Errorf("first src %v", firstSrc)
		}

		r, err := conn.Query(ctx, `SELECT exporter, proto, sum(bytes), sum(packets), sum(flows)
			FROM flows_by_exporter GROUP BY exporter, proto`)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		got := map[key]sums{}
		for r.Next() {
			var k key
			var s sums
			if err := r.Scan(&k.exporter, &k.proto, &s.bytes, &s.packets, &s.flows); err != nil {
				t.Fatal(err)
			}
			got[k] = s
		}
		if err := r.Err(); err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Errorf("rollup has %d groups, want %d", len(got), len(want))
		}
		for k, w := range want {
			if got[k] != w {
				t.Errorf("rollup %v = %+v, want %+v", k, got[k], w)
			}
		}
	}
	check(conn)

	// Restart on the same data dir: everything is still there.
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	srv2 := startServer(t, dir)
	conn2 := openCH(t, srv2)
	check(conn2)
	// And the materialized view still feeds the rollup.
	mustExec(t, conn2, ctx, "INSERT INTO flows (ts, exporter, proto, bytes, packets) VALUES (now64(3), 'new', 6, 100, 2)")
	var flows, bytes uint64
	if err := conn2.QueryRow(ctx, "SELECT sum(flows), sum(bytes) FROM flows_by_exporter WHERE exporter = 'new'").Scan(&flows, &bytes); err != nil {
		t.Fatal(err)
	}
	if flows != 1 || bytes != 100 {
		t.Errorf("rollup after restart: flows %d bytes %d", flows, bytes)
	}
}

func TestInsertDeduplicationToken(t *testing.T) {
	srv := startServer(t, t.TempDir())
	conn := openCH(t, srv)
	ctx := context.Background()
	mustExec(t, conn, ctx, `CREATE TABLE d (id UInt64, v String) ENGINE = MergeTree ORDER BY id
		SETTINGS non_replicated_deduplication_window = 1000`)

	insert := func(token string, from, n int) {
		t.Helper()
		bctx := clickhouse.Context(ctx, clickhouse.WithSettings(clickhouse.Settings{"insert_deduplication_token": token}))
		batch, err := conn.PrepareBatch(bctx, "INSERT INTO d (id, v)")
		if err != nil {
			t.Fatal(err)
		}
		for i := from; i < from+n; i++ {
			if err := batch.Append(uint64(i), fmt.Sprint("v", i)); err != nil {
				t.Fatal(err)
			}
		}
		if err := batch.Send(); err != nil {
			t.Fatal(err)
		}
	}
	count := func() uint64 {
		t.Helper()
		var n uint64
		if err := conn.QueryRow(ctx, "SELECT count() FROM d").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	insert("batch-1", 0, 1000)
	insert("batch-1", 0, 1000) // a retry of the same batch: deduplicated
	if n := count(); n != 1000 {
		t.Fatalf("after a repeated token: %d rows, want 1000", n)
	}
	insert("batch-2", 1000, 500)
	insert("batch-1", 0, 1000) // still remembered
	if n := count(); n != 1500 {
		t.Fatalf("after a new token: %d rows, want 1500", n)
	}
	// The token does not stick to the engine connection: a plain insert of
	// the same rows is not deduplicated against batch-2.
	batch, err := conn.PrepareBatch(ctx, "INSERT INTO d (id, v)")
	if err != nil {
		t.Fatal(err)
	}
	for i := 1000; i < 1500; i++ {
		_ = batch.Append(uint64(i), fmt.Sprint("v", i))
	}
	if err := batch.Send(); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 2000 {
		t.Fatalf("after a token-less insert: %d rows, want 2000", n)
	}
}

func TestErrors(t *testing.T) {
	srv := startServer(t, t.TempDir())
	conn := openCH(t, srv)
	ctx := context.Background()

	var ex *clickhouse.Exception
	_, err := conn.Query(ctx, "SELECT * FROM no_such_table")
	if !errors.As(err, &ex) || ex.Code != 60 {
		t.Fatalf("missing table: %v (%T), want *clickhouse.Exception with code 60", err, err)
	}
	if ex.CodeName != "UNKNOWN_TABLE" || !strings.Contains(ex.Message, "no_such_table") {
		t.Errorf("exception %+v", ex)
	}
	err = conn.Exec(ctx, "SELEC 1")
	if !errors.As(err, &ex) || ex.Code != 62 {
		t.Errorf("syntax error: %v", err)
	}
	_, err = conn.Query(clickhouse.Context(ctx, clickhouse.WithSettings(clickhouse.Settings{"no_such_setting": 1})), "SELECT 1")
	if !errors.As(err, &ex) || ex.Code != 115 {
		t.Errorf("unknown setting: %v", err)
	}
	// A failed insert reports the engine's error too.
	mustExec(t, conn, ctx, "CREATE TABLE e (a UInt8) ENGINE = MergeTree ORDER BY a")
	batch, err := conn.PrepareBatch(ctx, "INSERT INTO e")
	if err != nil {
		t.Fatal(err)
	}
	_ = batch.Append(uint8(1))
	mustExec(t, conn, ctx, "DROP TABLE e")
	if err := batch.Send(); !errors.As(err, &ex) || ex.Code != 60 {
		t.Errorf("insert into a dropped table: %v", err)
	}
	// The connection pool is still healthy after all of that.
	var one uint8
	if err := conn.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil || one != 1 {
		t.Errorf("SELECT 1 after errors: %v %d", err, one)
	}
}

func TestSettingsAndTimeout(t *testing.T) {
	srv := startServer(t, t.TempDir())
	conn := openCH(t, srv, func(o *clickhouse.Options) {
		o.Settings = clickhouse.Settings{"max_threads": 1}
	})
	ctx := context.Background()

	began := time.Now()
	tctx := clickhouse.Context(ctx, clickhouse.WithSettings(clickhouse.Settings{"max_execution_time": 1}))
	err := conn.Exec(tctx, "SELECT count() FROM system.numbers")
	var ex *clickhouse.Exception
	if !errors.As(err, &ex) || ex.Code != 159 {
		t.Fatalf("max_execution_time: %v, want TIMEOUT_EXCEEDED (159)", err)
	}
	if d := time.Since(began); d > 10*time.Second {
		t.Errorf("timeout took %v", d)
	}
	// Per-query settings apply to that query only; connection settings to all.
	for range 8 {
		var maxTime, maxThreads string
		if err := conn.QueryRow(ctx, "SELECT toString(getSetting('max_execution_time')), toString(getSetting('max_threads'))").Scan(&maxTime, &maxThreads); err != nil {
			t.Fatal(err)
		}
		if maxTime != "0" || maxThreads != "1" {
			t.Fatalf("settings leaked: max_execution_time %s max_threads %s", maxTime, maxThreads)
		}
	}
	// A SET statement has no effect on later requests (no sessions).
	mustExec(t, conn, ctx, "SET max_threads = 3")
	for range 8 {
		var maxThreads string
		if err := conn.QueryRow(ctx, "SELECT toString(getSetting('max_threads'))").Scan(&maxThreads); err != nil {
			t.Fatal(err)
		}
		if maxThreads != "1" {
			t.Fatalf("SET leaked: max_threads %s", maxThreads)
		}
	}
	// A setting that cannot be undone by SET (readonly) does not leak into
	// the next request either.
	rctx := clickhouse.Context(ctx, clickhouse.WithSettings(clickhouse.Settings{"readonly": 1}))
	for range 8 {
		var ro string
		if err := conn.QueryRow(rctx, "SELECT toString(getSetting('readonly'))").Scan(&ro); err != nil || ro != "1" {
			t.Fatalf("readonly=1: %q %v", ro, err)
		}
	}
	if err := conn.Exec(rctx, "CREATE TABLE ro (a UInt8) ENGINE = Memory"); err == nil {
		t.Error("CREATE TABLE succeeded with readonly=1")
	}
	for range 8 {
		mustExec(t, conn, ctx, "CREATE TABLE IF NOT EXISTS ro (a UInt8) ENGINE = Memory")
	}
	// Multi-statements are refused, as by a ClickHouse server.
	var ex2 *clickhouse.Exception
	if err := conn.Exec(ctx, "SELECT 1; SET max_threads = 5"); !errors.As(err, &ex2) || ex2.Code != 62 {
		t.Errorf("multi-statement: %v", err)
	}
	// The database parameter.
	mustExec(t, conn, ctx, "CREATE DATABASE other")
	mustExec(t, conn, ctx, "CREATE TABLE other.x (a UInt8) ENGINE = Memory")
	conn2 := openCH(t, srv, func(o *clickhouse.Options) { o.Auth.Database = "other" })
	var db string
	if err := conn2.QueryRow(ctx, "SELECT currentDatabase()").Scan(&db); err != nil || db != "other" {
		t.Errorf("database: %q %v", db, err)
	}
	if err := conn.QueryRow(ctx, "SELECT currentDatabase()").Scan(&db); err != nil || db != "default" {
		t.Errorf("database leaked: %q %v", db, err)
	}
}

func TestQueryParameters(t *testing.T) {
	srv := startServer(t, t.TempDir())
	conn := openCH(t, srv)
	ctx := context.Background()

	// Raw parameters are in the escaped text form of the HTTP interface
	// (a real server would refuse a lone backslash as well).
	raw := "it's a \"test\"; DROP TABLE x --"
	pctx := clickhouse.Context(ctx, clickhouse.WithParameters(clickhouse.Parameters{
		"n": "21", "s": raw, "ip": "2001:db8::1", "arr": "[1,2,3]",
	}))
	var (
		n   uint64
		s   string
		ip  net.IP
		sum uint64
	)
	if err := conn.QueryRow(pctx, "SELECT {n:UInt64} * 2, {s:String}, {ip:IPv6}, arraySum({arr:Array(UInt8)})").Scan(&n, &s, &ip, &sum); err != nil {
		t.Fatal(err)
	}
	if n != 42 || s != raw || ip.String() != "2001:db8::1" || sum != 6 {
		t.Errorf("got %d %q %v %d", n, s, ip, sum)
	}
	// Named arguments become parameters too, escaped by clickhouse-go.
	tricky := "it's a \"test\"\\ with\ttab\nnewline; DROP TABLE x --"
	var v string
	if err := conn.QueryRow(ctx, "SELECT {v:String}", clickhouse.Named("v", tricky)).Scan(&v); err != nil || v != tricky {
		t.Errorf("named: %q %v", v, err)
	}
	// With a table.
	mustExec(t, conn, ctx, "CREATE TABLE p (k String, v UInt32) ENGINE = MergeTree ORDER BY k")
	mustExec(t, conn, ctx, "INSERT INTO p VALUES ('a', 1), ('b', 2), ('a', 3)")
	var total uint64
	if err := conn.QueryRow(clickhouse.Context(ctx, clickhouse.WithParameters(clickhouse.Parameters{"k": "a"})),
		"SELECT sum(v) FROM p WHERE k = {k:String}").Scan(&total); err != nil || total != 4 {
		t.Errorf("sum for k=a: %d %v", total, err)
	}
}

func TestConcurrentQueries(t *testing.T) {
	srv := startServer(t, t.TempDir())
	conn := openCH(t, srv, func(o *clickhouse.Options) { o.MaxOpenConns = 16 })
	ctx := context.Background()
	mustExec(t, conn, ctx, "CREATE TABLE c (g UInt8, v UInt64) ENGINE = MergeTree ORDER BY g")

	const workers, rounds = 8, 25
	var wg sync.WaitGroup
	errs := make(chan error, workers*rounds)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range rounds {
				n := uint64(1000*w + r + 1)
				var got uint64
				err := conn.QueryRow(clickhouse.Context(ctx, clickhouse.WithParameters(clickhouse.Parameters{"n": fmt.Sprint(n)})),
					"SELECT sum(number) FROM numbers({n:UInt64})").Scan(&got)
				if err != nil {
					errs <- err
					continue
				}
				if want := n * (n - 1) / 2; got != want {
					errs <- fmt.Errorf("worker %d: sum %d, want %d", w, got, want)
				}
				if r%5 == 0 {
					batch, err := conn.PrepareBatch(ctx, "INSERT INTO c")
					if err != nil {
						errs <- err
						continue
					}
					for i := range 100 {
						_ = batch.Append(uint8(w), uint64(i))
					}
					if err := batch.Send(); err != nil {
						errs <- err
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	var count, sum uint64
	if err := conn.QueryRow(ctx, "SELECT count(), sum(v) FROM c").Scan(&count, &sum); err != nil {
		t.Fatal(err)
	}
	if count != workers*5*100 || sum != workers*5*4950 {
		t.Errorf("concurrent inserts: count %d sum %d", count, sum)
	}
}

func TestCompressionAndDatabaseSQL(t *testing.T) {
	srv := startServer(t, t.TempDir())
	ctx := context.Background()
	setup := openCH(t, srv)
	mustExec(t, setup, ctx, "CREATE TABLE z (id UInt32, s String, lc LowCardinality(String)) ENGINE = MergeTree ORDER BY id")

	methods := map[string]clickhouse.CompressionMethod{
		"lz4": clickhouse.CompressionLZ4, "zstd": clickhouse.CompressionZSTD, "gzip": clickhouse.CompressionGZIP,
		"deflate": clickhouse.CompressionDeflate, "br": clickhouse.CompressionBrotli,
	}
	for name, method := range methods {
		t.Run(name, func(t *testing.T) {
			conn := openCH(t, srv, func(o *clickhouse.Options) {
				o.Compression = &clickhouse.Compression{Method: method}
				o.Settings = clickhouse.Settings{"enable_http_compression": 1}
			})
			batch, err := conn.PrepareBatch(ctx, "INSERT INTO z")
			if err != nil {
				t.Fatal(err)
			}
			for i := range 3000 {
				_ = batch.Append(uint32(i), strings.Repeat(name, i%10), name)
			}
			if err := batch.Send(); err != nil {
				t.Fatal(err)
			}
			var n uint64
			var l uint64
			if err := conn.QueryRow(ctx, "SELECT count(), sum(length(s)) FROM z WHERE lc = {m:String}",
				clickhouse.Named("m", name)).Scan(&n, &l); err != nil {
				t.Fatal(err)
			}
			if n != 3000 || l != uint64(300*45*len(name)) {
				t.Errorf("count %d length %d", n, l)
			}
			// A large result, to cross compressed block boundaries.
			rows, err := conn.Query(ctx, "SELECT number, toString(number) FROM numbers(300000)")
			if err != nil {
				t.Fatal(err)
			}
			var total uint64
			for rows.Next() {
				var v uint64
				var s string
				if err := rows.Scan(&v, &s); err != nil {
					t.Fatal(err)
				}
				total += v
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			rows.Close()
			if total != 300000*299999/2 {
				t.Errorf("sum %d", total)
			}
		})
	}

	t.Run("database/sql", func(t *testing.T) {
		w := srv.Credentials().Writer
		db := clickhouse.OpenDB(&clickhouse.Options{Protocol: clickhouse.HTTP, Addr: []string{srv.Addr()}, Auth: clickhouse.Auth{Username: w.User, Password: w.Password}})
		defer db.Close()
		if err := db.PingContext(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := db.ExecContext(ctx, "CREATE TABLE s (id UInt32, name String) ENGINE = MergeTree ORDER BY id"); err != nil {
			t.Fatal(err)
		}
		tx, err := db.Begin()
		if err != nil {
			t.Fatal(err)
		}
		stmt, err := tx.Prepare("INSERT INTO s")
		if err != nil {
			t.Fatal(err)
		}
		for i := range 100 {
			if _, err := stmt.Exec(uint32(i), fmt.Sprint("n", i)); err != nil {
				t.Fatal(err)
			}
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		var count, sum uint64
		if err := db.QueryRowContext(ctx, "SELECT count(), sum(id) FROM s WHERE name != {x:String}", sql.Named("x", "none")).Scan(&count, &sum); err != nil {
			t.Fatal(err)
		}
		if count != 100 || sum != 4950 {
			t.Errorf("count %d sum %d", count, sum)
		}
		var ex *clickhouse.Exception
		if _, err := db.QueryContext(ctx, "SELECT * FROM nope"); !errors.As(err, &ex) || ex.Code != 60 {
			t.Errorf("database/sql error: %v", err)
		}
	})
}

func TestAsyncInsert(t *testing.T) {
	srv := startServer(t, t.TempDir())
	conn := openCH(t, srv)
	ctx := context.Background()
	mustExec(t, conn, ctx, "CREATE TABLE a (v UInt32) ENGINE = MergeTree ORDER BY v")
	for i := range 10 {
		actx := clickhouse.Context(ctx, clickhouse.WithAsync(true))
		if err := conn.Exec(actx, fmt.Sprintf("INSERT INTO a VALUES (%d)", i)); err != nil {
			t.Fatal(err)
		}
	}
	var n uint64
	if err := conn.QueryRow(ctx, "SELECT count() FROM a").Scan(&n); err != nil || n != 10 {
		t.Errorf("async inserts: %d %v", n, err)
	}
}

// chDB must leave the Go runtime's signal handling alone: a nil dereference
// is still a recoverable panic once the engine runs.
func TestGoSignalHandlingSurvives(t *testing.T) {
	nilDeref := func(when string) {
		t.Helper()
		recovered := func() (r any) {
			defer func() { r = recover() }()
			var p *int
			return *p
		}()
		if recovered == nil {
			t.Fatalf("%s: nil dereference did not panic", when)
		}
	}
	dir := t.TempDir()
	srv := startServer(t, dir)
	conn := openCH(t, srv)
	for range 20 {
		mustExec(t, conn, context.Background(), "SELECT sum(number) FROM numbers(1000000)")
	}
	nilDeref("after queries")
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	nilDeref("after the engine shut down")
	srv = startServer(t, dir)
	if err := srv.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
	nilDeref("after the engine restarted")
}

func TestOneEnginePerProcess(t *testing.T) {
	srv := startServer(t, t.TempDir())
	other, err := New(Configuration{Listen: "127.0.0.1:0", DataDir: t.TempDir(), Library: testLib}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := other.Start(context.Background()); err == nil || !strings.Contains(err.Error(), "one data dir per process") {
		_ = other.Stop()
		t.Fatalf("a second data dir started: %v", err)
	}
	if err := srv.Ping(context.Background()); err != nil {
		t.Errorf("first server after the refused second: %v", err)
	}
	if err := srv.Start(context.Background()); err == nil {
		t.Error("Start twice succeeded")
	}
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := srv.Stop(); err != nil {
		t.Errorf("second Stop: %v", err)
	}
	if err := srv.Ping(context.Background()); err == nil {
		t.Error("Ping after Stop succeeded")
	}
}

// Stop lets a running statement finish and answer, then refuses new ones.
func TestStopIsGraceful(t *testing.T) {
	srv := startServer(t, t.TempDir())
	conn := openCH(t, srv)
	ctx := context.Background()

	done := make(chan error, 1)
	go func() {
		var v uint8
		done <- conn.QueryRow(ctx, "SELECT toUInt8(sleep(1) + 7)").Scan(&v)
	}()
	time.Sleep(300 * time.Millisecond) // let the query reach the engine
	began := time.Now()
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Errorf("in-flight query: %v", err)
	}
	if d := time.Since(began); d < 500*time.Millisecond {
		t.Errorf("Stop returned after %v, before the query finished", d)
	}
	if _, err := http.Get("http://" + srv.Addr() + "/ping"); err == nil {
		t.Error("server still answers after Stop")
	}
}
