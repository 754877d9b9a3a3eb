package api

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/netstrata/netstrata/internal/store"
)

// insertReplayedFlows writes flows as the collector stores a capture
// from 2023 replayed at received: placed by the exporter's skew, its
// own times recoverable from exporter_clock_skew_ms.
func insertReplayedFlows(t *testing.T, conn driver.Conn, exported, received time.Time, n int) {
	t.Helper()
	skew := received.Sub(exported)
	cols := []string{"time_received", "time_flow_start", "time_flow_end", "time_basis", "exporter_clock_skew_ms", "flow_type",
		"exporter_ip", "sampling_rate", "src_ip", "dst_ip", "src_port", "dst_port", "proto", "bytes", "packets"}
	err := store.Insert(context.Background(), conn, "flows", cols, "", func(b driver.Batch) error {
		for i := range n {
			end := exported.Add(time.Duration(i) * time.Second)
			if err := b.Append(received, end.Add(skew-10*time.Second), end.Add(skew), "skew_corrected", skew.Milliseconds(), "netflow_v9",
				ip16("192.0.2.1"), uint64(1), ip16("10.0.0.1"), ip16("10.0.0.2"), uint16(40000+i), uint16(443), uint8(6), uint64(1500), uint64(1)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestAnEmptyTopNSaysWhereTheMatchingFlowsAre queries a replayed
// capture at the exporter's own dates: nothing is there (flows are
// placed by their corrected time), and the answer says how many
// matching flows were received elsewhere, when, and that their exporter
// times are inside the range asked for.
func TestAnEmptyTopNSaysWhereTheMatchingFlowsAre(t *testing.T) {
	a := newTestAPI(t)
	exported := time.Date(2023, 11, 14, 22, 13, 20, 0, time.UTC)
	received := time.Now().UTC().Add(-10 * time.Minute).Truncate(time.Millisecond)
	insertReplayedFlows(t, a.conn, exported, received, 3)

	get := func(q url.Values) TopNResponse {
		t.Helper()
		var r TopNResponse
		if st := a.get(t, "/api/v1/flows/topn", q, &r); st != 200 {
			t.Fatalf("status %d", st)
		}
		return r
	}
	r := get(url.Values{"by": {"dst_port"}, "from": {"2023-11-14T22:00:00Z"}, "to": {"2023-11-14T23:00:00Z"}})
	o := r.Outside
	if len(r.Rows) != 0 || o == nil {
		t.Fatalf("rows %+v, outside %+v: want an empty answer that says where the flows are", r.Rows, o)
	}
	if o.Rows != 3 || o.Before != 0 || o.After != 3 || o.ExporterTimeInRange != 3 || o.Earliest == nil || !o.Earliest.Equal(received) {
		t.Errorf("outside %+v: want 3 flows received after the range at %s, all with exporter times inside it", o, received)
	}
	if !strings.Contains(o.Note, "3 matching flows") || !strings.Contains(o.Note, "exporter times inside the range") {
		t.Errorf("note %q", o.Note)
	}

	// Filters count: a port nobody used matches nothing anywhere.
	r = get(url.Values{"by": {"dst_port"}, "dst_port": {"9"}, "from": {"2023-11-14T22:00:00Z"}, "to": {"2023-11-14T23:00:00Z"}})
	if r.Outside == nil || r.Outside.Rows != 0 || r.Outside.Note != "no flow matches in the range" {
		t.Errorf("outside %+v: want 0 matching flows anywhere", r.Outside)
	}
	// An answer with rows says nothing of elsewhere.
	r = get(url.Values{"by": {"dst_port"}, "from": {"-1h"}})
	if len(r.Rows) != 1 || r.Outside != nil {
		t.Errorf("rows %+v outside %+v: want the flows, nothing outside", r.Rows, r.Outside)
	}
}

// TestAnInvestigationWithoutFlowsInRangeSaysWhereTheyAre investigates
// an address of a replayed capture at the exporter's own dates: the
// flows layer is empty there, and says how many of the address's flows
// were received elsewhere, with exporter times inside the range.
func TestAnInvestigationWithoutFlowsInRangeSaysWhereTheyAre(t *testing.T) {
	a := newTestAPI(t)
	exported := time.Date(2023, 11, 14, 22, 13, 20, 0, time.UTC)
	received := time.Now().UTC().Add(-10 * time.Minute).Truncate(time.Millisecond)
	insertReplayedFlows(t, a.conn, exported, received, 4)

	layer := func(ip string) LayerStatus {
		t.Helper()
		var inv Investigation
		q := url.Values{"ip": {ip}, "from": {"2023-11-14T22:00:00Z"}, "to": {"2023-11-14T23:00:00Z"}}
		if st := a.get(t, "/api/v1/investigate", q, &inv); st != 200 {
			t.Fatalf("status %d", st)
		}
		for _, l := range inv.Layers {
			if l.Layer == "flows" {
				return l
			}
		}
		t.Fatalf("no flows layer in %+v", inv.Layers)
		return LayerStatus{}
	}
	l := layer("10.0.0.2")
	o := l.Outside
	if l.Available || o == nil || o.Rows != 4 || o.After != 4 || o.ExporterTimeInRange != 4 || o.Earliest == nil || !o.Earliest.Equal(received) {
		t.Fatalf("flows layer %+v, outside %+v: want 4 flows of 10.0.0.2 received after the range, exporter times inside it", l, o)
	}
	if !strings.Contains(l.Note, "4 matching flows were received outside the range") {
		t.Errorf("note %q", l.Note)
	}
	// The subject counts: an address in none of them has nothing anywhere.
	if l = layer("10.9.9.9"); l.Outside == nil || l.Outside.Rows != 0 || strings.Contains(l.Note, "outside") {
		t.Errorf("flows layer %+v outside %+v: want 0 flows of 10.9.9.9 anywhere", l, l.Outside)
	}
}
