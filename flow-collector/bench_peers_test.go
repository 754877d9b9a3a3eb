package flowcollector

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// benchPeer is a collector process under benchmark, ours or goflow2, run
// as a child so that its CPU time and RSS are its own.
type benchPeer struct {
	name   string
	to     netip.AddrPort
	pid    int
	counts func() peerCounts
	stop   func()
}

// peerCounts are a peer's counters at one moment.
type peerCounts struct {
	decoded     int64  // records decoded (and published or written)
	kernelDrops uint64 // datagrams the kernel dropped on its sockets
	ownDrops    int64  // datagrams it dropped itself and counted; -1: not known
	heap        uint64 // Go heap objects, bytes (ours only)
}

// startOurs runs the test binary as the collector (TestHelperBenchCollector)
// publishing to the broker; each line written to its stdin asks for its
// counters.
func startOurs(b *testing.B, brokerAddr, proto string) *benchPeer {
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperBenchCollector$")
	cmd.Env = append(os.Environ(), "FLOWCOLLECTOR_BENCH_BROKER="+brokerAddr)
	cmd.Stderr = os.Stderr
	in, _ := cmd.StdinPipe()
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		b.Fatalf("start collector: %v", err)
	}
	rd := bufio.NewReader(out)
	line, err := rd.ReadString('\n')
	if err != nil {
		cmd.Process.Kill()
		b.Fatalf("collector: %v", err)
	}
	f := strings.Fields(line)
	to := netip.MustParseAddrPort(f[1])
	if proto == "sflow" {
		to = netip.MustParseAddrPort(f[2])
	}
	readCounts := func() peerCounts {
		for {
			line, err := rd.ReadString('\n')
			if err != nil {
				b.Fatalf("collector counts: %v", err)
			}
			var c peerCounts
			if _, err := fmt.Sscanf(line, "COUNTS %d %d %d %d", &c.decoded, &c.kernelDrops, &c.ownDrops, &c.heap); err == nil {
				return c
			}
		}
	}
	p := &benchPeer{name: "netstrata", to: to, pid: cmd.Process.Pid}
	p.counts = func() peerCounts {
		if _, err := in.Write([]byte("\n")); err != nil {
			b.Fatalf("collector stdin: %v", err)
		}
		return readCounts()
	}
	p.stop = func() {
		in.Close()
		readCounts()
		cmd.Wait()
	}
	return p
}

// startGoflow2 runs goflow2 with one socket and one worker (with more it
// decodes data ahead of its templates and loses it), binary output to a
// file, which the benchmark follows and counts as it grows (a file, not a
// pipe, so that goflow2 never waits for the benchmark).
func startGoflow2(b *testing.B, bin, proto string) *benchPeer {
	port := freeUDPPort(b)
	scheme := "netflow"
	if proto == "sflow" {
		scheme = "sflow"
	}
	listen := fmt.Sprintf("%s://127.0.0.1:%d?count=1&workers=1", scheme, port)
	out := filepath.Join(b.TempDir(), "flows.bin")
	cmd := exec.Command(bin, "-listen", listen, "-format", "bin", "-transport", "file", "-transport.file", out,
		"-addr", fmt.Sprintf("127.0.0.1:%d", freeTCPPort(b)), "-loglevel", "error")
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatalf("start goflow2: %v", err)
	}
	// Wait until it is bound (and has created its file).
	for i := 0; i < 50 && !udpPortBound(port); i++ {
		time.Sleep(100 * time.Millisecond)
	}
	f, err := os.Open(out)
	if err != nil {
		cmd.Process.Kill()
		b.Fatalf("goflow2 output: %v", err)
	}
	var decoded atomic.Int64
	var exited atomic.Bool
	var counting sync.WaitGroup
	counting.Add(1)
	go func() {
		defer counting.Done()
		countDelimited(&followReader{f: f, done: &exited}, &decoded)
	}()
	return &benchPeer{
		name: "goflow2",
		to:   netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), port),
		pid:  cmd.Process.Pid,
		counts: func() peerCounts {
			drops, _ := udpPortDrops(port)
			return peerCounts{decoded: decoded.Load(), kernelDrops: drops, ownDrops: -1}
		},
		stop: func() {
			cmd.Process.Signal(syscall.SIGTERM)
			// With a backlog it may take its time: not ours to wait for.
			killer := time.AfterFunc(5*time.Second, func() { cmd.Process.Kill() })
			cmd.Wait()
			killer.Stop()
			exited.Store(true)
			counting.Wait()
			f.Close()
		},
	}
}

// followReader reads a file another process appends to, like tail -f,
// until done is set and the end is reached.
type followReader struct {
	f    *os.File
	done *atomic.Bool
}

func (r *followReader) Read(p []byte) (int, error) {
	for {
		last := r.done.Load() // read once more after the writer is gone
		n, err := r.f.Read(p)
		if n > 0 || (err != nil && err != io.EOF) {
			return n, err
		}
		if last {
			return 0, io.EOF
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// countDelimited counts goflow2's binary output as it streams:
// varint-delimited protobuf messages, each followed by the line separator.
func countDelimited(r io.Reader, n *atomic.Int64) {
	br := bufio.NewReaderSize(r, 1<<20)
	for {
		l, err := binary.ReadUvarint(br)
		if err != nil {
			return
		}
		if _, err := br.Discard(int(l)); err != nil {
			return
		}
		if c, err := br.Peek(1); err == nil && c[0] == '\n' {
			br.Discard(1)
		}
		n.Add(1)
	}
}

// udpPortDrops sums the kernel drop counters (the last column of
// /proc/net/udp) of the sockets bound to a local port, and says whether
// there is any.
func udpPortDrops(port uint16) (uint64, bool) {
	var sum uint64
	found := false
	for _, path := range []string{"/proc/net/udp", "/proc/net/udp6"} {
		data, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(data), "\n")[1:] {
			fields := strings.Fields(line)
			if len(fields) < 13 {
				continue
			}
			_, hexPort, ok := strings.Cut(fields[1], ":")
			if !ok {
				continue
			}
			p, err := strconv.ParseUint(hexPort, 16, 16)
			if err != nil || uint16(p) != port {
				continue
			}
			found = true
			d, _ := strconv.ParseUint(fields[len(fields)-1], 10, 64)
			sum += d
		}
	}
	return sum, found
}

func udpPortBound(port uint16) bool {
	_, ok := udpPortDrops(port)
	return ok
}

// rssMB reads a process's resident set size.
func rssMB(pid int) float64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 64)
			return kb / 1024
		}
	}
	return 0
}

// cpuSeconds reads a process's user+system CPU time.
func cpuSeconds(pid int) float64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(data)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	ut, _ := strconv.ParseFloat(fields[11], 64)
	st, _ := strconv.ParseFloat(fields[12], 64)
	return (ut + st) / 100 // USER_HZ
}

func freeUDPPort(b testing.TB) uint16 {
	s := newSender(b, netip.AddrPort{})
	ap := netip.MustParseAddrPort(s.conn.LocalAddr().String())
	s.conn.Close()
	return ap.Port()
}

func freeTCPPort(b *testing.B) uint16 {
	return freeUDPPort(b) // good enough on loopback for a benchmark
}
