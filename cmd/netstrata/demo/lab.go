package demo

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// Lab is the topology with its real peers around the collector's port:
// snmpd serving IF-MIB (where the port is an interface) and softflowd
// capturing on the port and exporting NetFlow v9 to netstrata.
type Lab struct {
	Dir      string // scratch directory of the run (removed by Close)
	Bin      string // the netstrata binary
	Topo     *Topology
	Settings Settings
	Config   string // path of the YAML
	IfIndex  int    // ifIndex of the collector's bridge port
	SNMPD    *SNMPD
	Flows    *Softflowd
	Sink     *Sink
	// Missing says which layers' peers could not run, and why.
	Missing map[string]string

	closers []func() error
}

// LabOptions shape a lab.
type LabOptions struct {
	Senders       int
	Node          string
	SNMPInterval  time.Duration
	AgentInterval time.Duration
	FlowMaxLife   time.Duration
	Group         string
}

// NewLab builds the lab in dir: topology, snmpd and softflowd when
// installed (a missing one is recorded in Missing), the collector's
// sink, and the netstrata configuration (written to dir/netstrata.yaml).
func NewLab(bin, dir string, o LabOptions) (l *Lab, err error) {
	l = &Lab{Dir: dir, Bin: bin, Missing: map[string]string{}}
	defer func() {
		if err != nil {
			_ = l.Close()
		}
	}()
	if m := CheckTools("ip"); len(m) > 0 {
		return nil, errors.New("iproute2 (ip) is not installed")
	}
	ports, err := FreePorts()
	if err != nil {
		return nil, err
	}
	l.Settings = Settings{
		DataDir: filepath.Join(dir, "data"), Ports: ports, Node: o.Node, Device: o.Node,
		SNMPInterval: o.SNMPInterval, AgentInterval: o.AgentInterval, Group: o.Group,
	}
	l.Topo = NewTopology(o.Senders)
	if err := l.Topo.Setup(); err != nil {
		return nil, fmt.Errorf("topology: %w", err)
	}
	l.closers = append(l.closers, l.Topo.Close)
	if l.IfIndex, err = IfIndex(l.Topo.Collector.HostVeth); err != nil {
		return nil, err
	}
	if m := CheckTools("snmpd"); len(m) > 0 {
		l.Missing["snmp"] = "snmpd (Debian package snmpd) is not installed"
	} else if l.SNMPD, err = StartSNMPD(dir, ports.SNMP); err != nil {
		l.Missing["snmp"] = err.Error()
		err = nil
	} else {
		l.closers = append(l.closers, func() error { l.SNMPD.Kill(); return nil })
	}
	if m := CheckTools("softflowd"); len(m) > 0 {
		l.Missing["flows"] = "softflowd (Debian package softflowd) is not installed"
	} else if l.Flows, err = StartSoftflowd(dir, l.Topo.Collector.HostVeth, l.IfIndex, fmt.Sprintf("127.0.0.1:%d", ports.NetFlow), o.FlowMaxLife); err != nil {
		l.Missing["flows"] = err.Error()
		err = nil
	} else {
		l.closers = append(l.closers, func() error { l.Flows.Kill(); return nil })
	}
	if l.Sink, err = StartSink(bin, dir, l.Topo); err != nil {
		return nil, err
	}
	l.closers = append(l.closers, func() error { return l.Sink.Stop(5 * time.Second) })
	if l.SNMPD == nil {
		// Without an agent to poll, the poller gets no target.
		l.Settings.Device = ""
	}
	l.Config = filepath.Join(dir, "netstrata.yaml")
	if err := os.MkdirAll(l.Settings.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	return l, l.Settings.WriteConfig(l.Config)
}

// Defer registers f to run at Close, before what the lab made itself.
func (l *Lab) Defer(f func() error) { l.closers = append(l.closers, f) }

// FlushFlows makes softflowd export every open flow now (softflowctl
// expire-all; SIGTERM alone does not send them), then stops it.
func (l *Lab) FlushFlows() error {
	if l.Flows == nil {
		return nil
	}
	out, err := exec.Command("softflowctl", "-c", filepath.Join(l.Dir, "softflowd.ctl"), "expire-all").CombinedOutput()
	if err != nil {
		err = fmt.Errorf("softflowctl expire-all: %w: %s", err, out)
	}
	time.Sleep(2 * time.Second) // expiry runs every expint (2 s)
	return errors.Join(err, l.Flows.Stop(10*time.Second))
}

// FlowStats is softflowd's own account (packets seen, dropped by
// libpcap, flows exported), for the record of a run.
func (l *Lab) FlowStats() string {
	if l.Flows == nil {
		return ""
	}
	out, err := exec.Command("softflowctl", "-c", filepath.Join(l.Dir, "softflowd.ctl"), "statistics").CombinedOutput()
	if err != nil {
		return fmt.Sprintf("softflowctl: %v: %s", err, out)
	}
	return string(out)
}

// Close stops everything in reverse order and removes the directory.
func (l *Lab) Close() error {
	var errs []error
	for i := len(l.closers) - 1; i >= 0; i-- {
		errs = append(errs, l.closers[i]())
	}
	l.closers = nil
	if l.Dir != "" {
		errs = append(errs, os.RemoveAll(l.Dir))
	}
	return errors.Join(errs...)
}

// Publish publishes the lab's pods for node.
func (l *Lab) Publish(ctx context.Context) error {
	return PublishPods(ctx, l.Settings.Brokers(), PodRecords(l.Topo, l.Settings.Node, time.Now()), nil)
}
