package api

import (
	"context"
	"net"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/netstrata/netstrata/api/apiv1"
	"github.com/netstrata/netstrata/api/query"
	"github.com/netstrata/netstrata/internal/schema"
)

// /status: each layer's health as the database sees it, for the
// console's Status page: flow exporters, SNMP devices, agents per node,
// and how fresh each topic's ingest is.

// StatusResponse is each layer's recent activity.
type StatusResponse struct {
	Since     time.Time        `json:"since" doc:"Start of the window the figures cover."`
	Exporters []ExporterStatus `json:"exporters"`
	Devices   []DeviceStatus   `json:"devices"`
	Agents    []AgentStatus    `json:"agents"`
	Ingest    []IngestStatus   `json:"ingest"`
}

// ExporterStatus is one flow exporter.
type ExporterStatus struct {
	IP              string    `json:"ip"`
	Name            string    `json:"name"`
	LastSeen        time.Time `json:"last_seen"`
	MinSamplingRate uint64    `json:"min_sampling_rate"`
	MaxSamplingRate uint64    `json:"max_sampling_rate"`
	Flows           uint64    `json:"flows"`
	Interfaces      uint64    `json:"interfaces" doc:"Distinct input interfaces in its flows."`
	SequenceLost    uint64    `json:"sequence_lost" doc:"Export units its sequence numbers showed lost in the window (NetFlow v5 flows, IPFIX data records, NetFlow v9 export packets, sFlow datagrams; see the flows table's sequence_lost), from stored flows."`
}

// DeviceStatus is one SNMP device.
type DeviceStatus struct {
	Device         string    `json:"device"`
	IP             string    `json:"ip"`
	LastPoll       time.Time `json:"last_poll"`
	Interfaces     uint64    `json:"interfaces"`
	Polls          uint64    `json:"polls"`
	InvalidRates   uint64    `json:"invalid_rates" doc:"Polls whose rate could not be computed (first poll, counter reset or wrap, over speed)."`
	CounterResets  uint64    `json:"counter_resets"`
	ErrorsDiscards uint64    `json:"errors_discards" doc:"Interface errors and discards counted in the window."`
}

// AgentStatus is the eBPF agent of one node.
type AgentStatus struct {
	Node     string    `json:"node"`
	LastSeen time.Time `json:"last_seen"`
	Sockets  uint64    `json:"sockets"`
	Reports  uint64    `json:"reports"`
	Strategy string    `json:"strategy" doc:"The walk the agent read its latest sockets with (tcp_iter, sk_storage_iter); empty from agents older than the field."`
}

// IngestStatus is how far the correlator has stored a topic.
type IngestStatus struct {
	Topic      string    `json:"topic"`
	Rows       uint64    `json:"rows"`
	Updated    time.Time `json:"updated"`
	AgeSeconds float64   `json:"age_seconds" doc:"Seconds since the last stored batch."`
}

func (c *Component) statusRoute() route {
	return route{Path: apiPrefix + "/status", Tag: "meta", Summary: "Each layer's recent activity: exporters, SNMP devices, agents, ingest freshness",
		Params:   []paramSpec{{Name: "since", Type: "string", Format: "duration", Description: "Window before now (default 15m, up to the maximum range)."}},
		Response: StatusResponse{}, handle: c.handleStatus}
}

func (c *Component) handleStatus(ctx context.Context, p *params) (any, error) {
	since := 15 * time.Minute
	if v := p.str("since"); v != "" {
		d, err := apiv1.ParseDuration(v)
		if err != nil || d > c.cfg.MaxRange {
			return nil, badParam("since", "%q is not a duration up to %s", clip(v), c.cfg.MaxRange)
		}
		since = d
	}
	from := p.now.Add(-since)
	resp := StatusResponse{Since: from.UTC(), Exporters: []ExporterStatus{}, Devices: []DeviceStatus{}, Agents: []AgentStatus{}, Ingest: []IngestStatus{}}
	for _, part := range []func(context.Context, time.Time, *StatusResponse) error{c.exporterStatus, c.deviceStatus, c.agentStatus, c.ingestStatus} {
		if err := part(ctx, from, &resp); err != nil {
			return nil, err
		}
	}
	for i := range resp.Ingest {
		resp.Ingest[i].AgeSeconds = apiv1.Round(p.now.Sub(resp.Ingest[i].Updated).Seconds(), 1)
	}
	return resp, nil
}

// recent runs a status query over the rows of its table from a time on:
// sql has "{recent}" where the condition goes.
func (c *Component) recent(ctx context.Context, name, sql, timeCol string, from time.Time, scan func(driver.Rows) error) error {
	q := &query.Builder{}
	q.And(timeCol + " >= " + q.Bind("DateTime64(3, 'UTC')", query.Time(from)))
	return c.run(ctx, name, strings.Replace(sql, "{recent}", q.Where(), 1), q.Args, scan)
}

func (c *Component) exporterStatus(ctx context.Context, from time.Time, r *StatusResponse) error {
	sql := `SELECT exporter_ip, any(exporter_name), max(time_received), min(sampling_rate), max(sampling_rate), count(), uniq(in_if), sum(` + schema.FlowSequenceLost + `)
FROM ` + schema.TableFlows + ` WHERE {recent} GROUP BY exporter_ip ORDER BY exporter_ip LIMIT 1000`
	return c.recent(ctx, "status_exporters", sql, schema.TimeColumn(schema.TableFlows), from, func(rows driver.Rows) error {
		var e ExporterStatus
		var ip net.IP
		if err := rows.Scan(&ip, &e.Name, &e.LastSeen, &e.MinSamplingRate, &e.MaxSamplingRate, &e.Flows, &e.Interfaces, &e.SequenceLost); err != nil {
			return err
		}
		e.IP, e.LastSeen = query.IPString(ip), e.LastSeen.UTC()
		r.Exporters = append(r.Exporters, e)
		return nil
	})
}

func (c *Component) deviceStatus(ctx context.Context, from time.Time, r *StatusResponse) error {
	sql := `SELECT device, argMax(device_ip, time), max(time), uniq(if_index), count(), countIf(NOT rate_valid), countIf(counter_reset OR counter_wrap),
	sum(delta_in_errors + delta_out_errors + delta_in_discards + delta_out_discards)
FROM ` + schema.TableIfStats + ` WHERE {recent} GROUP BY device ORDER BY device LIMIT 10000`
	return c.recent(ctx, "status_devices", sql, schema.TimeColumn(schema.TableIfStats), from, func(rows driver.Rows) error {
		var d DeviceStatus
		var ip net.IP
		if err := rows.Scan(&d.Device, &ip, &d.LastPoll, &d.Interfaces, &d.Polls, &d.InvalidRates, &d.CounterResets, &d.ErrorsDiscards); err != nil {
			return err
		}
		d.IP, d.LastPoll = query.IPString(ip), d.LastPoll.UTC()
		r.Devices = append(r.Devices, d)
		return nil
	})
}

func (c *Component) agentStatus(ctx context.Context, from time.Time, r *StatusResponse) error {
	sql := `SELECT node, max(time), uniq(socket_id), count(), argMax(agent_strategy, time) FROM ` + schema.TableSockets + ` WHERE {recent} GROUP BY node ORDER BY node LIMIT 10000`
	return c.recent(ctx, "status_agents", sql, schema.TimeColumn(schema.TableSockets), from, func(rows driver.Rows) error {
		var a AgentStatus
		if err := rows.Scan(&a.Node, &a.LastSeen, &a.Sockets, &a.Reports, &a.Strategy); err != nil {
			return err
		}
		a.LastSeen = a.LastSeen.UTC()
		r.Agents = append(r.Agents, a)
		return nil
	})
}

func (c *Component) ingestStatus(ctx context.Context, _ time.Time, r *StatusResponse) error {
	sql := `SELECT topic, sum(rows), max(updated) FROM ` + schema.TableIngestProgress + ` GROUP BY topic ORDER BY topic`
	return c.run(ctx, "status_ingest", sql, nil, func(rows driver.Rows) error {
		var s IngestStatus
		if err := rows.Scan(&s.Topic, &s.Rows, &s.Updated); err != nil {
			return err
		}
		s.Updated = s.Updated.UTC()
		r.Ingest = append(r.Ingest, s)
		return nil
	})
}
