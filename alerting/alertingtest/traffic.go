package alertingtest

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/netstrata/netstrata/internal/schema/schematest"
)

// Frontends is four client pods of node worker-1 (shop/frontend-0…3)
// sending to shop/api-0 (10.1.2.9:8081 on worker-2), one agent interval
// per client and step from from: Bytes per client and step.
func Frontends(from time.Time, step time.Duration, steps int, bytes uint64) schematest.SocketLoad {
	return schematest.SocketLoad{Node: "worker-1", Namespace: "shop", ClientPrefix: "frontend-", Subnet: 1, Clients: 4,
		ServicePod: "api-0", Service: "10.1.2.9", ServiceNode: "worker-2", Port: 8081,
		From: from, Step: step, Steps: steps, Bytes: bytes, RTTUs: 800, JitterUs: 100}
}

// Traffic keeps the Frontends sending, written every second as the
// agents' sockets and an exporter's flows (sw1, unsampled) would be.
type Traffic struct {
	bytes atomic.Uint64
	stop  chan struct{}
	done  chan struct{}
}

// StartTraffic writes the 6 minutes before now (the investigation looks
// at 5 at least) at perSecond bytes per client and second, then keeps
// writing each second until tb ends.
func StartTraffic(tb testing.TB, conn driver.Conn, perSecond uint64) *Traffic {
	now := time.Now().UTC().Truncate(2 * time.Second)
	write(tb, conn, Frontends(now.Add(-6*time.Minute), 2*time.Second, 180, 2*perSecond))
	tr := &Traffic{stop: make(chan struct{}), done: make(chan struct{})}
	tr.bytes.Store(perSecond)
	go func() {
		defer close(tr.done)
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-tr.stop:
				return
			case at := <-tick.C:
				write(tb, conn, Frontends(at.UTC().Truncate(time.Second), time.Second, 1, tr.bytes.Load()))
			}
		}
	}()
	tb.Cleanup(tr.Stop)
	return tr
}

// Set changes the rate from the next second on.
func (tr *Traffic) Set(perSecond uint64) { tr.bytes.Store(perSecond) }

// Stop ends the writes.
func (tr *Traffic) Stop() {
	select {
	case <-tr.stop:
	default:
		close(tr.stop)
	}
	<-tr.done
}

func write(tb testing.TB, conn driver.Conn, l schematest.SocketLoad) {
	schematest.InsertSockets(tb, conn, l)
	schematest.InsertFlows(tb, conn, schematest.FlowLoad{SocketLoad: l, Exporter: "10.0.0.1", InIf: 3, OutIf: 7, Sampling: 1})
}
