package npmagent

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/netstrata/netstrata/internal/record"
	"github.com/netstrata/netstrata/internal/telemetry"
	"github.com/netstrata/netstrata/internal/testenv"

	"github.com/netstrata/netstrata/internal/bus/bustest"
)

// sockets are the socket records published so far.
func sockets(pub *bustest.Publisher) []*record.SocketStats {
	return bustest.Decode[record.SocketStats](pub.Messages(), record.TopicSockets)
}

// find returns the records of the socket with this local and remote end.
func find(pub *bustest.Publisher, local, remote netip.AddrPort) []*record.SocketStats {
	var out []*record.SocketStats
	for _, r := range sockets(pub) {
		if record.IPFromBytes(r.LocalIp) == local.Addr() && uint16(r.LocalPort) == local.Port() &&
			record.IPFromBytes(r.RemoteIp) == remote.Addr() && uint16(r.RemotePort) == remote.Port() {
			out = append(out, r)
		}
	}
	return out
}

// probed is this kernel's probe, made once per test binary.
var probed = sync.OnceValue(func() *Probe { return ProbeKernel(DefaultConfiguration()) })

// eachStrategy runs fn once per strategy, as a subtest named after it. A
// strategy the probe says this kernel refuses is skipped with the probe's
// reason; the one auto chooses is never skipped, and no runnable strategy
// at all fails where peers are required.
func eachStrategy(t *testing.T, fn func(t *testing.T, strategy string)) {
	t.Helper()
	testenv.Root(t)
	if _, err := os.Stat("/sys/kernel/btf/vmlinux"); err != nil {
		testenv.Skip(t, "kernel without BTF")
	}
	p := probed()
	if p.Chosen == "" {
		testenv.Skip(t, "no strategy can run on this kernel:\n"+p.String())
	}
	for _, s := range strategies {
		t.Run(s.name, func(t *testing.T) {
			if f, _ := p.Strategy(s.name); !f.Runs {
				t.Skipf("this kernel cannot run %s: %s", s.name, f.Why)
			}
			fn(t, s.name)
		})
	}
}

// startAgent starts a real agent on strategy that collects only when the
// test says.
func startAgent(t *testing.T, strategy string) (*Component, *bustest.Publisher) {
	t.Helper()
	cfg := DefaultConfiguration()
	cfg.Node = "test-node"
	cfg.Interval, cfg.SampleInterval = time.Hour, time.Hour // the test triggers collections
	cfg.Kubernetes = "off"
	cfg.Strategy = strategy
	pub := &bustest.Publisher{}
	r := telemetry.NewReporter(slog.New(slog.NewTextHandler(testWriter{t}, nil)))
	c, err := New(r, cfg, Dependencies{Publisher: pub})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(context.Background()); err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(func() { _ = c.Stop() })
	if strategy != StrategyAuto && c.k.strat.name != strategy {
		t.Fatalf("runs %s, asked for %s", c.k.strat.name, strategy)
	}
	return c, pub
}

func tcpInfo(t *testing.T, c net.Conn) *unix.TCPInfo {
	t.Helper()
	rc, err := c.(*net.TCPConn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var ti *unix.TCPInfo
	var gerr error
	if err := rc.Control(func(fd uintptr) { ti, gerr = unix.GetsockoptTCPInfo(int(fd), unix.IPPROTO_TCP, unix.TCP_INFO) }); err != nil {
		t.Fatal(err)
	}
	if gerr != nil {
		t.Fatal(gerr)
	}
	return ti
}

// waitFor polls cond, collecting between polls, for up to 20 s.
func waitFor(t *testing.T, c *Component, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
		c.collect(true)
	}
}

func selfComm(t *testing.T) string {
	b, err := os.ReadFile("/proc/self/comm")
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

func sum(rs []*record.SocketStats, f func(*record.SocketStats) uint64) uint64 {
	var n uint64
	for _, r := range rs {
		n += f(r)
	}
	return n
}

func TestAgentReportsTransfersBetweenNamespaces(t *testing.T) {
	eachStrategy(t, testTransfersBetweenNamespaces)
}

func testTransfersBetweenNamespaces(t *testing.T, strategy string) {
	for _, tc := range []struct {
		name   string
		family string
		loss   bool
	}{
		{"ipv4", "4", false},
		{"ipv6", "6", false},
		{"ipv4-loss", "4", true},
		{"ipv6-loss", "6", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			agent, pub := startAgent(t, strategy)
			p := newPair(t)
			delay(t, p.a, p.va)
			if tc.loss {
				dropEvery(t, p.b, p.vb)
			}
			serverIP := p.b4
			if tc.family == "6" {
				serverIP = p.b6
			}
			const port, sent, back = 7001, 3 << 20, 100 << 10
			srvPid := startServer(t, p.b, serverIP, port, 1, sent, back)

			var conn net.Conn
			start := time.Now()
			err := inNetns(p.a, func() (err error) {
				conn, err = net.Dial("tcp", net.JoinHostPort(serverIP, fmt.Sprint(port)))
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			if _, err := conn.Write(make([]byte, sent)); err != nil {
				t.Fatal(err)
			}
			if _, err := io.ReadFull(conn, make([]byte, back)); err != nil {
				t.Fatal(err)
			}
			local := conn.LocalAddr().(*net.TCPAddr).AddrPort()
			remote := conn.RemoteAddr().(*net.TCPAddr).AddrPort()
			local = netip.AddrPortFrom(local.Addr().Unmap(), local.Port())
			remote = netip.AddrPortFrom(remote.Addr().Unmap(), remote.Port())

			// Same moment: collect while the connection is idle (all
			// data acked), and only trust a collection bracketed by two
			// equal TCP_INFO reads.
			var ti *unix.TCPInfo
			for try := 0; ; try++ {
				before := tcpInfo(t, conn)
				if before.Unacked != 0 {
					time.Sleep(20 * time.Millisecond)
					continue
				}
				agent.collect(true)
				ti = tcpInfo(t, conn)
				if ti.Rtt == before.Rtt && ti.Rttvar == before.Rttvar && ti.Total_retrans == before.Total_retrans &&
					ti.Bytes_acked == before.Bytes_acked && ti.Bytes_received == before.Bytes_received {
					break
				}
				if try > 20 {
					t.Fatal("connection never idle")
				}
			}
			cli := find(pub, local, remote)
			if len(cli) == 0 {
				t.Fatalf("no record for client socket %s -> %s", local, remote)
			}
			last := cli[len(cli)-1]
			if last.Pid != uint32(os.Getpid()) || last.Comm != selfComm(t) {
				t.Errorf("client owner %d/%q, want %d/%q", last.Pid, last.Comm, os.Getpid(), selfComm(t))
			}
			if last.Direction != record.SocketDirection_SOCKET_DIRECTION_CLIENT {
				t.Errorf("client direction %v", last.Direction)
			}
			if got := sum(cli, func(r *record.SocketStats) uint64 { return r.BytesSent }); got != sent {
				t.Errorf("client bytes_sent %d, want %d", got, sent)
			}
			if got := sum(cli, func(r *record.SocketStats) uint64 { return r.BytesReceived }); got != back {
				t.Errorf("client bytes_received %d, want %d", got, back)
			}
			if last.SrttUs != ti.Rtt || last.RttvarUs != ti.Rttvar {
				t.Errorf("srtt/rttvar %d/%d, TCP_INFO %d/%d", last.SrttUs, last.RttvarUs, ti.Rtt, ti.Rttvar)
			}
			if last.TotalRetrans != ti.Total_retrans {
				t.Errorf("total_retrans %d, TCP_INFO %d", last.TotalRetrans, ti.Total_retrans)
			}
			if got := sum(cli, func(r *record.SocketStats) uint64 { return uint64(r.Retransmits) }); got != uint64(ti.Total_retrans) {
				t.Errorf("retransmits %d over the intervals, TCP_INFO total %d", got, ti.Total_retrans)
			}
			if tc.loss && ti.Total_retrans == 0 {
				t.Errorf("no retransmits under loss")
			}
			if cli[0].ConnectLatencyUs == 0 || time.Duration(cli[0].ConnectLatencyUs)*time.Microsecond > time.Since(start) {
				t.Errorf("connect latency %d us", cli[0].ConnectLatencyUs)
			}
			if last.Netns != p.netnsInode || last.SocketId == 0 || last.Node != "test-node" || last.OpenTimeNs == 0 || last.CloseTimeNs != 0 {
				t.Errorf("identity: netns %d (want %d) cookie %d node %q open %d close %d",
					last.Netns, p.netnsInode, last.SocketId, last.Node, last.OpenTimeNs, last.CloseTimeNs)
			}
			if last.State != 1 || last.SrttMinUs == 0 || last.SrttMinUs > last.SrttMaxUs {
				t.Errorf("state %d srtt min/max %d/%d", last.State, last.SrttMinUs, last.SrttMaxUs)
			}

			srv := find(pub, remote, local)
			if len(srv) == 0 {
				t.Fatalf("no record for server socket %s -> %s", remote, local)
			}
			if s := srv[len(srv)-1]; s.Pid != uint32(srvPid) || s.Comm != helperComm || s.Direction != record.SocketDirection_SOCKET_DIRECTION_SERVER {
				t.Errorf("server owner %d/%q dir %v, want %d/%q server", s.Pid, s.Comm, s.Direction, srvPid, helperComm)
			}
			if got := sum(srv, func(r *record.SocketStats) uint64 { return r.BytesReceived }); got != sent {
				t.Errorf("server bytes_received %d, want %d", got, sent)
			}
			if got := sum(srv, func(r *record.SocketStats) uint64 { return r.BytesSent }); got != back {
				t.Errorf("server bytes_sent %d, want %d", got, back)
			}

			// Close: both ends report it, with no phantom bytes (FINs).
			conn.Close()
			closed := func(rs []*record.SocketStats) *record.SocketStats {
				for _, r := range rs {
					if r.CloseTimeNs != 0 {
						return r
					}
				}
				return nil
			}
			waitFor(t, agent, "close records", func() bool {
				return closed(find(pub, local, remote)) != nil && closed(find(pub, remote, local)) != nil
			})
			for _, rs := range [][]*record.SocketStats{find(pub, local, remote), find(pub, remote, local)} {
				c := closed(rs)
				if c.State != 7 || c.CloseTimeNs < c.OpenTimeNs || c.BytesSent != 0 || c.BytesReceived != 0 {
					t.Errorf("close record: state %d open %d close %d bytes %d/%d", c.State, c.OpenTimeNs, c.CloseTimeNs, c.BytesSent, c.BytesReceived)
				}
			}
			if !bytes.Equal(cli[0].LocalIp, record.IPBytes(local.Addr())) {
				t.Errorf("local ip %x", cli[0].LocalIp)
			}
		})
	}
}

// testWriter sends the agent's logs to the test log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(b)))
	return len(b), nil
}
