package flowcollector

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protowire"

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
// the benchmark runs, so that its CPU time is measured alone.
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
	// Stdin closing asks for the counts.
	bufio.NewReader(os.Stdin).ReadString('\n')
	drops := uint64(0)
	for _, n := range c.KernelDrops() {
		drops += n
	}
	fmt.Printf("FLOWS %d DROPS %d\n", int64(metricSum(t, r, "netstrata_flow_flows_total", "", "")), drops)
	os.Stdout.Sync()
	c.Stop()
	prod.Stop()
}

// cpuSeconds reads a process's user+system CPU time.
func cpuSeconds(pid int) float64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(data)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	ut, _ := strconv.ParseFloat(fields[11], 64)
	st, _ := strconv.ParseFloat(fields[12], 64)
	return (ut + st) / 100 // USER_HZ
}

// blast sends the datagrams in a loop for d at up to rate records/s (0:
// as fast as possible) and returns how many records it sent.
func blast(b *testing.B, to netip.AddrPort, datagrams [][]byte, perDatagram []int, d time.Duration, rate float64) (sent int64) {
	s := newSender(b, to)
	// Templates first, then the loop.
	for i := 0; i < len(datagrams) && i < 4; i++ {
		s.conn.WriteToUDPAddrPort(datagrams[i], to)
	}
	time.Sleep(100 * time.Millisecond)
	start := time.Now()
	for i := 0; time.Since(start) < d; i++ {
		k := i % len(datagrams)
		if _, err := s.conn.WriteToUDPAddrPort(datagrams[k], to); err == nil {
			sent += int64(perDatagram[k])
		}
		if rate > 0 && i%32 == 0 {
			if ahead := time.Duration(float64(sent)/rate*1e9) - time.Since(start); ahead > 0 {
				time.Sleep(ahead)
			}
		}
	}
	return sent
}

// countGoflow2Records counts goflow2's binary output: varint-delimited
// protobuf messages, each followed by the line separator.
func countGoflow2Records(path string) int64 {
	data, _ := os.ReadFile(path)
	var n int64
	for len(data) > 0 {
		l, k := protowire.ConsumeVarint(data)
		if k < 0 || int(l)+k > len(data) {
			break
		}
		data = data[k+int(l):]
		if len(data) > 0 && data[0] == '\n' {
			data = data[1:]
		}
		n++
	}
	return n
}

type loopbackResult struct {
	sent, decoded int64
	cpu           float64
	drops         uint64
}

func (r loopbackResult) String() string {
	return fmt.Sprintf("sent %d decoded %d (loss %.1f%%) cpu %.2fs → %.0f records/s per core, kernel drops %d",
		r.sent, r.decoded, 100*float64(r.sent-r.decoded)/float64(max(r.sent, 1)), r.cpu, float64(r.decoded)/max(r.cpu, 0.001), r.drops)
}

// BenchmarkLoopback replays real exporters' 10k-flow captures over
// loopback into netstrata's collector (publishing to the embedded Kafka)
// and into goflow2 (binary output to a file), in the same run, and
// reports records/s per core of CPU each used, and loss. It needs
// NETSTRATA_GOFLOW2 (the goflow2 v2.2.6 binary); bench/run.sh sets it.
// NETSTRATA_BENCH_SECONDS (default 5) sets the length of each replay and
// NETSTRATA_BENCH_RATE (records/s, default 0: as fast as possible) its
// rate.
func BenchmarkLoopback(b *testing.B) {
	gf2 := os.Getenv("NETSTRATA_GOFLOW2")
	if gf2 == "" {
		b.Skip("NETSTRATA_GOFLOW2 is not set (bench/run.sh installs goflow2 v2.2.6 and sets it)")
	}
	seconds, _ := strconv.Atoi(os.Getenv("NETSTRATA_BENCH_SECONDS"))
	if seconds == 0 {
		seconds = 5
	}
	rate, _ := strconv.ParseFloat(os.Getenv("NETSTRATA_BENCH_RATE"), 64)
	broker, err := bus.StartEmbedded(bus.EmbeddedConfiguration{Listen: "127.0.0.1:0", Partitions: 2}, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer broker.Stop(context.Background())
	only := os.Getenv("NETSTRATA_BENCH_PROTOCOLS") // e.g. "v9,sflow"; default all
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
				ours := runOurs(b, broker.Addr(), bc.proto, datagrams, perDatagram, time.Duration(seconds)*time.Second, rate)
				theirs := runGoflow2(b, gf2, bc.proto, datagrams, perDatagram, time.Duration(seconds)*time.Second, rate)
				b.Logf("%s netstrata: %s", bc.proto, ours)
				b.Logf("%s goflow2:   %s (kernel drops not read for goflow2)", bc.proto, theirs)
				b.ReportMetric(float64(ours.decoded)/max(ours.cpu, 0.001), "netstrata-records/s/core")
				b.ReportMetric(float64(theirs.decoded)/max(theirs.cpu, 0.001), "goflow2-records/s/core")
				b.ReportMetric(100*float64(ours.sent-ours.decoded)/float64(max(ours.sent, 1)), "netstrata-loss-%")
				b.ReportMetric(100*float64(theirs.sent-theirs.decoded)/float64(max(theirs.sent, 1)), "goflow2-loss-%")
			}
		})
	}
}

func runOurs(b *testing.B, brokerAddr, proto string, datagrams [][]byte, per []int, d time.Duration, rate float64) loopbackResult {
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperBenchCollector$")
	cmd.Env = append(os.Environ(), "FLOWCOLLECTOR_BENCH_BROKER="+brokerAddr)
	cmd.Stderr = os.Stderr
	in, _ := cmd.StdinPipe()
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer cmd.Process.Kill()
	rd := bufio.NewReader(out)
	line, err := rd.ReadString('\n')
	if err != nil {
		b.Fatalf("collector: %v", err)
	}
	f := strings.Fields(line)
	to := netip.MustParseAddrPort(f[1])
	if proto == "sflow" {
		to = netip.MustParseAddrPort(f[2])
	}
	cpu0 := cpuSeconds(cmd.Process.Pid)
	sent := blast(b, to, datagrams, per, d, rate)
	time.Sleep(2 * time.Second) // let it drain its socket and flush to Kafka
	cpu := cpuSeconds(cmd.Process.Pid) - cpu0
	in.Close()
	var res loopbackResult
	for {
		line, err := rd.ReadString('\n')
		if err != nil {
			b.Fatalf("collector counts: %v", err)
		}
		if strings.HasPrefix(line, "FLOWS ") {
			fmt.Sscanf(line, "FLOWS %d DROPS %d", &res.decoded, &res.drops)
			break
		}
	}
	cmd.Wait()
	res.sent, res.cpu = sent, cpu
	// The templates sent before the loop decode too.
	res.decoded -= int64(sumFirst(per, 4))
	return res
}

func sumFirst(per []int, n int) int {
	s := 0
	for i := 0; i < n && i < len(per); i++ {
		s += per[i]
	}
	return s
}

func runGoflow2(b *testing.B, bin, proto string, datagrams [][]byte, per []int, d time.Duration, rate float64) loopbackResult {
	dir := b.TempDir()
	out := filepath.Join(dir, "flows.bin")
	port := freeUDPPort(b)
	scheme := "netflow"
	if proto == "sflow" {
		scheme = "sflow"
	}
	// One socket and one worker: with more, goflow2 decodes data ahead
	// of its templates and loses it.
	listen := fmt.Sprintf("%s://127.0.0.1:%d?count=1&workers=1", scheme, port)
	cmd := exec.Command(bin, "-listen", listen, "-format", "bin", "-transport", "file", "-transport.file", out,
		"-addr", fmt.Sprintf("127.0.0.1:%d", freeTCPPort(b)), "-loglevel", "error")
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer cmd.Process.Kill()
	time.Sleep(500 * time.Millisecond)
	to := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), port)
	cpu0 := cpuSeconds(cmd.Process.Pid)
	sent := blast(b, to, datagrams, per, d, rate)
	time.Sleep(2 * time.Second)
	cpu := cpuSeconds(cmd.Process.Pid) - cpu0
	cmd.Process.Signal(syscall.SIGTERM)
	cmd.Wait()
	decoded := countGoflow2Records(out) - int64(sumFirst(per, 4))
	return loopbackResult{sent: sent, decoded: decoded, cpu: cpu}
}

func freeUDPPort(b *testing.B) uint16 {
	s := newSender(b, netip.AddrPort{})
	p := s.conn.LocalAddr().(interface{ String() string }).String()
	ap := netip.MustParseAddrPort(p)
	s.conn.Close()
	return ap.Port()
}

func freeTCPPort(b *testing.B) uint16 {
	return freeUDPPort(b) // good enough on loopback for a benchmark
}

var _ = binary.BigEndian
