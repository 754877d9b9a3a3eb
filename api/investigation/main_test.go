package investigation

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/netstrata/netstrata/api/query"
	"github.com/netstrata/netstrata/internal/schema"
	"github.com/netstrata/netstrata/internal/schema/schematest"
)

// One embedded ClickHouse serves the whole test binary; each test gets
// its own database.
func TestMain(m *testing.M) { os.Exit(schematest.Main(m)) }

// runOn runs the investigation's queries on conn.
func runOn(conn driver.Conn) query.Run {
	return func(ctx context.Context, name, sql string, args []any, scan func(driver.Rows) error) error {
		return query.Select(ctx, conn, name, sql, args, scan)
	}
}

// spikeLab is an hour of a node's traffic to a service port, in every
// layer: four client pods send steadily, and four more join them for ten
// minutes (the spike); sw0 (10.0.0.1) exports their flows between its
// interfaces 1 and 2 and is polled over SNMP.
type spikeLab struct {
	c        *Investigator
	conn     driver.Conn
	from, to time.Time
	spike    query.Window
}

const (
	labNode    = "worker-1"
	labPort    = 8081
	labService = "10.2.0.5"
)

// newTestInvestigator is an investigator on a fresh database, its
// connection, and the minute that ranges of the test end at.
func newTestInvestigator(t *testing.T) (*Investigator, driver.Conn, time.Time) {
	t.Helper()
	conn, _ := schematest.Open(t, schema.DefaultOptions())
	return &Investigator{Run: runOn(conn), RawRange: 3 * time.Hour}, conn, time.Now().UTC().Truncate(time.Minute)
}

func newSpikeLab(t *testing.T) *spikeLab {
	t.Helper()
	c, conn, to := newTestInvestigator(t)
	l := &spikeLab{c: c, conn: conn, from: to.Add(-time.Hour), to: to,
		spike: query.Window{Start: to.Add(-20 * time.Minute), End: to.Add(-10 * time.Minute)}}
	steady := schematest.SocketLoad{Node: labNode, Namespace: "shop", ClientPrefix: "front-", Subnet: 1, Clients: 4,
		ServicePod: "api-0", Service: labService, ServiceNode: "worker-2", Port: labPort,
		From: l.from.Add(-time.Hour), Step: 10 * time.Second, Steps: 2 * 360, Bytes: 100e3, RTTUs: 800, JitterUs: 100}
	burst := steady
	burst.ClientPrefix, burst.Subnet, burst.From, burst.Steps, burst.Bytes = "batch-", 2, l.spike.Start, 60, 200e3
	for _, s := range []schematest.SocketLoad{steady, burst} {
		schematest.InsertSockets(t, conn, s)
		schematest.InsertFlows(t, conn, schematest.FlowLoad{SocketLoad: s, Exporter: "10.0.0.1", InIf: 1, OutIf: 2, Sampling: 1})
	}
	schematest.InsertIfStats(t, conn, schematest.IfLoad{Devices: 1, Interfaces: 2, From: l.from.Add(-time.Hour), Step: 30 * time.Second,
		Steps: 240, SpeedBps: 1e9, Utilisation: 0.01})
	return l
}

// run is an investigation of sc over the lab's hour, completed up to
// (not including) the steps after its window step.
func (l *spikeLab) run(t *testing.T, sc *Scope) *investigation {
	t.Helper()
	ctx := context.Background()
	if err := l.c.prepare(ctx, sc, l.from, l.to); err != nil {
		t.Fatal(err)
	}
	r := l.c.newInvestigation(sc, l.from, l.to)
	if err := r.findWindow(ctx); err != nil {
		t.Fatal(err)
	}
	return r
}
