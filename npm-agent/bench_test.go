package npmagent

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"

	"github.com/netstrata/netstrata/internal/telemetry"
	"github.com/netstrata/netstrata/internal/testenv"
)

// The overhead benchmark runs the agent as a separate process (this test
// binary, TestHelperAgent) so that its RSS and CPU are its own, and
// alternates rounds without and with it:
//
//	go test -run '^$' -bench BenchmarkAgentOverhead -benchtime 1x ./npm-agent/
//
// NPMAGENT_BENCH_ROUNDS (default 5) and NPMAGENT_BENCH_SOCKETS (default
// 100000) size it.

const agentHelperEnv = "NPMAGENT_HELPER_AGENT"

// discard counts records and drops them.
type discard struct{ n atomic.Int64 }

func (d *discard) Publish(string, []byte, []byte) { d.n.Add(1) }

// progStats is what the helper prints at exit, per program.
type progStats struct {
	Runs    uint64  `json:"runs"`
	Runtime float64 `json:"runtime_ns"`
}

// TestHelperAgent runs the agent until stdin closes; it does nothing in a
// normal run.
func TestHelperAgent(t *testing.T) {
	if os.Getenv(agentHelperEnv) != "1" {
		t.Skip("helper process only")
	}
	stats, err := ebpf.EnableStats(uint32(unix.BPF_STATS_RUN_TIME))
	if err == nil {
		defer stats.Close()
	}
	cfg := DefaultConfiguration()
	cfg.Kubernetes = "off"
	if v := os.Getenv(benchStrategyEnv); v != "" {
		cfg.Strategy = v
	}
	// NPMAGENT_BENCH_INTERVAL (e.g. 1h) takes the walks out, leaving the
	// lifecycle hook's cost per connection.
	if d, err := time.ParseDuration(os.Getenv("NPMAGENT_BENCH_INTERVAL")); err == nil {
		cfg.Interval, cfg.SampleInterval = d, d
	}
	pub := &discard{}
	c, err := New(telemetry.NewReporter(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))), cfg, Dependencies{Publisher: pub})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	fmt.Println("ready")
	_, _ = io.Copy(io.Discard, os.Stdin)
	out := map[string]progStats{}
	for name, p := range c.k.progs {
		if s, err := p.Stats(); err == nil {
			out[name] = progStats{Runs: s.RunCount, Runtime: float64(s.Runtime.Nanoseconds())}
		}
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	_ = c.Stop()
	b, _ := json.Marshal(map[string]any{"programs": out, "records": pub.n.Load(),
		"heap_inuse_mb": ms.HeapInuse >> 20, "sys_mb": ms.Sys >> 20, "tracked": len(c.tr.socks)})
	fmt.Fprintln(os.Stderr, "agent helper:", string(b))
	fmt.Println(string(b))
}

// agentProc is a running agent helper.
type agentProc struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   *bufio.Reader
}

// benchStrategyEnv forces the agent helper's strategy.
const benchStrategyEnv = "NPMAGENT_BENCH_STRATEGY"

func startAgentProc(b *testing.B, strategy string) *agentProc {
	exe, _ := os.Executable()
	cmd := exec.Command(exe, "-test.run=^TestHelperAgent$", "-test.v=false")
	cmd.Env = append(os.Environ(), agentHelperEnv+"=1", benchStrategyEnv+"="+strategy)
	cmd.Stderr = os.Stderr
	in, _ := cmd.StdinPipe()
	outp, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	a := &agentProc{cmd: cmd, stdin: in, out: bufio.NewReader(outp)}
	line, err := a.out.ReadString('\n')
	if err != nil || strings.TrimSpace(line) != "ready" {
		b.Fatalf("agent helper: %q %v", line, err)
	}
	return a
}

// stop ends the helper and returns its program statistics.
func (a *agentProc) stop() map[string]progStats {
	a.stdin.Close()
	var res struct {
		Programs map[string]progStats `json:"programs"`
	}
	for {
		line, err := a.out.ReadString('\n')
		if json.Unmarshal([]byte(line), &res) == nil && res.Programs != nil || err != nil {
			break
		}
	}
	_ = a.cmd.Wait()
	return res.Programs
}

// cpuTicks is the user+system time of pid, in clock ticks.
func cpuTicks(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	u, _ := strconv.ParseFloat(f[11], 64)
	s, _ := strconv.ParseFloat(f[12], 64)
	return u + s
}

func rssMB(pid int) float64 {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseFloat(strings.Fields(rest)[0], 64)
			return kb / 1024
		}
	}
	return 0
}

// iperf runs one iperf3 test and returns the received Gbit/s.
func iperf(b *testing.B, clientNS, server string) float64 {
	out, err := exec.Command("ip", "netns", "exec", clientNS, "iperf3", "-c", server, "-t", "3", "-J").Output()
	if err != nil {
		b.Fatalf("iperf3: %v", err)
	}
	var res struct {
		End struct {
			SumReceived struct {
				Bps float64 `json:"bits_per_second"`
			} `json:"sum_received"`
		} `json:"end"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		b.Fatal(err)
	}
	return res.End.SumReceived.Bps / 1e9
}

// connRate opens and closes connections to addr from ns for d, with two
// workers, and returns connections per second.
func connRate(b *testing.B, ns, addr string, d time.Duration) float64 {
	var n atomic.Int64
	var wg sync.WaitGroup
	deadline := time.Now().Add(d)
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = inNetns(ns, func() error {
				for time.Now().Before(deadline) {
					c, err := net.Dial("tcp", addr)
					if err != nil {
						return err
					}
					c.Close()
					n.Add(1)
				}
				return nil
			})
		}()
	}
	wg.Wait()
	return float64(n.Load()) / d.Seconds()
}

// logf logs to the benchmark and to stderr: go test truncates benchmark
// logs.
func logf(b *testing.B, format string, args ...any) {
	b.Helper()
	b.Logf(format, args...)
	fmt.Fprintf(os.Stderr, format+"\n", args...)
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	return s[len(s)/2]
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// BenchmarkAgentOverhead measures each strategy this kernel runs, in one
// run: throughput and connections/s without and with the agent, then
// the agent at 100k sockets.
func BenchmarkAgentOverhead(b *testing.B) {
	testenv.Root(b)
	testenv.Command(b, "iperf3")
	p := newPair(b)
	for _, ns := range []string{p.a, p.b} {
		srv := exec.Command("ip", "netns", "exec", ns, "iperf3", "-s")
		if err := srv.Start(); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = srv.Process.Kill(); _ = srv.Wait() })
	}
	var ln net.Listener
	if err := inNetns(p.a, func() (err error) { ln, err = net.Listen("tcp", "127.0.0.1:7100"); return err }); err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	time.Sleep(300 * time.Millisecond) // iperf3 servers listening
	probe := ProbeKernel(DefaultConfiguration())
	for _, st := range strategies {
		if f, _ := probe.Strategy(st.name); !f.Runs {
			logf(b, "%s: not run on this kernel: %s", st.name, f.Why)
			continue
		}
		b.Run(st.name, func(b *testing.B) {
			benchOverhead(b, p, st.name)
			benchManySockets(b, p, st.name)
		})
	}
}

// benchOverhead alternates rounds without and with the agent.
func benchOverhead(b *testing.B, p *pair, strategy string) {
	rounds := envInt("NPMAGENT_BENCH_ROUNDS", 5)
	type series struct{ off, on []float64 }
	loop, veth, conns := &series{}, &series{}, &series{}
	var progs map[string]progStats
	b.ResetTimer()
	for r := range rounds {
		for _, on := range []bool{false, true} {
			var a *agentProc
			if on {
				a = startAgentProc(b, strategy)
			}
			l := iperf(b, p.a, "127.0.0.1")
			v := iperf(b, p.a, p.b4)
			c := connRate(b, p.a, "127.0.0.1:7100", 2*time.Second)
			if on {
				loop.on, veth.on, conns.on = append(loop.on, l), append(veth.on, v), append(conns.on, c)
				progs = a.stop()
			} else {
				loop.off, veth.off, conns.off = append(loop.off, l), append(veth.off, v), append(conns.off, c)
			}
			logf(b, "round %d agent=%v: loopback %.2f Gbit/s, veth %.2f Gbit/s, %.0f conn/s", r+1, on, l, v, c)
		}
	}
	cost := func(s *series) float64 { return 100 * (median(s.off) - median(s.on)) / median(s.off) }
	b.ReportMetric(median(loop.off), "loop-Gbps-off")
	b.ReportMetric(median(loop.on), "loop-Gbps-on")
	b.ReportMetric(cost(loop), "loop-cost-%")
	b.ReportMetric(median(veth.off), "veth-Gbps-off")
	b.ReportMetric(median(veth.on), "veth-Gbps-on")
	b.ReportMetric(cost(veth), "veth-cost-%")
	b.ReportMetric(median(conns.off), "conn/s-off")
	b.ReportMetric(median(conns.on), "conn/s-on")
	b.ReportMetric(cost(conns), "conn/s-cost-%")
	for name, s := range progs {
		if s.Runs > 0 {
			logf(b, "last round, %s: %d runs, %.0f ns/run", name, s.Runs, s.Runtime/float64(s.Runs))
		}
	}
	logf(b, "%s, medians over %d rounds: loopback %.2f -> %.2f Gbit/s (%.2f%%), veth %.2f -> %.2f Gbit/s (%.2f%%), %.0f -> %.0f conn/s (%.2f%%)",
		strategy, rounds, median(loop.off), median(loop.on), cost(loop), median(veth.off), median(veth.on), cost(veth),
		median(conns.off), median(conns.on), cost(conns))
}

const holdHelperEnv = "NPMAGENT_HELPER_HOLD"

// TestHelperHold opens connections to itself and holds both ends until
// stdin closes: the open-files limit (20000 here, not raisable without
// CAP_SYS_RESOURCE) caps what one process can hold.
func TestHelperHold(t *testing.T) {
	var port, conns int
	if _, err := fmt.Sscan(os.Getenv(holdHelperEnv), &port, &conns); err != nil {
		t.Skip("helper process only")
	}
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	held := make([]net.Conn, 0, 2*conns)
	acc := make(chan net.Conn, conns)
	go func() {
		for range conns {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			acc <- c
		}
	}()
	for i := range conns {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatalf("dial %d: %v", i, err)
		}
		held = append(held, c, <-acc)
	}
	fmt.Println("ready")
	_, _ = io.Copy(io.Discard, os.Stdin)
	for _, c := range held {
		c.Close()
	}
}

// benchManySockets holds NPMAGENT_BENCH_SOCKETS open sockets (both ends
// of half as many connections, in several holder processes) and measures
// the agent's RSS and CPU over two publishing intervals.
func benchManySockets(b *testing.B, p *pair, strategy string) {
	total := envInt("NPMAGENT_BENCH_SOCKETS", 100000)
	run(b, "ip", "netns", "exec", p.a, "sysctl", "-qw", "net.ipv4.ip_local_port_range=10000 65000")
	const perProc = 8000 // connections: 16000 sockets per holder
	exe, _ := os.Executable()
	for i := 0; i*perProc*2 < total; i++ {
		n := min(perProc, (total-i*perProc*2)/2)
		cmd := exec.Command("ip", "netns", "exec", p.a, exe, "-test.run=^TestHelperHold$")
		cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%d %d", holdHelperEnv, 7200+i, n))
		cmd.Stderr = os.Stderr
		in, _ := cmd.StdinPipe()
		out, _ := cmd.StdoutPipe()
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { in.Close(); _ = cmd.Wait() })
		line, err := bufio.NewReader(out).ReadString('\n')
		if err != nil || strings.TrimSpace(line) != "ready" {
			b.Fatalf("holder %d: %q %v", i, line, err)
		}
	}
	a := startAgentProc(b, strategy)
	pid := a.cmd.Process.Pid
	time.Sleep(2 * time.Second) // start-up walks done
	t0, c0 := time.Now(), cpuTicks(pid)
	const window = 20 * time.Second // two publishing intervals, ten walks
	time.Sleep(window)
	cpuSec := (cpuTicks(pid) - c0) / 100
	cpu := cpuSec / time.Since(t0).Seconds() * 100
	walks := window.Seconds() / DefaultConfiguration().SampleInterval.Seconds()
	perWalk10k := cpuSec / walks / (float64(total) / 10000) * 1000
	rss := rssMB(pid)
	progs := a.stop()
	b.ReportMetric(rss, "agent-RSS-MB")
	b.ReportMetric(cpu, "agent-CPU-%")
	b.ReportMetric(perWalk10k, "agent-ms/walk/10k-sockets")
	logf(b, "%s, %d open sockets: agent RSS %.1f MB, CPU %.2f%% of one core, %.1f ms of agent CPU per walk per 10k sockets (publishing included)",
		strategy, total, rss, cpu, perWalk10k)
	for name, s := range progs {
		if s.Runs > 0 {
			logf(b, "%d sockets, %s: %d runs, %.0f ns/run", total, name, s.Runs, s.Runtime/float64(s.Runs))
		}
	}
}
