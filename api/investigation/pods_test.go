package investigation

import (
	"context"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/netstrata/netstrata/api/query"
)

func TestPodStatusCountsTheRestartsSinceTheBaseline(t *testing.T) {
	c, conn, to := newTestInvestigator(t)
	for i, restarts := range []uint32{1, 1, 3} {
		err := conn.Exec(context.Background(), `INSERT INTO pods (time, uid, name, namespace, node, owner_kind, owner_name, phase, restarts)
			VALUES ({t:DateTime64(3)}, 'u1', 'api-0', 'shop', 'worker-2', 'Deployment', 'api', 'Running', {r:UInt32})`,
			clickhouse.Named("t", query.Time(to.Add(time.Duration(i-3)*10*time.Minute))), clickhouse.Named("r", restarts))
		if err != nil {
			t.Fatal(err)
		}
	}
	pods, err := c.podStatus(context.Background(), []string{"shop/api-0", "shop/gone"}, to.Add(-25*time.Minute), to)
	if err != nil {
		t.Fatal(err)
	}
	if len(pods) != 1 {
		t.Fatalf("pods %+v, want shop/api-0 only", pods)
	}
	if p := pods[0]; p.RestartsInWindow != 2 || p.Restarts != 3 || p.Workload != "Deployment/api" || p.Phase != "Running" || p.Node != "worker-2" {
		t.Errorf("pod %+v, want 2 restarts of 3 since the baseline, Deployment/api running on worker-2", p)
	}
}
