package investigation

import (
	"context"
	"fmt"
	"math"
	"net"
	"sort"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/netstrata/netstrata/api/apiv1"
	"github.com/netstrata/netstrata/api/query"
	"github.com/netstrata/netstrata/internal/schema"
)

// flowSidesSQL sums flow bytes × sampling rate per exporter interface and
// 5 minutes by the side of the interface they crossed, as the exporter
// tells it. A flow with different in and out interfaces came in on one
// and left by the other. A flow whose in and out are the same interface
// was captured on that port (softflowd, a span port): its direction field
// is relative to the capture, which exporters do not agree on, so it is
// kept apart ("cap_in", "cap_out", "cap_either" without a direction). f0
// and f1 are placeholders of the range; whole 5 minutes are kept, as the
// SNMP rollup keeps them.
func flowSidesSQL(f0, f1 string) string {
	return `
	SELECT toStartOfFiveMinutes(time) AS t5, exporter_ip, if_index,
		sumIf(bytes, side = 'in') AS in_b, sumIf(bytes, side = 'out') AS out_b,
		sumIf(bytes, side = 'cap_in') AS cap_in_b, sumIf(bytes, side = 'cap_out') AS cap_out_b, sumIf(bytes, side = 'cap_either') AS cap_either_b
	FROM ` + schema.TableFlows1m + `
	ARRAY JOIN [in_if, out_if] AS if_index,
		[if(in_if != out_if, 'in', multiIf(direction = 'ingress', 'cap_in', direction = 'egress', 'cap_out', 'cap_either')),
		 if(in_if != out_if, 'out', '')] AS side
	WHERE time >= ` + f0 + ` AND t5 < ` + f1 + ` AND if_index != 0 AND side != ''
	GROUP BY t5, exporter_ip, if_index`
}

// ifSides is one interface's SNMP octets and flow bytes by side.
type ifSides struct {
	snmpIn, snmpOut       uint64
	flowIn, flowOut       uint64 // flows between two interfaces
	capIn, capOut, capAny uint64 // flows captured on the port, by the exporter's direction
	rate                  uint64 // the exporter's latest sampling rate
}

// minorShare is the share of an interface's flow bytes below which a
// kind of flow does not decide how the sides are compared.
const minorShare = 0.05

// rows are the reconciliation rows of an interface: one per direction
// when the sides are known; for flows captured on the port, the
// exporter's direction as SNMP's or as its reverse, whichever agrees;
// else (no direction, or neither agrees) one row of both sides together.
func (s ifSides) rows(r apiv1.Reconciliation) []apiv1.Reconciliation {
	total := s.flowIn + s.flowOut + s.capIn + s.capOut + s.capAny
	minor := func(v uint64) bool { return float64(v) <= minorShare*float64(total) }
	straight := s.sides(r, s.flowIn+s.capIn, s.flowOut+s.capOut)
	switch {
	case minor(s.capIn + s.capOut + s.capAny):
		return straight
	case !minor(s.capAny):
	case allOK(straight):
		return straight
	default:
		if swapped := s.sides(r, s.flowIn+s.capOut, s.flowOut+s.capIn); allOK(swapped) {
			for i := range swapped {
				swapped[i].Hint = "the exporter's direction on this capture port is the reverse of SNMP's (what it calls ingress leaves by the port): compared swapped"
			}
			return swapped
		}
	}
	if s.snmpIn+s.snmpOut < minReconcileBytes && total < minReconcileBytes {
		return nil
	}
	r.Direction, r.FlowBytes, r.SNMPBytes = "in+out", total, s.snmpIn+s.snmpOut
	return []apiv1.Reconciliation{judgeDirectionless(r)}
}

// sides judges flows in and out against SNMP's in and out.
func (s ifSides) sides(r apiv1.Reconciliation, in, out uint64) []apiv1.Reconciliation {
	var rows []apiv1.Reconciliation
	for _, d := range []struct {
		dir        string
		snmp, flow uint64
	}{{"in", s.snmpIn, in}, {"out", s.snmpOut, out}} {
		if d.snmp < minReconcileBytes && d.flow < minReconcileBytes {
			continue
		}
		r.Direction, r.FlowBytes, r.SNMPBytes = d.dir, d.flow, d.snmp
		rows = append(rows, judgeReconciliation(r))
	}
	return rows
}

func allOK(rows []apiv1.Reconciliation) bool {
	for _, r := range rows {
		if r.Status != "ok" {
			return false
		}
	}
	return len(rows) > 0
}

// judgeDirectionless judges flows whose direction the exporter does not
// give against both SNMP counters: agreement is still agreement, but a
// disagreement cannot be told from flows counted on the wrong side or
// interface, so it gets no verdict.
func judgeDirectionless(r apiv1.Reconciliation) apiv1.Reconciliation {
	r = judgeReconciliation(r)
	const why = "the exporter does not give the side of its flows on this port (same in and out ifIndex, no usable direction)"
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
func judgeReconciliation(r apiv1.Reconciliation) apiv1.Reconciliation {
	switch {
	case r.SNMPBytes == 0:
		r.Status, r.Hint = "no_snmp", "flows on an interface SNMP reports idle: check the ifIndex mapping"
		return r
	case r.FlowBytes == 0:
		r.Status, r.Hint = "no_flows", "SNMP counts traffic but no flows arrive for this interface: is the exporter configured for it?"
		return r
	}
	r.Ratio = apiv1.Round(float64(r.FlowBytes)/float64(r.SNMPBytes), 3)
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

// minReconcileBytes: below this much SNMP traffic in the range, a ratio
// says nothing.
const minReconcileBytes = 1 << 20

// Reconcile compares, per interface and direction, SNMP octets with flow
// bytes × sampling rate over the 5-minute buckets SNMP covered; filter is
// a condition on device_ip/if_index. Problems sort first.
func (c *Investigator) Reconcile(ctx context.Context, filter *query.Builder, from, to time.Time) ([]apiv1.Reconciliation, error) {
	q := filter.Clone()
	f0, f1 := q.Bind("DateTime('UTC')", from.Truncate(5*time.Minute).Format(time.DateTime)), q.Bind("DateTime('UTC')", to.Format(time.DateTime))
	sql := `SELECT toString(s.device_ip), s.if_index, s.device, any(s.if_name), sum(s.in_oct), sum(s.out_oct), sum(f.in_b), sum(f.out_b),
	sum(f.cap_in_b), sum(f.cap_out_b), sum(f.cap_either_b), any(sr.rate)
FROM (
	SELECT time, device_ip, device, if_index, any(if_name) AS if_name, sum(in_octets) AS in_oct, sum(out_octets) AS out_oct
	FROM ` + schema.TableInterfaceSNMP5m + `
	WHERE time >= ` + f0 + ` AND time < ` + f1 + ` AND ` + q.Where() + `
	GROUP BY time, device_ip, device, if_index
) AS s
LEFT JOIN (` + flowSidesSQL(f0, f1) + `) AS f ON s.time = f.t5 AND s.device_ip = f.exporter_ip AND s.if_index = f.if_index
LEFT JOIN (
	SELECT exporter_ip, argMax(sampling_rate, time_received) AS rate
	FROM ` + schema.TableFlows + `
	WHERE time_received >= greatest(` + f0 + `, ` + f1 + ` - toIntervalHour(1)) AND time_received < ` + f1 + `
	GROUP BY exporter_ip
) AS sr ON s.device_ip = sr.exporter_ip
GROUP BY s.device_ip, s.device, s.if_index`
	var out []apiv1.Reconciliation
	err := c.Run(ctx, "reconciliation", sql, q.Args, func(rows driver.Rows) error {
		var ip, device, name string
		var idx uint32
		var sides ifSides
		if err := rows.Scan(&ip, &idx, &device, &name, &sides.snmpIn, &sides.snmpOut, &sides.flowIn, &sides.flowOut, &sides.capIn, &sides.capOut, &sides.capAny, &sides.rate); err != nil {
			return err
		}
		exporter := ip
		if a := net.ParseIP(ip); a != nil {
			exporter = query.IPString(a)
		}
		out = append(out, sides.rows(apiv1.Reconciliation{Exporter: exporter, Device: device, IfIndex: idx, Interface: name, SamplingRate: sides.rate})...)
		return nil
	})
	sort.SliceStable(out, func(i, j int) bool { return (out[i].Status != "ok") && out[j].Status == "ok" })
	if out == nil {
		out = []apiv1.Reconciliation{}
	}
	return out, err
}
