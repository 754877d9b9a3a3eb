package api

import (
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestReconciliationComparesInPlusOutWhenTheExporterGivesNoDirection(t *testing.T) {
	a := newTestAPI(t)
	// softflowd on one port: every flow has that port as in and out
	// interface and no direction; SNMP counts the data out, the ACKs in.
	b := burst{start: time.Now().UTC().Truncate(time.Minute).Add(-9*time.Minute + 17*time.Second),
		base: 3 * time.Minute, spike: 30 * time.Second, after: time.Minute, rate: 40_000, factor: 5, senders: 4,
		life: 10 * time.Second, poll: 5 * time.Second, exporter: "10.0.0.9", device: "sw9", node: "worker-1", ifIndex: 11}
	b.seed(t, a)
	var rec ReconciliationResponse
	q := url.Values{"from": {b.start.Add(-5 * time.Minute).Format(time.RFC3339)}, "to": {b.end().Add(5 * time.Minute).Format(time.RFC3339)}}
	if st := a.get(t, "/api/v1/reconciliation", q, &rec); st != 200 {
		t.Fatalf("status %d", st)
	}
	if len(rec.Rows) != 1 {
		t.Fatalf("rows %+v, want one in+out row", rec.Rows)
	}
	r := rec.Rows[0]
	// SNMP adds 1% of Ethernet headers to the flows' IP bytes.
	if r.Direction != "in+out" || r.Status != "ok" || r.Ratio < 0.97 || r.Ratio > 1 || !strings.Contains(r.Hint, "does not give the side") {
		t.Errorf("row %+v, want in+out ok at ratio ≈0.99 saying the exporter gives no direction", r)
	}
}
