package api

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/netstrata/netstrata/api/apiv1"
	"github.com/netstrata/netstrata/api/query"
)

func TestAlertsListsTheHistoryAndWhatFiresNow(t *testing.T) {
	a := newTestAPI(t)
	now := time.Now().UTC().Truncate(time.Second)
	// Two alerts: a spike that fired and resolved, a silence still firing.
	err := a.conn.Exec(context.Background(), `INSERT INTO alerts
		(time, fingerprint, rule, kind, status, starts_at, ends_at, value, labels, annotations, generator_url, instance) VALUES
		({t1:DateTime64(3)}, 'f1', 'NodeTrafficSpike', 'traffic_spike', 'firing', {t1:DateTime64(3)}, 0, 12.5,
			{'alertname': 'NodeTrafficSpike', 'node': 'worker-1'}, {'top_ports': ':8081 (100%)'}, 'http://console/?node=worker-1', 'a'),
		({t2:DateTime64(3)}, 'f1', 'NodeTrafficSpike', 'traffic_spike', 'resolved', {t1:DateTime64(3)}, {t2:DateTime64(3)}, 1.1,
			{'alertname': 'NodeTrafficSpike', 'node': 'worker-1'}, {}, 'http://console/?node=worker-1', 'b'),
		({t3:DateTime64(3)}, 'f2', 'AgentSilent', 'silence', 'firing', {t3:DateTime64(3)}, 0, 600,
			{'alertname': 'AgentSilent', 'node': 'worker-3'}, {}, '', 'b')`,
		clickhouse.Named("t1", query.Time(now.Add(-30*time.Minute))), clickhouse.Named("t2", query.Time(now.Add(-20*time.Minute))), clickhouse.Named("t3", query.Time(now.Add(-10*time.Minute))))
	if err != nil {
		t.Fatal(err)
	}
	var hist apiv1.AlertsResponse
	if code := a.get(t, "/api/v1/alerts", nil, &hist); code != 200 {
		t.Fatalf("status %d", code)
	}
	if len(hist.Alerts) != 3 || hist.Alerts[0].Rule != "AgentSilent" || hist.Alerts[1].Status != "resolved" || hist.Alerts[1].EndsAt == nil {
		t.Fatalf("history %+v", hist.Alerts)
	}
	if hist.Alerts[2].Annotations["top_ports"] != ":8081 (100%)" || hist.Alerts[2].EndsAt != nil || hist.Alerts[2].Labels["node"] != "worker-1" {
		t.Errorf("firing row %+v", hist.Alerts[2])
	}
	var firing apiv1.AlertsResponse
	a.get(t, "/api/v1/alerts", url.Values{"state": {"firing"}}, &firing)
	if len(firing.Alerts) != 1 || firing.Alerts[0].Fingerprint != "f2" {
		t.Fatalf("firing %+v", firing.Alerts)
	}
	var one apiv1.AlertsResponse
	a.get(t, "/api/v1/alerts", url.Values{"rule": {"NodeTrafficSpike"}, "from": {"-25m"}}, &one)
	if len(one.Alerts) != 1 || one.Alerts[0].Status != "resolved" {
		t.Fatalf("rule and range filter: %+v", one.Alerts)
	}
	if code := a.get(t, "/api/v1/alerts", url.Values{"state": {"pending"}}, nil); code != 400 {
		t.Errorf("state=pending: %d, want 400", code)
	}
}
