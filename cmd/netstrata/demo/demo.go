package demo

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/netstrata/netstrata/api/client"
)

// Profile is the traffic of a run: every sender at Rate for Baseline,
// then at Rate×Factor for Spike.
type Profile struct {
	Rate     int64
	Baseline time.Duration
	Spike    time.Duration
	Factor   int64
}

// Phases are a sender's phases.
func (p Profile) Phases() []Phase {
	return []Phase{{Rate: p.Rate, Duration: p.Baseline}, {Rate: p.Rate * p.Factor, Duration: p.Spike}}
}

// Validate names the flag of a profile that cannot run.
func (p Profile) Validate() error {
	switch {
	case p.Rate <= 0:
		return fmt.Errorf("-rate %d: must be positive", p.Rate)
	case p.Factor < 2:
		return fmt.Errorf("-factor %d: a spike needs at least 2", p.Factor)
	case p.Baseline < 10*time.Second:
		return fmt.Errorf("-baseline %s: at least 10s, a few polls of the level", p.Baseline)
	case p.Spike < time.Second:
		return fmt.Errorf("-spike %s: at least 1s", p.Spike)
	}
	return nil
}

// DemoProfile keeps `make demo` near three minutes. The spike is sharp
// because the API looks for it in one-minute buckets over at least five
// minutes, most of which precede the demo's traffic.
var DemoProfile = Profile{Rate: 64 << 10, Baseline: 90 * time.Second, Spike: 45 * time.Second, Factor: 8}

// Main is `netstrata demo`; `demo sender` and `demo sink` are the
// traffic generator's processes inside the lab's namespaces.
func Main(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && (args[0] == "sender" || args[0] == "sink") {
		run := runSender
		if args[0] == "sink" {
			run = runSink
		}
		if err := run(args[1:], stderr); err != nil {
			fmt.Fprintf(stderr, "netstrata demo %s: %v\n", args[0], err)
			return 1
		}
		return 0
	}
	fs := flag.NewFlagSet("netstrata demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	p := DemoProfile
	fs.DurationVar(&p.Baseline, "baseline", p.Baseline, "baseline duration")
	fs.DurationVar(&p.Spike, "spike", p.Spike, "spike duration")
	fs.Int64Var(&p.Rate, "rate", p.Rate, "baseline payload bytes/s per sending pod")
	fs.Int64Var(&p.Factor, "factor", p.Factor, "spike rate = rate × factor")
	node := fs.String("node", "worker-1", "node name the lab plays")
	keep := fs.Bool("verbose", false, "show netstrata's log")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: netstrata demo [flags]\n\nRuns the whole pipeline on this machine (as root): netstrata standalone, net-snmp's\nsnmpd, softflowd and the eBPF agent around a lab of network namespaces playing pods\non node %s, sends a baseline then a spike to one port, and prints\n`netstrata investigate` for the node. Removes everything it made when done.\n\nFlags:\n", *node)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if err := p.Validate(); err != nil {
		fmt.Fprintf(stderr, "netstrata demo: %v\n", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := runDemo(ctx, p, *node, *keep, stdout); err != nil {
		fmt.Fprintf(stderr, "netstrata demo: %v\n", err)
		return 1
	}
	return 0
}

func runDemo(ctx context.Context, prof Profile, node string, verbose bool, out io.Writer) error {
	say := func(format string, args ...any) { fmt.Fprintf(out, "==> "+format+"\n", args...) }
	if os.Geteuid() != 0 {
		return errors.New("needs root: it creates network namespaces, runs snmpd and softflowd and loads eBPF (sudo make demo)")
	}
	bin, err := os.Executable()
	if err != nil {
		return fmt.Errorf("own executable: %w", err)
	}
	dir, err := os.MkdirTemp("", "netstrata-demo-")
	if err != nil {
		return err
	}
	say("lab: network namespaces playing pods on node %s, in 198.18.0.0/15 (scratch %s)", node, dir)
	lab, err := NewLab(bin, dir, LabOptions{Senders: 4, Node: node, SNMPInterval: 5 * time.Second,
		AgentInterval: 5 * time.Second, FlowMaxLife: 10 * time.Second, Group: "netstrata-demo"})
	if err != nil {
		_ = os.RemoveAll(dir)
		return err
	}
	defer func() {
		say("cleaning up: processes, namespaces, bridge, %s", dir)
		if err := lab.Close(); err != nil {
			fmt.Fprintf(out, "    cleanup: %v\n", err)
		}
	}()
	describeLab(say, lab)
	var logw io.Writer
	if verbose {
		logw = out
	}
	if err := startStandalone(ctx, say, lab, bin, dir, node, logw); err != nil {
		return err
	}
	start, end, total, err := sendTraffic(ctx, say, lab, bin, dir, prof)
	if err != nil {
		return err
	}
	if err := awaitLayers(ctx, say, lab, start, end, total, out); err != nil {
		return err
	}
	return investigateDemo(ctx, say, lab, node, start, end, out)
}

// describeLab says what the lab is made of.
func describeLab(say func(string, ...any), lab *Lab) {
	t := lab.Topo
	var pods []string
	for _, p := range t.Pods {
		pods = append(pods, fmt.Sprintf("%s %s", p.Pod, p.IP))
	}
	say("bridge %s; pods %s; collector apm-0 %s; its bridge port %s (ifIndex %d)",
		t.Bridge, strings.Join(pods, ", "), t.CollectorAddr(), t.Collector.HostVeth, lab.IfIndex)
	if lab.SNMPD != nil {
		say("snmpd on 127.0.0.1:%d serves IF-MIB of this host (the node's switch port is %s)", lab.SNMPD.Port, t.Collector.HostVeth)
	}
	if lab.Flows != nil {
		say("softflowd captures on %s and exports NetFlow v9 to 127.0.0.1:%d", t.Collector.HostVeth, lab.Settings.Ports.NetFlow)
	}
}

// startStandalone runs netstrata standalone on the lab's configuration
// until its API is healthy, notes the layers that cannot run here, and
// publishes the node's pods.
func startStandalone(ctx context.Context, say func(string, ...any), lab *Lab, bin, dir, node string, logw io.Writer) error {
	say("starting netstrata standalone (config %s, API %s)", lab.Config, lab.Settings.APIURL())
	ns, err := StartNetstrata("netstrata standalone", bin, lab.Config, logw, "standalone")
	if err != nil {
		return err
	}
	lab.Defer(func() error { return ns.Stop(40 * time.Second) })
	if err := os.WriteFile(filepath.Join(dir, "standalone.pid"), fmt.Appendf(nil, "%d\n", ns.Pid()), 0o600); err != nil {
		return err
	}
	// Start-up has its own deadline; the traffic takes as long as the
	// profile says, and what follows gets deadlines of its own.
	sctx, cancel := context.WithTimeout(ctx, startupTimeout)
	defer cancel()
	if err := WaitLog(sctx, ns, "netstrata running"); err != nil {
		return err
	}
	if !Serving(ctx, fmt.Sprintf("127.0.0.1:%d", lab.Settings.Ports.NPMAgent)) {
		lab.Missing["sockets"] = "the eBPF agent is off: " + agentOffReason(ns.Output())
	}
	if err := WaitHealthy(sctx, fmt.Sprintf("127.0.0.1:%d", lab.Settings.Ports.API)); err != nil {
		return err
	}
	for _, layer := range []string{"snmp", "flows", "sockets"} {
		if why, ok := lab.Missing[layer]; ok {
			say("layer %s will be missing: %s", layer, why)
		}
	}
	if err := lab.Publish(sctx); err != nil {
		return err
	}
	say("published the pods of node %s to netstrata.pods.v1 (what the agent does in Kubernetes)", node)
	return nil
}

// sendTraffic runs the profile's phases from every sender pod.
func sendTraffic(ctx context.Context, say func(string, ...any), lab *Lab, bin, dir string, prof Profile) (start, end time.Time, total int64, err error) {
	t := lab.Topo
	// One SNMP poll before the traffic, so every byte falls in a valid delta.
	time.Sleep(lab.Settings.SNMPInterval + time.Second)
	start = time.Now().Add(time.Second)
	say("traffic: %d pods each send %s/s to %s for %s, then %s/s (×%d) for %s — processes %s",
		len(t.Senders()), human(prof.Rate), t.CollectorAddr(), prof.Baseline, human(prof.Rate*prof.Factor), prof.Factor, prof.Spike, SenderComm("pod-x"))
	sent, err := RunSenders(ctx, bin, dir, t, prof.Phases(), start)
	if err != nil {
		return start, time.Time{}, 0, err
	}
	return start, time.Now(), TotalSent(sent), nil
}

// awaitLayers waits for every layer to hold the traffic and says what
// each saw of it.
func awaitLayers(ctx context.Context, say func(string, ...any), lab *Lab, start, end time.Time, total int64, out io.Writer) error {
	say("generator sent %d B of payload; waiting for every layer to land in ClickHouse", total)
	if err := lab.FlushFlows(); err != nil {
		say("softflowd: %v", err)
	}
	wctx, wcancel := context.WithTimeout(ctx, landingTimeout)
	defer wcancel()
	conn, err := OpenStore(wctx, lab.Settings)
	if err != nil {
		return err
	}
	defer conn.Close()
	tot, err := WaitTotals(wctx, conn, lab, start.Add(-time.Minute), end, uint64(total))
	if err != nil {
		say("not every layer arrived: %v", err)
	}
	say("what each layer saw of the traffic to :%d", CollectorPort)
	fmt.Fprintln(out, tot.Report(total))
	return nil
}

// investigateDemo asks the API what happened, prints its report, and
// names the layers that could not run here.
func investigateDemo(ctx context.Context, say func(string, ...any), lab *Lab, node string, start, end time.Time, out io.Writer) error {
	to, from := investigationRange(start, end)
	say("netstrata investigate --node %s --from %s --to %s", node, from.UTC().Format(time.RFC3339), to.UTC().Format(time.RFC3339))
	c := &client.Client{BaseURL: lab.Settings.APIURL()}
	inv, err := c.Investigate(ctx, url.Values{"node": {node}, "from": {from.UTC().Format(time.RFC3339)}, "to": {to.UTC().Format(time.RFC3339)}})
	if err != nil {
		return err
	}
	if err := client.RenderReport(out, inv); err != nil {
		return err
	}
	if len(lab.Missing) > 0 {
		var ms []string
		for l, why := range lab.Missing {
			ms = append(ms, l+": "+why)
		}
		sort.Strings(ms)
		say("layers that could not run here:\n    %s", strings.Join(ms, "\n    "))
	}
	return nil
}

// Deadlines of the phases around the traffic, which itself lasts as
// long as the profile.
const (
	startupTimeout = 3 * time.Minute  // netstrata standalone up and healthy
	landingTimeout = 90 * time.Second // every layer in ClickHouse after the traffic
)

// investigationRange covers the traffic from a minute before it to 15 s
// after, and at least five minutes (the API's shortest investigation).
func investigationRange(start, end time.Time) (to, from time.Time) {
	to = end.Add(15 * time.Second).Truncate(time.Second)
	from = to.Add(-5 * time.Minute)
	if early := start.Add(-time.Minute).Truncate(time.Second); early.Before(from) {
		from = early
	}
	return to, from
}

// agentOffReason finds the agent's "component off" reason in the log.
func agentOffReason(log string) string {
	for _, line := range strings.Split(log, "\n") {
		if strings.Contains(line, "component off") && strings.Contains(line, "npm-agent") {
			if i := strings.Index(line, "reason="); i >= 0 {
				return line[i+len("reason="):]
			}
			return line
		}
	}
	return "no BPF here (see netstrata's log)"
}

func human(b int64) string {
	switch {
	case b >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20))
	case b >= 1<<10:
		return fmt.Sprintf("%.0f KiB", float64(b)/(1<<10))
	}
	return fmt.Sprintf("%d B", b)
}

// WaitTotals polls ClickHouse until the agent's sockets account for every
// byte sent, the flows have stopped growing and an SNMP poll after end is
// in (skipping the layers in lab.Missing); it returns the last totals
// either way.
func WaitTotals(ctx context.Context, conn driver.Conn, lab *Lab, since, end time.Time, sent uint64) (Totals, error) {
	var last Totals
	var lastErr error
	for {
		t, err := QueryTotals(ctx, conn, lab.Topo, lab.Settings.Node, lab.IfIndex, since)
		if err == nil {
			var waiting []string
			if _, off := lab.Missing["sockets"]; !off && (t.SocketClientSent < sent || t.SocketServerReceived < sent) {
				waiting = append(waiting, fmt.Sprintf("sockets (%d and %d of %d B)", t.SocketClientSent, t.SocketServerReceived, sent))
			}
			if _, off := lab.Missing["flows"]; !off && (t.FlowRows == 0 || t.FlowBytes != last.FlowBytes || t.FlowBytesBack != last.FlowBytesBack) {
				waiting = append(waiting, fmt.Sprintf("flows (%d B so far)", t.FlowBytes))
			}
			if _, off := lab.Missing["snmp"]; !off && !t.SNMPLastPoll.After(end.Add(time.Second)) {
				waiting = append(waiting, "an SNMP poll after the traffic")
			}
			last, lastErr = t, nil
			if len(waiting) == 0 {
				return t, nil
			}
			lastErr = fmt.Errorf("still waiting for %s", strings.Join(waiting, ", "))
		} else {
			lastErr = err
		}
		select {
		case <-ctx.Done():
			return last, lastErr
		case <-time.After(3 * time.Second):
		}
	}
}
