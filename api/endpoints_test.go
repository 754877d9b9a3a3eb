package api

import (
	"net/url"
	"testing"
)

func TestEndpointsAnswerFromTheSeededLayers(t *testing.T) {
	a := newTestAPI(t)
	s := newScenario()
	seedWorker1(t, a, s, true, false)

	t.Run("topn by dst_port is sampling-corrected", func(t *testing.T) {
		var r TopNResponse
		if st := a.get(t, "/api/v1/flows/topn", s.rangeQuery(url.Values{"by": {"dst_port"}, "limit": {"2"}}), &r); st != 200 {
			t.Fatalf("status %d", st)
		}
		// 4 frontends × (50 min × 1 MB + 10 min × 3 MB) to :8081.
		if len(r.Rows) != 2 || r.Rows[0].Key != "8081" || r.Rows[0].Bytes != 4*(50+30)*1_000_000 || r.Rows[0].Flows != 240 {
			t.Fatalf("rows %+v", r.Rows)
		}
		if r.Rows[0].Bps != float64(r.Rows[0].Bytes)*8/3600 || r.Total.Bytes <= r.Rows[0].Bytes {
			t.Errorf("bps %v, total %+v", r.Rows[0].Bps, r.Total)
		}
	})
	t.Run("topn filters by pod and ranks src_pod", func(t *testing.T) {
		var r TopNResponse
		if st := a.get(t, "/api/v1/flows/topn", s.rangeQuery(url.Values{"by": {"src_pod"}, "namespace": {"shop"}, "dst_port": {"8081"}}), &r); st != 200 {
			t.Fatalf("status %d", st)
		}
		if len(r.Rows) != 4 || r.Rows[0].Bytes != 80_000_000 {
			t.Errorf("rows %+v, want 4 frontends of 80 MB", r.Rows)
		}
	})
	t.Run("topn over a day reads the rollups", func(t *testing.T) {
		var r TopNResponse
		q := url.Values{"by": {"conversation"}, "from": {"-24h"}, "exporter": {"10.0.0.1"}, "in_if": {"3"}}
		if st := a.get(t, "/api/v1/flows/topn", q, &r); st != 200 {
			t.Fatalf("status %d", st)
		}
		if r.Source != "flows_1h, flows_1m" || len(r.Rows) != 6 || r.Rows[0].Key != "10.0.3.7 <-> 10.1.1.20" {
			t.Errorf("source %s rows %+v", r.Source, r.Rows)
		}
	})
	t.Run("sockets sorted by retransmits", func(t *testing.T) {
		var r SocketsResponse
		if st := a.get(t, "/api/v1/sockets", s.rangeQuery(url.Values{"node": {"worker-1"}, "sort": {"retransmits"}, "limit": {"3"}}), &r); st != 200 {
			t.Fatalf("status %d", st)
		}
		if len(r.Session) != 3 || r.Session[0].RemotePort != 5432 || r.Session[0].Retransmits != 300 || r.Session[0].Pod != "orders-0" || r.Session[0].RTTAvgUs != 1500 {
			t.Errorf("sessions %+v", r.Session)
		}
	})
	t.Run("traffic map by remote port 8081", func(t *testing.T) {
		var r TrafficMapResponse
		if st := a.get(t, "/api/v1/traffic-map", s.rangeQuery(url.Values{"port": {"8081"}}), &r); st != 200 {
			t.Fatalf("status %d", st)
		}
		if len(r.Edges) != 4 || len(r.Nodes) != 5 {
			t.Fatalf("map %+v", r.TrafficMap)
		}
		for _, e := range r.Edges {
			if e.Target != "pod:shop/api-0" || e.Port != 8081 || e.Bytes != 96_000_000 || e.Connections == nil || *e.Connections != 1 {
				t.Errorf("edge %+v", e)
			}
		}
	})
	t.Run("interfaces and series", func(t *testing.T) {
		var r InterfacesResponse
		if st := a.get(t, "/api/v1/interfaces", url.Values{"device": {"sw1"}, "since": {"2h"}}, &r); st != 200 {
			t.Fatalf("status %d", st)
		}
		if len(r.Interfaces) != 2 || r.Interfaces[0].Name != "Gi0/3" || r.Interfaces[0].OperStatus != "up" || r.Interfaces[0].InBps == 0 || r.Interfaces[0].DeviceIP != "10.0.0.1" {
			t.Fatalf("interfaces %+v", r.Interfaces)
		}
		var ser SeriesResponse
		if st := a.get(t, "/api/v1/interfaces/series", s.rangeQuery(url.Values{"device": {"10.0.0.1"}, "if_index": {"3"}, "step": {"5m"}}), &ser); st != 200 {
			t.Fatalf("status %d", st)
		}
		if len(ser.Points) < 12 || ser.StepSeconds != 300 || ser.Device != "sw1" || ser.Points[9].InBps <= ser.Points[0].InBps {
			t.Errorf("series %+v", ser)
		}
	})
}
