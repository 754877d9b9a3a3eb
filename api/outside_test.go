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

// TestAnEmptyReconciliationSaysWhereTheExporterFlowsAre asks for the
// reconciliation of a replayed capture's exporter at its own dates:
// there is no SNMP poll nor flow in the range, and the answer says how
// many of the exporter's flows were received elsewhere. Interfaces and
// devices that carried none say 0.
func TestAnEmptyReconciliationSaysWhereTheExporterFlowsAre(t *testing.T) {
	a := newTestAPI(t)
	exported := time.Date(2023, 11, 14, 22, 13, 20, 0, time.UTC)
	received := time.Now().UTC().Add(-10 * time.Minute).Truncate(time.Millisecond)
	insertReplayedFlows(t, a.conn, exported, received, 2)

	outside := func(q url.Values) *OutsideRange {
		t.Helper()
		var r ReconciliationResponse
		q.Set("from", "2023-11-14T22:00:00Z")
		q.Set("to", "2023-11-14T23:00:00Z")
		if st := a.get(t, "/api/v1/reconciliation", q, &r); st != 200 || len(r.Rows) != 0 {
			t.Fatalf("status %d, rows %+v: want an empty answer", st, r.Rows)
		}
		return r.Outside
	}
	if o := outside(url.Values{"device": {"192.0.2.1"}}); o == nil || o.Rows != 2 || o.After != 2 || o.ExporterTimeInRange != 2 {
		t.Errorf("exporter 192.0.2.1: outside %+v, want its 2 flows received after the range", o)
	}
	if o := outside(url.Values{}); o == nil || o.Rows != 2 {
		t.Errorf("every exporter: outside %+v, want 2 flows", o)
	}
	for _, q := range []url.Values{{"device": {"192.0.2.1"}, "if_index": {"7"}}, {"device": {"sw9"}}} {
		if o := outside(q); o == nil || o.Rows != 0 {
			t.Errorf("%v: outside %+v, want no flow anywhere", q, o)
		}
	}
}
