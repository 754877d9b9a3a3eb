package api

import (
	"fmt"
	"math"
)

// flowSidesSQL sums flow bytes × sampling rate per exporter interface and
// 5 minutes by the side of the interface they crossed, as the exporter
// tells it: a flow with different in and out interfaces came in on one
// and left by the other; a flow whose in and out are the same interface
// (an exporter that captures on one port, such as softflowd) counts on
// the side its direction field names, and on neither ("either") when it
// names none. f0 and f1 are placeholders of the range.
func flowSidesSQL(f0, f1 string) string {
	return `
	SELECT toStartOfFiveMinutes(time) AS t5, exporter_ip, if_index,
		sumIf(bytes, side = 'in') AS in_b, sumIf(bytes, side = 'out') AS out_b, sumIf(bytes, side = 'either') AS either_b
	FROM flows_1m
	ARRAY JOIN [in_if, out_if] AS if_index,
		[if(in_if != out_if, 'in', multiIf(direction = 'ingress', 'in', direction = 'egress', '', 'either')),
		 if(in_if != out_if, 'out', if(direction = 'egress', 'out', ''))] AS side
	WHERE time >= ` + f0 + ` AND time < ` + f1 + ` AND if_index != 0 AND side != ''
	GROUP BY t5, exporter_ip, if_index`
}

// ifSides is one interface's SNMP octets and flow bytes by side.
type ifSides struct {
	snmpIn, snmpOut             uint64
	flowIn, flowOut, flowEither uint64
	rate                        uint64 // the exporter's latest sampling rate
}

// directionless is the share of an interface's flow bytes whose side the
// exporter did not give, above which the sides are not compared apart.
const directionless = 0.05

// rows are the reconciliation rows of an interface: one per direction
// when the exporter tells the sides, else one of both together.
func (s ifSides) rows(r Reconciliation) []Reconciliation {
	flows := s.flowIn + s.flowOut + s.flowEither
	if float64(s.flowEither) > directionless*float64(flows) {
		if s.snmpIn+s.snmpOut < minReconcileBytes && flows < minReconcileBytes {
			return nil
		}
		r.Direction, r.FlowBytes, r.SNMPBytes = "in+out", flows, s.snmpIn+s.snmpOut
		return []Reconciliation{judgeDirectionless(r)}
	}
	var out []Reconciliation
	for _, d := range []struct {
		dir        string
		snmp, flow uint64
	}{{"in", s.snmpIn, s.flowIn}, {"out", s.snmpOut, s.flowOut}} {
		if d.snmp < minReconcileBytes && d.flow < minReconcileBytes {
			continue
		}
		r.Direction, r.FlowBytes, r.SNMPBytes = d.dir, d.flow, d.snmp
		out = append(out, judgeReconciliation(r))
	}
	return out
}

// judgeDirectionless judges flows whose direction the exporter does not
// give against both SNMP counters: agreement is still agreement, but a
// disagreement cannot be told from flows counted on the wrong side or
// interface, so it gets no verdict.
func judgeDirectionless(r Reconciliation) Reconciliation {
	r = judgeReconciliation(r)
	const why = "the exporter gives no direction for its flows on this interface (same in and out ifIndex)"
	switch r.Status {
	case "ok":
		r.Hint = why + ": compared with SNMP in+out"
	case "no_snmp", "no_flows":
	default:
		r.Status = "no_verdict"
		r.Hint = fmt.Sprintf("flows × sampling rate 1:%d are %.3g× the SNMP octets in+out, but %s: a wrong sampling rate cannot be told from flows counted on another interface", r.SamplingRate, r.Ratio, why)
	}
	return r
}

// judgeReconciliation sets the ratio, status and hint of a row: flows
// within a factor of 1.5 of SNMP are ok. A suggested sampling rate is
// never below 1:1: flows above SNMP at 1:1 are counted twice or on
// another interface, not over-sampled.
func judgeReconciliation(r Reconciliation) Reconciliation {
	switch {
	case r.SNMPBytes == 0:
		r.Status, r.Hint = "no_snmp", "flows on an interface SNMP reports idle: check the ifIndex mapping"
		return r
	case r.FlowBytes == 0:
		r.Status, r.Hint = "no_flows", "SNMP counts traffic but no flows arrive for this interface: is the exporter configured for it?"
		return r
	}
	r.Ratio = round(float64(r.FlowBytes)/float64(r.SNMPBytes), 3)
	implied := math.Round(float64(r.SamplingRate) / r.Ratio)
	suggest := ""
	if r.SamplingRate > 0 && implied >= 1 && implied != float64(r.SamplingRate) {
		suggest = fmt.Sprintf("; a sampling rate near 1:%.0f would match SNMP", implied)
	}
	switch {
	case r.Ratio < 1/1.5:
		r.Status = "flows_low"
		r.Hint = fmt.Sprintf("flows × sampling rate 1:%d account for %.1f%% of the SNMP octets: the sampling rate is too low or the exporter loses flows%s", r.SamplingRate, r.Ratio*100, suggest)
	case r.Ratio > 1.5 && suggest == "":
		r.Status = "flows_high"
		r.Hint = fmt.Sprintf("flows × sampling rate 1:%d are %.1f× the SNMP octets, more than unsampled traffic could be: flows exported twice, or counted on another interface or direction than SNMP's", r.SamplingRate, r.Ratio)
	case r.Ratio > 1.5:
		r.Status = "flows_high"
		r.Hint = fmt.Sprintf("flows × sampling rate 1:%d are %.1f× the SNMP octets: the sampling rate is overstated or flows are exported twice%s", r.SamplingRate, r.Ratio, suggest)
	default:
		r.Status = "ok"
	}
	return r
}
