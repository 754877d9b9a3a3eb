package schematest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// Synthetic loads generate raw rows inside ClickHouse (INSERT … SELECT
// FROM numbers()), as the correlator would write them: the materialized
// views fill the rollups. They make large, regular data sets cheaply
// (benchmarks) and steady baselines and spikes (alerting tests).

// SocketLoad is Clients client pods of a node talking to one service:
// one socket row per client per Step from From, Steps steps long.
type SocketLoad struct {
	Node, Namespace     string
	ClientPrefix        string // client pods are <prefix>0, <prefix>1, …; their IPs 10.1.<Subnet>.10+i
	Subnet              int
	Clients             int
	ServicePod, Service string // the service's pod and IP
	ServiceNode         string
	Port                uint16
	Services            int // > 1: Services distinct service ports Port, Port+1, … (one per client modulo)
	From                time.Time
	Step                time.Duration
	Steps               int
	Bytes               uint64 // sent per client per step
	RTTUs, JitterUs     uint32
	Retransmits         uint32 // per client per step
}

// InsertSockets writes l's rows.
func InsertSockets(tb testing.TB, conn driver.Conn, l SocketLoad) {
	tb.Helper()
	services := max(l.Services, 1)
	exec(tb, conn, `INSERT INTO sockets (time, interval_ms, node, netns, socket_id, local_ip, local_port, remote_ip, remote_port,
			direction, pid, comm, local_pod, local_namespace, remote_pod, remote_namespace, remote_node,
			bytes_sent, bytes_received, segs_out, segs_in, retransmits, srtt_us, srtt_min_us, srtt_max_us, jitter_us, state)
		SELECT {from:DateTime64(3)} + toIntervalMillisecond(intDiv(number, {clients:UInt32}) * {step:UInt32}) AS t,
			{step:UInt32}, {node:String}, 4026531840, 100 + number % {clients:UInt32},
			toIPv6(concat('::ffff:10.1.', toString({subnet:UInt8}), '.', toString(10 + number % {clients:UInt32} % 240))),
			40000 + number % {clients:UInt32}, toIPv6({service:String}), {port:UInt16} + number % {clients:UInt32} % {services:UInt32},
			'client', 1000, 'frontend', concat({prefix:String}, toString(number % {clients:UInt32})), {ns:String},
			{spod:String}, {ns:String}, {snode:String},
			{bytes:UInt64}, intDiv({bytes:UInt64}, 5), intDiv({bytes:UInt64}, 1448) + 1, intDiv({bytes:UInt64}, 7240) + 1,
			{retr:UInt32}, {rtt:UInt32}, intDiv({rtt:UInt32} * 9, 10), intDiv({rtt:UInt32} * 12, 10), {jitter:UInt32}, 1
		FROM numbers({n:UInt64})`,
		clickhouse.Named("from", chTime(l.From)), clickhouse.Named("clients", uint32(l.Clients)), clickhouse.Named("step", uint32(l.Step.Milliseconds())),
		clickhouse.Named("node", l.Node), clickhouse.Named("subnet", uint8(l.Subnet)), clickhouse.Named("service", ip6(l.Service)),
		clickhouse.Named("port", l.Port), clickhouse.Named("services", uint32(services)), clickhouse.Named("prefix", l.ClientPrefix),
		clickhouse.Named("ns", l.Namespace), clickhouse.Named("spod", l.ServicePod), clickhouse.Named("snode", l.ServiceNode),
		clickhouse.Named("bytes", l.Bytes), clickhouse.Named("retr", l.Retransmits), clickhouse.Named("rtt", l.RTTUs),
		clickhouse.Named("jitter", l.JitterUs), clickhouse.Named("n", uint64(l.Clients*l.Steps)))
}

// FlowLoad is the flows of a SocketLoad as one exporter saw them
// (sampling 1:Sampling), one flow per client per step.
type FlowLoad struct {
	SocketLoad
	Exporter    string
	InIf, OutIf uint32
	Sampling    uint64
}

// InsertFlows writes l's rows.
func InsertFlows(tb testing.TB, conn driver.Conn, l FlowLoad) {
	tb.Helper()
	exec(tb, conn, `INSERT INTO flows (time_received, time_flow_start, time_flow_end, flow_type, exporter_ip, sampling_rate, in_if, out_if,
			src_ip, dst_ip, src_port, dst_port, proto, bytes, packets, application, src_pod, src_namespace, src_node, dst_pod, dst_namespace, dst_node)
		SELECT {from:DateTime64(3)} + toIntervalMillisecond(intDiv(number, {clients:UInt32}) * {step:UInt32}) AS t,
			t - toIntervalMillisecond({step:UInt32}), t, 'ipfix', toIPv6({exporter:String}), {sampling:UInt64}, {in:UInt32}, {out:UInt32},
			toIPv6(concat('::ffff:10.1.', toString({subnet:UInt8}), '.', toString(10 + number % {clients:UInt32} % 240))), toIPv6({service:String}),
			40000 + number % {clients:UInt32}, {port:UInt16}, 6, intDiv({bytes:UInt64}, {sampling:UInt64}), intDiv({bytes:UInt64}, 1448 * {sampling:UInt64}) + 1, 'http-alt',
			concat({prefix:String}, toString(number % {clients:UInt32})), {ns:String}, {node:String}, {spod:String}, {ns:String}, {snode:String}
		FROM numbers({n:UInt64})`,
		clickhouse.Named("from", chTime(l.From)), clickhouse.Named("clients", uint32(l.Clients)), clickhouse.Named("step", uint32(l.Step.Milliseconds())),
		clickhouse.Named("exporter", ip6(l.Exporter)), clickhouse.Named("sampling", max(l.Sampling, 1)), clickhouse.Named("in", l.InIf), clickhouse.Named("out", l.OutIf),
		clickhouse.Named("subnet", uint8(l.Subnet)), clickhouse.Named("service", ip6(l.Service)), clickhouse.Named("port", l.Port),
		clickhouse.Named("bytes", l.Bytes), clickhouse.Named("prefix", l.ClientPrefix), clickhouse.Named("ns", l.Namespace),
		clickhouse.Named("node", l.Node), clickhouse.Named("spod", l.ServicePod), clickhouse.Named("snode", l.ServiceNode),
		clickhouse.Named("n", uint64(l.Clients*l.Steps)))
}

// IfLoad is Devices devices of Interfaces interfaces each, polled every
// Step from From for Steps polls, each interface at Utilisation of
// SpeedBps in and half of it out. Devices are sw0, sw1, … at 10.0.x.y.
type IfLoad struct {
	Devices, Interfaces int
	From                time.Time
	Step                time.Duration
	Steps               int
	SpeedBps            uint64
	Utilisation         float64
}

// InsertIfStats writes l's rows.
func InsertIfStats(tb testing.TB, conn driver.Conn, l IfLoad) {
	tb.Helper()
	exec(tb, conn, `INSERT INTO ifstats (time, prev_time, device, device_ip, sys_name, if_index, if_name, speed_bps, oper_status, admin_status,
			hc_counters, rate_valid, delta_in_octets, delta_out_octets, in_bps, out_bps, in_utilization, out_utilization)
		SELECT {from:DateTime64(3)} + toIntervalMillisecond(intDiv(number, {per:UInt32}) * {step:UInt32}) AS t,
			t - toIntervalMillisecond({step:UInt32}) AS prev, concat('sw', toString(intDiv(number % {per:UInt32}, {ifs:UInt32}))) AS dev,
			toIPv6(concat('::ffff:10.0.', toString(intDiv(intDiv(number % {per:UInt32}, {ifs:UInt32}), 250)), '.', toString(intDiv(number % {per:UInt32}, {ifs:UInt32}) % 250 + 1))),
			dev, 1 + number % {ifs:UInt32}, concat('eth', toString(1 + number % {ifs:UInt32})), {speed:UInt64}, 1, 1, true, true,
			toUInt64({util:Float64} * {speed:UInt64} / 8 * {step:UInt32} / 1000), toUInt64({util:Float64} * {speed:UInt64} / 16 * {step:UInt32} / 1000),
			{util:Float64} * {speed:UInt64}, {util:Float64} * {speed:UInt64} / 2, {util:Float64}, {util:Float64} / 2
		FROM numbers({n:UInt64})`,
		clickhouse.Named("from", chTime(l.From)), clickhouse.Named("per", uint32(l.Devices*l.Interfaces)), clickhouse.Named("ifs", uint32(l.Interfaces)),
		clickhouse.Named("step", uint32(l.Step.Milliseconds())), clickhouse.Named("speed", l.SpeedBps), clickhouse.Named("util", l.Utilisation),
		clickhouse.Named("n", uint64(l.Devices*l.Interfaces*l.Steps)))
}

func exec(tb testing.TB, conn driver.Conn, sql string, args ...any) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := conn.Exec(ctx, sql, args...); err != nil {
		tb.Fatalf("synthetic load: %v", err)
	}
}

func chTime(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05.000") }

// ip6 is the text form the IPv6 columns parse: IPv4 as ::ffff:a.b.c.d.
func ip6(s string) string {
	if s == "" || strings.Contains(s, ":") {
		return s
	}
	return "::ffff:" + s
}
