package flowcollector

import (
	"context"
	"encoding/binary"
	"flag"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/netstrata/netstrata/internal/record"
	"github.com/netstrata/netstrata/internal/testenv"
)

var updateCaptures = flag.Bool("update-captures", false, "rewrite testdata/*.pcap from the real exporters")

// recorder is a UDP socket that keeps every datagram an exporter sends.
type recorder struct {
	conn *net.UDPConn
	mu   sync.Mutex
	got  [][]byte
	last time.Time
	done chan struct{}
}

func newRecorder(t testing.TB) *recorder {
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadBuffer(16 << 20)
	r := &recorder{conn: conn, done: make(chan struct{}), last: time.Now()}
	go func() {
		defer close(r.done)
		buf := make([]byte, 65536)
		for {
			n, _, err := conn.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			r.mu.Lock()
			r.got = append(r.got, append([]byte(nil), buf[:n]...))
			r.last = time.Now()
			r.mu.Unlock()
		}
	}()
	t.Cleanup(func() { conn.Close() })
	return r
}

func (r *recorder) addr() string { return r.conn.LocalAddr().String() }

// settle waits until nothing arrived for quiet, then stops recording.
func (r *recorder) settle(quiet time.Duration) [][]byte {
	for {
		r.mu.Lock()
		idle := time.Since(r.last)
		r.mu.Unlock()
		if idle > quiet {
			break
		}
		time.Sleep(quiet / 4)
	}
	r.conn.Close()
	<-r.done
	return r.got
}

// runSoftflowd exports the flows of a pcap with softflowd 1.1.0. In -r
// mode it blocks on its control socket between batches of packets;
// softflowctl keeps it going until it exits.
func runSoftflowd(t testing.TB, pcap string, version string, to string) {
	t.Helper()
	testenv.Command(t, "softflowd", "softflowctl")
	dir := t.TempDir()
	ctl := filepath.Join(dir, "ctl")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "softflowd", "-r", pcap, "-v", version, "-n", to, "-a", "-d",
		"-c", ctl, "-p", filepath.Join(dir, "pid"), "-6")
	out := &strings.Builder{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	for {
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("softflowd: %v\n%s", err, out)
			}
			return
		case <-time.After(200 * time.Millisecond):
			_ = exec.CommandContext(ctx, "softflowctl", "-c", ctl, "statistics").Run()
		}
	}
}

// runPmacctd replays a pcap through pmacctd with the nfprobe or sfprobe
// plugin.
// extra lines override the defaults of the same key.
func runPmacctd(t testing.TB, pcap, plugin, version, to string, extra ...string) {
	t.Helper()
	testenv.Command(t, "pmacctd")
	dir := t.TempDir()
	conf := filepath.Join(dir, "pmacctd.conf")
	lines := []string{
		"daemonize: false",
		"pcap_savefile: " + pcap,
		"pcap_savefile_wait: false",
		"plugins: " + plugin,
		"aggregate: src_host, dst_host, src_port, dst_port, proto, tos",
		"pidfile: " + filepath.Join(dir, "pid"),
		"logfile: " + filepath.Join(dir, "log"),
	}
	switch plugin {
	case "nfprobe":
		lines = append(lines, "nfprobe_receiver: "+to, "nfprobe_version: "+version,
			"nfprobe_timeouts: tcp=5:tcp.rst=5:tcp.fin=5:udp=5:icmp=5:general=5:maxlife=60:expint=1")
	case "sfprobe":
		lines = append(lines, "sfprobe_receiver: "+to, "sfprobe_agentip: 192.0.2.7", "sampling_rate: 1",
			"sfprobe_agentsubid: 3", "plugin_pipe_size: 16777216", "plugin_buffer_size: 65536")
	}
	for _, x := range extra {
		key, _, _ := strings.Cut(x, ":")
		lines = slices.DeleteFunc(lines, func(l string) bool { return strings.HasPrefix(l, key+":") })
		lines = append(lines, x)
	}
	if err := os.WriteFile(conf, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "pmacctd", "-f", conf).CombinedOutput()
	if err != nil {
		// pmacctd 1.7.7 exits 1 after an sfprobe run that went well: the
		// datagrams, checked by the caller, tell.
		log, _ := os.ReadFile(filepath.Join(dir, "log"))
		t.Logf("pmacctd: %v\n%s\n%s", err, out, log)
	}
}

// captureName is where a protocol's capture is kept in testdata.
func captureName(name string) string { return filepath.Join("testdata", name+".pcap") }

// writeCapture stores datagrams as a raw-IP pcap of UDP from 127.0.0.1.
func writeCapture(t testing.TB, path string, datagrams [][]byte, dstPort uint16) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := newPcapWriter(f, linkRaw)
	if err != nil {
		t.Fatal(err)
	}
	ts := time.Unix(1700000000, 0)
	for _, d := range datagrams {
		ip := make([]byte, 28+len(d))
		ip[0] = 0x45
		binary.BigEndian.PutUint16(ip[2:], uint16(len(ip)))
		ip[8], ip[9] = 64, protoUDP
		copy(ip[12:], []byte{127, 0, 0, 1})
		copy(ip[16:], []byte{127, 0, 0, 1})
		binary.BigEndian.PutUint16(ip[20:], 40000)
		binary.BigEndian.PutUint16(ip[22:], dstPort)
		binary.BigEndian.PutUint16(ip[24:], uint16(8+len(d)))
		copy(ip[28:], d)
		if err := w.write(ts, ip); err != nil {
			t.Fatal(err)
		}
		ts = ts.Add(time.Millisecond)
	}
}

// loadCapture reads the datagrams of a testdata capture.
func loadCapture(t testing.TB, name string) [][]byte {
	t.Helper()
	frames, link, err := readPcap(captureName(name))
	if err != nil {
		t.Fatal(err)
	}
	p, _ := udpPayloads(frames, link)
	if len(p) == 0 {
		t.Fatalf("%s: no datagrams", name)
	}
	return p
}

// exporterCase is one real exporter configuration checked against the
// truth of the synthetic traffic.
type exporterCase struct {
	name string // also the capture's name in testdata
	run  func(t testing.TB, pcap, to string)
	kind listenerKind
	v6   bool // the exporter reports IPv6 flows
}

var exporterCases = []exporterCase{
	{name: "softflowd-v5", run: func(t testing.TB, p, to string) { runSoftflowd(t, p, "5", to) }},
	{name: "softflowd-v9", run: func(t testing.TB, p, to string) { runSoftflowd(t, p, "9", to) }, v6: true},
	{name: "softflowd-ipfix", run: func(t testing.TB, p, to string) { runSoftflowd(t, p, "10", to) }, v6: true},
	{name: "pmacct-nfprobe-v5", run: func(t testing.TB, p, to string) { runPmacctd(t, p, "nfprobe", "5", to) }},
	{name: "pmacct-nfprobe-v9", run: func(t testing.TB, p, to string) { runPmacctd(t, p, "nfprobe", "9", to) }, v6: true},
	{name: "pmacct-nfprobe-ipfix", run: func(t testing.TB, p, to string) { runPmacctd(t, p, "nfprobe", "10", to) }, v6: true},
	{name: "pmacct-sfprobe", run: func(t testing.TB, p, to string) { runPmacctd(t, p, "sfprobe", "", to) }, kind: kindSFlow, v6: true},
}

// synthPcap writes the synthetic traffic the real exporters read and
// returns its path and its truth.
func synthPcap(t testing.TB) (string, map[fiveTuple]counts) {
	t.Helper()
	pcap := filepath.Join(t.TempDir(), "traffic.pcap")
	f, err := os.Create(pcap)
	if err != nil {
		t.Fatal(err)
	}
	truth, err := synthTraffic(f, 42, 150, true, time.Unix(1700000000, 0))
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	return pcap, truth
}

// TestRealExportersTotalsMatchTraffic runs each real exporter over a
// synthetic capture whose truth the test knows, sends what it exported
// to the collector, and checks bytes and packets per 5-tuple.
func TestRealExportersTotalsMatchTraffic(t *testing.T) {
	pcap, truth := synthPcap(t)
	for _, ec := range exporterCases {
		t.Run(ec.name, func(t *testing.T) {
			rec := newRecorder(t)
			ec.run(t, pcap, rec.addr())
			datagrams := rec.settle(500 * time.Millisecond)
			if len(datagrams) == 0 {
				t.Fatal("the exporter sent nothing")
			}
			if *updateCaptures {
				port := uint16(2055)
				if ec.kind == kindSFlow {
					port = 6343
				}
				writeCapture(t, captureName(ec.name), datagrams, port)
			}
			c, pub, r := startCollector(t, testConfig(t))
			s := newSender(t, c.Addrs(ec.kind)[0])
			s.send(t, datagrams...)
			s.sync(t, r, ec.kind)

			want := map[fiveTuple]counts{}
			for k, v := range truth {
				if !ec.v6 && k.src.Is6() {
					continue
				}
				want[k] = v
			}
			got := totals(published(pub))
			if ec.kind == kindSFlow {
				// pmacctd does not sample every packet of a fast pcap
				// even at 1/1: check the samples it sent against tshark's
				// reading of the same datagrams, and that every decoded
				// sample belongs to the traffic.
				checkSFlowAgainstTshark(t, datagrams, published(pub))
				subsetTotals(t, want, got)
			} else {
				compareTotals(t, want, got)
			}
			if errs := metricSum(t, r, "netstrata_flow_decode_errors_total", "", ""); errs != 1 {
				t.Errorf("%v decode errors besides the sentinel", errs-1)
			}
			t.Logf("%d datagrams, %d flow records, %d 5-tuples, %v export units lost by sequence numbers",
				len(datagrams), len(published(pub)), len(got), metricSum(t, r, "netstrata_flow_sequence_lost_total", "", ""))
		})
	}
}

// checkSFlowAgainstTshark compares the number of flow samples and the
// sum of their IP packets' lengths with what tshark decodes.
func checkSFlowAgainstTshark(t *testing.T, datagrams [][]byte, flows []*record.Flow) {
	path := filepath.Join(t.TempDir(), "sflow.pcap")
	writeCapture(t, path, datagrams, 6343)
	var samples, ipBytes uint64
	for _, cols := range tsharkColumns(t, path, "sflow_245.sampletype", "ip.len", "ipv6.plen") {
		if len(cols) < 3 {
			continue
		}
		samples += uint64(strings.Count(cols[0], "1"))
		ipBytes += sumList(cols[1], 1, 0) + sumList(cols[2], 0, 40) // the first ip.len is the datagram's own
	}
	var gotBytes uint64
	for _, f := range flows {
		gotBytes += f.Bytes
		if f.SamplingRate != 1 || f.ObservationDomain != 3 || record.IPFromBytes(f.ExporterIp) != netip.MustParseAddr("192.0.2.7") {
			t.Fatalf("sample header: rate %d sub-agent %d agent %s", f.SamplingRate, f.ObservationDomain, record.IPFromBytes(f.ExporterIp))
		}
	}
	if uint64(len(flows)) != samples || gotBytes != ipBytes {
		t.Errorf("decoded %d samples of %d bytes, tshark reads %d samples of %d IP bytes", len(flows), gotBytes, samples, ipBytes)
	}
}

// subsetTotals checks that every decoded 5-tuple is in the traffic with
// no more bytes or packets than it had, and that most match exactly.
func subsetTotals(t *testing.T, want, got map[fiveTuple]counts) {
	exact := 0
	for k, g := range got {
		w, ok := want[k]
		if !ok || g.bytes > w.bytes || g.packets > w.packets {
			t.Errorf("%s: decoded %d bytes %d packets, traffic had %d bytes %d packets", k, g.bytes, g.packets, w.bytes, w.packets)
		}
		if g == w {
			exact++
		}
	}
	if exact < len(want)*95/100 {
		t.Errorf("only %d of %d 5-tuples match the traffic exactly", exact, len(want))
	}
}
