package investigation

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/netstrata/netstrata/api/apiv1"
)

func TestInvestigateJudgesTheLabsSpikeAsLoadGrowth(t *testing.T) {
	l := newSpikeLab(t)
	inv, err := l.c.Investigate(context.Background(), NodeScope(labNode), l.from, l.to)
	if err != nil {
		t.Fatal(err)
	}
	if inv.Verdict.Kind != apiv1.VerdictLoad || !strings.Contains(inv.Verdict.Summary, "4 pods on worker-1") || !strings.Contains(inv.Verdict.Summary, ":8081") {
		t.Errorf("verdict %q (%s), want load growth by 4 pods on worker-1 to :8081", inv.Verdict.Kind, inv.Verdict.Summary)
	}
	if len(inv.Missing) != 1 || inv.Missing[0] != "pods" {
		t.Errorf("missing %q, want only pods (the lab has no pod metadata)", inv.Missing)
	}
}

func TestAFailedQueryNamesItsLayer(t *testing.T) {
	l := newSpikeLab(t)
	for query, layer := range map[string]string{
		"investigate_series_flows": "flows layer", "socket_groups": "sockets layer",
		"investigate_interfaces": "snmp layer", "reconciliation": "snmp layer", "investigate_pods": "pods layer",
	} {
		c := *l.c
		c.Run = func(ctx context.Context, name, sql string, args []any, scan func(driver.Rows) error) error {
			if name == query {
				return errors.New("refused")
			}
			return l.c.Run(ctx, name, sql, args, scan)
		}
		_, err := c.Investigate(context.Background(), NodeScope(labNode), l.from, l.to)
		if err == nil || !strings.HasPrefix(err.Error(), layer+": ") {
			t.Errorf("%s failing: error %v, want it to name the %s", query, err, layer)
		}
	}
}
