package flowcollector

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/netstrata/netstrata/internal/record"
)

// TestSFlowShapesStoreWhatTsharkReads decodes every sFlow shape of the
// corpus and compares each flow, field by field, with tshark's reading
// of the same datagrams.
func TestSFlowShapesStoreWhatTsharkReads(t *testing.T) {
	for _, s := range sflowShapes() {
		t.Run(s.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), s.name+".pcap")
			writeCapture(t, path, s.datagrams, 6343)
			checkSFlowShape(t, path, s.decap, s.datagrams, s.decodeAs...)
		})
	}
}

// checkSFlowShape decodes datagrams with decap configured for every
// exporter and compares the flows with tshark's reading of path.
func checkSFlowShape(t *testing.T, path string, decap []string, datagrams [][]byte, decodeAs ...string) {
	t.Helper()
	cfg := testConfig(t)
	if len(decap) > 0 {
		cfg.Decapsulation = []DecapsulationRule{{Exporter: "0.0.0.0/0", Tunnels: decap}, {Exporter: "::/0", Tunnels: decap}}
	}
	c, pub := newTestComponent(t, cfg)
	flows := flatten(decodeEach(c, pub, kindSFlow, datagrams))
	kinds, err := newDecapsulation(cfg.Decapsulation)
	if err != nil {
		t.Fatal(err)
	}
	want := tsharkSamples(t, tsharkSFlow(t, path, decodeAs...), kinds.lookup(agentSwitch))
	if len(flows) != len(want) {
		t.Fatalf("%d flows, tshark reads %d samples", len(flows), len(want))
	}
	for i, f := range flows {
		got := truthOf(f)
		if want[i].misreadFlags {
			got.misreadFlags = true
			want[i].TCPFlags, want[i].TOS = got.TCPFlags, got.TOS
		}
		if !reflect.DeepEqual(got, want[i]) {
			t.Errorf("sample %d:\n got %+v\nwant %+v", i, got, want[i])
		}
	}
}

// TestSwitchUnknownVLANIsZeroedNotTheFlow: a switch's extended-switch
// records with VLAN 0xFFFFFFFF lose that field, counted per exporter and
// field, and none of its 5 samples.
func TestSwitchUnknownVLANIsZeroedNotTheFlow(t *testing.T) {
	c, pub := newTestComponent(t, testConfig(t))
	var shape sflowShape
	for _, s := range sflowShapes() {
		if s.name == "switch-vlan-unknown" {
			shape = s
		}
	}
	flows := flatten(decodeEach(c, pub, kindSFlow, shape.datagrams))
	if len(flows) != 5 {
		t.Fatalf("%d flows, want 5", len(flows))
	}
	for i, want := range [][2]uint32{{10, 20}, {0, 0}, {10, 10}, {0, 30}, {30, 30}} {
		if got := [2]uint32{flows[i].SrcVlan, flows[i].DstVlan}; got != want {
			t.Errorf("sample %d: VLANs %v, want %v", i+1, got, want)
		}
	}
	for field, want := range map[string]float64{"src_vlan": 2, "dst_vlan": 1} {
		if n := metricSum(t, c.r, "netstrata_flow_fields_zeroed_total", "field", field); n != want {
			t.Errorf("%s zeroed %v times, want %v", field, n, want)
		}
	}
	if n := metricSum(t, c.r, "netstrata_flow_fields_zeroed_total", "exporter", agentSwitch.String()); n != 3 {
		t.Errorf("%v fields zeroed for the switch, want 3", n)
	}
}

// TestDecapsulationIsPerExporterAndOffByDefault: the same VXLAN sample
// is the inner flow from the exporter configured for it, the outer UDP
// flow from another.
func TestDecapsulationIsPerExporterAndOffByDefault(t *testing.T) {
	cfg := testConfig(t)
	cfg.Decapsulation = []DecapsulationRule{
		{Exporter: "192.0.2.0/24", Tunnels: []string{"vxlan", "gre"}},
		{Exporter: agentSwitch.String()}, // exempt
	}
	c, pub := newTestComponent(t, cfg)
	vxlan := ipv4Packet(v4C, v4D, protoUDP, 64, 0, udpDatagram(51000, portVXLAN, vxlanHeader(5001, ethernetFrame(macA+1, macB+1, nil, etypeIPv4, tcpPacket(1000)))))
	frame := ethernetFrame(macA, macB, nil, etypeIPv4, vxlan)
	flows := flatten(decodeEach(c, pub, kindSFlow, [][]byte{
		sflowV5Datagram(agentRouter, 1, 0, sampleOf(1, frame)),
		sflowV5Datagram(agentSwitch, 1, 0, sampleOf(1, frame)),
	}))
	if len(flows) != 2 {
		t.Fatalf("%d flows", len(flows))
	}
	if f := flows[0]; f.TunnelType != record.TunnelType_TUNNEL_TYPE_VXLAN || f.VxlanVni != 5001 || f.Proto != protoTCP || f.DstPort != 443 || f.Bytes != uint64(len(vxlan)) {
		t.Errorf("configured exporter: %v", f)
	}
	if f := flows[1]; f.TunnelType != record.TunnelType_TUNNEL_TYPE_NONE || f.Proto != protoUDP || f.DstPort != portVXLAN {
		t.Errorf("exempt exporter: %v", f)
	}
	cfg.Decapsulation = []DecapsulationRule{{Exporter: "10.0.0.0/8", Tunnels: []string{"geneve"}}}
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "flow_collector.decapsulation[0].tunnels[0]") {
		t.Errorf("an unknown tunnel: %v", err)
	}
}
