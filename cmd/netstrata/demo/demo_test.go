package demo

import (
	"strings"
	"testing"
	"time"
)

func TestPhasesSurviveTheCommandLine(t *testing.T) {
	in := DemoProfile.Phases()
	out, err := parsePhases(formatPhases(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 2 || out[0] != in[0] || out[1] != in[1] {
		t.Fatalf("%v became %v", in, out)
	}
	for _, bad := range []string{"", "10", "x:1s", "10:x", "-1:1s", "10:0s"} {
		if _, err := parsePhases(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestTopologyNamesFitInterfaceNamesAndTheBenchmarkRange(t *testing.T) {
	topo := NewTopology(4)
	if len(topo.Pods) != 5 || len(topo.Senders()) != 4 {
		t.Fatalf("%d pods, %d senders", len(topo.Pods), len(topo.Senders()))
	}
	for _, n := range topo.all() {
		for _, name := range []string{n.HostVeth, n.HostVeth + "p", topo.Bridge} {
			if len(name) > 15 {
				t.Errorf("interface name %q is longer than 15", name)
			}
		}
		if !topo.Prefix.Contains(n.IP) || !n.IP.Is4() || (n.IP.As4()[0] != 198 || n.IP.As4()[1]&0xfe != 18) {
			t.Errorf("%s has %s outside 198.18.0.0/15", n.Pod, n.IP)
		}
		if c := SenderComm(n.Pod); len(c) > 15 {
			t.Errorf("process name %q is longer than 15", c)
		}
	}
}

func TestConfigurationHasOnlyOneTargetWhenSNMPRuns(t *testing.T) {
	s := Settings{DataDir: "/tmp/x", Node: "worker-1", Device: "worker-1", SNMPInterval: 5 * time.Second, AgentInterval: 5 * time.Second}
	if !strings.Contains(s.YAML(), "targets:") {
		t.Fatal("no SNMP target")
	}
	s.Device = ""
	if strings.Contains(s.YAML(), "targets:") {
		t.Fatal("an SNMP target without snmpd")
	}
}

func TestTailBufferKeepsTheEnd(t *testing.T) {
	b := &tailBuffer{max: 8}
	b.Write([]byte("0123456789"))
	b.Write([]byte("ab"))
	if got := b.String(); got != "456789ab" {
		t.Fatalf("got %q", got)
	}
}

func TestInvestigationRangeCoversTheTrafficOfAnyProfile(t *testing.T) {
	start := time.Date(2026, 12, 4, 10, 0, 17, 0, time.UTC)
	for _, p := range []Profile{DemoProfile, {Rate: 1 << 10, Baseline: 3 * time.Minute, Spike: 30 * time.Second, Factor: 5},
		{Rate: 1 << 10, Baseline: 40 * time.Minute, Spike: 10 * time.Minute, Factor: 3}} {
		end := start.Add(p.Baseline + p.Spike + 2*time.Second)
		to, from := investigationRange(start, end)
		if from.After(start.Add(-time.Minute)) || to.Before(end) || to.Sub(from) < 5*time.Minute {
			t.Errorf("%s + %s: range %s–%s does not cover the traffic %s–%s with a minute before it", p.Baseline, p.Spike, from, to, start, end)
		}
	}
}

func TestProfileValidateNamesTheFlag(t *testing.T) {
	if err := (Profile{Rate: 64 << 10, Baseline: 3 * time.Minute, Spike: 30 * time.Second, Factor: 8}).Validate(); err != nil {
		t.Errorf("-baseline 3m -spike 30s refused: %v", err)
	}
	for flag, p := range map[string]Profile{
		"-rate":     {Rate: 0, Baseline: time.Minute, Spike: time.Second, Factor: 2},
		"-factor":   {Rate: 1, Baseline: time.Minute, Spike: time.Second, Factor: 1},
		"-baseline": {Rate: 1, Baseline: time.Second, Spike: time.Second, Factor: 2},
		"-spike":    {Rate: 1, Baseline: time.Minute, Spike: 0, Factor: 2},
	} {
		if err := p.Validate(); err == nil || !strings.HasPrefix(err.Error(), flag+" ") {
			t.Errorf("%+v: error %v, want one naming %s", p, err, flag)
		}
	}
}

func TestFreePortsAreDistinct(t *testing.T) {
	p, err := FreePorts()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	for _, port := range []int{p.Kafka, p.ClickHouse, p.API, p.NetFlow, p.SNMP, p.SNMPPoller, p.FlowCollector, p.NPMAgent, p.Correlator, p.Alerting} {
		if port <= 0 || seen[port] {
			t.Fatalf("port %d is unset or picked twice: %+v", port, p)
		}
		seen[port] = true
	}
}
