package flowcollector

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	rtmetrics "runtime/metrics"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/netstrata/netstrata/internal/bus"
	"github.com/netstrata/netstrata/internal/record"
)

// discardPublisher counts records and drops them.
type discardPublisher struct{ n atomic.Int64 }

func (p *discardPublisher) Publish(string, []byte, []byte) { p.n.Add(1) }

// benchCaptures maps a protocol to the exporter whose capture stands for it.
var benchCaptures = []struct{ proto, exporter string }{
	{"v5", "softflowd-v5"}, {"v9", "softflowd-v9"}, {"ipfix", "softflowd-ipfix"}, {"sflow", "pmacct-sfprobe"},
}

// benchDatagrams returns an exporter's datagrams for a 10k-flow capture,
// made once per machine by the real exporter (cached in the temp dir).
func benchDatagrams(b *testing.B, exporter string) [][]byte {
	b.Helper()
	dir := filepath.Join(os.TempDir(), "netstrata-flow-bench")
	path := filepath.Join(dir, exporter+".pcap")
	if _, err := os.Stat(path); err != nil {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			b.Fatal(err)
		}
		traffic := filepath.Join(dir, "traffic.pcap")
		if _, err := os.Stat(traffic); err != nil {
			f, err := os.Create(traffic)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := synthTraffic(f, 7, 10000, true, time.Unix(1700000000, 0)); err != nil {
				b.Fatal(err)
			}
			f.Close()
		}
		for _, ec := range exporterCases {
			if ec.name != exporter {
				continue
			}
			rec := newRecorder(b)
			ec.run(b, traffic, rec.addr())
			port := uint16(2055)
			if ec.kind == kindSFlow {
				port = 6343
			}
			writeCapture(b, path, rec.settle(time.Second), port)
		}
	}
	frames, link, err := readPcap(path)
	if err != nil {
		b.Fatal(err)
	}
	d, _ := udpPayloads(frames, link)
	return d
}

func kindOf(proto string) listenerKind {
	if proto == "sflow" {
		return kindSFlow
	}
	return kindNetFlow
}

// BenchmarkDecode measures decode → record → marshal on one core, without
// sockets or Kafka: the collector's own cost per record.
func BenchmarkDecode(b *testing.B) {
	for _, bc := range benchCaptures {
		b.Run(bc.proto, func(b *testing.B) {
			datagrams := benchDatagrams(b, bc.exporter)
			pub := &discardPublisher{}
			cfg := testConfig(b)
			cfg.TemplatesFile = ""
			c, err := New(testReporter(b), cfg, Dependencies{Publisher: pub})
			if err != nil {
				b.Fatal(err)
			}
			d := newDecoder(c)
			kind := kindOf(bc.proto)
			now := time.Now()
			for _, dg := range datagrams { // templates first
				d.handle(kind, dg, testExporter, now)
			}
			pub.n.Store(0)
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			for i := 0; i < b.N; i++ {
				d.handle(kind, datagrams[i%len(datagrams)], testExporter, now)
			}
			el := time.Since(start)
			b.ReportMetric(float64(pub.n.Load())/el.Seconds(), "records/s")
			b.ReportMetric(float64(el.Nanoseconds())/float64(max(pub.n.Load(), 1)), "ns/record")
		})
	}
}

// TestHelperBenchCollector is not a test: BenchmarkLoopback runs the test
// binary through it as the collector process, publishing to the broker
// the benchmark runs, so that its CPU time and RSS are its own. Each line
// on stdin asks for its counters; stdin closing stops it.
func TestHelperBenchCollector(t *testing.T) {
	broker := os.Getenv("FLOWCOLLECTOR_BENCH_BROKER")
	if broker == "" {
		t.Skip("helper process for BenchmarkLoopback")
	}
	r := testReporter(t)
	kcfg := bus.DefaultConfiguration()
	kcfg.Brokers = []string{broker}
	if c := os.Getenv("NETSTRATA_BENCH_COMPRESSION"); c != "" {
		kcfg.Compression = c // the bus default is zstd
	}
	prod, err := bus.NewProducer(kcfg, r, record.TopicFlows)
	if err != nil {
		t.Fatal(err)
	}
	prod.Start(context.Background())
	cfg := testConfig(t)
	cfg.Workers = 1
	cfg.ReceiveBuffer = 64 << 20
	c, err := New(r, cfg, Dependencies{Publisher: prod})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if path := os.Getenv("FLOWCOLLECTOR_BENCH_PROFILE"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		pprof.StartCPUProfile(f)
		defer func() { pprof.StopCPUProfile(); f.Close() }()
	}
	fmt.Printf("LISTENING %s %s\n", c.Addrs(kindNetFlow)[0], c.Addrs(kindSFlow)[0])
	heap := []rtmetrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	printCounts := func() {
		drops := uint64(0)
		for _, n := range c.KernelDrops() {
			drops += n
		}
		rtmetrics.Read(heap)
		fmt.Printf("COUNTS %d %d %d %d\n",
			int64(metricSum(t, r, "netstrata_flow_flows_total", "", "")), drops,
			int64(metricSum(t, r, "netstrata_flow_dropped_datagrams_total", "", "")), heap[0].Value.Uint64())
		os.Stdout.Sync()
	}
	in := bufio.NewReader(os.Stdin)
	for {
		if _, err := in.ReadString('\n'); err != nil {
			break
		}
		printCounts()
	}
	printCounts()
	c.Stop()
	prod.Stop()
}

// sendTemplates sends the first datagrams of a capture (its templates)
// and gives the peer a moment to learn them.
func sendTemplates(s *sender, datagrams [][]byte) {
	for i := 0; i < len(datagrams) && i < 4; i++ {
		s.conn.WriteToUDPAddrPort(datagrams[i], s.to)
	}
	time.Sleep(100 * time.Millisecond)
}

// replay sends the datagrams in a loop for d at up to rate records/s (0:
// as fast as possible), or until stop, and returns how many records it
// sent and for how long. It paces every 8 datagrams against the
// cumulative target, so that bursts stay small (about 12 KB) whatever the
// sleep granularity.
func replay(s *sender, datagrams [][]byte, perDatagram []int, d time.Duration, rate float64, stop *atomic.Bool) (sent int64, wall time.Duration) {
	start := time.Now()
	for i := 0; ; i++ {
		if i%8 == 0 {
			el := time.Since(start)
			if el >= d || stop.Load() {
				return sent, el
			}
			if rate > 0 {
				if ahead := time.Duration(float64(sent)/rate*1e9) - el; ahead > 0 {
					time.Sleep(ahead)
				}
			}
		}
		k := i % len(datagrams)
		if _, err := s.conn.WriteToUDPAddrPort(datagrams[k], s.to); err == nil {
			sent += int64(perDatagram[k])
		}
	}
}

// memSample is a peer's memory at one moment of a replay.
type memSample struct {
	at     time.Duration
	rssMB  float64
	heapMB float64 // ours only
}

// runResult is one replay into one peer.
type runResult struct {
	peer                  string
	sent, decoded         int64 // records, decoded counted after draining
	wall                  time.Duration
	decodedDuringReplay   int64
	cpu                   float64 // seconds of CPU over replay and drain
	kernelDrops, ownDrops int64   // datagrams
	mem                   []memSample
	stoppedAt             time.Duration // replay cut short by the RSS cap
}

// rssCapMB stops an overload replay before a peer takes the shared
// machine's memory.
const rssCapMB = 4096

func (r runResult) loss() float64 {
	return 100 * float64(r.sent-r.decoded) / float64(max(r.sent, 1))
}

// decodedRate is records/s decoded while the replay ran (wall time).
func (r runResult) decodedRate() float64 {
	return float64(r.decodedDuringReplay) / r.wall.Seconds()
}

func (r runResult) String() string {
	own := "n/a"
	if r.ownDrops >= 0 {
		own = strconv.FormatInt(r.ownDrops, 10)
	}
	return fmt.Sprintf("sent %.0f/s decoded %.0f/s (wall) %.0f/s per core, loss %.2f%% (%d of %d records), kernel drops %d datagrams, own drops %s",
		float64(r.sent)/r.wall.Seconds(), r.decodedRate(), float64(r.decoded)/max(r.cpu, 0.001),
		r.loss(), r.sent-r.decoded, r.sent, r.kernelDrops, own)
}

// memString lists RSS (and our Go heap) every second of the replay, the
// first sample taken before it.
func (r runResult) memString() string {
	if len(r.mem) < 2 {
		return "no samples"
	}
	var rss, heap []string
	for _, m := range r.mem {
		rss = append(rss, fmt.Sprintf("%.0f", m.rssMB))
		heap = append(heap, fmt.Sprintf("%.0f", m.heapMB))
	}
	s := "RSS MB each second from before: " + strings.Join(rss, " ")
	if r.peer == "netstrata" {
		s += "; Go heap MB: " + strings.Join(heap, " ")
	}
	if r.stoppedAt > 0 {
		s += fmt.Sprintf("; replay stopped at %.0fs: RSS over the %d MB cap", r.stoppedAt.Seconds(), rssCapMB)
	}
	return s
}

// run replays into one peer at a rate and counts what it decoded and
// dropped once it has drained its socket. With sampleMem it also samples
// the peer's RSS every second.
func run(b *testing.B, p *benchPeer, datagrams [][]byte, perDatagram []int, d time.Duration, rate float64, sampleMem bool) runResult {
	s := newSender(b, p.to)
	defer s.conn.Close()
	sendTemplates(s, datagrams)
	c0 := p.counts()
	cpu0 := cpuSeconds(p.pid)
	res := runResult{peer: p.name}
	var sampling sync.WaitGroup
	done := make(chan struct{})
	var stop atomic.Bool
	if sampleMem {
		sample := func(at time.Duration) {
			m := memSample{at: at, rssMB: rssMB(p.pid)}
			if p.name == "netstrata" {
				m.heapMB = float64(p.counts().heap) / (1 << 20)
			}
			res.mem = append(res.mem, m)
			if m.rssMB > rssCapMB && !stop.Load() {
				res.stoppedAt = at
				stop.Store(true)
			}
		}
		sample(0)
		sampling.Add(1)
		go func() {
			defer sampling.Done()
			start := time.Now()
			tick := time.NewTicker(time.Second)
			defer tick.Stop()
			for {
				select {
				case <-done:
					return
				case <-tick.C:
					sample(time.Since(start))
				}
			}
		}()
	}
	res.sent, res.wall = replay(s, datagrams, perDatagram, d, rate, &stop)
	close(done)
	sampling.Wait()
	c1 := p.counts()
	// Drain: until the count stops moving, or 10 s (what is still queued
	// then counts as lost: the process stops after each run).
	c2 := c1
	for still, deadline := 0, time.Now().Add(10*time.Second); still < 2 && time.Now().Before(deadline); {
		time.Sleep(250 * time.Millisecond)
		c := p.counts()
		if c.decoded == c2.decoded {
			still++
		} else {
			still = 0
		}
		c2 = c
	}
	res.cpu = cpuSeconds(p.pid) - cpu0
	res.decoded = c2.decoded - c0.decoded
	res.decodedDuringReplay = c1.decoded - c0.decoded
	res.kernelDrops = int64(c2.kernelDrops - c0.kernelDrops)
	res.ownDrops = -1
	if c2.ownDrops >= 0 {
		res.ownDrops = c2.ownDrops - c0.ownDrops
	}
	return res
}

// benchSettings are BenchmarkLoopback's knobs, from the environment.
type benchSettings struct {
	replay, overload time.Duration
	rate             float64   // of the first replay; 0: as fast as possible
	sweep            []float64 // fractions of our maximum
	overloadFactor   float64
}

func loopbackSettings(b *testing.B) benchSettings {
	s := benchSettings{replay: 5 * time.Second, overload: 20 * time.Second, overloadFactor: 3,
		sweep: []float64{0.25, 0.5, 0.8, 1, 1.5}}
	if n, _ := strconv.Atoi(os.Getenv("NETSTRATA_BENCH_SECONDS")); n > 0 {
		s.replay = time.Duration(n) * time.Second
	}
	if v, ok := os.LookupEnv("NETSTRATA_BENCH_OVERLOAD_SECONDS"); ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			b.Fatalf("NETSTRATA_BENCH_OVERLOAD_SECONDS=%q: want seconds (0: skip)", v)
		}
		s.overload = time.Duration(n) * time.Second
	}
	s.rate, _ = strconv.ParseFloat(os.Getenv("NETSTRATA_BENCH_RATE"), 64)
	if v, ok := os.LookupEnv("NETSTRATA_BENCH_SWEEP"); ok {
		s.sweep = nil
		for _, f := range strings.Split(v, ",") {
			if f = strings.TrimSpace(f); f == "" || f == "none" {
				continue
			}
			x, err := strconv.ParseFloat(f, 64)
			if err != nil || x <= 0 {
				b.Fatalf("NETSTRATA_BENCH_SWEEP=%q: want fractions of our maximum, e.g. 0.25,0.5,0.8,1,1.5", v)
			}
			s.sweep = append(s.sweep, x)
		}
	}
	return s
}

// BenchmarkLoopback replays real exporters' 10k-flow captures over
// loopback into netstrata's collector (a child process with one worker,
// publishing to the embedded Kafka) and into goflow2 (one worker, binary
// output counted as it streams), same machine, same run. Per protocol:
//  1. as fast as possible: records/s per core of CPU, and our maximum
//     (records/s decoded, wall time);
//  2. a sweep at fixed fractions of that maximum into both: records/s
//     decoded, loss (sent vs decoded) and kernel drops;
//  3. an overload at 3× our maximum into fresh processes of both: RSS
//     every second (and our Go heap), drops.
//
// It needs NETSTRATA_GOFLOW2 (the goflow2 v2.2.6 binary); bench/run.sh
// sets it. Knobs: NETSTRATA_BENCH_SECONDS (each replay, default 5),
// NETSTRATA_BENCH_RATE (records/s of the first replay, default 0: as fast
// as possible), NETSTRATA_BENCH_SWEEP (default 0.25,0.5,0.8,1,1.5; "none"
// skips), NETSTRATA_BENCH_OVERLOAD_SECONDS (default 20; 0 skips),
// NETSTRATA_BENCH_PROTOCOLS (e.g. v9,sflow).
func BenchmarkLoopback(b *testing.B) {
	gf2 := os.Getenv("NETSTRATA_GOFLOW2")
	if gf2 == "" {
		b.Skip("NETSTRATA_GOFLOW2 is not set (bench/run.sh installs goflow2 v2.2.6 and sets it)")
	}
	set := loopbackSettings(b)
	broker, err := bus.StartEmbedded(bus.EmbeddedConfiguration{Listen: "127.0.0.1:0", Partitions: 2}, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer broker.Stop(context.Background())
	only := os.Getenv("NETSTRATA_BENCH_PROTOCOLS")
	for _, bc := range benchCaptures {
		if only != "" && !strings.Contains(","+only+",", ","+bc.proto+",") {
			continue
		}
		b.Run(bc.proto, func(b *testing.B) {
			datagrams := benchDatagrams(b, bc.exporter)
			// Records per datagram, from a reference decode.
			ref, refPub := newTestComponent(b, testConfig(b))
			per := decodeEach(ref, refPub, kindOf(bc.proto), datagrams)
			perDatagram := make([]int, len(per))
			for i, p := range per {
				perDatagram[i] = len(p)
			}
			for i := 0; i < b.N; i++ {
				loopbackProtocol(b, set, broker.Addr(), gf2, bc.proto, datagrams, perDatagram)
			}
		})
	}
}

func loopbackProtocol(b *testing.B, set benchSettings, brokerAddr, gf2, proto string, datagrams [][]byte, perDatagram []int) {
	// Every replay goes to fresh processes, so that no backlog (goflow2
	// queues in user space) or memory carries over from the previous
	// one; each rate goes to one peer then the other, so that the
	// machine's noise hits both alike.
	peers := []func() *benchPeer{
		func() *benchPeer { return startOurs(b, brokerAddr, proto) },
		func() *benchPeer { return startGoflow2(b, gf2, proto) },
	}
	fresh := func(start func() *benchPeer, d time.Duration, rate float64, sampleMem bool) runResult {
		p := start()
		defer p.stop()
		return run(b, p, datagrams, perDatagram, d, rate, sampleMem)
	}
	o := fresh(peers[0], set.replay, set.rate, false)
	t := fresh(peers[1], set.replay, set.rate, false)
	b.Logf("%s netstrata: %s", proto, o)
	b.Logf("%s goflow2:   %s", proto, t)
	b.ReportMetric(float64(o.decoded)/max(o.cpu, 0.001), "netstrata-records/s/core")
	b.ReportMetric(float64(t.decoded)/max(t.cpu, 0.001), "goflow2-records/s/core")
	b.ReportMetric(o.loss(), "netstrata-loss-%")
	b.ReportMetric(t.loss(), "goflow2-loss-%")
	ourMax := o.decodedRate()
	b.ReportMetric(ourMax, "netstrata-max-records/s")
	b.ReportMetric(t.decodedRate(), "goflow2-max-records/s")
	for _, f := range set.sweep {
		rate := f * ourMax
		for _, start := range peers {
			r := fresh(start, set.replay, rate, false)
			b.Logf("%s sweep %3.0f%% of our max (%.0f/s) %-10s %s", proto, 100*f, rate, r.peer+":", r)
			if f == 0.8 {
				b.ReportMetric(r.loss(), r.peer+"-loss-%-at-80%")
			}
		}
	}
	if set.overload == 0 {
		return
	}
	rate := set.overloadFactor * ourMax
	for _, start := range peers {
		r := fresh(start, set.overload, rate, true)
		b.Logf("%s overload %.0f× our max (%.0f/s) for %s %-10s %s; %s", proto, set.overloadFactor, rate, set.overload, r.peer+":", r, r.memString())
		if len(r.mem) > 1 {
			b.ReportMetric(r.mem[len(r.mem)-1].rssMB, r.peer+"-overload-RSS-MB")
			b.ReportMetric(r.mem[len(r.mem)-1].rssMB-r.mem[1].rssMB, r.peer+"-overload-RSS-growth-MB")
		}
	}
}
