package alertingtest

import (
	"fmt"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/netstrata/netstrata/internal/schema/schematest"
)

// LoadFleet writes the fleet the shipped rules are measured over in
// benchmarks, for the 35 minutes before now (the spike rules' baseline
// and window): 10,000 SNMP interfaces (200 devices × 50, polled every
// minute, 40 % busy), 5,000 services (50 nodes × 100 services, one
// client each, agent interval 10 s) and 10 exporters' flows of one of
// them. It returns what it wrote, for the benchmark's log.
func LoadFleet(tb testing.TB, conn driver.Conn, now time.Time) string {
	from := now.Add(-35 * time.Minute)
	schematest.InsertIfStats(tb, conn, schematest.IfLoad{Devices: 200, Interfaces: 50, From: from, Step: time.Minute, Steps: 35,
		SpeedBps: 10e9, Utilisation: 0.4})
	for n := range 50 {
		schematest.InsertSockets(tb, conn, schematest.SocketLoad{Node: fmt.Sprintf("node-%d", n), Namespace: "bench",
			ClientPrefix: fmt.Sprintf("client-%d-", n), Subnet: n, Clients: 100, Services: 100,
			ServicePod: fmt.Sprintf("svc-%d", n), Service: fmt.Sprintf("10.2.%d.1", n), ServiceNode: fmt.Sprintf("node-%d", n), Port: 10000,
			From: from, Step: 10 * time.Second, Steps: 210, Bytes: 100_000, RTTUs: 2000, JitterUs: 300, Retransmits: 1})
	}
	for e := range 10 {
		l := schematest.SocketLoad{Node: "node-0", Namespace: "bench", ClientPrefix: "c-", Subnet: 200 + e, Clients: 10,
			ServicePod: "svc-0", Service: "10.2.0.1", Port: 10000, From: from, Step: time.Minute, Steps: 35, Bytes: 1_000_000}
		schematest.InsertFlows(tb, conn, schematest.FlowLoad{SocketLoad: l, Exporter: fmt.Sprintf("10.0.0.%d", e+1), InIf: 1, OutIf: 2, Sampling: 100})
	}
	return "350k interface polls, 1.05M socket intervals, 3.5k flows"
}
