package investigation

import (
	"context"
	"testing"
)

func TestPathInterfacesListsTheExporterInterfacesWithTheirPolls(t *testing.T) {
	l := newSpikeLab(t)
	r := l.run(t, NodeScope(labNode))
	ctx := context.Background()
	if err := r.attribute(ctx); err != nil {
		t.Fatal(err)
	}
	if err := r.pathInterfaces(ctx); err != nil {
		t.Fatal(err)
	}
	ifs := r.inv.Interfaces
	if len(ifs) != 2 {
		t.Fatalf("interfaces %+v, want sw0's 1 and 2", ifs)
	}
	for _, i := range ifs {
		if i.Device != "sw0" || i.SNMP == nil || i.OperStatus != "up" || i.FlowBytes == 0 || i.Role != "path" {
			t.Errorf("interface %+v: want sw0, polled, up, with the flows' bytes", i)
		}
	}
	if len(r.inv.Reconciliation) == 0 {
		t.Error("no reconciliation of the path's interfaces")
	}
}
