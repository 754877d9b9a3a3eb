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

// simInterfacesEnv sets the simulated fleet's interfaces per device (48
// when unset).
const simInterfacesEnv = "NETSTRATA_SNMP_SIM_INTERFACES"

func TestMain(m *testing.M) {
	if n := os.Getenv(simFleetEnv); n != "" {
		os.Exit(runSimFleet(n))
	}
	os.Exit(m.Run())
}

// runSimFleet serves n simulated switches, prints their ports on one
// line, and serves until stdin closes.
func runSimFleet(arg string) int {
	n, err := strconv.Atoi(arg)
	if err != nil || n <= 0 {
		fmt.Fprintf(os.Stderr, "%s=%q: want a device count\n", simFleetEnv, arg)
		return 2
	}
	ifaces := 48
	if v, err := strconv.Atoi(os.Getenv(simInterfacesEnv)); err == nil && v > 0 {
		ifaces = v
	}
	ports := make([]string, 0, n)
	for i := range n {
		sc := defaultSimConfig(fmt.Sprintf("sim-%04d", i))
		sc.Interfaces = ifaces
		a, err := startSimAgent(sc)
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
