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
