package api

import (
	"context"
	"net"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/netstrata/netstrata/api/apiv1"
	"github.com/netstrata/netstrata/api/query"
	"github.com/netstrata/netstrata/internal/schema"
)

// /interfaces/summary: every interface over a range for the console's
// Interfaces table: the latest rates, the 95th percentile and peak over
// the range, errors and discards within it, and a sparkline.

// InterfacesSummary lists interfaces with their figures over a range.
type InterfacesSummary struct {
	Range
	StepSeconds int64              `json:"step_seconds" doc:"Width of each sparkline point."`
	Interfaces  []InterfaceSummary `json:"interfaces"`
}

// InterfaceSummary is one interface over the range.
type InterfaceSummary struct {
	Device         string    `json:"device"`
	DeviceIP       string    `json:"device_ip"`
	IfIndex        uint32    `json:"if_index"`
	Name           string    `json:"name"`
	Alias          string    `json:"alias"`
	SpeedBps       uint64    `json:"speed_bps"`
	OperStatus     string    `json:"oper_status"`
	LastPoll       time.Time `json:"last_poll"`
	InBps          float64   `json:"in_bps" doc:"Latest valid poll."`
	OutBps         float64   `json:"out_bps"`
	InUtilization  float64   `json:"in_utilization" doc:"Latest valid poll, 0..1 of speed."`
	OutUtilization float64   `json:"out_utilization"`
	P95InBps       float64   `json:"p95_in_bps" doc:"95th percentile of the polls in the range."`
	P95OutBps      float64   `json:"p95_out_bps"`
	MaxInBps       float64   `json:"max_in_bps"`
	MaxOutBps      float64   `json:"max_out_bps"`
	Errors         uint64    `json:"errors" doc:"In and out errors counted within the range."`
	Discards       uint64    `json:"discards" doc:"In and out discards counted within the range."`
	SparkIn        []float64 `json:"spark_in" doc:"Average in bps per step over the range (0 where no poll)."`
	SparkOut       []float64 `json:"spark_out"`
}

func (c *Component) interfacesSummaryRoute() route {
	return route{Path: apiPrefix + "/interfaces/summary", Tag: "interfaces", Summary: "Interfaces over a range: latest rates, p95, peak, errors, sparkline",
		Params: []paramSpec{paramDevice, paramFrom, paramTo,
			{Name: "points", Type: "integer", Minimum: 10, Maximum: 200, Description: "Sparkline points, at most (default 40); a point is at least a minute."}},
		Response: InterfacesSummary{}, handle: c.handleInterfacesSummary}
}

func (c *Component) handleInterfacesSummary(ctx context.Context, p *params) (any, error) {
	from, to, err := p.timeRange(time.Hour, c.cfg.MaxRange)
	if err != nil {
		return nil, err
	}
	points, _, err := p.integer(paramSpec{Name: "points", Minimum: 10, Maximum: 200})
	if err != nil {
		return nil, err
	}
	q := &query.Builder{}
	if err := deviceFilter(p, q, false); err != nil {
		return nil, err
	}
	query.TimeCond(q, "time", from, to)
	step := max(time.Minute, (to.Sub(from)/time.Duration(cmp(points, 40)) + time.Minute - 1).Truncate(time.Minute))
	start := from.Truncate(step)
	n := int((to.Sub(start) + step - 1) / step)
	resp := InterfacesSummary{Range: Range{From: from, To: to, Source: schema.TableIfStats}, StepSeconds: int64(step / time.Second), Interfaces: []InterfaceSummary{}}
	type key struct {
		device string
		idx    uint32
	}
	at := map[key]int{}
	sql := `SELECT device, argMax(device_ip, time), if_index, argMax(if_name, time), argMax(if_alias, time), argMax(speed_bps, time),
	argMax(oper_status, time), max(time),
	argMaxIf(in_bps, time, rate_valid), argMaxIf(out_bps, time, rate_valid),
	argMaxIf(in_utilization, time, rate_valid), argMaxIf(out_utilization, time, rate_valid),
	quantileIf(0.95)(in_bps, rate_valid), quantileIf(0.95)(out_bps, rate_valid), maxIf(in_bps, rate_valid), maxIf(out_bps, rate_valid),
	sumIf(delta_in_errors + delta_out_errors, rate_valid), sumIf(delta_in_discards + delta_out_discards, rate_valid)
FROM ` + schema.TableIfStats + ` WHERE ` + q.Where() + `
GROUP BY device, if_index ORDER BY device, if_index LIMIT ` + q.Bind("UInt32", uint32(c.cfg.MaxLimit))
	err = c.run(ctx, "interfaces_summary", sql, q.Args, func(rows driver.Rows) error {
		var s InterfaceSummary
		var ip net.IP
		var oper uint8
		if err := rows.Scan(&s.Device, &ip, &s.IfIndex, &s.Name, &s.Alias, &s.SpeedBps, &oper, &s.LastPoll,
			&s.InBps, &s.OutBps, &s.InUtilization, &s.OutUtilization, &s.P95InBps, &s.P95OutBps, &s.MaxInBps, &s.MaxOutBps, &s.Errors, &s.Discards); err != nil {
			return err
		}
		s.DeviceIP, s.OperStatus, s.LastPoll = query.IPString(ip), apiv1.OperStatus(oper), s.LastPoll.UTC()
		for _, f := range []*float64{&s.P95InBps, &s.P95OutBps, &s.MaxInBps, &s.MaxOutBps} {
			*f = nanZero(*f) // no valid poll in the range
		}
		s.SparkIn, s.SparkOut = make([]float64, n), make([]float64, n)
		at[key{s.Device, s.IfIndex}] = len(resp.Interfaces)
		resp.Interfaces = append(resp.Interfaces, s)
		return nil
	})
	if err != nil {
		return nil, err
	}
	spark := `SELECT device, if_index, toStartOfInterval(time, toIntervalSecond(` + q.Bind("UInt32", uint32(step/time.Second)) + `)) AS t,
	avgIf(in_bps, rate_valid), avgIf(out_bps, rate_valid)
FROM ` + schema.TableIfStats + ` WHERE ` + q.Where() + ` GROUP BY device, if_index, t`
	err = c.run(ctx, "interfaces_spark", spark, q.Args, func(rows driver.Rows) error {
		var k key
		var t time.Time
		var in, out float64
		if err := rows.Scan(&k.device, &k.idx, &t, &in, &out); err != nil {
			return err
		}
		i, ok := at[k]
		b := int(t.Sub(start) / step)
		if ok && b >= 0 && b < n {
			resp.Interfaces[i].SparkIn[b], resp.Interfaces[i].SparkOut[b] = nanZero(in), nanZero(out)
		}
		return nil
	})
	return resp, err
}

// nanZero is v, or 0 for the NaN of an average over no valid poll.
func nanZero(v float64) float64 {
	if v != v {
		return 0
	}
	return v
}
