package demo

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/netstrata/netstrata/internal/chdb"
	"github.com/netstrata/netstrata/internal/store"
)

// Header sizes of the lab's TCP packets: IPv4 20 + TCP 20 + timestamps
// option 12 (what Linux sends on an established connection), and the
// Ethernet header that interface counters include.
const (
	IPTCPHeaderBytes = 52
	EthernetBytes    = 14
)

// Totals is what ClickHouse holds about the lab's traffic, per layer.
type Totals struct {
	// Agent (sockets): payload acknowledged, per side.
	SocketClientSent     uint64 // client sockets of node to the collector
	SocketServerReceived uint64 // the collector's accepted sockets
	SocketRows           uint64
	SocketDuplicates     uint64 // (netns, socket id, time) keys stored more than once
	SocketComms          []string
	// Flows from the exporter, × sampling rate: client→collector and back.
	FlowBytes, FlowPackets         uint64
	FlowBytesBack, FlowPacketsBack uint64
	FlowRows                       uint64
	FlowDuplicates                 uint64
	FlowInterfaceNames             []string // in_if_name the correlator joined from SNMP
	// SNMP: octet and packet deltas of the collector's bridge port, over
	// every valid poll (out = towards the collector).
	SNMPOutOctets, SNMPInOctets uint64
	SNMPOutPkts, SNMPInPkts     uint64
	SNMPPolls                   uint64
	SNMPDuplicates              uint64 // (device, ifIndex, poll time) stored more than once
	SNMPLastPoll                time.Time
}

// OpenStore connects to the run's embedded ClickHouse as its reader, with
// the credentials the engine wrote into its data dir.
func OpenStore(ctx context.Context, s Settings) (driver.Conn, error) {
	creds, err := chdb.ReadCredentials(filepath.Join(s.DataDir, "clickhouse"))
	if err != nil {
		return nil, err
	}
	cfg := store.DefaultConfiguration()
	cfg.Protocol = "http"
	cfg.Addresses = []string{s.ClickHouseAddr()}
	cfg.Username, cfg.Password = creds.Reader.User, creds.Reader.Password
	return store.Open(ctx, cfg)
}

// QueryTotals reads every layer's view of the lab's traffic to the
// collector since since.
func QueryTotals(ctx context.Context, conn driver.Conn, topo *Topology, node string, ifIndex int, since time.Time) (Totals, error) {
	var t Totals
	coll := topo.Collector.IP.String()
	port := uint16(CollectorPort)
	from := since.UTC().Truncate(time.Second)
	q := func(what, sql string, dest []any, args ...any) error {
		if err := conn.QueryRow(ctx, sql, args...).Scan(dest...); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		return nil
	}
	if err := q("sockets", `SELECT
	sumIf(bytes_sent, direction = 'client' AND remote_ip = toIPv6(?) AND remote_port = ?),
	sumIf(bytes_received, direction = 'server' AND local_ip = toIPv6(?) AND local_port = ?),
	count(), groupUniqArrayIf(toString(comm), direction = 'client' AND remote_port = ?)
FROM sockets WHERE node = ? AND time >= ?`,
		[]any{&t.SocketClientSent, &t.SocketServerReceived, &t.SocketRows, &t.SocketComms},
		coll, port, coll, port, port, node, from); err != nil {
		return t, err
	}
	if err := q("socket duplicates", `SELECT count() FROM (
	SELECT netns, socket_id, time, count() AS c FROM sockets WHERE node = ? AND time >= ?
	GROUP BY netns, socket_id, time HAVING c > 1)`, []any{&t.SocketDuplicates}, node, from); err != nil {
		return t, err
	}
	if err := q("flows", `SELECT
	sumIf(bytes * sampling_rate, dst_ip = toIPv6(?) AND dst_port = ?),
	sumIf(packets * sampling_rate, dst_ip = toIPv6(?) AND dst_port = ?),
	sumIf(bytes * sampling_rate, src_ip = toIPv6(?) AND src_port = ?),
	sumIf(packets * sampling_rate, src_ip = toIPv6(?) AND src_port = ?),
	count(), groupUniqArray(toString(in_if_name))
FROM flows WHERE exporter_ip = toIPv6('127.0.0.1') AND (in_if = ? OR out_if = ?) AND proto = 6 AND time_received >= ?`,
		[]any{&t.FlowBytes, &t.FlowPackets, &t.FlowBytesBack, &t.FlowPacketsBack, &t.FlowRows, &t.FlowInterfaceNames},
		coll, port, coll, port, coll, port, coll, port, uint32(ifIndex), uint32(ifIndex), from); err != nil {
		return t, err
	}
	if err := q("flow duplicates", `SELECT count() FROM (
	SELECT observation_domain, sequence, src_ip, src_port, dst_ip, dst_port, time_flow_start, time_flow_end, count() AS c
	FROM flows WHERE exporter_ip = toIPv6('127.0.0.1') AND time_received >= ?
	GROUP BY observation_domain, sequence, src_ip, src_port, dst_ip, dst_port, time_flow_start, time_flow_end HAVING c > 1)`,
		[]any{&t.FlowDuplicates}, from); err != nil {
		return t, err
	}
	if err := q("ifstats", `SELECT sumIf(delta_out_octets, rate_valid), sumIf(delta_in_octets, rate_valid),
	sumIf(delta_out_pkts, rate_valid), sumIf(delta_in_pkts, rate_valid), countIf(rate_valid), max(time)
FROM ifstats WHERE device_ip = toIPv6('127.0.0.1') AND if_index = ? AND time >= ?`,
		[]any{&t.SNMPOutOctets, &t.SNMPInOctets, &t.SNMPOutPkts, &t.SNMPInPkts, &t.SNMPPolls, &t.SNMPLastPoll},
		uint32(ifIndex), from); err != nil {
		return t, err
	}
	if err := q("ifstats duplicates", `SELECT count() FROM (
	SELECT device_ip, if_index, time, count() AS c FROM ifstats WHERE device_ip = toIPv6('127.0.0.1') AND time >= ?
	GROUP BY device_ip, if_index, time HAVING c > 1)`, []any{&t.SNMPDuplicates}, from); err != nil {
		return t, err
	}
	return t, nil
}

// FlowPayload estimates the payload inside the flows to the collector:
// their IP bytes less one IP+TCP header per packet.
func (t Totals) FlowPayload() int64 {
	return int64(t.FlowBytes) - int64(t.FlowPackets)*IPTCPHeaderBytes
}

// SNMPExpected is what the interface counters should show for the flows
// seen on it: the IP bytes of both directions plus an Ethernet header per
// packet.
func (t Totals) SNMPExpected() uint64 {
	return t.FlowBytes + t.FlowBytesBack + (t.FlowPackets+t.FlowPacketsBack)*EthernetBytes
}

// Report is the layers' agreement in a few lines.
func (t Totals) Report(sent int64) string {
	pct := func(a, b float64) string {
		if b == 0 {
			return "n/a"
		}
		return fmt.Sprintf("%+.2f%%", (a-b)/b*100)
	}
	snmp := t.SNMPOutOctets + t.SNMPInOctets
	return fmt.Sprintf(`  generator (payload written)   %14d B
  eBPF sockets, client sent     %14d B  (%s)
  eBPF sockets, server received %14d B  (%s)
  flows to :%d (IP bytes)     %14d B in %d packets; less %d B headers/packet = %d B payload (%s)
  flows back (ACKs)             %14d B in %d packets
  SNMP octets on the port, in+out %12d B in %d polls; expected from flows + %d B Ethernet/packet: %d B (%s)`,
		sent,
		t.SocketClientSent, pct(float64(t.SocketClientSent), float64(sent)),
		t.SocketServerReceived, pct(float64(t.SocketServerReceived), float64(sent)),
		CollectorPort, t.FlowBytes, t.FlowPackets, IPTCPHeaderBytes, t.FlowPayload(), pct(float64(t.FlowPayload()), float64(sent)),
		t.FlowBytesBack, t.FlowPacketsBack,
		snmp, t.SNMPPolls, EthernetBytes, t.SNMPExpected(), pct(float64(snmp), float64(t.SNMPExpected())))
}
