package investigation

import (
	"context"
	"testing"
	"time"

	"github.com/netstrata/netstrata/api/query"
	"github.com/netstrata/netstrata/internal/schema/schematest"
)

func TestOutsideRangeSaysWhenTheMatchingFlowsArrived(t *testing.T) {
	c, conn, to := newTestInvestigator(t)
	early := schematest.SocketLoad{Node: labNode, Namespace: "shop", ClientPrefix: "front-", Subnet: 1, Clients: 2,
		Service: labService, Port: labPort, From: to.Add(-3 * time.Hour), Step: time.Minute, Steps: 10, Bytes: 1e3}
	schematest.InsertFlows(t, conn, schematest.FlowLoad{SocketLoad: early, Exporter: "10.0.0.1", InIf: 1, OutIf: 2})
	q := &query.Builder{}
	q.And("dst_port = " + q.Bind("UInt16", uint16(labPort)))
	o, err := c.OutsideRange(context.Background(), q, to.Add(-time.Hour), to)
	if err != nil {
		t.Fatal(err)
	}
	if o.Rows != 20 || o.Before != 20 || o.After != 0 || o.ExporterTimeInRange != 0 || o.Earliest == nil {
		t.Errorf("outside %+v, want the 20 flows before the range", o)
	}
}
