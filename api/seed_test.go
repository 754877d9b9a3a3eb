package api

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/netstrata/netstrata/internal/store"
)

// The seeders write raw rows as the correlator would; the materialized
// views fill the rollups.

type sockRow struct {
	t                  time.Time
	node               string
	id                 uint64
	lip                string
	lport              uint16
	rip                string
	rport              uint16
	dir                string
	comm               string
	ns, pod            string
	rns, rpod, rnode   string
	sent, recv         uint64
	retr               uint32
	srtt, jitter, conn uint32
	interval           time.Duration // the agent interval ending at t; a minute when 0
}

func ip16(s string) net.IP { return net.ParseIP(s).To16() }

func insertSockets(t testing.TB, conn driver.Conn, rows []sockRow) {
	t.Helper()
	cols := []string{"time", "interval_ms", "node", "netns", "socket_id", "local_ip", "local_port", "remote_ip", "remote_port", "direction",
		"pid", "comm", "local_pod", "local_namespace", "remote_pod", "remote_namespace", "remote_node",
		"bytes_sent", "bytes_received", "segs_out", "segs_in", "retransmits", "srtt_us", "srtt_min_us", "srtt_max_us", "jitter_us", "connect_latency_us", "state", "agent_strategy"}
	err := store.Insert(context.Background(), conn, "sockets", cols, "", func(b driver.Batch) error {
		for _, r := range rows {
			interval := r.interval
			if interval == 0 {
				interval = time.Minute
			}
			if err := b.Append(r.t, uint32(interval.Milliseconds()), r.node, uint64(4026531840), r.id, ip16(r.lip), r.lport, ip16(r.rip), r.rport, r.dir,
				uint32(1000+r.id%100), r.comm, r.pod, r.ns, r.rpod, r.rns, r.rnode,
				r.sent, r.recv, r.sent/1448+1, r.recv/1448+1, r.retr, r.srtt, r.srtt*9/10, r.srtt*12/10, r.jitter, r.conn, uint8(1), "tcp_iter"); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

type flowRow struct {
	t                time.Time
	exporter         string
	sampling         uint64
	inIf, outIf      uint32
	src, dst         string
	sport, dport     uint16
	bytes, packets   uint64
	app              string
	spod, sns, snode string
	dpod, dns, dnode string
	life             time.Duration // the flow's start–end, ending at t; a minute when 0
	lost             uint32        // sequence_lost: export units its datagram showed lost
}

func insertFlows(t testing.TB, conn driver.Conn, rows []flowRow) {
	t.Helper()
	cols := []string{"time_received", "time_flow_start", "time_flow_end", "flow_type", "exporter_ip", "sampling_rate", "in_if", "out_if",
		"src_ip", "dst_ip", "src_port", "dst_port", "proto", "bytes", "packets", "application",
		"src_pod", "src_namespace", "src_node", "dst_pod", "dst_namespace", "dst_node", "sequence_lost"}
	err := store.Insert(context.Background(), conn, "flows", cols, "", func(b driver.Batch) error {
		for _, r := range rows {
			life := r.life
			if life == 0 {
				life = time.Minute
			}
			if err := b.Append(r.t, r.t.Add(-life), r.t, "ipfix", ip16(r.exporter), r.sampling, r.inIf, r.outIf,
				ip16(r.src), ip16(r.dst), r.sport, r.dport, uint8(6), r.bytes, r.packets, r.app,
				r.spod, r.sns, r.snode, r.dpod, r.dns, r.dnode, r.lost); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

type ifRow struct {
	t              time.Time
	device, ip     string
	idx            uint32
	name           string
	speed          uint64
	inOct, outOct  uint64 // deltas over the minute before t
	inErr, discard uint64
	interval       time.Duration // since the poll before; a minute when 0
}

func insertIfStats(t testing.TB, conn driver.Conn, rows []ifRow) {
	t.Helper()
	cols := []string{"time", "prev_time", "device", "device_ip", "sys_name", "if_index", "if_name", "if_alias", "speed_bps", "oper_status", "admin_status",
		"hc_counters", "rate_valid", "delta_in_octets", "delta_out_octets", "delta_in_pkts", "delta_out_pkts", "delta_in_errors", "delta_in_discards",
		"in_bps", "out_bps", "in_pps", "out_pps", "in_utilization", "out_utilization"}
	err := store.Insert(context.Background(), conn, "ifstats", cols, "", func(b driver.Batch) error {
		for _, r := range rows {
			interval := r.interval
			if interval == 0 {
				interval = time.Minute
			}
			inBps, outBps := float64(r.inOct)*8/interval.Seconds(), float64(r.outOct)*8/interval.Seconds()
			if err := b.Append(r.t, r.t.Add(-interval), r.device, ip16(r.ip), r.device, r.idx, r.name, "", r.speed, uint8(1), uint8(1),
				true, true, r.inOct, r.outOct, r.inOct/1000, r.outOct/1000, r.inErr, r.discard,
				inBps, outBps, inBps/8000, outBps/8000, inBps/float64(r.speed), outBps/float64(r.speed)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

type podRow struct {
	t                   time.Time
	ns, name, node, ip  string
	phase               string
	restarts            uint32
	ownerKind, ownerNam string
}

func insertPods(t testing.TB, conn driver.Conn, rows []podRow) {
	t.Helper()
	cols := []string{"time", "uid", "name", "namespace", "node", "ips", "owner_kind", "owner_name", "phase", "restarts", "start_time"}
	err := store.Insert(context.Background(), conn, "pods", cols, "", func(b driver.Batch) error {
		for _, r := range rows {
			if err := b.Append(r.t, r.ns+"-"+r.name, r.name, r.ns, r.node, []net.IP{ip16(r.ip)}, r.ownerKind, r.ownerNam, r.phase, r.restarts, r.t.Add(-24*time.Hour)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
