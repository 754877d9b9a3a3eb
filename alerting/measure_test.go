package alerting

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/netstrata/netstrata/alerting/alertingtest"
	"github.com/netstrata/netstrata/internal/schema"
	"github.com/netstrata/netstrata/internal/schema/schematest"
)

// One embedded ClickHouse serves the whole test binary.
func TestMain(m *testing.M) { os.Exit(schematest.Main(m)) }

func measure(t *testing.T, conn driver.Conn, r Rule, now time.Time) []series {
	t.Helper()
	db := &database{conn: conn, limit: 1000, cache: map[string]any{}}
	ss, err := measurers[r.Kind](context.Background(), db, r.withDefaults(), now)
	if err != nil {
		t.Fatalf("%s: %v", r.Name, err)
	}
	return ss
}

// frontends is four client pods of worker-1 sending to shop/api-0:8081
// every 2 s.
func frontends(from time.Time, steps int, bytes uint64) schematest.SocketLoad {
	return alertingtest.Frontends(from, 2*time.Second, steps, bytes)
}

func TestSpikeOfANodeIsMeasuredAgainstItsBaselineMedian(t *testing.T) {
	conn, _ := schematest.Open(t, schema.DefaultOptions())
	now := time.Now().UTC().Truncate(2 * time.Second)
	schematest.InsertSockets(t, conn, frontends(now.Add(-80*time.Second), 35, 10_000)) // baseline to now-10 s
	spike := frontends(now.Add(-10*time.Second), 5, 100_000)
	schematest.InsertSockets(t, conn, spike)
	r := Rule{Name: "Spike", Kind: KindTrafficSpike, Subject: SubjectNode, Threshold: 3, ResolveThreshold: 1.5, Min: 1000,
		Window: 10 * time.Second, Baseline: time.Minute, Resolution: 2 * time.Second}
	ss := measure(t, conn, r, now)
	if len(ss) != 1 || ss[0].labels["node"] != "worker-1" || ss[0].subject.Node != "worker-1" {
		t.Fatalf("series %+v", ss)
	}
	// 4 clients × 120 kB (sent + received) per 2 s against 12 kB: 10×.
	if v := ss[0].value; v < 9.5 || v > 10.5 {
		t.Errorf("growth %.2f, want 10", v)
	}
	// Without the spike nothing is returned.
	if ss := measure(t, conn, r, now.Add(-12*time.Second)); len(ss) != 0 {
		t.Errorf("baseline alone measured as a spike: %+v", ss)
	}
}

func TestSessionHealthIsMeasuredPerServicePodAndPort(t *testing.T) {
	conn, _ := schematest.Open(t, schema.DefaultOptions())
	now := time.Now().UTC().Truncate(time.Second)
	slow := frontends(now.Add(-2*time.Minute), 60, 1_448_000)
	slow.RTTUs, slow.JitterUs, slow.Retransmits = 150_000, 60_000, 50
	schematest.InsertSockets(t, conn, slow)
	fast := frontends(now.Add(-2*time.Minute), 60, 1_448_000)
	fast.ServicePod, fast.Service, fast.Port, fast.Subnet = "db-0", "10.1.3.9", 5432, 2
	schematest.InsertSockets(t, conn, fast)
	for _, c := range []struct {
		metric string
		want   float64
	}{{MetricRTT, 150}, {MetricJitter, 60}, {MetricRetransmits, 50.0 / 1001}} {
		r := Rule{Name: "Health", Kind: KindSessionHealth, Metric: c.metric, Threshold: c.want / 2, Min: 1000, Window: 5 * time.Minute}
		ss := measure(t, conn, r, now)
		if len(ss) != 1 {
			t.Fatalf("%s: %d series, want api-0 only: %+v", c.metric, len(ss), ss)
		}
		s := ss[0]
		if s.labels["service"] != "shop/api-0:8081" || s.labels["port"] != "8081" || s.labels["pod"] != "api-0" || s.info["node"] != "worker-2" {
			t.Errorf("%s: labels %v info %v", c.metric, s.labels, s.info)
		}
		if s.value < c.want*0.95 || s.value > c.want*1.05 {
			t.Errorf("%s = %.4f, want %.4f", c.metric, s.value, c.want)
		}
	}
}

func TestUtilisationAndSilenceOfInterfacesAndDevices(t *testing.T) {
	conn, _ := schematest.Open(t, schema.DefaultOptions())
	now := time.Now().UTC().Truncate(time.Second)
	// sw0 and sw1 polled every 10 s until 10 minutes ago at 95%, then quiet.
	schematest.InsertIfStats(t, conn, schematest.IfLoad{Devices: 2, Interfaces: 3, From: now.Add(-15 * time.Minute), Step: 10 * time.Second,
		Steps: 30, SpeedBps: 1e9, Utilisation: 0.95})
	util := Rule{Name: "Util", Kind: KindUtilisation, Threshold: 0.9, ResolveThreshold: 0.8, Window: 10 * time.Minute}
	if ss := measure(t, conn, util, now.Add(-10*time.Minute)); len(ss) != 6 || ss[0].info["direction"] != "in" || ss[0].value < 0.949 {
		t.Fatalf("utilisation: %+v", ss)
	}
	if ss := measure(t, conn, util, now); len(ss) != 0 {
		t.Fatalf("no poll in the window, still measured: %+v", ss)
	}
	silent := Rule{Name: "Quiet", Kind: KindSilence, Subject: SubjectSNMPDevice, Threshold: 300, Window: time.Hour}
	ss := measure(t, conn, silent, now)
	if len(ss) != 2 || ss[0].labels["device"] == "" || ss[0].value < 590 || ss[0].value > 620 {
		t.Fatalf("silence: %+v", ss)
	}
}

func TestExporterServesInterfaceRatesAndServiceHealthBounded(t *testing.T) {
	conn, _ := schematest.Open(t, schema.DefaultOptions())
	now := time.Now().UTC().Truncate(time.Second)
	schematest.InsertIfStats(t, conn, schematest.IfLoad{Devices: 2, Interfaces: 3, From: now.Add(-3 * time.Minute), Step: time.Minute,
		Steps: 3, SpeedBps: 1e9, Utilisation: 0.5})
	slow := frontends(now.Add(-2*time.Minute), 60, 1_448_000)
	slow.RTTUs = 150_000
	schematest.InsertSockets(t, conn, slow)
	r := testReporter()
	e, err := newExporter(r, ExporterConfiguration{Enable: true, MaxSeries: 4})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.refresh(context.Background(), &database{conn: conn, limit: 1000, cache: map[string]any{}}, now); err != nil {
		t.Fatal(err)
	}
	families, err := r.Gatherer.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	var rtt float64
	for _, f := range families {
		got[f.GetName()] = len(f.GetMetric())
		if f.GetName() == "netstrata_export_service_rtt_p95_seconds" {
			rtt = f.GetMetric()[0].GetGauge().GetValue()
		}
	}
	// 4 of the 6 interfaces (max_series), in and out; the one service.
	if got["netstrata_export_interface_bits_per_second"] != 8 || got["netstrata_export_interface_utilization_ratio"] != 8 {
		t.Errorf("interface series %v", got)
	}
	if got["netstrata_export_service_retransmit_ratio"] != 1 || rtt < 0.14 || rtt > 0.16 {
		t.Errorf("service series %v, RTT p95 %v s", got, rtt)
	}
	e.clear()
	if families, _ := r.Gatherer.Gather(); len(families) > 0 {
		for _, f := range families {
			if strings.HasPrefix(f.GetName(), "netstrata_export_") {
				t.Errorf("%s still exported after clear", f.GetName())
			}
		}
	}
}

func TestFlowSNMPMismatchFindsAnExporterUnderCountingTenfold(t *testing.T) {
	conn, _ := schematest.Open(t, schema.DefaultOptions())
	now := time.Now().UTC().Truncate(time.Minute)
	from := now.Add(-45 * time.Minute)
	// sw0 (10.0.0.1) eth1 and eth2 at 40% of 1 Gb/s: 3 GB a minute in on each.
	schematest.InsertIfStats(t, conn, schematest.IfLoad{Devices: 1, Interfaces: 2, From: from, Step: time.Minute, Steps: 45,
		SpeedBps: 1e9, Utilisation: 0.4})
	// Its flows through eth1 count a tenth of it (a wrong sampling rate).
	l := alertingtest.Frontends(from, time.Minute, 45, 300_000_000)
	l.Clients = 1
	schematest.InsertFlows(t, conn, schematest.FlowLoad{SocketLoad: l, Exporter: "10.0.0.1", InIf: 1, OutIf: 0, Sampling: 1})
	r := Rule{Name: "Mismatch", Kind: KindFlowSNMP, Threshold: 2, ResolveThreshold: 1.5, Min: 1e6, Window: 30 * time.Minute}
	ss := measure(t, conn, r, now)
	if len(ss) != 1 || ss[0].labels["device"] != "sw0" || ss[0].labels["if_index"] != "1" || ss[0].info["direction"] != "in" {
		t.Fatalf("series %+v", ss)
	}
	if v := ss[0].value; v < 9 || v > 11 {
		t.Errorf("flows and SNMP %.2f× apart, want 10×", v)
	}
}
