package correlator

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/proto"

	"github.com/netstrata/netstrata/internal/bus"
	"github.com/netstrata/netstrata/internal/record"
	"github.com/netstrata/netstrata/internal/schema"
	"github.com/netstrata/netstrata/internal/schema/schematest"
	"github.com/netstrata/netstrata/internal/store"
	"github.com/netstrata/netstrata/internal/telemetry"
	"github.com/netstrata/netstrata/internal/testenv"
)

// childEnv makes the test binary act as a correlator process (for the
// kill -9 tests); its value is a JSON childConfig.
const childEnv = "NETSTRATA_CORRELATOR_CHILD"

func TestMain(m *testing.M) {
	if cfg := os.Getenv(childEnv); cfg != "" {
		os.Exit(runChild(cfg))
	}
	os.Exit(schematest.Main(m))
}

// testPartitions is the partition count of the test topics.
const testPartitions = 4

type childConfig struct {
	Brokers         []string
	Store           store.Configuration // address, database and the writer's credentials
	Group           string
	BatchMaxRecords int
	// CrashAfter > 0 kills the process (SIGKILL) right after its
	// CrashAfter-th batch is stored, before the offsets are committed.
	CrashAfter int
	// PauseAt > 0 stops the process (SIGSTOP) in its PauseAt-th batch,
	// after decoding and before the fencing check, or with PauseInInsert
	// after that check, before its first INSERT: the test resumes it
	// (SIGCONT) once the group has moved on.
	PauseAt       int
	PauseInInsert bool
	// PauseInsideInsert pauses instead inside the raw flows' INSERT
	// request, after its fencing check, before its rows are sent.
	PauseInsideInsert bool
	// KillBeforeFlowsOf > 0 kills the process (SIGKILL) in its
	// KillBeforeFlowsOf-th batch, after its rollups are stored and before
	// the raw flows (and so the progress) are: the raw flows' INSERT
	// waits for the rollups' (which run concurrently with it).
	KillBeforeFlowsOf int
}

// testConfiguration is a correlator configuration that reacts fast.
func testConfiguration(group string, maxRecords int) Configuration {
	cfg := DefaultConfiguration()
	cfg.Group = group
	cfg.BatchMaxRecords = maxRecords
	cfg.BatchMinBytes = 1
	cfg.BatchMaxWait = 100 * time.Millisecond
	cfg.SessionTimeout = 6 * time.Second
	cfg.EnrichmentRefresh = time.Second
	return cfg
}

func kafkaConfiguration(brokers []string) bus.Configuration {
	k := bus.DefaultConfiguration()
	k.Brokers = brokers
	k.Partitions = testPartitions
	k.Linger = 5 * time.Millisecond
	return k
}

func runChild(raw string) int {
	var cc childConfig
	if err := json.Unmarshal([]byte(raw), &cc); err != nil {
		fmt.Fprintln(os.Stderr, "child config:", err)
		return 2
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	r := telemetry.NewReporter(log)
	c, err := New(r, testConfiguration(cc.Group, cc.BatchMaxRecords), Dependencies{Kafka: kafkaConfiguration(cc.Brokers), ClickHouse: cc.Store})
	if err != nil {
		fmt.Fprintln(os.Stderr, "new:", err)
		return 2
	}
	handled := 0
	pause := func() {
		log.Info("pausing")
		_ = syscall.Kill(os.Getpid(), syscall.SIGSTOP)
		// The stop takes effect asynchronously: wait for it here.
		time.Sleep(time.Second)
		log.Info("resumed")
	}
	c.beforeFence = func() {
		handled++
		if cc.PauseAt > 0 && handled == cc.PauseAt && !cc.PauseInInsert && !cc.PauseInsideInsert {
			pause()
		}
	}
	var once sync.Once
	rolledUp := make(chan string, 16)
	c.insideInsert = func(table string) {
		if cc.PauseAt > 0 && handled == cc.PauseAt && cc.PauseInsideInsert && table == schema.TableFlows {
			once.Do(pause)
		}
	}
	c.inserted = func(table string) {
		if handled == cc.KillBeforeFlowsOf && table != schema.TableFlows {
			rolledUp <- table
		}
	}
	c.beforeInsert = func(table string, _ []string) error {
		if cc.PauseAt > 0 && handled == cc.PauseAt && cc.PauseInInsert {
			once.Do(pause)
		}
		if cc.KillBeforeFlowsOf > 0 && handled == cc.KillBeforeFlowsOf && table == schema.TableFlows {
			for range 3 { // flows_1m, flows_1h, interface_flows_5m
				<-rolledUp
			}
			log.Info("killed between the rollups and the raw flows")
			_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
			select {}
		}
		return nil
	}
	stored := 0
	c.afterInsert = func() {
		stored++
		log.Info("batch stored", "n", stored)
		if cc.CrashAfter > 0 && stored >= cc.CrashAfter {
			log.Info("crashing between insert and commit")
			_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
			select {}
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := c.Start(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "start:", err)
		return 2
	}
	<-ctx.Done()
	if err := c.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "stop:", err)
	}
	return 0
}

// child is a correlator running as a separate process.
type child struct {
	cmd *exec.Cmd
	out *testenv.LogBuffer
	t   testing.TB
}

func startChild(t testing.TB, cc childConfig) *child {
	t.Helper()
	raw, _ := json.Marshal(cc)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+string(raw))
	out := &testenv.LogBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd, out: out, t: t}
	t.Cleanup(func() {
		if c.cmd.ProcessState == nil {
			_ = c.cmd.Process.Kill()
			_ = c.cmd.Wait()
		}
		if t.Failed() {
			t.Logf("child %d output:\n%s", cmd.Process.Pid, tail(out.String(), 4000))
		}
	})
	return c
}

// kill9 kills the child with SIGKILL and reaps it.
func (c *child) kill9() {
	_ = c.cmd.Process.Signal(syscall.SIGKILL)
	_ = c.cmd.Wait()
}

// wait waits for the child to exit by itself.
func (c *child) wait(timeout time.Duration) {
	done := make(chan struct{})
	go func() { _ = c.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(timeout):
		c.t.Fatalf("child did not exit within %v; output:\n%s", timeout, tail(c.out.String(), 4000))
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// env is one test's Kafka broker, database and producer.
type env struct {
	t          testing.TB
	partitions int
	kafka      *bus.Embedded
	kcfg       bus.Configuration
	ch         store.Configuration
	conn       driver.Conn
	prod       *kgo.Client
	brokers    []string
}

func newEnv(t testing.TB) *env { return newEnvPartitions(t, testPartitions) }

// newEnvPartitions is newEnv with topics of n partitions.
func newEnvPartitions(t testing.TB, n int) *env {
	t.Helper()
	k, err := bus.StartEmbedded(bus.EmbeddedConfiguration{Listen: "127.0.0.1:0", Partitions: int32(n)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = k.Stop(context.Background()) })
	e := &env{t: t, partitions: n, kafka: k, brokers: []string{k.Addr()}}
	e.kcfg = kafkaConfiguration(e.brokers)
	e.kcfg.Partitions = int32(n)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := bus.EnsureTopics(ctx, e.kcfg, append([]string{record.TopicDeadLetter}, record.Topics...)...); err != nil {
		t.Fatal(err)
	}
	e.ch = schematest.Database(t)
	if e.conn, err = store.Open(ctx, e.ch); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.conn.Close() })
	if e.prod, err = kgo.NewClient(kgo.SeedBrokers(e.brokers...), kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.ProducerLinger(2*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.prod.Close)
	return e
}

// start runs a correlator in this process.
func (e *env) start(cfg Configuration) (*Component, *telemetry.Reporter) {
	e.t.Helper()
	r := telemetry.NewReporter(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	c, err := New(r, cfg, Dependencies{Kafka: e.kcfg, ClickHouse: e.ch})
	if err != nil {
		e.t.Fatal(err)
	}
	if err := c.Start(context.Background()); err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() {
		if err := c.Stop(); err != nil {
			e.t.Logf("stop: %v", err)
		}
	})
	return c, r
}

func (e *env) childConfig(group string, maxRecords, crashAfter int) childConfig {
	return childConfig{Brokers: e.brokers, Store: e.ch, Group: group,
		BatchMaxRecords: maxRecords, CrashAfter: crashAfter}
}

// produce sends messages to topic, spreading them over the partitions by
// index, and waits for the acknowledgement.
func (e *env) produce(topic string, msgs ...protoMessage) {
	e.t.Helper()
	recs := make([]*kgo.Record, len(msgs))
	for i, m := range msgs {
		b, err := proto.Marshal(m)
		if err != nil {
			e.t.Fatal(err)
		}
		recs[i] = &kgo.Record{Topic: topic, Partition: int32(i % testPartitions), Value: b}
	}
	e.produceRaw(recs...)
}

func (e *env) produceRaw(recs ...*kgo.Record) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := e.prod.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		e.t.Fatal(err)
	}
}

// count runs a counting query.
func (e *env) count(query string) uint64 {
	e.t.Helper()
	var n uint64
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := e.conn.QueryRow(ctx, query).Scan(&n); err != nil {
		// The table may not exist yet while the correlator starts.
		if strings.Contains(err.Error(), "UNKNOWN_TABLE") || strings.Contains(err.Error(), "doesn't exist") {
			return 0
		}
		e.t.Fatalf("%s: %v", query, err)
	}
	return n
}

// waitRows waits until query counts at least want, and fails after timeout.
func (e *env) waitRows(query string, want uint64, timeout time.Duration) uint64 {
	e.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		n := e.count(query)
		if n >= want {
			return n
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("%s = %d after %v, want %d", query, n, timeout, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// committed sums the group's committed offsets over a topic.
func (e *env) committed(group, topic string) int64 {
	e.t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.brokers...))
	if err != nil {
		e.t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	offs, err := kadm.NewClient(cl).FetchOffsets(ctx, group)
	if err != nil {
		e.t.Fatal(err)
	}
	var sum int64
	offs.Each(func(o kadm.OffsetResponse) {
		if o.Topic == topic && o.At > 0 {
			sum += o.At
		}
	})
	return sum
}

// assertExactlyOnce checks that table holds exactly n rows and, per
// partition, every offset from 0 to the highest exactly once.
func (e *env) assertExactlyOnce(table string, n uint64) {
	e.t.Helper()
	if got := e.count("SELECT count() FROM " + table); got != n {
		e.t.Errorf("%s holds %d rows, want %d", table, got, n)
	}
	rows, err := e.conn.Query(context.Background(), `SELECT kafka_partition, count(), uniqExact(kafka_offset), min(kafka_offset), max(kafka_offset)
		FROM `+table+` GROUP BY kafka_partition ORDER BY kafka_partition`)
	if err != nil {
		e.t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var p uint16
		var cnt, uniq, lo, hi uint64
		if err := rows.Scan(&p, &cnt, &uniq, &lo, &hi); err != nil {
			e.t.Fatal(err)
		}
		if cnt != uniq || lo != 0 || hi+1 != cnt {
			e.t.Errorf("%s partition %d: %d rows, %d distinct offsets, offsets %d..%d: duplicates or gaps", table, p, cnt, uniq, lo, hi)
		}
	}
}

type protoMessage = proto.Message

func marshal(m proto.Message) ([]byte, error) { return proto.Marshal(m) }

// Record builders. Addresses: pods 10.0.0.x, exporter 192.0.2.1.

func ip(s string) []byte { return record.IPBytes(netip.MustParseAddr(s)) }

func nowNs() uint64 { return uint64(time.Now().UnixNano()) }

func testFlow(i int, at uint64) *record.Flow {
	return &record.Flow{
		Type: record.FlowType_FLOW_TYPE_IPFIX, TimeReceivedNs: at, ExporterIp: ip("192.0.2.1"), SamplingRate: 10,
		Sequence: uint32(i), InIf: 3, OutIf: 4, SrcIp: ip("10.0.0.1"), DstIp: ip("10.0.0.2"),
		SrcPort: uint32(40000 + i%20000), DstPort: 443, Proto: 6, Bytes: 1500, Packets: 1, Application: "https",
	}
}

func testIfStats(index uint32, name string, at uint64) *record.InterfaceStats {
	return &record.InterfaceStats{TimeNs: at, Device: "sw1", DeviceIp: ip("192.0.2.1"), IfIndex: index, IfName: name,
		IfAlias: "uplink " + name, SpeedBps: 10_000_000_000, OperStatus: 1, AdminStatus: 1}
}

func testPod(uid, name, node, addr string, at uint64) *record.Pod {
	return &record.Pod{TimeNs: at, Uid: uid, Name: name, Namespace: "shop", Node: node, Ips: [][]byte{ip(addr)},
		OwnerKind: "ReplicaSet", OwnerName: strings.Split(name, "-")[0], Phase: "Running", StartTimeNs: at}
}
