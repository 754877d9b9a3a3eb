package chdb

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// BenchmarkBatchInsert measures flow-like rows per second through
// clickhouse-go's PrepareBatch over HTTP into a MergeTree table: client
// encoding, HTTP, spooling and the engine's insert, end to end. b.N is the
// number of rows, sent in batches of up to 100,000. "Append" fills the
// batch row by row (batch.Append), "Columns" column by column
// (batch.Column(i).Append), which spares clickhouse-go most of its
// per-value work.
func BenchmarkBatchInsert(b *testing.B) {
	const batchRows = 100_000
	exporters := []string{"edge-1", "edge-2", "core-a", "core-b"}
	ips := make([]net.IP, 4096)
	for i := range ips {
		ips[i] = net.IP{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, byte(i >> 8), byte(i)}
	}
	now := time.Now()

	fillRows := func(b *testing.B, batch driver.Batch, from, n int) {
		for i := from; i < from+n; i++ {
			if err := batch.Append(now.Add(time.Duration(i)*time.Microsecond), ips[i%len(ips)], ips[(i*7)%len(ips)],
				uint16(i), uint16(443), uint8(6), uint64(1500), uint64(3), exporters[i%len(exporters)]); err != nil {
				b.Fatal(err)
			}
		}
	}
	fillColumns := func(b *testing.B, batch driver.Batch, from, n int) {
		var (
			ts               = make([]time.Time, n)
			src, dst         = make([]net.IP, n), make([]net.IP, n)
			srcPort, dstPort = make([]uint16, n), make([]uint16, n)
			proto            = make([]uint8, n)
			bytes, packets   = make([]uint64, n), make([]uint64, n)
			exporter         = make([]string, n)
		)
		for j := range n {
			i := from + j
			ts[j] = now.Add(time.Duration(i) * time.Microsecond)
			src[j], dst[j] = ips[i%len(ips)], ips[(i*7)%len(ips)]
			srcPort[j], dstPort[j] = uint16(i), 443
			proto[j], bytes[j], packets[j] = 6, 1500, 3
			exporter[j] = exporters[i%len(exporters)]
		}
		for c, v := range []any{ts, src, dst, srcPort, dstPort, proto, bytes, packets, exporter} {
			if err := batch.Column(c).Append(v); err != nil {
				b.Fatal(err)
			}
		}
	}

	for _, bc := range []struct {
		name string
		fill func(*testing.B, driver.Batch, int, int)
	}{{"Append", fillRows}, {"Columns", fillColumns}} {
		b.Run(bc.name, func(b *testing.B) {
			srv := startServer(b, b.TempDir())
			conn := openCH(b, srv)
			ctx := context.Background()
			mustExec(b, conn, ctx, `CREATE TABLE flows (
				ts       DateTime64(3, 'UTC'),
				src      IPv6,
				dst      IPv6,
				src_port UInt16,
				dst_port UInt16,
				proto    UInt8,
				bytes    UInt64,
				packets  UInt64,
				exporter LowCardinality(String)
			) ENGINE = MergeTree ORDER BY (exporter, ts)`)

			b.ResetTimer()
			for sent := 0; sent < b.N; {
				batch, err := conn.PrepareBatch(ctx, "INSERT INTO flows")
				if err != nil {
					b.Fatal(err)
				}
				n := min(batchRows, b.N-sent)
				bc.fill(b, batch, sent, n)
				if err := batch.Send(); err != nil {
					b.Fatal(err)
				}
				sent += n
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rows/s")

			var count uint64
			if err := conn.QueryRow(ctx, "SELECT count() FROM flows").Scan(&count); err != nil {
				b.Fatal(err)
			}
			if count != uint64(b.N) {
				b.Fatalf("count %d, want %d", count, b.N)
			}
		})
	}
}
