package investigation

import (
	"net"
	"strings"
	"testing"
)

func TestSessionHealthMarksAPathWhoseRetransmitsRoseDegraded(t *testing.T) {
	group := func(pod string, remote string, baseRetr, spikeRetr uint64) socketGroup {
		return socketGroup{Direction: "client", Node: "worker-1", LocalNS: "shop", LocalPod: pod, Comm: "front",
			LocalIP: net.ParseIP("10.1.1.10"), RemoteIP: net.ParseIP(remote), RemotePort: 8081,
			W: [2]windowStats{{Bytes: 1e6, Segs: 1000, Retr: baseRetr, Conns: 1, RTTP99: 1000}, {Bytes: 1e6, Segs: 1000, Retr: spikeRetr, Conns: 1, RTTP99: 1000}}}
	}
	health := sessionHealth([]socketGroup{
		group("front-0", "10.2.0.5", 1, 1),
		group("front-0", "10.2.0.6", 1, 60),
		group("front-1", "10.2.0.6", 1, 60),
	})
	if len(health) != 2 {
		t.Fatalf("health %+v, want one row per service path", health)
	}
	bad, good := health[0], health[1]
	if !bad.Degraded || bad.Path != "10.2.0.6:8081" || !strings.HasPrefix(bad.Reason, "retransmits 60× baseline") || bad.Pod != "" {
		t.Errorf("first row %+v, want 10.2.0.6:8081 degraded by 60× retransmits, from two pods", bad)
	}
	if good.Degraded || good.Path != "10.2.0.5:8081" || good.Pod != "shop/front-0" {
		t.Errorf("second row %+v, want 10.2.0.5:8081 healthy, from shop/front-0", good)
	}
}
