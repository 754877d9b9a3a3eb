package flowcollector

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	runtimemetrics "runtime/metrics"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/netstrata/netstrata/internal/bus/bustest"
	"github.com/netstrata/netstrata/internal/record"
)

// floodDatagrams builds the template flood of issue 14: n NetFlow v9
// templates of fields fields each, perDatagram templates a datagram,
// 1024 templates per observation domain.
func floodDatagrams(n, fields, perDatagram int) [][]byte {
	var out [][]byte
	for i := 0; i < n; i += perDatagram {
		var b *v9Builder
		for j := i; j < i+perDatagram && j < n; j++ {
			if b == nil {
				b = newV9Builder(uint32(j / 1024))
			}
			fs := make([]field, fields)
			for k := range fs {
				fs[k] = field{uint16(k%400 + 1), 2}
			}
			b.template(uint16(256+j%1024), fs)
		}
		out = append(out, b.bytes())
	}
	return out
}

// floodStats is what the helper collector reports.
type floodStats struct {
	Flows         map[string]int // published per exporter
	Bytes         map[string]uint64
	Packets       map[string]uint64
	Datagrams     map[string]float64 // received per exporter
	Templates     int64
	TemplateBytes int64
	Evicted       float64
	Refused       float64
	Sentinels     float64 // datagrams of an unknown version: the senders' sync
	KernelDrops   uint64
	HeapBytes     uint64
}

// TestHelperFloodCollector is not a test: TestTemplateFloodStaysWithinBudget
// runs the test binary as a collector process through it, with the
// default budgets, to measure its memory. It answers "stats" on stdin.
func TestHelperFloodCollector(t *testing.T) {
	file := os.Getenv("FLOWCOLLECTOR_FLOOD_TEMPLATES")
	if file == "" {
		t.Skip("helper process for TestTemplateFloodStaysWithinBudget")
	}
	cfg := testConfig(t)
	cfg.Workers = 1
	cfg.TemplatesFile = file
	start := time.Now()
	c, pub, r := startCollector(t, cfg)
	fmt.Printf("LISTENING %s %d\n", c.Addrs(kindNetFlow)[0], time.Since(start).Microseconds())
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		s := floodStats{Flows: map[string]int{}, Bytes: map[string]uint64{}, Packets: map[string]uint64{}, Datagrams: map[string]float64{}}
		// The sentinels first: what the rest reports then includes at
		// least everything sent before the latest sentinel counted.
		s.Sentinels = metricSum(t, r, "netstrata_flow_decode_errors_total", "kind", errKindVersion)
		msgs := pub.Messages()
		for i, f := range bustest.Decode[record.Flow](msgs, "") {
			a := record.IPFromBytes(msgs[i].Key).String()
			s.Flows[a]++
			s.Bytes[a] += f.Bytes
			s.Packets[a] += f.Packets
		}
		for _, e := range c.exporters.all() {
			s.Datagrams[e.addr.String()] = metricSum(t, r, "netstrata_flow_datagrams_total", "exporter", e.addr.String())
		}
		s.Templates, s.TemplateBytes = c.budget.count(), c.budget.bytes.Load()
		s.Evicted = metricSum(t, r, "netstrata_flow_templates_evicted_total", "", "")
		s.Refused = metricSum(t, r, "netstrata_flow_templates_refused_total", "", "")
		for _, n := range c.KernelDrops() {
			s.KernelDrops += n
		}
		s.HeapBytes = heapBytes()
		b, _ := json.Marshal(s)
		fmt.Printf("STATS %s\n", b)
	}
}

// floodChild is a collector process.
type floodChild struct {
	cmd     *exec.Cmd
	in      *os.File
	out     *bufio.Reader
	addr    netip.AddrPort
	started time.Duration // from New to listening: the restore
}

func startFloodChild(t *testing.T, file string) *floodChild {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	t.Cleanup(cancel)
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestHelperFloodCollector$")
	cmd.Env = append(os.Environ(), "FLOWCOLLECTOR_FLOOD_TEMPLATES="+file)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	inR, inW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdin = inR
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	inR.Close()
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait(); inW.Close() })
	c := &floodChild{cmd: cmd, in: inW, out: bufio.NewReader(out)}
	line := c.line(t, "LISTENING ")
	f := strings.Fields(line)
	c.addr = netip.MustParseAddrPort(f[0])
	us, _ := strconv.Atoi(f[1])
	c.started = time.Duration(us) * time.Microsecond
	return c
}

func (c *floodChild) line(t *testing.T, prefix string) string {
	t.Helper()
	for {
		l, err := c.out.ReadString('\n')
		if err != nil {
			t.Fatalf("collector process: %v", err)
		}
		if strings.HasPrefix(l, prefix) {
			return strings.TrimSpace(strings.TrimPrefix(l, prefix))
		}
	}
}

func (c *floodChild) stats(t *testing.T) floodStats {
	t.Helper()
	fmt.Fprintln(c.in, "stats")
	var s floodStats
	if err := json.Unmarshal([]byte(c.line(t, "STATS ")), &s); err != nil {
		t.Fatal(err)
	}
	return s
}

// sync sends a sentinel from s and waits until the child counted it.
func (c *floodChild) sync(t *testing.T, s *sender) floodStats {
	t.Helper()
	before := c.stats(t).Sentinels
	s.send(t, []byte{0, 99, 0, 0})
	deadline := time.Now().Add(time.Minute)
	for {
		st := c.stats(t)
		if st.Sentinels > before {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatal("collector process did not handle the datagrams within a minute")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// peakRSS reads the peak resident set size of a process.
func peakRSS(t *testing.T, pid int) uint64 {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(data), "\n") {
		if f := strings.Fields(l); len(f) == 3 && f[0] == "VmHWM:" {
			kb, _ := strconv.ParseUint(f[1], 10, 64)
			return kb << 10
		}
	}
	t.Fatal("no VmHWM")
	return 0
}

// senderFrom sends from a given loopback address, so that the collector
// sees it as its own exporter.
func senderFrom(t *testing.T, from string, to netip.AddrPort) *sender {
	t.Helper()
	conn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.MustParseAddrPort(from+":0")))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &sender{conn: conn, to: to}
}

// TestTemplateFloodStaysWithinBudget sends the flood of issue 14 (4,096
// NetFlow v9 templates × 512 fields from one exporter) to a collector
// process with the default budgets while a well-behaved exporter (the
// softflowd capture) sends next to it: the collector's peak RSS stays
// under 256 MB, the good exporter loses no record, and a collector
// restarted on the same templates file restores within the budget and
// decodes the good exporter's data at once.
func TestTemplateFloodStaysWithinBudget(t *testing.T) {
	good := loadCapture(t, "softflowd-v9")
	ref, refPub := newTestComponent(t, testConfig(t))
	want := len(flatten(decodeEach(ref, refPub, kindNetFlow, good)))
	flood := floodDatagrams(4096, 512, 16)
	file := t.TempDir() + "/templates.json"

	child := startFloodChild(t, file)
	goodSender := senderFrom(t, "127.0.0.2", child.addr)
	floodSender := senderFrom(t, "127.0.0.3", child.addr)
	for i := 0; i < len(flood) || i < len(good); i++ {
		if i < len(flood) {
			floodSender.send(t, flood[i])
		}
		if i < len(good) {
			goodSender.send(t, good[i])
		}
		if i%8 == 7 {
			time.Sleep(time.Millisecond) // within the receive buffer: losses would be the budgets'
		}
	}
	for i, d := range flood { // again: refreshed templates
		floodSender.send(t, d)
		if i%8 == 7 {
			time.Sleep(time.Millisecond)
		}
	}
	st := child.sync(t, goodSender)
	rss := peakRSS(t, child.cmd.Process.Pid)
	t.Logf("flood: peak RSS %.1f MB, heap %.1f MB, %d templates in %.1f MB, %v evicted, %v refused, kernel drops %d, good exporter %d of %d records",
		float64(rss)/1e6, float64(st.HeapBytes)/1e6, st.Templates, float64(st.TemplateBytes)/1e6, st.Evicted, st.Refused, st.KernelDrops, st.Flows["127.0.0.2"], want)
	if rss > 256<<20 {
		t.Errorf("peak RSS %d MB under the flood, want under 256 MB", rss>>20)
	}
	if st.TemplateBytes > DefaultConfiguration().MaxTemplateBytes {
		t.Errorf("%d template bytes, budget %d", st.TemplateBytes, DefaultConfiguration().MaxTemplateBytes)
	}
	if st.Evicted == 0 {
		t.Error("the flood evicted no template")
	}
	if got := st.Flows["127.0.0.2"]; got != want {
		t.Errorf("the good exporter lost records: %d of %d (kernel drops %d)", got, want, st.KernelDrops)
	}

	// A restart on the file the flood wrote (kill: no graceful save).
	child.cmd.Process.Kill()
	child.cmd.Wait()
	info, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	child = startFloodChild(t, file)
	st = child.stats(t)
	rss = peakRSS(t, child.cmd.Process.Pid)
	t.Logf("restart: %.1f MB file restored in %v, peak RSS %.1f MB, %d templates in %.1f MB",
		float64(info.Size())/1e6, child.started, float64(rss)/1e6, st.Templates, float64(st.TemplateBytes)/1e6)
	if rss > 256<<20 {
		t.Errorf("peak RSS %d MB restoring, want under 256 MB", rss>>20)
	}
	if st.TemplateBytes > DefaultConfiguration().MaxTemplateBytes || st.Templates == 0 {
		t.Errorf("restored %d templates in %d bytes, budget %d", st.Templates, st.TemplateBytes, DefaultConfiguration().MaxTemplateBytes)
	}
	var dataOnly [][]byte
	for _, d := range good {
		if !hasTemplate(d) {
			dataOnly = append(dataOnly, d)
		}
	}
	goodSender = senderFrom(t, "127.0.0.2", child.addr)
	goodSender.send(t, dataOnly[:1]...)
	if st = child.sync(t, goodSender); st.Flows["127.0.0.2"] == 0 {
		t.Error("the good exporter's templates did not survive the flood and the restart")
	}
}

// TestTemplateFloodNextToRealSoftflowd runs real softflowd (NetFlow
// v9) over traffic whose truth the test knows, at a collector process
// receiving the template flood at the same time: softflowd's bytes and
// packets all arrive.
func TestTemplateFloodNextToRealSoftflowd(t *testing.T) {
	pcap, truth := synthPcap(t)
	var want counts
	for _, v := range truth {
		want.bytes += v.bytes
		want.packets += v.packets
	}
	child := startFloodChild(t, filepath.Join(t.TempDir(), "templates.json"))
	floodSender := senderFrom(t, "127.0.0.3", child.addr)
	flood := floodDatagrams(4096, 512, 16)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 2*len(flood); i++ {
			if _, err := floodSender.conn.WriteToUDPAddrPort(flood[i%len(flood)], floodSender.to); err != nil {
				t.Logf("flood cut short after %d datagrams: %v", i, err)
				return
			}
			if i%8 == 7 {
				time.Sleep(time.Millisecond)
			}
		}
	}()
	runSoftflowd(t, pcap, "9", child.addr.String()) // from 127.0.0.1
	<-done
	st := child.sync(t, senderFrom(t, "127.0.0.1", child.addr))
	got := counts{bytes: st.Bytes["127.0.0.1"], packets: st.Packets["127.0.0.1"]}
	t.Logf("softflowd next to the flood: %d of %d bytes, %d of %d packets; %d templates in %.1f MB, %v evicted, kernel drops %d, peak RSS %.1f MB",
		got.bytes, want.bytes, got.packets, want.packets, st.Templates, float64(st.TemplateBytes)/1e6, st.Evicted, st.KernelDrops,
		float64(peakRSS(t, child.cmd.Process.Pid))/1e6)
	if got != want {
		t.Errorf("softflowd's flows lost next to the flood: %d bytes %d packets decoded, want %d and %d (datagrams %v)", got.bytes, got.packets, want.bytes, want.packets, st.Datagrams)
	}
}

// heapBytes is the live heap, from runtime/metrics.
func heapBytes() uint64 {
	s := []runtimemetrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	runtimemetrics.Read(s)
	return s[0].Value.Uint64()
}
