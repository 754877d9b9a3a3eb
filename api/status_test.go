package api

import (
	"context"
	"maps"
	"net/url"
	"testing"
	"time"
)

func TestStatusNamesEachLayersSources(t *testing.T) {
	a := newTestAPI(t)
	s := newScenario()
	seedWorker1(t, a, s, true, false)
	var r StatusResponse
	if st := a.get(t, "/api/v1/status", url.Values{"since": {"2h"}}, &r); st != 200 {
		t.Fatalf("status %d", st)
	}
	if len(r.Exporters) != 1 || r.Exporters[0].IP != "10.0.0.1" || r.Exporters[0].MinSamplingRate != 100 || r.Exporters[0].Flows != 60*6 ||
		r.Exporters[0].SequenceLost != seedExporterLost {
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

// TestStatusSumsEachExportersSequenceLoss stores flows of two exporters,
// some carrying the units their sequence numbers showed lost, one of
// them before the window: the status gives each exporter the sum of the
// losses within the window.
func TestStatusSumsEachExportersSequenceLoss(t *testing.T) {
	a := newTestAPI(t)
	now := time.Now().UTC()
	recent, old := now.Add(-10*time.Minute), now.Add(-3*time.Hour)
	err := a.conn.Exec(context.Background(), `INSERT INTO flows (time_received, exporter_ip, sampling_rate, src_ip, dst_ip, bytes, packets,
		sequence_lost, kafka_partition, kafka_offset) VALUES
		(?, '::ffff:192.0.2.1', 1, '::ffff:10.0.0.1', '::ffff:10.0.0.2', 100, 1, 0, 0, 1),
		(?, '::ffff:192.0.2.1', 1, '::ffff:10.0.0.1', '::ffff:10.0.0.2', 100, 1, 30, 0, 2),
		(?, '::ffff:192.0.2.1', 1, '::ffff:10.0.0.1', '::ffff:10.0.0.2', 100, 1, 12, 0, 3),
		(?, '::ffff:192.0.2.1', 1, '::ffff:10.0.0.1', '::ffff:10.0.0.2', 100, 1, 500, 0, 4),
		(?, '::ffff:192.0.2.2', 1, '::ffff:10.0.0.1', '::ffff:10.0.0.2', 100, 1, 0, 0, 5)`,
		recent, recent, recent, old, recent)
	if err != nil {
		t.Fatal(err)
	}
	var r StatusResponse
	if st := a.get(t, "/api/v1/status", url.Values{"since": {"1h"}}, &r); st != 200 {
		t.Fatalf("status %d", st)
	}
	lost := map[string]uint64{}
	for _, e := range r.Exporters {
		lost[e.IP] = e.SequenceLost
	}
	if want := map[string]uint64{"192.0.2.1": 42, "192.0.2.2": 0}; !maps.Equal(lost, want) {
		t.Errorf("sequence loss per exporter %v, want %v", lost, want)
	}
}
