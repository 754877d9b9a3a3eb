package correlator

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/netstrata/netstrata/internal/record"
)

func TestStoresEveryRecordExactlyOnceWithEnrichment(t *testing.T) {
	e := newEnv(t)
	e.start(testConfiguration("g", 500))
	now := nowNs()
	e.produce(record.TopicPods,
		testPod("u1", "web-1", "node-a", "10.0.0.1", now-uint64(time.Hour)),
		testPod("u2", "api-1", "node-b", "10.0.0.2", now-uint64(time.Hour)))
	e.produce(record.TopicIfStats, testIfStats(3, "eth3", now), testIfStats(4, "eth4", now))
	e.waitRows("SELECT count() FROM pods", 2, time.Minute)
	e.waitRows("SELECT count() FROM ifstats", 2, time.Minute)

	const nFlows, nSockets = 3000, 400
	var flows, socks []any
	for i := range nFlows {
		flows = append(flows, testFlow(i, now+uint64(i)))
	}
	for i := range nSockets {
		socks = append(socks, &record.SocketStats{Node: "node-a", TimeNs: now, IntervalNs: 1e10, SocketId: uint64(i),
			LocalIp: ip("10.0.0.1"), LocalPort: uint32(40000 + i), RemoteIp: ip("10.0.0.2"), RemotePort: 443,
			Direction: record.SocketDirection_SOCKET_DIRECTION_CLIENT, Comm: "curl", SrttUs: 1000, BytesSent: 10})
	}
	e.produce(record.TopicFlows, msgs(flows)...)
	e.produce(record.TopicSockets, msgs(socks)...)
	e.waitRows("SELECT count() FROM flows", nFlows, time.Minute)
	e.waitRows("SELECT count() FROM sockets", nSockets, time.Minute)
	time.Sleep(500 * time.Millisecond) // a duplicate would show up now
	e.assertExactlyOnce("flows", nFlows)
	e.assertExactlyOnce("sockets", nSockets)
	e.assertExactlyOnce("pods", 2)
	e.assertExactlyOnce("ifstats", 2)

	if n := e.count(`SELECT count() FROM flows WHERE exporter_name = 'sw1' AND in_if_name = 'eth3' AND in_if_alias = 'uplink eth3'
		AND in_if_speed = 10000000000 AND out_if_name = 'eth4' AND src_pod = 'web-1' AND src_namespace = 'shop' AND src_workload = 'web'
		AND src_node = 'node-a' AND dst_pod = 'api-1' AND dst_node = 'node-b' AND application = 'https'`); n != nFlows {
		t.Errorf("%d of %d flows fully enriched", n, nFlows)
	}
	if n := e.count(`SELECT count() FROM sockets WHERE local_pod = 'web-1' AND local_workload = 'web' AND remote_pod = 'api-1'
		AND remote_namespace = 'shop' AND remote_node = 'node-b'`); n != nSockets {
		t.Errorf("%d of %d sockets enriched", n, nSockets)
	}
	e.assertRollups(nFlows)
	if n := e.count("SELECT sum(flows) FROM flows_1m"); n != nFlows {
		t.Errorf("flows_1m counts %d flows, want %d", n, nFlows)
	}
	if n := e.count("SELECT sum(bytes) FROM flows_1m"); n != nFlows*1500*10 {
		t.Errorf("flows_1m bytes = %d, want %d (x sampling rate)", n, nFlows*1500*10)
	}
}

func msgs(in []any) []protoMessage {
	out := make([]protoMessage, len(in))
	for i, m := range in {
		out[i] = m.(protoMessage)
	}
	return out
}

func TestPoisonRecordsGoToTheDeadLetterTopicWithoutBlocking(t *testing.T) {
	e := newEnv(t)
	c, _ := e.start(testConfiguration("g", 500))
	now := nowNs()
	bad := testFlow(1, now)
	bad.SrcIp = []byte{1, 2, 3, 4, 5}
	badBytes, _ := marshal(bad)
	e.produceRaw(
		&kgo.Record{Topic: record.TopicFlows, Partition: 0, Value: []byte{0xff, 0xff, 0xff}},
		&kgo.Record{Topic: record.TopicFlows, Partition: 0, Value: badBytes},
	)
	e.produce(record.TopicFlows, testFlow(2, now), testFlow(3, now))
	e.waitRows("SELECT count() FROM flows", 2, time.Minute)

	cl, err := kgo.NewClient(kgo.SeedBrokers(e.brokers...), kgo.ConsumeTopics(record.TopicDeadLetter),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var reasons []string
	for len(reasons) < 2 && ctx.Err() == nil {
		cl.PollFetches(ctx).EachRecord(func(r *kgo.Record) {
			h := map[string]string{}
			for _, x := range r.Headers {
				h[x.Key] = string(x.Value)
			}
			reasons = append(reasons, fmt.Sprintf("%s@%s/%s:%s", h["netstrata-reason"], h["netstrata-topic"], h["netstrata-partition"], h["netstrata-offset"]))
			if h["netstrata-error"] == "" {
				t.Errorf("dead letter without an error header: %v", h)
			}
		})
	}
	want := "[decode@netstrata.flows.v1/0:0 invalid@netstrata.flows.v1/0:1]"
	if fmt.Sprint(reasons) != want {
		t.Errorf("dead letters = %v, want %s", reasons, want)
	}
	// The undecodable record has no key: its exporter is unknown; the
	// other names its exporter.
	if n := counterValue(c.m.deadLetter.WithLabelValues(record.TopicFlows, "decode", "unknown")); n != 1 {
		t.Errorf("dead-letter counter {decode, unknown} = %v, want 1", n)
	}
	if n := counterValue(c.m.deadLetter.WithLabelValues(record.TopicFlows, "invalid", "192.0.2.1")); n != 1 {
		t.Errorf("dead-letter counter {invalid, 192.0.2.1} = %v, want 1", n)
	}
}

func TestAnIPReusedByANewPodResolvesByTime(t *testing.T) {
	e := newEnv(t)
	e.start(testConfiguration("g", 500))
	now := nowNs()
	h := uint64(time.Hour)
	old := testPod("u1", "web-1", "node-a", "10.0.0.1", now-3*h)
	gone := testPod("u1", "web-1", "node-a", "10.0.0.1", now-2*h)
	gone.Deleted = true
	gone.StartTimeNs = old.StartTimeNs
	reuse := testPod("u3", "db-0", "node-c", "10.0.0.1", now-h)
	e.produce(record.TopicPods, old)
	e.produce(record.TopicPods, gone)
	e.produce(record.TopicPods, reuse)
	e.waitRows("SELECT count() FROM pods", 3, time.Minute)
	e.produce(record.TopicFlows, testFlow(1, now-150*uint64(time.Minute)), testFlow(2, now-90*uint64(time.Minute)), testFlow(3, now))
	e.waitRows("SELECT count() FROM flows", 3, time.Minute)
	rows, err := e.conn.Query(context.Background(), "SELECT sequence, src_pod, src_node FROM flows ORDER BY sequence")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var seq uint32
		var pod, node string
		if err := rows.Scan(&seq, &pod, &node); err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprintf("%d:%s@%s", seq, pod, node))
	}
	// 2h30 ago web-1 had the IP; 1h30 ago nobody (web-1 ended 2h ago); now db-0.
	if want := "[1:web-1@node-a 2:@ 3:db-0@node-c]"; fmt.Sprint(got) != want {
		t.Errorf("src pods by time = %v, want %s", got, want)
	}
}

func TestAFlowAndTheSocketsOfBothEndsCorrelate(t *testing.T) {
	e := newEnv(t)
	e.start(testConfiguration("g", 500))
	now := nowNs()
	e.produce(record.TopicPods,
		testPod("u1", "web-1", "node-a", "10.0.0.1", now-uint64(time.Hour)),
		testPod("u2", "api-1", "node-b", "10.0.0.2", now-uint64(time.Hour)))
	e.waitRows("SELECT count() FROM pods", 2, time.Minute)
	f := testFlow(1, now)
	f.SrcPort, f.DstPort = 51000, 443
	client := &record.SocketStats{Node: "node-a", TimeNs: now, SocketId: 1, LocalIp: ip("10.0.0.1"), LocalPort: 51000,
		RemoteIp: ip("10.0.0.2"), RemotePort: 443, Direction: record.SocketDirection_SOCKET_DIRECTION_CLIENT, Comm: "curl", SrttUs: 1200, AgentStrategy: "sk_storage_iter"}
	server := &record.SocketStats{Node: "node-b", TimeNs: now, SocketId: 2, LocalIp: ip("10.0.0.2"), LocalPort: 443,
		RemoteIp: ip("10.0.0.1"), RemotePort: 51000, Direction: record.SocketDirection_SOCKET_DIRECTION_SERVER, Comm: "nginx", SrttUs: 1100}
	other := &record.SocketStats{Node: "node-a", TimeNs: now, SocketId: 3, LocalIp: ip("10.0.0.1"), LocalPort: 51001,
		RemoteIp: ip("10.0.0.2"), RemotePort: 443, Direction: record.SocketDirection_SOCKET_DIRECTION_CLIENT, Comm: "curl"}
	e.produce(record.TopicFlows, f)
	e.produce(record.TopicSockets, client, server, other)
	e.waitRows("SELECT count() FROM flows", 1, time.Minute)
	e.waitRows("SELECT count() FROM sockets", 3, time.Minute)
	var strategy string
	if err := e.conn.QueryRow(context.Background(), "SELECT agent_strategy FROM sockets WHERE socket_id = 1").Scan(&strategy); err != nil || strategy != "sk_storage_iter" {
		t.Errorf("agent strategy stored %q (%v), want the record's sk_storage_iter", strategy, err)
	}
	from := time.Now().Add(-time.Hour).UTC().Format("2006-01-02 15:04:05")
	to := time.Now().Add(time.Hour).UTC().Format("2006-01-02 15:04:05")
	rows, err := e.conn.Query(context.Background(), `SELECT node, comm, local_pod, remote_pod, flow_bytes_a_to_b
		FROM flow_socket_correlation(from = '`+from+`', to = '`+to+`') ORDER BY node`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var node, comm, lp, rp string
		var b uint64
		if err := rows.Scan(&node, &comm, &lp, &rp, &b); err != nil {
			t.Fatal(err)
		}
		got = append(got, strings.Join([]string{node, comm, lp, rp, fmt.Sprint(b)}, " "))
	}
	want := "[node-a curl web-1 api-1 15000 node-b nginx api-1 web-1 15000]"
	if fmt.Sprint(got) != want {
		t.Errorf("correlation = %v, want %s", got, want)
	}
}

// waitCounter polls c until it reaches want or timeout passes, and
// returns its last value.
func waitCounter(c prometheus.Counter, want float64, timeout time.Duration) float64 {
	deadline := time.Now().Add(timeout)
	for {
		n := counterValue(c)
		if n >= want || time.Now().After(deadline) {
			return n
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func counterValue(c prometheus.Counter) float64 {
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		return -1
	}
	return m.GetCounter().GetValue()
}
