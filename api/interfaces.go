package api

import (
	"context"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/netstrata/netstrata/api/apiv1"
	"github.com/netstrata/netstrata/api/query"
	"github.com/netstrata/netstrata/internal/schema"
)

var paramDevice = paramSpec{Name: "device", Type: "string", Description: "Device: its configured name, or its IP address (every device polled at that address)."}

func (c *Component) interfacesParams() []paramSpec {
	return []paramSpec{paramDevice,
		{Name: "if_index", Type: "integer", Maximum: 1<<32 - 1, Description: "Only this interface index."},
		{Name: "since", Type: "string", Format: "duration", Description: "Consider polls within this long before now (default 1h, e.g. 15m, 1d)."},
		paramLimit(c.cfg.MaxLimit)}
}

func (c *Component) seriesParams() []paramSpec {
	return []paramSpec{
		{Name: "device", Type: "string", Required: true, Description: paramDevice.Description},
		{Name: "if_index", Type: "integer", Required: true, Maximum: 1<<32 - 1, Description: "Interface index (SNMP ifIndex)."},
		paramFrom, paramTo,
		{Name: "step", Type: "string", Format: "duration", Description: "Bucket width, e.g. 1m, 5m (default: the range over at most max_points buckets, at least 1m)."},
	}
}

// deviceFilter restricts an ifstats-family table to device (name or IP).
func deviceFilter(p *params, q *query.Builder, required bool) error {
	if !p.has("device") {
		if required {
			return badParam("device", "required")
		}
		return nil
	}
	if a, ok, _ := p.ip("device"); ok {
		q.And("device_ip = " + q.Bind("IPv6", query.IPParam(a)))
		return nil
	}
	name, err := p.name("device")
	if err != nil {
		return err
	}
	q.And("device = " + q.Bind("String", name))
	return nil
}

// interfaceFilter restricts an ifstats-family table to the optional
// device and if_index parameters.
func interfaceFilter(p *params, q *query.Builder) error {
	if err := deviceFilter(p, q, false); err != nil {
		return err
	}
	n, ok, err := p.uint("if_index", 1<<32-1)
	if err != nil {
		return err
	}
	if ok {
		q.And("if_index = " + q.Bind("UInt32", uint32(n)))
	}
	return nil
}

func (c *Component) handleInterfaces(ctx context.Context, p *params) (any, error) {
	q := &query.Builder{}
	if err := interfaceFilter(p, q); err != nil {
		return nil, err
	}
	since := time.Hour
	if v := p.str("since"); v != "" {
		d, err := apiv1.ParseDuration(v)
		if err != nil || d > c.cfg.MaxRange {
			return nil, badParam("since", "%q is not a duration up to %s", clip(v), c.cfg.MaxRange)
		}
		since = d
	}
	limit, err := p.limit(c.cfg.MaxLimit, c.cfg.MaxLimit)
	if err != nil {
		return nil, err
	}
	query.TimeCond(q, "time", p.now.Add(-since), p.now.Add(time.Minute))
	// One row per device and ifIndex: two devices reached through one
	// address (a proxy, NAT, contexts of a chassis) are listed apart.
	sql := `SELECT device, argMax(device_ip, time), argMax(sys_name, time), argMax(snmp_engine_id, time), if_index,
	argMax(if_name, time), argMax(if_alias, time), argMax(if_descr, time), argMax(speed_bps, time),
	argMax(oper_status, time), argMax(admin_status, time), max(time),
	argMaxIf(in_bps, time, rate_valid), argMaxIf(out_bps, time, rate_valid),
	argMaxIf(in_pps, time, rate_valid), argMaxIf(out_pps, time, rate_valid),
	argMaxIf(delta_in_errors, time, rate_valid), argMaxIf(delta_out_errors, time, rate_valid),
	argMaxIf(delta_in_discards, time, rate_valid), argMaxIf(delta_out_discards, time, rate_valid),
	argMaxIf(in_utilization, time, rate_valid), argMaxIf(out_utilization, time, rate_valid)
FROM ` + schema.TableIfStats + ` WHERE ` + q.Where() + `
GROUP BY device, if_index
ORDER BY device, if_index
LIMIT ` + q.Bind("UInt32", uint32(limit))
	resp := InterfacesResponse{Interfaces: []Interface{}}
	err = c.run(ctx, "interfaces", sql, q.Args, func(rows driver.Rows) error {
		var i Interface
		var ip net.IP
		var oper, admin uint8
		if err := rows.Scan(append([]any{&i.Device, &ip, &i.SysName, &i.EngineID, &i.IfIndex, &i.Name, &i.Alias, &i.Description, &i.SpeedBps,
			&oper, &admin, &i.Time}, rateTargets(&i.Rates)...)...); err != nil {
			return err
		}
		i.DeviceIP, i.OperStatus, i.AdminStatus = query.IPString(ip), apiv1.OperStatus(oper), apiv1.OperStatus(admin)
		i.Time = i.Time.UTC()
		resp.Interfaces = append(resp.Interfaces, i)
		return nil
	})
	return resp, err
}

// autoStep is the bucket width of [from, to) over at most max_points
// buckets, at least a minute.
func (c *Component) autoStep(from, to time.Time) time.Duration {
	return max(time.Minute, (to.Sub(from)/time.Duration(c.cfg.MaxPoints) + time.Minute - 1).Truncate(time.Minute))
}

// step picks a bucket width: the requested one, else the range over at
// most max_points buckets; never under a minute, never more than
// max_points buckets.
func (c *Component) step(p *params, from, to time.Time) (time.Duration, error) {
	width, auto := to.Sub(from), c.autoStep(from, to)
	v := p.str("step")
	if v == "" {
		return auto, nil
	}
	d, err := apiv1.ParseDuration(v)
	if err != nil {
		return 0, badParam("step", "%v", err)
	}
	if d < time.Minute {
		return 0, badParam("step", "must be at least 1m")
	}
	if width/d > time.Duration(c.cfg.MaxPoints) {
		return 0, badParam("step", "%s gives more than %d points over %s; use at least %s", d, c.cfg.MaxPoints, width, auto)
	}
	return d.Truncate(time.Second), nil
}

func (c *Component) handleSeries(ctx context.Context, p *params) (any, error) {
	q := &query.Builder{}
	if err := deviceFilter(p, q, true); err != nil {
		return nil, err
	}
	idx, ok, err := p.uint("if_index", 1<<32-1)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, badParam("if_index", "required")
	}
	from, to, err := p.timeRange(time.Hour, c.cfg.MaxRange)
	if err != nil {
		return nil, err
	}
	step, err := c.step(p, from, to)
	if err != nil {
		return nil, err
	}
	resp, devices, err := c.interfaceSeries(ctx, q, uint32(idx), from, to, step)
	if err == nil && len(devices) > 1 {
		slices.Sort(devices)
		return nil, badParam("device", "%s reaches %d devices (%s): give one's name", clip(p.str("device")), len(devices), strings.Join(devices, ", "))
	}
	if resp.Device == "" {
		resp.Device = p.str("device")
	}
	return resp, err
}

// interfaceSeries is the series of interface idx of the devices q
// selects over [from, to) in steps, and the devices it found.
func (c *Component) interfaceSeries(ctx context.Context, q *query.Builder, idx uint32, from, to time.Time, step time.Duration) (SeriesResponse, []string, error) {
	q.And("if_index = " + q.Bind("UInt32", idx))
	query.TimeCond(q, "time", from, to)
	q.And("rate_valid")
	// Grouped by device too: an address may reach several devices, whose
	// series must not be averaged together.
	sql := `SELECT toStartOfInterval(time, toIntervalSecond(` + q.Bind("UInt32", uint32(step/time.Second)) + `)) AS t,
	device, avg(in_bps), avg(out_bps), avg(in_pps), avg(out_pps),
	sum(delta_in_errors), sum(delta_out_errors), sum(delta_in_discards), sum(delta_out_discards),
	avg(in_utilization), avg(out_utilization)
FROM ` + schema.TableIfStats + ` WHERE ` + q.Where() + `
GROUP BY t, device ORDER BY t, device`
	resp := SeriesResponse{Range: Range{From: from, To: to, Source: schema.TableIfStats}, IfIndex: idx,
		StepSeconds: int64(step / time.Second), Points: []SeriesPoint{}}
	var devices []string
	err := c.run(ctx, "interfaces_series", sql, q.Args, func(rows driver.Rows) error {
		var pt SeriesPoint
		if err := rows.Scan(append([]any{&pt.Time, &resp.Device}, rateTargets(&pt.Rates)...)...); err != nil {
			return err
		}
		if !slices.Contains(devices, resp.Device) {
			devices = append(devices, resp.Device)
		}
		pt.Time = pt.Time.UTC()
		resp.Points = append(resp.Points, pt)
		return nil
	})
	return resp, devices, err
}

// rateTargets are the fields of r in their order, for rows.Scan.
func rateTargets(r *Rates) []any {
	return []any{&r.InBps, &r.OutBps, &r.InPps, &r.OutPps, &r.InErrors, &r.OutErrors,
		&r.InDiscards, &r.OutDiscards, &r.InUtilization, &r.OutUtilization}
}
