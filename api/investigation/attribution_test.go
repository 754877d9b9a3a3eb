package investigation

import (
	"context"
	"strings"
	"testing"
)

func TestAttributeNamesThePortAndThePodsOfTheIncrease(t *testing.T) {
	l := newSpikeLab(t)
	r := l.run(t, NodeScope(labNode))
	if err := r.attribute(context.Background()); err != nil {
		t.Fatal(err)
	}
	ct := r.inv.Contributors
	if len(ct.Ports) == 0 || ct.Ports[0].Key != ":8081" || ct.Ports[0].Share < 0.99 {
		t.Fatalf("ports %+v, want :8081 with the whole increase", ct.Ports)
	}
	if len(ct.Pods) != 4 {
		t.Errorf("pods %+v, want the four pods that joined", ct.Pods)
	}
	for _, p := range ct.Pods {
		if !strings.HasPrefix(p.Key, "shop/batch-") || p.BaselineBytes != 0 {
			t.Errorf("pod %+v is not one of the new batch pods", p)
		}
	}
	if r.inv.Growth < 2.5 || r.inv.Growth > 3.5 {
		t.Errorf("growth %v, want about 3 (4 pods at 100 kB joined by 4 at 200 kB)", r.inv.Growth)
	}
	if len(r.inv.TrafficMap.Edges) == 0 {
		t.Error("no traffic map of the contributors")
	}
}
