package snmppoller

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"testing"
)

// simFleetEnv makes the test binary a simulated fleet instead of running
// tests: the benchmark re-executes itself with it, so that the simulator's
// CPU is not counted as the poller's.
const simFleetEnv = "NETSTRATA_SNMP_SIM_FLEET"

func TestMain(m *testing.M) {
	if n := os.Getenv(simFleetEnv); n != "" {
		os.Exit(runSimFleet(n))
	}
	os.Exit(m.Run())
}

// runSimFleet serves n simulated 48-port switches, prints their ports on
// one line, and serves until stdin closes.
func runSimFleet(arg string) int {
	n, err := strconv.Atoi(arg)
	if err != nil || n <= 0 {
		fmt.Fprintf(os.Stderr, "%s=%q: want a device count\n", simFleetEnv, arg)
		return 2
	}
	ports := make([]string, 0, n)
	for i := range n {
		a, err := startSimAgent(defaultSimConfig(fmt.Sprintf("sim-%04d", i)))
		if err != nil {
			fmt.Fprintf(os.Stderr, "device %d: %v\n", i, err)
			return 1
		}
		ports = append(ports, strconv.Itoa(int(a.port())))
	}
	w := bufio.NewWriter(os.Stdout)
	fmt.Fprintf(w, "PORTS %s\n", strings.Join(ports, ","))
	w.Flush()
	_, _ = io.Copy(io.Discard, os.Stdin)
	return 0
}
