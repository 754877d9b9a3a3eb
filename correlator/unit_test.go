package correlator

import (
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/proto"

	"github.com/netstrata/netstrata/internal/bus"
	"github.com/netstrata/netstrata/internal/record"
	"github.com/netstrata/netstrata/internal/store"
	"github.com/netstrata/netstrata/internal/telemetry"
)

func a16(s string) [16]byte {
	var a [16]byte
	copy(a[:], ip(s))
	return a
}

func TestPodCacheMapsAReusedIPToThePodThatHadItThen(t *testing.T) {
	c := newPodCache(100, time.Hour.Milliseconds())
	x := a16("10.0.0.1")
	c.update(podUpdate{timeMs: 1000, startMs: 900, uid: "a", info: podInfo{name: "web-1"}, ips: [][16]byte{x}})
	c.update(podUpdate{timeMs: 2000, uid: "a", info: podInfo{name: "web-1"}, ips: [][16]byte{x}, deleted: true})
	c.update(podUpdate{timeMs: 3000, startMs: 2500, uid: "b", info: podInfo{name: "db-0"}, ips: [][16]byte{x}})
	v := c.view()
	defer v.release()
	for _, tc := range []struct {
		at   int64
		want string
	}{{800, ""}, {950, "web-1"}, {1999, "web-1"}, {2000, ""}, {2600, "db-0"}, {9999, "db-0"}} {
		got, _ := v.lookup(x, tc.at)
		if got.name != tc.want {
			t.Errorf("at %d: %q, want %q", tc.at, got.name, tc.want)
		}
	}
}

func TestPodCacheEndsTheIPsAPodGivesUp(t *testing.T) {
	c := newPodCache(100, time.Hour.Milliseconds())
	x, y := a16("10.0.0.1"), a16("10.0.0.2")
	c.update(podUpdate{timeMs: 1000, uid: "a", info: podInfo{name: "web-1"}, ips: [][16]byte{x}})
	c.update(podUpdate{timeMs: 2000, uid: "a", info: podInfo{name: "web-1"}, ips: [][16]byte{y}})
	v := c.view()
	defer v.release()
	if got, _ := v.lookup(x, 2500); got.name != "" {
		t.Errorf("old IP after the change: %q, want none", got.name)
	}
	if got, _ := v.lookup(x, 1500); got.name != "web-1" {
		t.Errorf("old IP before the change: %q, want web-1", got.name)
	}
	if got, _ := v.lookup(y, 2500); got.name != "web-1" {
		t.Errorf("new IP: %q, want web-1", got.name)
	}
}

func TestPodCacheMapsAHostNetworkIPToItsNodeOnly(t *testing.T) {
	c := newPodCache(100, time.Hour.Milliseconds())
	n := a16("192.168.1.10")
	c.update(podUpdate{timeMs: 1000, uid: "a", info: podInfo{name: "kube-proxy-x", namespace: "kube-system", node: "node-a"}, ips: [][16]byte{n}, hostNetwork: true})
	c.update(podUpdate{timeMs: 1000, uid: "b", info: podInfo{name: "cilium-y", namespace: "kube-system", node: "node-a"}, ips: [][16]byte{n}, hostNetwork: true})
	v := c.view()
	defer v.release()
	got, ok := v.lookup(n, 2000)
	if !ok || got != (podInfo{node: "node-a"}) {
		t.Errorf("host IP = %+v, want node-a only", got)
	}
	if c.spans != 1 {
		t.Errorf("%d spans for one node IP, want 1", c.spans)
	}
}

func TestPodCacheIsBoundedAndPrunesOldSpans(t *testing.T) {
	c := newPodCache(2, time.Second.Milliseconds())
	for i, s := range []string{"10.0.0.1", "10.0.0.2", "10.0.0.3"} {
		ok := c.update(podUpdate{timeMs: 1000, uid: s, info: podInfo{name: s}, ips: [][16]byte{a16(s)}})
		if ok != (i < 2) {
			t.Errorf("update %d cached = %v", i, ok)
		}
	}
	c.update(podUpdate{timeMs: 2000, uid: "10.0.0.1", ips: [][16]byte{a16("10.0.0.1")}, deleted: true})
	c.prune(2000 + 5000)
	if c.len() != 1 {
		t.Errorf("%d spans after pruning, want 1", c.len())
	}
}

func TestInterfaceCacheKeepsTheNewestPoll(t *testing.T) {
	c := newInterfaceCache(10)
	d := a16("192.0.2.1")
	c.update(d, 3, ifInfo{device: "sw1", name: "new", timeMs: 2000})
	c.update(d, 3, ifInfo{device: "sw1", name: "old", timeMs: 1000})
	v := c.view()
	defer v.release()
	if got, _ := v.lookup(d, 3); got.name != "new" || v.device(d) != "sw1" {
		t.Errorf("interface = %+v device %q", got, v.device(d))
	}
}

func TestConfigurationValidateNamesTheField(t *testing.T) {
	if err := DefaultConfiguration().Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	cfg := DefaultConfiguration()
	cfg.Group = ""
	cfg.BatchMaxRecords = 0
	cfg.Schema.FlowsTTL = time.Minute
	err := cfg.Validate()
	for _, field := range []string{"correlator.group", "correlator.batch_max_records", "correlator.schema.flows_ttl"} {
		if err == nil || !strings.Contains(err.Error(), field) {
			t.Errorf("Validate() = %v, want it to name %s", err, field)
		}
	}
}

func TestTokensAreDeterministicPerTableAndRange(t *testing.T) {
	a := token("g", "flows", []string{"0:10-20", "1:5-9"})
	if a != token("g", "flows", []string{"0:10-20", "1:5-9"}) {
		t.Error("same ranges, different tokens")
	}
	if a == token("g", "flows", []string{"0:10-21", "1:5-9"}) || a == token("g", "sockets", []string{"0:10-20", "1:5-9"}) {
		t.Error("different ranges or tables share a token")
	}
}

// decodeComponent is a component that is never started: enough to run
// the decoders.
func decodeComponent(tb testing.TB) *Component {
	r := telemetry.NewReporter(slog.New(slog.DiscardHandler))
	c, err := New(r, DefaultConfiguration(), Dependencies{Kafka: bus.DefaultConfiguration(), ClickHouse: store.DefaultConfiguration()})
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

func TestDecodingSortsRecordsIntoRowsAndDeadLetters(t *testing.T) {
	c := decodeComponent(t)
	good, _ := proto.Marshal(testFlow(1, nowNs()))
	bad := testFlow(2, nowNs())
	bad.SrcIp = []byte{10, 0, 0, 1, 0} // a flow without a usable endpoint; an optional field out of range would be zeroed
	badBytes, _ := proto.Marshal(bad)
	b := newTestBatch()
	c.decodeBatch(b, bus.PartitionBatch{Topic: record.TopicFlows, Partition: 1, Records: []*kgo.Record{
		{Offset: 5, Value: good}, {Offset: 6, Value: badBytes}, {Offset: 7, Value: []byte{0x0a, 0xff}}, {Offset: 8, Value: good},
	}}, progress{offset: 5, updatedMs: time.Now().UnixMilli()})
	if b.flows.len() != 1 || len(b.dead) != 2 {
		t.Fatalf("%d rows, %d dead; want 1 row (offset 5 is stored already), 2 dead", b.flows.len(), len(b.dead))
	}
	if b.dead[0].reason != "invalid" || b.dead[1].reason != "decode" {
		t.Errorf("reasons %q %q, want invalid decode", b.dead[0].reason, b.dead[1].reason)
	}
	if got := b.ranges["flows"]; len(got) != 1 || got[0] != "1:8-8" {
		t.Errorf("ranges %v, want [1:8-8]", got)
	}
}

func newTestBatch() *batch {
	return &batch{flows: newFlowRows(), sockets: newSocketRows(), ifstats: &ifStatsRows{}, pods: &podRows{},
		ranges: map[string][]string{}, stamps: map[string][]int64{}}
}

// FuzzDecode feeds arbitrary bytes as records of every topic: decoding
// never panics, and each record becomes a row or a dead letter.
func FuzzDecode(f *testing.F) {
	for _, m := range []proto.Message{
		testFlow(1, 1), testIfStats(3, "eth3", 1), testPod("u", "web-1", "n", "10.0.0.1", 1),
		&record.SocketStats{Node: "n", LocalIp: ip("10.0.0.1"), RemoteIp: ip("2001:db8::1"), LocalPort: 1, RemotePort: 2},
	} {
		b, _ := proto.Marshal(m)
		for i := range record.Topics {
			f.Add(uint8(i), b)
		}
	}
	f.Add(uint8(1), []byte{0xff, 0xff})
	c := decodeComponent(f)
	f.Fuzz(func(t *testing.T, topic uint8, value []byte) {
		tp := record.Topics[int(topic)%len(record.Topics)]
		b := newTestBatch()
		c.decodeBatch(b, bus.PartitionBatch{Topic: tp, Records: []*kgo.Record{{Offset: 0, Value: value}}}, progress{offset: -1})
		rows := b.flows.len() + b.sockets.len() + b.ifstats.len() + b.pods.len()
		if rows+len(b.dead) != 1 {
			t.Fatalf("%d rows and %d dead letters for one record", rows, len(b.dead))
		}
		for _, cols := range [][]column{b.flows.columns(), b.sockets.columns(), b.ifstats.columns(), b.pods.columns()} {
			n := -1
			for _, col := range cols {
				l := sliceLen(col.values)
				if n >= 0 && l != n {
					t.Fatalf("column %s has %d values, others %d", col.name, l, n)
				}
				n = l
			}
		}
	})
}

func sliceLen(v any) int {
	return reflect.ValueOf(v).Len()
}

// The rollups' table sums every ref into the entry of its key, one entry
// per key in the order keys first came, through growth and through
// hashes that collide in the slots (keys of a few values, many refs).
func TestAggregateSumsEachKeyOnceInFirstSeenOrder(t *testing.T) {
	keys := make([]int, 5000)
	for i := range keys {
		keys[i] = (i * 7919) % 1234
	}
	a := newAggregate(10, func(ref int32) int { return keys[ref] })
	want := map[int]uint64{}
	var order []int
	for i := range keys {
		if _, ok := want[keys[i]]; !ok {
			order = append(order, keys[i])
		}
		want[keys[i]] += uint64(i)
		a.add(int32(i), sums{bytes: uint64(i), flows: 1})
	}
	if a.len() != len(order) {
		t.Fatalf("%d entries for %d keys", a.len(), len(order))
	}
	for e, ref := range a.refs {
		if k := keys[ref]; k != order[e] || a.sums[e].bytes != want[k] {
			t.Errorf("entry %d: key %d with %d bytes, want key %d with %d", e, k, a.sums[e].bytes, order[e], want[order[e]])
		}
	}
}

// A batch's hour rows sum its flows per conversation and hour, whether
// the batch lies in one minute (its minute rows serve as hour rows) or
// spans minutes (summed again per hour).
func TestHourRowsSumEachConversationOfTheHour(t *testing.T) {
	hour := uint64(time.Now().Truncate(time.Hour).UnixNano())
	for name, spacing := range map[string]time.Duration{"one minute": time.Millisecond, "minutes": 7 * time.Second} {
		t.Run(name, func(t *testing.T) {
			c := decodeComponent(t)
			var recs []*kgo.Record
			for i := range 500 {
				f := testFlow(i, hour+uint64(i)*uint64(spacing))
				f.SrcIp, f.DstPort, f.SrcPort = ip([]string{"10.0.0.1", "10.0.0.3", "10.0.0.4"}[i%3]), uint32(443+i%5), uint32(40000+i)
				v, err := proto.Marshal(f)
				if err != nil {
					t.Fatal(err)
				}
				recs = append(recs, &kgo.Record{Offset: int64(i), Value: v})
			}
			b := newTestBatch()
			c.decodeBatch(b, bus.PartitionBatch{Topic: record.TopicFlows, Records: recs}, progress{offset: -1})
			want := map[conversationKey]sums{}
			for i := range int32(b.flows.len()) {
				s := want[b.flows.conversation(i, 3600)]
				s.add(sums{bytes: b.flows.bytes[i] * b.flows.samplingRate[i], packets: b.flows.packets[i] * b.flows.samplingRate[i], flows: 1})
				want[b.flows.conversation(i, 3600)] = s
			}
			got := rollUp(b.flows).hour
			if got.len() != len(want) {
				t.Fatalf("%d hour rows, want %d", got.len(), len(want))
			}
			for e, ref := range got.refs {
				if k := got.key(ref); got.sums[e] != want[k] {
					t.Errorf("%v: %+v, want %+v", k, got.sums[e], want[k])
				}
			}
		})
	}
}
