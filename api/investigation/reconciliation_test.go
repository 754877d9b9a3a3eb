package investigation

import (
	"strings"
	"testing"

	"github.com/netstrata/netstrata/api/apiv1"
)

func TestReconciliationVerdicts(t *testing.T) {
	for _, c := range []struct {
		name          string
		r             apiv1.Reconciliation
		status        string
		want, notWant string
	}{
		{"flows above SNMP at 1:1 propose no rate below 1:1",
			apiv1.Reconciliation{Direction: "in", SamplingRate: 1, FlowBytes: 70e6, SNMPBytes: 1e6}, "flows_high", "more than unsampled traffic could be", "would match"},
		{"an overstated rate proposes the matching one",
			apiv1.Reconciliation{Direction: "in", SamplingRate: 100, FlowBytes: 200e6, SNMPBytes: 100e6}, "flows_high", "1:50 would match", ""},
		{"an understated rate proposes the matching one",
			apiv1.Reconciliation{Direction: "in", SamplingRate: 1, FlowBytes: 1e6, SNMPBytes: 100e6}, "flows_low", "1:100 would match", ""},
		{"agreement is ok",
			apiv1.Reconciliation{Direction: "out", SamplingRate: 10, FlowBytes: 98e6, SNMPBytes: 100e6}, "ok", "", ""},
	} {
		got := judgeReconciliation(c.r)
		if got.Status != c.status || !strings.Contains(got.Hint, c.want) || c.notWant != "" && strings.Contains(got.Hint, c.notWant) {
			t.Errorf("%s: %+v, want status %s with %q", c.name, got, c.status, c.want)
		}
	}
	// Without a direction, a disagreement has no verdict.
	s := ifSides{snmpIn: 1e6, snmpOut: 100e6, capAny: 20e6, rate: 1}
	rows := s.rows(apiv1.Reconciliation{SamplingRate: 1})
	if len(rows) != 1 || rows[0].Status != "no_verdict" || rows[0].Direction != "in+out" || strings.Contains(rows[0].Hint, "would match") {
		t.Errorf("rows %+v, want one in+out row without a verdict", rows)
	}
	// softflowd calls what it captures leaving by the port ingress: the
	// reverse of SNMP's sides agrees.
	s = ifSides{snmpIn: 1.7e6, snmpOut: 121e6, capIn: 119e6, capOut: 1.3e6, rate: 1}
	rows = s.rows(apiv1.Reconciliation{SamplingRate: 1})
	if len(rows) != 2 || rows[0].Status != "ok" || rows[1].Status != "ok" || !strings.Contains(rows[0].Hint, "reverse") {
		t.Errorf("rows %+v, want in and out ok, compared swapped", rows)
	}
	// Between two interfaces, each side is judged on its own.
	s = ifSides{snmpIn: 100e6, snmpOut: 50e6, flowIn: 99e6, flowOut: 10e6, rate: 1}
	rows = s.rows(apiv1.Reconciliation{SamplingRate: 1})
	if len(rows) != 2 || rows[0].Direction != "in" || rows[0].Status != "ok" || rows[1].Direction != "out" || rows[1].Status != "flows_low" {
		t.Errorf("rows %+v, want in ok and out flows_low", rows)
	}
}
