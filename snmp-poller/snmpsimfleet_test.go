package snmppoller

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/netstrata/netstrata/internal/testenv"
)

// fleetCommunity is the community, hence the recording, every device of
// an snmpsim fleet answers.
const fleetCommunity = "fleet"

// snmpsimAgentsPerProcess is how many devices one snmpsimd serves
// (BENCH_SNMP_SIM_AGENTS overrides it): snmpsimd answers on one core, and
// its dispatcher waits on its sockets with select(), which handles at
// most 1,024 descriptors.
func snmpsimAgentsPerProcess(b *testing.B) int {
	n := 100
	if v, err := strconv.Atoi(os.Getenv("BENCH_SNMP_SIM_AGENTS")); err == nil && v > 0 {
		n = v
	}
	if n > 1000 {
		b.Fatalf("BENCH_SNMP_SIM_AGENTS: %d is above the 1,000 sockets one snmpsimd can wait on", n)
	}
	return n
}

// startSnmpsimFleet serves devices simulated switches of ifaces ports
// (64-bit counters rising at known rates) from snmpsimd processes: each
// device is its own loopback address, 127.1.x.y, on one UDP port, so that
// the poller sees as many agents as a real fleet. The returned stop
// function stops them and returns the CPU time they used.
func startSnmpsimFleet(b *testing.B, devices, ifaces int) (targets []Target, stop func() time.Duration) {
	b.Helper()
	bin := testenv.Command(b, "snmpsimd")
	sw := recDevice{sysName: "fleet-switch", interfaces: ifaces, ifX: true, hc: true,
		ifSpeed: speedOf(1_000_000_000), highSpeed: speedOf(1000),
		rates: recRates{inOctets: 125_000, outOctets: 250_000, inUcast: 100, outUcast: 200, inMcast: 3, outMcast: 2, inBcast: 1, outBcast: 1}}
	dir := snmpsimDir(b, map[string]string{fleetCommunity: sw.snmprec()})
	port, err := freeUDPPort()
	if err != nil {
		b.Fatal(err)
	}
	var procs []*exec.Cmd
	per := snmpsimAgentsPerProcess(b)
	for first := 0; first < devices; first += per {
		n := min(per, devices-first)
		args := []string{"--data-dir=" + filepath.Join(dir, "data"), "--cache-dir=" + filepath.Join(dir, "cache"),
			"--logging-method=null"}
		for i := first; i < first+n; i++ {
			addr := fleetAddress(i)
			args = append(args, fmt.Sprintf("--agent-udpv4-endpoint=%s:%d", addr, port))
			targets = append(targets, Target{Name: fmt.Sprintf("sim-%05d", i), Address: addr, Port: port,
				Version: "2c", Community: fleetCommunity})
		}
		args = append(args, snmpsimUser(b)...)
		cmd := exec.Command(bin, args...)
		probe := &snmpsim{port: port}
		addr := fleetAddress(first)
		if err := runPeer(b, cmd, 120*time.Second, func() error { return probe.pingAt(addr, fleetCommunity) }); err != nil {
			b.Fatalf("snmpsimd for devices %d-%d: %v", first, first+n-1, err)
		}
		procs = append(procs, cmd)
	}
	return targets, func() time.Duration {
		var cpu time.Duration
		for _, p := range procs {
			cpu += processCPU(p.Process.Pid)
		}
		return cpu
	}
}

// fleetAddress is device i's loopback address.
func fleetAddress(i int) string { return fmt.Sprintf("127.1.%d.%d", i/250, 1+i%250) }

// snmpsimUser are the options that make snmpsimd, which refuses to run
// as root, drop to nobody.
func snmpsimUser(tb testing.TB) []string {
	if os.Geteuid() != 0 {
		return nil
	}
	g, err := user.LookupGroupId(groupOfNobody())
	if err != nil {
		tb.Fatal(err)
	}
	return []string{"--process-user=nobody", "--process-group=" + g.Name}
}

// processCPU is the user and system time a running process has used.
func processCPU(pid int) time.Duration {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// Fields after the command name, which is in parentheses: utime and
	// stime are the 12th and 13th, in clock ticks (100 per second).
	f := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+2:]))
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond
}
