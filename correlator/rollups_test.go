package correlator

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/netstrata/netstrata/internal/record"
	"github.com/netstrata/netstrata/internal/schema"
)

// The correlator writes the flow rollups itself; their views, which skip
// its INSERTs, say what they must hold. Flows over several minutes and
// hours, client ports on either side, interfaces unknown (0) on either
// side, sampled, enriched with pods and interface names, in batches
// small enough that a rollup row gathers flows of several INSERTs.
func TestTheRollupsHoldWhatTheirViewsCompute(t *testing.T) {
	e := newEnv(t)
	e.start(testConfiguration("g", 700))
	now := uint64(time.Now().Truncate(time.Hour).UnixNano())
	e.produce(record.TopicPods, testPod("u1", "web-1", "node-a", "10.0.0.1", now-uint64(3*time.Hour)))
	e.produce(record.TopicIfStats, testIfStats(3, "eth3", now-uint64(3*time.Hour)), testIfStats(4, "eth4", now-uint64(3*time.Hour)))
	e.waitRows("SELECT count() FROM ifstats", 2, time.Minute)
	e.waitRows("SELECT count() FROM pods", 1, time.Minute)

	const n = 3000
	var flows []any
	for i := range n {
		f := testFlow(i, now-uint64(i%150)*uint64(time.Minute)+uint64(i)*uint64(time.Millisecond))
		f.SrcIp, f.DstIp = ip(fmt.Sprintf("10.0.0.%d", 1+i%7)), ip(fmt.Sprintf("10.0.1.%d", 1+i%5))
		f.SrcPort, f.DstPort = uint32([]int{443, 50000, 32768, 53}[i%4]), uint32([]int{40000 + i%3, 443, 32767, 33000}[i%4])
		f.InIf, f.OutIf = uint32([]int{3, 0, 4}[i%3]), uint32([]int{4, 3, 0, 4}[i%4])
		f.SamplingRate, f.Bytes, f.Packets = uint64(1+i%3), uint64(100+i), uint64(1+i%9)
		f.Direction = record.FlowDirection(i % 3)
		f.Application = []string{"https", "dns", ""}[i%3]
		flows = append(flows, f)
	}
	e.produce(record.TopicFlows, msgs(flows)...)
	e.waitRows("SELECT count() FROM flows", n, time.Minute)
	time.Sleep(500 * time.Millisecond)
	e.assertRollups(n)
	if e.count("SELECT count() FROM flows_1m") < 1000 || e.count("SELECT uniqExact(time) FROM flows_1h") < 3 {
		t.Errorf("the test flows do not spread over minutes and hours")
	}
}

// rollupViews maps each flow rollup to the view that computes it.
var rollupViews = map[string]string{
	schema.TableFlows1m: "flows_1m_mv", schema.TableFlows1h: "flows_1h_mv",
	schema.TableFlows5Tuple1h: "flows_5tuple_1h_mv", schema.TableInterfaceFlows5m: "interface_flows_5m_mv",
}

// assertRollups checks that every flow rollup counts n flows and holds,
// key by key, what its view computes from its source (flows, or
// flows_1m for the rollups that cascade from it).
func (e *env) assertRollups(n uint64) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for table, view := range rollupViews {
		want := n
		if table == schema.TableInterfaceFlows5m {
			want = e.count("SELECT countIf(in_if != 0) + countIf(out_if != 0) FROM flows")
		}
		if got := e.count("SELECT sum(flows) FROM " + table); got != want {
			e.t.Errorf("%s counts %d flows, want %d", table, got, want)
		}
		var sel string
		if err := e.conn.QueryRow(ctx, "SELECT as_select FROM system.tables WHERE database = currentDatabase() AND name = {v:String}",
			driver.NamedValue{Name: "v", Value: view}).Scan(&sel); err != nil {
			e.t.Fatalf("view of %s: %v", table, err)
		}
		var cols []string
		rows, err := e.conn.Query(ctx, "SELECT name FROM system.columns WHERE database = currentDatabase() AND table = {t:String} ORDER BY position",
			driver.NamedValue{Name: "t", Value: table})
		if err != nil {
			e.t.Fatal(err)
		}
		for rows.Next() {
			var c string
			if err := rows.Scan(&c); err != nil {
				e.t.Fatal(err)
			}
			if !slices.Contains([]string{schema.FlowBytes, schema.FlowPackets, schema.RollupFlows}, c) {
				cols = append(cols, c)
			}
		}
		rows.Close()
		keys := strings.Join(cols, ", ")
		agg := func(from string) string {
			return "SELECT " + keys + ", sum(bytes), sum(packets), sum(flows) FROM (" + from + ") GROUP BY " + keys
		}
		computed, stored := agg(sel), agg("SELECT * FROM "+table)
		if d := e.count("SELECT count() FROM (" + computed + " EXCEPT " + stored + ")"); d != 0 {
			e.t.Errorf("%s: %d rows its view computes are not stored", table, d)
		}
		if d := e.count("SELECT count() FROM (" + stored + " EXCEPT " + computed + ")"); d != 0 {
			e.t.Errorf("%s: %d stored rows its view does not compute", table, d)
		}
	}
}
