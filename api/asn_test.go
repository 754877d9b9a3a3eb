package api

import (
	"context"
	"net/url"
	"testing"
	"time"
)

// seedNetworks stores flows to two public resolvers and one private
// address, as the correlator enriches them.
func seedNetworks(t *testing.T, a *testAPI, at time.Time) {
	t.Helper()
	err := a.conn.Exec(context.Background(), `INSERT INTO flows (time_received, exporter_ip, sampling_rate, src_ip, dst_ip, src_port, dst_port, proto,
		bytes, packets, src_as, dst_as, src_as_name, dst_as_name, src_country, dst_country, kafka_partition, kafka_offset) VALUES
		(?, '::ffff:192.0.2.1', 1, '::ffff:10.0.0.1', '::ffff:8.8.8.8', 40000, 53, 17, 3000, 3, 0, 15169, '', 'Google LLC', '', 'US', 0, 1),
		(?, '::ffff:192.0.2.1', 1, '::ffff:10.0.0.1', '::ffff:1.1.1.1', 40001, 53, 17, 2000, 2, 0, 13335, '', 'Cloudflare, Inc.', '', 'AU', 0, 2),
		(?, '::ffff:192.0.2.1', 1, '::ffff:10.0.0.1', '::ffff:10.0.0.2', 40002, 53, 17, 1000, 1, 0, 0, '', '', '', '', 0, 3)`,
		at, at, at)
	if err != nil {
		t.Fatal(err)
	}
}

func TestTopNRanksAndFiltersByASAndCountry(t *testing.T) {
	a := newTestAPI(t)
	seedNetworks(t, a, time.Now().Add(-30*time.Minute).UTC())
	for _, from := range []string{"-1h", "-24h"} { // the raw table, then the minute rollup
		var r TopNResponse
		if st := a.get(t, "/api/v1/flows/topn", url.Values{"by": {"dst_as"}, "from": {from}}, &r); st != 200 {
			t.Fatalf("from %s: status %d", from, st)
		}
		want := []string{"AS15169 Google LLC", "AS13335 Cloudflare, Inc.", "(none)"}
		if len(r.Rows) != 3 {
			t.Fatalf("from %s (%s): rows %+v, want %v", from, r.Source, r.Rows, want)
		}
		for i, row := range r.Rows {
			if row.Key != want[i] {
				t.Errorf("from %s (%s): row %d = %q, want %q", from, r.Source, i, row.Key, want[i])
			}
		}
		if st := a.get(t, "/api/v1/flows/topn", url.Values{"by": {"dst_country"}, "from": {from}, "dst_as": {"13335"}}, &r); st != 200 {
			t.Fatalf("from %s: status %d", from, st)
		}
		if len(r.Rows) != 1 || r.Rows[0].Key != "AU" || r.Rows[0].Bytes != 2000 {
			t.Errorf("from %s: countries of AS13335 = %+v, want AU 2000 B", from, r.Rows)
		}
		if st := a.get(t, "/api/v1/flows/topn", url.Values{"by": {"dst_ip"}, "from": {from}, "country": {"us"}}, &r); st != 200 {
			t.Fatalf("from %s: status %d", from, st)
		}
		if len(r.Rows) != 1 || r.Rows[0].Key != "8.8.8.8" {
			t.Errorf("from %s: addresses in US = %+v, want 8.8.8.8", from, r.Rows)
		}
	}
	var e map[string]any
	if st := a.get(t, "/api/v1/flows/topn", url.Values{"by": {"dst_as"}, "country": {"USA"}}, &e); st != 400 {
		t.Errorf("country=USA: status %d, want 400", st)
	}
}
