package snmppoller

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/netstrata/netstrata/internal/testenv"
)

// vethLink is a veth pair whose host end stays in the test's namespace
// (where snmpd sees it in IF-MIB) and whose peer end lives in a fresh
// network namespace. IPv6 is off and neighbours are static, so the only
// frames crossing it are the ones the test sends.
type vethLink struct {
	ns           string
	host, peer   string
	hostIP, nsIP net.IP
}

func run(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v: %s", strings.Join(args, " "), err, out)
	}
}

func newVethLink(t *testing.T) *vethLink {
	t.Helper()
	testenv.Root(t)
	testenv.Command(t, "ip")
	rnd := make([]byte, 4)
	_, _ = rand.Read(rnd)
	sfx := hex.EncodeToString(rnd)[:7]
	l := &vethLink{
		ns: "nsp-" + sfx, host: "vh" + sfx, peer: "vn" + sfx,
		// 10.213-244.x.y/30, random to stay clear of parallel tests.
		hostIP: net.IPv4(10, 213+rnd[0]%32, rnd[1], rnd[2]&0xfc|1),
	}
	l.nsIP = net.IPv4(10, 213+rnd[0]%32, rnd[1], rnd[2]&0xfc|2)
	hostMAC := fmt.Sprintf("02:%02x:%02x:%02x:00:01", rnd[0], rnd[1], rnd[2])
	nsMAC := fmt.Sprintf("02:%02x:%02x:%02x:00:02", rnd[0], rnd[1], rnd[2])

	run(t, "ip", "netns", "add", l.ns)
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", l.ns).Run() })
	run(t, "ip", "link", "add", l.host, "address", hostMAC, "type", "veth", "peer", "name", l.peer, "address", nsMAC, "netns", l.ns)
	t.Cleanup(func() { _ = exec.Command("ip", "link", "del", l.host).Run() })
	// No IPv6: no router solicitations, MLD or DAD frames in the counters.
	_ = os.WriteFile("/proc/sys/net/ipv6/conf/"+l.host+"/disable_ipv6", []byte("1"), 0o644)
	run(t, "ip", "netns", "exec", l.ns, "sysctl", "-q", "-w", "net.ipv6.conf."+l.peer+".disable_ipv6=1")
	run(t, "ip", "addr", "add", l.hostIP.String()+"/30", "dev", l.host)
	run(t, "ip", "-n", l.ns, "addr", "add", l.nsIP.String()+"/30", "dev", l.peer)
	run(t, "ip", "neigh", "replace", l.nsIP.String(), "lladdr", nsMAC, "dev", l.host, "nud", "permanent")
	run(t, "ip", "-n", l.ns, "neigh", "replace", l.hostIP.String(), "lladdr", hostMAC, "dev", l.peer, "nud", "permanent")
	run(t, "ip", "link", "set", l.host, "up")
	run(t, "ip", "-n", l.ns, "link", "set", l.peer, "up")
	return l
}

// listenUDPInNetns opens a UDP socket inside the namespace: a socket
// belongs to the namespace of the thread that created it, so the
// creating goroutine switches a locked OS thread there and back.
func listenUDPInNetns(ns string, addr *net.UDPAddr) (*net.UDPConn, error) {
	type result struct {
		c   *net.UDPConn
		err error
	}
	done := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		// The thread is only unlocked when it is back in its own
		// namespace; otherwise it dies with this goroutine.
		orig, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			runtime.UnlockOSThread()
			done <- result{err: err}
			return
		}
		defer orig.Close()
		target, err := os.Open("/run/netns/" + ns)
		if err != nil {
			runtime.UnlockOSThread()
			done <- result{err: err}
			return
		}
		defer target.Close()
		if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			done <- result{err: fmt.Errorf("setns %s: %w", ns, err)}
			return
		}
		c, err := net.ListenUDP("udp4", addr)
		if unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET) == nil {
			runtime.UnlockOSThread()
		}
		done <- result{c, err}
	}()
	r := <-done
	return r.c, r.err
}

// drain reads and discards everything until the socket is closed, so no
// ICMP port-unreachable adds frames to the counters.
func drain(c *net.UDPConn) {
	buf := make([]byte, 65536)
	for {
		if _, _, err := c.ReadFromUDP(buf); err != nil {
			return
		}
	}
}

// sendPaced sends n datagrams of size bytes, pausing now and then so the
// veth backlog never overflows (a dropped frame would not be counted).
func sendPaced(t *testing.T, c *net.UDPConn, to *net.UDPAddr, n, size int) {
	t.Helper()
	payload := make([]byte, size)
	for i := range n {
		if _, err := c.WriteToUDP(payload, to); err != nil {
			t.Fatalf("send datagram %d: %v", i, err)
		}
		if i%64 == 63 {
			time.Sleep(time.Millisecond)
		}
	}
}
