package api

import (
	"net/url"
	"testing"
)

func TestInterfacesSummaryGivesP95PeakAndSparkline(t *testing.T) {
	a := newTestAPI(t)
	s := newScenario()
	seedWorker1(t, a, s, true, false)
	var r InterfacesSummary
	if st := a.get(t, "/api/v1/interfaces/summary", s.rangeQuery(url.Values{"points": {"60"}}), &r); st != 200 {
		t.Fatalf("status %d", st)
	}
	if len(r.Interfaces) != 2 || r.StepSeconds != 60 {
		t.Fatalf("%d interfaces, step %d", len(r.Interfaces), r.StepSeconds)
	}
	gi3 := r.Interfaces[0]
	if gi3.Device != "sw1" || gi3.IfIndex != 3 || gi3.Name != "Gi0/3" || gi3.OperStatus != "up" || gi3.SpeedBps != 1_000_000_000 {
		t.Fatalf("first interface %+v", gi3)
	}
	// Uplink: 4×1 MB + 2.5 MB a minute, 4×3 MB + 2.5 MB in the spike.
	base, spike := float64(6_500_000*8)/60, float64(14_500_000*8)/60
	if gi3.MaxInBps < spike*0.99 || gi3.MaxInBps > spike*1.01 || gi3.P95InBps < base || gi3.P95InBps > spike*1.01 {
		t.Errorf("max %.0f, p95 %.0f, want max %.0f and p95 between %.0f and it", gi3.MaxInBps, gi3.P95InBps, spike, base)
	}
	if len(gi3.SparkIn) != 60 || gi3.SparkIn[45] < spike*0.99 || gi3.SparkIn[10] > base*1.01 || gi3.SparkIn[10] < base*0.99 {
		t.Errorf("sparkline %v", gi3.SparkIn)
	}
	if gi3.InBps < base*0.99 || gi3.InBps > base*1.01 {
		t.Errorf("latest in %.0f, want %.0f", gi3.InBps, base)
	}
}
