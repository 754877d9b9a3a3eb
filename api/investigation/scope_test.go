package investigation

import (
	"strings"
	"testing"
)

func TestMissingLayerNoteSaysWhyTheProcessKnowsItIsOff(t *testing.T) {
	c := &Investigator{LayersOff: func() map[string]string {
		return map[string]string{"sockets": "npm-agent is off: no eBPF strategy can run on this kernel"}
	}}
	if n := c.missingNote("sockets", nil); !strings.Contains(n, "no eBPF agent data") || !strings.Contains(n, "no eBPF strategy can run") {
		t.Errorf("sockets note %q lacks the data and the reason", n)
	}
	if n := c.missingNote("flows", nil); strings.Contains(n, "npm-agent") {
		t.Errorf("flows note %q carries the agent's reason", n)
	}
	if n := (&Investigator{}).missingNote("sockets", nil); n != layerMissingNote("sockets", nil) {
		t.Errorf("without LayersOff: %q", n)
	}
}
