package alerting

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/netstrata/netstrata/internal/schema"
)

// interfaceSeries is the identity of an SNMP interface.
func interfaceSeries(device string, ifIndex uint32, ifName string) series {
	return series{
		labels:  map[string]string{"device": device, "if_index": strconv.FormatUint(uint64(ifIndex), 10), "if_name": ifName},
		info:    map[string]string{},
		subject: subject{Device: device, IfIndex: ifIndex},
	}
}

// measureUtilisation is each interface's average utilisation over the
// window in its busier direction, from every valid poll.
func measureUtilisation(ctx context.Context, db *database, r Rule, now time.Time) ([]series, error) {
	sql := `SELECT device, if_index, any(if_name), avg(in_utilization) AS i, avg(out_utilization) AS o
		FROM ` + schema.TableIfStats + `
		WHERE time >= {from:DateTime64(3)} AND time < {to:DateTime64(3)} AND rate_valid AND speed_bps > 0
		GROUP BY device, if_index
		HAVING greatest(i, o) > {cut:Float64}
		ORDER BY greatest(i, o) DESC LIMIT {limit}`
	args := []any{named("from", chTime(now.Add(-r.Window))), named("to", chTime(now)), named("cut", r.ResolveThreshold)}
	var out []series
	err := db.query(ctx, r.Kind, sql, args, func(rows driver.Rows) error {
		var device, name string
		var idx uint32
		var in, outU float64
		if err := rows.Scan(&device, &idx, &name, &in, &outU); err != nil {
			return err
		}
		s := interfaceSeries(device, idx, name)
		s.value, s.info["direction"] = in, "in"
		if outU > in {
			s.value, s.info["direction"] = outU, "out"
		}
		out = append(out, s)
		return nil
	})
	return out, err
}

// measureSpike is each subject's traffic over the window against the
// median of its baseline before it: interfaces from each SNMP poll's rate,
// nodes from the agents' bytes in buckets of r.Resolution. A series is
// kept when it grew by more than r.Min bits/s.
func measureSpike(ctx context.Context, db *database, r Rule, now time.Time) ([]series, error) {
	end := now.Truncate(max(r.Resolution, time.Second)) // whole buckets only
	win := end.Add(-r.Window)
	args := []any{named("from", chTime(win.Add(-r.Baseline))), named("win", chTime(win)), named("to", chTime(end)),
		named("cut", r.ResolveThreshold), named("min", r.Min)}
	var inner, key string
	switch r.Subject {
	case SubjectInterface:
		key = "device, if_index"
		inner = `SELECT device, if_index, any(if_name) AS label, time AS t, sum(in_bps + out_bps) AS bps
			FROM ` + schema.TableIfStats + `
			WHERE time >= {from:DateTime64(3)} AND time < {to:DateTime64(3)} AND rate_valid
			GROUP BY device, if_index, t`
	default:
		key = "node"
		args = append(args, named("res", uint32(r.Resolution/time.Second)))
		inner = `SELECT node, node AS label, toStartOfInterval(time, toIntervalSecond({res:UInt32})) AS t,
				sum(bytes_sent + bytes_received) * 8 / {res:UInt32} AS bps
			FROM ` + schema.TableSockets + `
			WHERE time >= {from:DateTime64(3)} AND time < {to:DateTime64(3)}
			GROUP BY node, t`
	}
	sql := `SELECT ` + key + `, any(label), avgIf(bps, t >= {win:DateTime64(3)}) AS now_bps, medianIf(bps, t < {win:DateTime64(3)}) AS base_bps
		FROM (` + inner + `)
		GROUP BY ` + key + `
		HAVING countIf(t < {win:DateTime64(3)}) >= 3 AND countIf(t >= {win:DateTime64(3)}) >= 1
			AND now_bps - base_bps > {min:Float64} AND now_bps > {cut:Float64} * base_bps
		ORDER BY now_bps - base_bps DESC LIMIT {limit}`
	var out []series
	err := db.query(ctx, r.Kind, sql, args, func(rows driver.Rows) error {
		var s series
		var label string
		var nowBps, baseBps float64
		if r.Subject == SubjectInterface {
			var device string
			var idx uint32
			if err := rows.Scan(&device, &idx, &label, &nowBps, &baseBps); err != nil {
				return err
			}
			s = interfaceSeries(device, idx, label)
			s.info["subject"] = device + " " + label
		} else {
			var node string
			if err := rows.Scan(&node, &label, &nowBps, &baseBps); err != nil {
				return err
			}
			s = series{labels: map[string]string{"node": node}, info: map[string]string{"subject": "node " + node}, subject: subject{Node: node}}
		}
		s.value = nowBps / math.Max(baseBps, 1)
		s.info["rate"], s.info["baseline_rate"] = formatBps(nowBps), formatBps(baseBps)
		out = append(out, s)
		return nil
	})
	return out, err
}

// measureFlowSNMP compares, per interface that exports flows and
// direction, flow bytes × sampling rate with SNMP octets over whole
// 5-minute buckets; the value is how many times apart they are.
func measureFlowSNMP(ctx context.Context, db *database, r Rule, now time.Time) ([]series, error) {
	const bucket = 5 * time.Minute
	to := now.Truncate(bucket).Add(-bucket) // the last bucket is still filling
	sql := `SELECT s.device, s.if_index, s.if_name, s.snmp_in, s.snmp_out, f.flow_in, f.flow_out
		FROM (SELECT device_ip, device, if_index, any(if_name) AS if_name, sum(in_octets) AS snmp_in, sum(out_octets) AS snmp_out
			FROM ` + schema.TableInterfaceSNMP5m + ` WHERE time >= {from:DateTime} AND time < {to:DateTime}
			GROUP BY device_ip, device, if_index) AS s
		INNER JOIN (SELECT exporter_ip, if_index, sumIf(bytes, direction = 'in') AS flow_in, sumIf(bytes, direction = 'out') AS flow_out
			FROM ` + schema.TableInterfaceFlows5m + ` WHERE time >= {from:DateTime} AND time < {to:DateTime}
			GROUP BY exporter_ip, if_index) AS f
		ON s.device_ip = f.exporter_ip AND s.if_index = f.if_index
		WHERE s.snmp_in + s.snmp_out >= {min:Float64}
		ORDER BY s.snmp_in + s.snmp_out DESC LIMIT {limit}`
	args := []any{named("from", to.Add(-r.Window).UTC().Format(time.DateTime)), named("to", to.UTC().Format(time.DateTime)), named("min", r.Min)}
	var out []series
	err := db.query(ctx, r.Kind, sql, args, func(rows driver.Rows) error {
		var device, name string
		var idx uint32
		var snmpIn, snmpOut, flowIn, flowOut uint64
		if err := rows.Scan(&device, &idx, &name, &snmpIn, &snmpOut, &flowIn, &flowOut); err != nil {
			return err
		}
		s := interfaceSeries(device, idx, name)
		for _, d := range []struct {
			dir        string
			flow, snmp uint64
		}{{"in", flowIn, snmpIn}, {"out", flowOut, snmpOut}} {
			if d.flow == 0 || d.snmp == 0 {
				continue // this direction exports no flows, or SNMP saw nothing
			}
			ratio := float64(d.flow) / float64(d.snmp)
			if off := math.Max(ratio, 1/ratio); off > s.value {
				s.value, s.info["direction"], s.info["ratio"] = off, d.dir, fmt.Sprintf("%.2f", ratio)
			}
		}
		if s.value > r.ResolveThreshold {
			out = append(out, s)
		}
		return nil
	})
	return out, err
}
