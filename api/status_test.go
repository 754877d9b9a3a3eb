package api

import (
	"net/url"
	"testing"
)

func TestStatusNamesEachLayersSources(t *testing.T) {
	a := newTestAPI(t)
	s := newScenario()
	seedWorker1(t, a, s, true, false)
	var r StatusResponse
	if st := a.get(t, "/api/v1/status", url.Values{"since": {"2h"}}, &r); st != 200 {
		t.Fatalf("status %d", st)
	}
	if len(r.Exporters) != 1 || r.Exporters[0].IP != "10.0.0.1" || r.Exporters[0].MinSamplingRate != 100 || r.Exporters[0].Flows != 60*6 {
		t.Errorf("exporters %+v", r.Exporters)
	}
	if len(r.Devices) != 1 || r.Devices[0].Device != "sw1" || r.Devices[0].Interfaces != 2 || r.Devices[0].Polls != 120 {
		t.Errorf("devices %+v", r.Devices)
	}
	if len(r.Agents) != 1 || r.Agents[0].Node != "worker-1" || r.Agents[0].Sockets != 6 || r.Agents[0].Strategy != "tcp_iter" {
		t.Errorf("agents %+v", r.Agents)
	}
	if st := a.get(t, "/api/v1/status", url.Values{"since": {"forever"}}, nil); st != 400 {
		t.Errorf("bad since: %d", st)
	}
}
