package demo

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"strings"
)

// CollectorPort is where the APM collector of the lab listens (the seed's
// scenario: several pods suddenly sending to one port).
const CollectorPort = 8081

// Namespace is one network namespace of the lab, joined to the bridge by
// a veth whose host end is a bridge port.
type Namespace struct {
	Pod      string     // pod name it plays (pod-a, ..., apm-0)
	Workload string     // owner Deployment
	Sender   bool       // sends to the collector
	Netns    string     // ip netns name
	HostVeth string     // host end, a bridge port
	IP       netip.Addr // address of eth0 inside
	MAC      string
}

// Topology is the lab: a bridge in the host namespace without an address,
// pod namespaces and the collector's namespace.
type Topology struct {
	Suffix    string
	Bridge    string
	Pods      []Namespace // senders first, then the quiet pod
	Collector Namespace
	Prefix    netip.Prefix
	// created lists what to delete, in reverse order of creation.
	created []func() error
}

// Senders are the pods that send traffic.
func (t *Topology) Senders() []Namespace {
	var out []Namespace
	for _, p := range t.Pods {
		if p.Sender {
			out = append(out, p)
		}
	}
	return out
}

// CollectorAddr is the collector's TCP address.
func (t *Topology) CollectorAddr() netip.AddrPort {
	return netip.AddrPortFrom(t.Collector.IP, CollectorPort)
}

// NewTopology names a lab of senders pods plus one quiet pod and the
// collector, with a random suffix and a random /24 of 198.18.0.0/15.
func NewTopology(senders int) *Topology {
	rnd := make([]byte, 4)
	_, _ = rand.Read(rnd)
	sfx := hex.EncodeToString(rnd)[:6]
	base := netip.AddrFrom4([4]byte{198, 18 + rnd[3]&1, rnd[3] >> 1, 0})
	t := &Topology{Suffix: sfx, Bridge: "nsd" + sfx + "br", Prefix: netip.PrefixFrom(base, 24)}
	ip := func(last byte) netip.Addr {
		b := base.As4()
		b[3] = last
		return netip.AddrFrom4(b)
	}
	mac := func(last byte) string { return fmt.Sprintf("02:%02x:%02x:%02x:00:%02x", rnd[0], rnd[1], rnd[2], last) }
	for i := range senders + 1 {
		letter := string(rune('a' + i))
		t.Pods = append(t.Pods, Namespace{
			Pod: "pod-" + letter, Workload: "web", Sender: i < senders,
			Netns: "nsd" + sfx + "-pod-" + letter, HostVeth: "nsd" + sfx + "h" + letter,
			IP: ip(byte(11 + i)), MAC: mac(byte(11 + i)),
		})
	}
	t.Collector = Namespace{Pod: "apm-0", Workload: "apm", Netns: "nsd" + sfx + "-apm",
		HostVeth: "nsd" + sfx + "apm", IP: ip(100), MAC: mac(100)}
	return t
}

func (t *Topology) all() []Namespace { return append(append([]Namespace{}, t.Pods...), t.Collector) }

// Setup creates the bridge and the namespaces. IPv6 is off and neighbours
// are static, so the only frames on the veths are the test's TCP. On
// error, what was created is removed.
func (t *Topology) Setup() (err error) {
	defer func() {
		if err != nil {
			_ = t.Close()
		}
	}()
	if err := t.add(func() error { return runCmd("ip", "link", "del", t.Bridge) },
		"ip", "link", "add", t.Bridge, "type", "bridge", "stp_state", "0"); err != nil {
		return err
	}
	// No link-local address, so no router solicitation or MLD either.
	if err := runCmd("ip", "link", "set", t.Bridge, "addrgenmode", "none"); err != nil {
		return err
	}
	if err := runCmd("ip", "link", "set", t.Bridge, "up"); err != nil {
		return err
	}
	for _, n := range t.all() {
		if err := t.addNamespace(n); err != nil {
			return err
		}
	}
	// Static neighbours both ways between every pod and the collector.
	for _, p := range t.Pods {
		if err := runCmd("ip", "-n", p.Netns, "neigh", "replace", t.Collector.IP.String(), "lladdr", t.Collector.MAC, "dev", "eth0", "nud", "permanent"); err != nil {
			return err
		}
		if err := runCmd("ip", "-n", t.Collector.Netns, "neigh", "replace", p.IP.String(), "lladdr", p.MAC, "dev", "eth0", "nud", "permanent"); err != nil {
			return err
		}
	}
	return nil
}

func (t *Topology) addNamespace(n Namespace) error {
	if err := t.add(func() error { return runCmd("ip", "netns", "del", n.Netns) }, "ip", "netns", "add", n.Netns); err != nil {
		return err
	}
	peer := n.HostVeth + "p"
	if err := t.add(func() error {
		if _, err := os.Stat("/sys/class/net/" + n.HostVeth); err != nil {
			return nil // went with its namespace
		}
		return runCmd("ip", "link", "del", n.HostVeth)
	}, "ip", "link", "add", n.HostVeth, "type", "veth", "peer", "name", peer, "address", n.MAC, "netns", n.Netns); err != nil {
		return err
	}
	steps := [][]string{
		{"ip", "link", "set", n.HostVeth, "addrgenmode", "none"},
		{"ip", "link", "set", n.HostVeth, "master", t.Bridge},
		{"ip", "link", "set", n.HostVeth, "up"},
		{"ip", "netns", "exec", n.Netns, "sysctl", "-q", "-w", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1"},
		{"ip", "-n", n.Netns, "link", "set", peer, "name", "eth0"},
		{"ip", "-n", n.Netns, "addr", "add", n.IP.String() + "/24", "dev", "eth0"},
		{"ip", "-n", n.Netns, "link", "set", "eth0", "up"},
		{"ip", "-n", n.Netns, "link", "set", "lo", "up"},
	}
	for _, s := range steps {
		if err := runCmd(s...); err != nil {
			return err
		}
	}
	return nil
}

// add runs a creating command and remembers how to undo it.
func (t *Topology) add(undo func() error, argv ...string) error {
	if err := runCmd(argv...); err != nil {
		return err
	}
	t.created = append(t.created, undo)
	return nil
}

// Close removes everything Setup created; it may be called more than once.
func (t *Topology) Close() error {
	var errs []error
	for i := len(t.created) - 1; i >= 0; i-- {
		errs = append(errs, t.created[i]())
	}
	t.created = nil
	return errors.Join(errs...)
}

// IfIndex is the kernel (and IF-MIB) index of a host-side interface.
func IfIndex(name string) (int, error) {
	b, err := os.ReadFile("/sys/class/net/" + name + "/ifindex")
	if err != nil {
		return 0, fmt.Errorf("ifindex of %s: %w", name, err)
	}
	return strconv.Atoi(strings.TrimSpace(string(b)))
}

// Exec is the argv that runs argv inside the namespace.
func (n Namespace) Exec(argv ...string) []string {
	return append([]string{"ip", "netns", "exec", n.Netns}, argv...)
}

// CheckTools reports the missing programs among names.
func CheckTools(names ...string) []string {
	var missing []string
	for _, n := range names {
		if _, err := exec.LookPath(n); err != nil {
			missing = append(missing, n)
		}
	}
	return missing
}
