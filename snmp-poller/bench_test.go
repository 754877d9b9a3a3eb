package snmppoller

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
)

// countingPublisher counts records without decoding them, so the
// benchmark measures the poller and not a test double.
type countingPublisher struct{ n atomic.Int64 }

func (p *countingPublisher) Publish(string, []byte, []byte) { p.n.Add(1) }

// startSimFleet re-executes the test binary as a fleet of n simulated
// switches of ifaces ports on loopback ports; the child is stopped at
// cleanup. The returned function reads the CPU time the fleet used.
func startSimFleet(b *testing.B, n, ifaces int) (targets []Target, fleetCPU func() time.Duration) {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%d", simFleetEnv, n), fmt.Sprintf("%s=%d", simInterfacesEnv, ifaces))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		stdin.Close()
		_ = cmd.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "PORTS ") {
		_ = cmd.Process.Kill()
		b.Fatalf("simulated fleet did not start: %q %v", line, err)
	}
	for i, p := range strings.Split(strings.TrimSpace(strings.TrimPrefix(line, "PORTS ")), ",") {
		v, _ := strconv.Atoi(p)
		targets = append(targets, Target{Name: fmt.Sprintf("sim-%05d", i), Address: "127.0.0.1", Port: uint16(v)})
	}
	return targets, func() time.Duration { return processCPU(cmd.Process.Pid) }
}

// startFleet starts the fleet BENCH_SNMP_FLEET names: "go" (default), the
// test binary's own agents, light enough to simulate 10,000 devices on a
// small machine; or "snmpsim", snmpsimd processes, a real agent
// implementation that costs far more CPU per answer than the poller per
// request.
func startFleet(b *testing.B, devices, ifaces int) (targets []Target, fleetCPU func() time.Duration) {
	switch f := os.Getenv("BENCH_SNMP_FLEET"); f {
	case "", "go":
		return startSimFleet(b, devices, ifaces)
	case "snmpsim":
		return startSnmpsimFleet(b, devices, ifaces)
	default:
		b.Fatalf("BENCH_SNMP_FLEET: %q is not go or snmpsim", f)
		return nil, nil
	}
}

func selfCPU() time.Duration {
	var u syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &u)
	return time.Duration(u.Utime.Nano() + u.Stime.Nano())
}

func rssMB() float64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(l, "VmRSS:") {
			f := strings.Fields(l)
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return 0
}

// histogramQuantile reads an approximate quantile from a histogram's
// buckets (the upper bound of the bucket that holds it).
func histogramQuantile(h interface{ Write(*dto.Metric) error }, q float64) float64 {
	var m dto.Metric
	_ = h.Write(&m)
	total := m.GetHistogram().GetSampleCount()
	for _, bk := range m.GetHistogram().GetBucket() {
		if float64(bk.GetCumulativeCount()) >= q*float64(total) {
			return bk.GetUpperBound()
		}
	}
	return -1
}

// BenchmarkFleet polls a simulated fleet of 1,000 48-port switches (v2c,
// GETBULK, 64-bit counters) at several intervals for a few cycles each and
// reports the poller process's CPU (percent of one core), RSS, poll rate,
// start lag, walk time p99, failures and skipped slots. An interval is
// sustained when no poll failed, no slot was skipped and the lag stays
// well below the interval. BENCH_SNMP_DEVICES, BENCH_SNMP_INTERFACES,
// BENCH_SNMP_INTERVALS (e.g. "10s,5s,2s") and BENCH_SNMP_WORKERS override
// the defaults.
func BenchmarkFleet(b *testing.B) {
	devices, ifaces := 1000, 48
	if v, err := strconv.Atoi(os.Getenv("BENCH_SNMP_DEVICES")); err == nil && v > 0 {
		devices = v
	}
	if v, err := strconv.Atoi(os.Getenv("BENCH_SNMP_INTERFACES")); err == nil && v > 0 {
		ifaces = v
	}
	intervals := []time.Duration{10 * time.Second, 5 * time.Second, 2 * time.Second}
	if v := os.Getenv("BENCH_SNMP_INTERVALS"); v != "" {
		intervals = nil
		for _, s := range strings.Split(v, ",") {
			d, err := time.ParseDuration(strings.TrimSpace(s))
			if err != nil {
				b.Fatalf("BENCH_SNMP_INTERVALS: %v", err)
			}
			intervals = append(intervals, d)
		}
	}
	for _, iv := range intervals {
		b.Run(fmt.Sprintf("devices=%d/interfaces=%d/interval=%s", devices, ifaces, iv), func(b *testing.B) {
			benchFleet(b, devices, ifaces, iv)
		})
	}
}

func benchFleet(b *testing.B, devices, ifaces int, iv time.Duration) {
	targets, fleetCPU := startFleet(b, devices, ifaces)
	cfg := DefaultConfiguration()
	cfg.Defaults.Interval = iv
	cfg.Defaults.Timeout = 2 * time.Second
	if v, err := strconv.Atoi(os.Getenv("BENCH_SNMP_WORKERS")); err == nil && v > 0 {
		cfg.Workers = v
	}
	cfg.Targets = targets
	pub := &countingPublisher{}
	c, err := New(testReporter(), cfg, Dependencies{Publisher: pub})
	if err != nil {
		b.Fatal(err)
	}
	runtime.GC()
	// Cycle 1 spreads the first polls over the interval and learns each
	// target's counter columns; cycles 2 and 3 are measured.
	if err := c.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	time.Sleep(iv)
	b.ResetTimer()
	cpu0, sim0, recs0, wall0 := selfCPU(), fleetCPU(), pub.n.Load(), time.Now()
	var m0 dto.Metric
	_ = c.metrics.duration.Write(&m0)
	rss := []float64{}
	for range 2 {
		time.Sleep(iv)
		rss = append(rss, rssMB())
	}
	wall, cpu, simCPU, recs := time.Since(wall0), selfCPU()-cpu0, fleetCPU()-sim0, pub.n.Load()-recs0
	var m1 dto.Metric
	_ = c.metrics.duration.Write(&m1)
	b.StopTimer()
	_ = c.Stop()

	polls := float64(m1.GetHistogram().GetSampleCount() - m0.GetHistogram().GetSampleCount())
	failures, skipped := 0.0, 0.0
	for _, t := range targets {
		var fm, sm dto.Metric
		_ = c.metrics.failures.WithLabelValues(t.Name).Write(&fm)
		_ = c.metrics.skipped.WithLabelValues(t.Name).Write(&sm)
		failures += fm.GetCounter().GetValue()
		skipped += sm.GetCounter().GetValue()
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)

	cpuPct := 100 * cpu.Seconds() / wall.Seconds()
	b.ReportMetric(cpuPct, "cpu_%core")
	simPct := 100 * simCPU.Seconds() / wall.Seconds()
	b.ReportMetric(simPct, "sim_cpu_%core")
	b.ReportMetric(polls/wall.Seconds(), "polls/s")
	b.ReportMetric(float64(recs)/wall.Seconds(), "records/s")
	b.ReportMetric(1e6*cpu.Seconds()/max(polls, 1), "cpu_us/poll")
	b.ReportMetric(rss[len(rss)-1], "rss_MB")
	b.ReportMetric(float64(ms.HeapInuse)/(1<<20), "heap_MB")
	b.ReportMetric(histogramQuantile(c.metrics.lag, 0.99)*1000, "lag_p99_ms")
	b.ReportMetric(histogramQuantile(c.metrics.duration, 0.99)*1000, "walk_p99_ms")
	b.ReportMetric(failures, "failed_polls")
	b.ReportMetric(skipped, "skipped_slots")
	want := float64(devices) * wall.Seconds() / iv.Seconds()
	// A poll is on time when it ran in its slot and succeeded: the share
	// of the slots of the measured cycles that got one.
	onTime := 100 * min(1, max(polls-failures, 0)/want)
	b.ReportMetric(onTime, "on_time_%")
	b.ReportMetric(1024*rss[len(rss)-1]/float64(devices), "rss_KB/device")
	sustained := failures == 0 && skipped == 0 && polls >= 0.95*want
	b.Logf("%d devices × %d interfaces every %s: %.0f polls in %.1fs (%.0f expected, %.1f%% on time), cpu %.1f%% of a core, fleet %.1f%%, rss %v MB, sustained=%v",
		devices, ifaces, iv, polls, wall.Seconds(), want, onTime, cpuPct, simPct, rss, sustained)
}
