package api

import (
	"context"
	"net"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/netstrata/netstrata/api/query"
	"github.com/netstrata/netstrata/internal/schema"
)

// socketSorts maps each `sort` value to the column alias it orders by.
var socketSorts = map[string]string{
	"bytes":           "bytes_total",
	"retransmits":     "retr",
	"rtt_avg":         "rtt_avg",
	"rtt_p95":         "rtt_p95",
	"rtt_p99":         "rtt_p99",
	"jitter":          "jitter",
	"connect_latency": "connect_latency",
	"last_seen":       "last_seen",
}

var socketSortNames = []string{"bytes", "connect_latency", "jitter", "last_seen", "retransmits", "rtt_avg", "rtt_p95", "rtt_p99"}

func (c *Component) socketsParams() []paramSpec {
	return append([]paramSpec{paramFrom, paramTo, paramLimit(c.cfg.MaxLimit),
		{Name: "sort", Type: "string", Enum: socketSortNames, Description: "Order, largest first (default bytes)."},
	}, socketFilterParams...)
}

// handleSockets lists sessions: one row per connection from the raw
// table over narrow ranges, one row per service endpoint (client ports
// folded) from sockets_1m over wide ones. The rollup keeps t-digest
// states, whose levels are only read at merge time: p95 is merged from
// the same states as p50 and p99.
func (c *Component) handleSockets(ctx context.Context, p *params) (any, error) {
	from, to, err := p.timeRange(time.Hour, c.cfg.MaxRange)
	if err != nil {
		return nil, err
	}
	limit, err := p.limit(50, c.cfg.MaxLimit)
	if err != nil {
		return nil, err
	}
	sortBy, err := p.enum("sort", "bytes", socketSortNames)
	if err != nil {
		return nil, err
	}
	return c.sessions(ctx, p, from, to, limit, sortBy)
}

// sessions reads the sessions of p's socket filters over [from, to).
func (c *Component) sessions(ctx context.Context, p *params, from, to time.Time, limit int, sortBy string) (*SocketsResponse, error) {
	q := &query.Builder{}
	needRaw, err := socketFilters(p, q)
	if err != nil {
		return nil, err
	}
	var sql, table string
	if needRaw || to.Sub(from) <= c.cfg.RawRange {
		table = schema.TableSockets
		query.TimeCond(q, schema.TimeColumn(schema.TableSockets), from, to)
		sql = `SELECT node, any(local_namespace), any(local_pod), any(comm), any(pid),
	local_ip, local_port, remote_ip, remote_port, toString(direction),
	sum(bytes_sent), sum(bytes_received), toUInt64(sum(retransmits)) AS retr,
	avg(srtt_us) AS rtt_avg, quantile(0.5)(srtt_us), quantile(0.95)(srtt_us) AS rtt_p95, quantile(0.99)(srtt_us) AS rtt_p99,
	avg(jitter_us) AS jitter, toFloat64(maxIf(connect_latency_us, connect_latency_us > 0)) AS connect_latency,
	min(time), max(time) AS last_seen, sum(bytes_sent) + sum(bytes_received) AS bytes_total
FROM ` + schema.TableSockets + ` WHERE ` + q.Where() + `
GROUP BY node, netns, socket_id, local_ip, local_port, remote_ip, remote_port, direction`
	} else {
		table = schema.TableSockets1m
		query.TimeCond(q, "time", from.Truncate(time.Minute), to)
		sql = `SELECT node, local_namespace, local_pod, comm, toUInt32(0),
	local_ip, local_port, remote_ip, remote_port, toString(direction),
	sum(bytes_sent), sum(bytes_received), sum(retransmits) AS retr,
	toFloat64((quantilesTDigestMerge(0.5, 0.95, 0.99)(srtt_us) AS rtt_q)[1]) AS rtt_avg, rtt_avg, toFloat64(rtt_q[2]) AS rtt_p95, toFloat64(rtt_q[3]) AS rtt_p99,
	toFloat64(quantilesTDigestMerge(0.5, 0.9, 0.99)(jitter_us)[1]) AS jitter,
	toFloat64(if(sum(connects) > 0, quantilesTDigestMerge(0.5, 0.9, 0.99)(connect_latency_us)[1], 0)) AS connect_latency,
	toDateTime64(min(time), 3), toDateTime64(max(time), 3) + toIntervalMinute(1) AS last_seen, sum(bytes_sent) + sum(bytes_received) AS bytes_total
FROM ` + schema.TableSockets1m + ` WHERE ` + q.Where() + `
GROUP BY node, local_namespace, local_pod, comm, local_ip, local_port, remote_ip, remote_port, direction`
	}
	sql += "\nORDER BY " + socketSorts[sortBy] + " DESC\nLIMIT " + q.Bind("UInt32", uint32(limit))
	resp := &SocketsResponse{Range: Range{From: from, To: to, Source: table}, Sort: sortBy, Session: []Session{}}
	err = c.run(ctx, "sockets", sql, q.Args, func(rows driver.Rows) error {
		var s Session
		var lip, rip net.IP
		var total uint64
		if err := rows.Scan(&s.Node, &s.Namespace, &s.Pod, &s.Process, &s.PID, &lip, &s.LocalPort, &rip, &s.RemotePort, &s.Direction,
			&s.BytesSent, &s.BytesReceived, &s.Retransmits, &s.RTTAvgUs, &s.RTTP50Us, &s.RTTP95Us, &s.RTTP99Us, &s.JitterUs, &s.ConnectLatencyUs,
			&s.FirstSeen, &s.LastSeen, &total); err != nil {
			return err
		}
		s.LocalIP, s.RemoteIP = query.IPString(lip), query.IPString(rip)
		s.FirstSeen, s.LastSeen = s.FirstSeen.UTC(), s.LastSeen.UTC()
		resp.Session = append(resp.Session, s)
		return nil
	})
	return resp, err
}
