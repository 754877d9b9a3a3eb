package npmagent

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"
)

// pair is two network namespaces joined by a veth: the client side "a"
// (10.x.y.1, fdxx::1) and the server side "b" (.2, ::2).
type pair struct {
	a, b       string // namespace names
	va, vb     string // veth ends, va in a, vb in b
	a4, b4     string
	a6, b6     string
	netnsInode uint64 // of a
}

func randSuffix(t testing.TB) string {
	var b [3]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b[:])
}

func run(t testing.TB, args ...string) {
	t.Helper()
	out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v: %s", strings.Join(args, " "), err, out)
	}
}

// newPair creates the namespaces and deletes them when the test ends,
// even when it fails.
func newPair(t testing.TB) *pair {
	t.Helper()
	s := randSuffix(t)
	p := &pair{a: "nsa-" + s, b: "nsb-" + s, va: "va" + s, vb: "vb" + s}
	oct := int(s[0])%200 + 20
	p.a4, p.b4 = fmt.Sprintf("10.%d.%d.1", oct, int(s[1])), fmt.Sprintf("10.%d.%d.2", oct, int(s[1]))
	p.a6, p.b6 = "fd00:"+s[:4]+":"+s[4:]+"::1", "fd00:"+s[:4]+":"+s[4:]+"::2"
	t.Cleanup(func() {
		_ = exec.Command("ip", "netns", "del", p.a).Run()
		_ = exec.Command("ip", "netns", "del", p.b).Run()
	})
	run(t, "ip", "netns", "add", p.a)
	run(t, "ip", "netns", "add", p.b)
	const macA, macB = "02:00:00:00:00:0a", "02:00:00:00:00:0b"
	run(t, "ip", "link", "add", p.va, "address", macA, "netns", p.a, "type", "veth", "peer", "name", p.vb, "address", macB, "netns", p.b)
	for _, side := range []struct{ ns, dev, v4, v6, peer4, peer6, peerMAC string }{
		{p.a, p.va, p.a4, p.a6, p.b4, p.b6, macB}, {p.b, p.vb, p.b4, p.b6, p.a4, p.a6, macA},
	} {
		run(t, "ip", "-n", side.ns, "link", "set", "lo", "up")
		run(t, "ip", "-n", side.ns, "addr", "add", side.v4+"/24", "dev", side.dev)
		run(t, "ip", "-n", side.ns, "addr", "add", side.v6+"/64", "dev", side.dev, "nodad")
		run(t, "ip", "-n", side.ns, "link", "set", side.dev, "up")
		// Static neighbours: no resolution delay on the first packet.
		run(t, "ip", "-n", side.ns, "neigh", "replace", side.peer4, "lladdr", side.peerMAC, "dev", side.dev, "nud", "permanent")
		run(t, "ip", "-n", side.ns, "neigh", "replace", side.peer6, "lladdr", side.peerMAC, "dev", side.dev, "nud", "permanent")
	}
	var st unix.Stat_t
	if err := unix.Stat("/run/netns/"+p.a, &st); err != nil {
		t.Fatal(err)
	}
	p.netnsInode = st.Ino
	return p
}

// inNetns runs fn on an OS thread that joined namespace ns. Sockets
// created there stay in ns; the thread is thrown away afterwards.
func inNetns(ns string, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread dies with the goroutine
		f, err := os.Open("/run/netns/" + ns)
		if err != nil {
			errc <- err
			return
		}
		defer f.Close()
		if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("setns %s: %w", ns, err)
			return
		}
		errc <- fn()
	}()
	return <-errc
}

// delay puts a tbf on dev: queueing delay once its rate is exceeded.
func delay(t testing.TB, ns, dev string) {
	run(t, "ip", "netns", "exec", ns, "tc", "qdisc", "add", "dev", dev, "root", "tbf",
		"rate", "100mbit", "burst", "64kb", "latency", "20ms")
}

// dropEvery attaches (TCX ingress) a classifier that drops one in 8
// packets longer than 200 bytes, chosen at random: loss for data, none for
// handshakes, without netem. It sits on the receiver: a drop at the
// sender's egress is seen by TCP as local congestion, not as loss.
func dropEvery(t testing.TB, ns, dev string) *ebpf.Program {
	t.Helper()
	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{
		Type:    ebpf.SchedCLS,
		License: "GPL",
		Instructions: asm.Instructions{
			asm.LoadMem(asm.R2, asm.R1, 0, asm.Word), // __sk_buff.len
			asm.JLT.Imm(asm.R2, 200, "pass"),
			asm.FnGetPrandomU32.Call(),
			asm.And.Imm(asm.R0, 7),
			asm.JNE.Imm(asm.R0, 0, "pass"),
			asm.Mov.Imm(asm.R0, 2), // TCX_DROP
			asm.Return(),
			asm.Mov.Imm(asm.R0, -1).WithSymbol("pass"), // TCX_NEXT
			asm.Return(),
		},
	})
	if err != nil {
		t.Fatalf("load dropper: %v", err)
	}
	t.Cleanup(func() { prog.Close() })
	var l link.Link
	err = inNetns(ns, func() error {
		ifc, err := net.InterfaceByName(dev)
		if err != nil {
			return err
		}
		l, err = link.AttachTCX(link.TCXOptions{Interface: ifc.Index, Program: prog, Attach: ebpf.AttachTCXIngress})
		return err
	})
	if err != nil {
		t.Fatalf("attach dropper to %s: %v", dev, err)
	}
	t.Cleanup(func() { l.Close() })
	return prog
}

// helperEnv marks the test binary as the server helper.
const helperEnv = "NPMAGENT_HELPER_SERVER"

// helperComm is the comm the server helper runs under (a symlink name).
const helperComm = "npmsrv"

// startServer runs this test binary as a server in ns under the comm
// helperComm; it accepts conns connections, reads recv bytes from each,
// writes send bytes back and closes once the peer has. It returns the
// helper's pid (ip netns exec execs in place).
func startServer(t *testing.T, ns, addr string, port, conns, recv, send int) int {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(t.TempDir(), helperComm)
	if err := os.Symlink(exe, link); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("ip", "netns", "exec", ns, link, "-test.run=^TestHelperServer$")
	cmd.Env = append(os.Environ(), helperEnv+"=1",
		fmt.Sprintf("NPMAGENT_HELPER_ARGS=%s %d %d %d %d", addr, port, conns, recv, send))
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	var line string
	if _, err := fmt.Fscanln(out, &line); err != nil || line != "ready" {
		t.Fatalf("server helper did not start: %q %v", line, err)
	}
	return cmd.Process.Pid
}

// TestHelperServer is the server helper; it does nothing in a normal run.
func TestHelperServer(t *testing.T) {
	if os.Getenv(helperEnv) != "1" {
		t.Skip("helper process only")
	}
	var addr string
	var port, conns, recv, send int
	if _, err := fmt.Sscan(os.Getenv("NPMAGENT_HELPER_ARGS"), &addr, &port, &conns, &recv, &send); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(addr, fmt.Sprint(port)))
	if err != nil {
		t.Fatal(err)
	}
	fmt.Println("ready")
	buf := make([]byte, 64<<10)
	for range conns {
		c, err := ln.Accept()
		if err != nil {
			t.Fatal(err)
		}
		got := 0
		for got < recv {
			n, err := c.Read(buf[:min(len(buf), recv-got)])
			if err != nil {
				t.Fatalf("read after %d: %v", got, err)
			}
			got += n
		}
		if _, err := c.Write(make([]byte, send)); err != nil {
			t.Fatal(err)
		}
		// Wait for the client to close first, then close.
		for {
			if _, err := c.Read(buf); err != nil {
				break
			}
		}
		c.Close()
	}
}
