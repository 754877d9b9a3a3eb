package flowcollector

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/netstrata/netstrata/internal/record"
)

var updateCorpus = flag.Bool("update-corpus", false, "rewrite the sFlow entries of testdata/corpus: generated shapes, pmacct's (real pmacctd), their expected flows from tshark")

// The sFlow entries of the exporter corpus (testdata/corpus/README.md):
// the generated shapes (spec-sflow-<shape>) and pmacct sfprobe over
// frames of the same shapes (pmacct-sflow-shapes). Each is decoded here
// and compared with tshark, and goes once through the whole pipeline in
// cmd/netstrata's corpus test.
const corpusDir = "testdata/corpus"

// sflowCorpusEntry is one entry: where its files are and what tshark
// must be told.
type sflowCorpusEntry struct {
	name      string
	decodeAs  []string
	datagrams [][]byte // generated: what the pcap must hold
}

func sflowCorpusEntries() []sflowCorpusEntry {
	var out []sflowCorpusEntry
	for _, s := range sflowShapes() {
		out = append(out, sflowCorpusEntry{name: "spec-sflow-" + s.name, decodeAs: s.decodeAs, datagrams: s.datagrams})
	}
	return append(out, sflowCorpusEntry{name: "pmacct-sflow-shapes"})
}

// TestSFlowCorpusStoresWhatTsharkReads decodes every sFlow corpus entry
// with its configuration and compares each flow, field by field, with
// tshark's reading of the same datagrams; the entry's expected flows
// (what the pipeline test checks) are that reading too.
func TestSFlowCorpusStoresWhatTsharkReads(t *testing.T) {
	if *updateCorpus {
		writePmacctShapes(t)
	}
	for _, e := range sflowCorpusEntries() {
		t.Run(e.name, func(t *testing.T) {
			base := filepath.Join(corpusDir, e.name)
			if *updateCorpus && e.datagrams != nil {
				writeCapture(t, base+".pcap", e.datagrams, 6343)
			}
			frames, link, err := readPcap(base + ".pcap")
			if err != nil {
				t.Fatal(err)
			}
			datagrams, _ := udpPayloads(frames, link)
			if e.datagrams != nil && !reflect.DeepEqual(datagrams, e.datagrams) {
				t.Fatalf("%s.pcap is not what the generator makes: go test -run %s -update-corpus", base, t.Name())
			}
			want := checkSFlowShape(t, base+".pcap", datagrams, e.decodeAs...)
			checkCorpusFiles(t, base, want)
		})
	}
}

// checkSFlowShape decodes datagrams with the corpus's decapsulation and
// compares the flows with tshark's reading of path, which it returns.
func checkSFlowShape(t *testing.T, path string, datagrams [][]byte, decodeAs ...string) []sflowTruth {
	t.Helper()
	cfg := testConfig(t)
	cfg.Decapsulation = sflowCorpusDecap
	c, pub := newTestComponent(t, cfg)
	flows := flatten(decodeEach(c, pub, kindSFlow, datagrams))
	want := tsharkSamples(tsharkSFlow(t, path, decodeAs...), c.decap.lookup)
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
	return want
}

// checkCorpusFiles checks (or with -update-corpus writes) an entry's
// expected flows and configuration.
func checkCorpusFiles(t *testing.T, base string, want []sflowTruth) {
	t.Helper()
	var rows []map[string]any
	for _, tr := range want {
		rows = append(rows, tr.columns())
	}
	js, err := json.MarshalIndent(rows, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	conf, err := yaml.Marshal(map[string]any{"flow_collector": map[string]any{"decapsulation": sflowCorpusDecap}})
	if err != nil {
		t.Fatal(err)
	}
	for ext, content := range map[string][]byte{".json": append(js, '\n'), ".yaml": conf} {
		if *updateCorpus {
			if err := os.WriteFile(base+ext, content, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if got, err := os.ReadFile(base + ext); err != nil || !bytes.Equal(got, content) {
			t.Errorf("%s%s is not tshark's reading (%v): go test -run %s -update-corpus", base, ext, err, t.Name())
		}
	}
}

// columns is the expected flow as the corpus writes it: flows-table
// columns, values as tshark prints them.
func (tr sflowTruth) columns() map[string]any {
	addr := func(a netip.Addr) string {
		if !a.IsValid() {
			return "::"
		}
		return a.String()
	}
	mac := func(m uint64) string {
		return fmt.Sprintf("%02x:%02x:%02x:%02x:%02x:%02x", byte(m>>40), byte(m>>32), byte(m>>24), byte(m>>16), byte(m>>8), byte(m))
	}
	kind := func(k record.InterfaceKind) string {
		return strings.ToLower(strings.TrimPrefix(k.String(), "INTERFACE_KIND_"))
	}
	labels := tr.Labels
	if labels == nil {
		labels = []uint32{}
	}
	return map[string]any{
		"flow_type": "sflow_v5", "direction": "ingress", "exporter_ip": addr(tr.Exporter),
		"observation_domain": tr.Domain, "sequence": tr.Sequence, "sampling_rate": tr.Rate,
		"in_if": tr.InIf, "out_if": tr.OutIf, "in_if_kind": kind(tr.InKind), "out_if_kind": kind(tr.OutKind),
		"in_if_detail": tr.InDetail, "out_if_detail": tr.OutDetail,
		"bytes": tr.Bytes, "packets": tr.Packets, "byte_basis": strings.ToLower(strings.TrimPrefix(tr.Basis.String(), "BYTE_BASIS_")),
		"next_hop": addr(tr.NextHop), "src_mask": tr.SrcMask, "dst_mask": tr.DstMask,
		"src_mac": mac(tr.SrcMAC), "dst_mac": mac(tr.DstMAC),
		"src_vlan": tr.SrcVlan, "dst_vlan": tr.DstVlan, "outer_vlan": tr.OuterVlan, "mpls_labels": labels,
		"etype": tr.Etype, "proto": tr.Proto, "src_ip": addr(tr.Src), "dst_ip": addr(tr.Dst),
		"src_port": tr.SrcPort, "dst_port": tr.DstPort, "tcp_flags": tr.TCPFlags, "ip_tos": tr.TOS, "ip_ttl": tr.TTL,
		"ipv6_flow_label": tr.FlowLabel, "icmp_type": tr.ICMPType, "icmp_code": tr.ICMPCode,
		"tunnel_type":   strings.ToLower(strings.TrimPrefix(tr.Tunnel.String(), "TUNNEL_TYPE_")),
		"tunnel_src_ip": addr(tr.TunnelSrc), "tunnel_dst_ip": addr(tr.TunnelDst), "vxlan_vni": tr.VNI,
	}
}

// writePmacctShapes runs real pmacctd (sfprobe) over frames of the
// generated shapes and keeps what it exports as pmacct-sflow-shapes.pcap.
// pmacct 1.7 samples every frame it can parse (it drops 802.1ad and
// 0x9100 tags), reports the outer of two 802.1Q tags as the input VLAN
// of an extended-switch record, and exports 128-byte headers.
func writePmacctShapes(t *testing.T) {
	tcp := tcpPacket(1344)
	inner := ethernetFrame(macA+1, macB+1, nil, etypeIPv4, tcp)
	frames := [][]byte{
		ethernetFrame(macA, macB, []vlanTag{{etypeVLAN, 809}}, etypeIPv4, tcp),
		ethernetFrame(macA, macB, []vlanTag{{etypeVLAN, 100}, {etypeVLAN, 42}}, etypeIPv4, tcp),
		ethernetFrame(macA, macB, nil, etypeMPLS, mplsStack([]uint32{16004, 24001}, tcp)),
		ethernetFrame(macA, macB, nil, etypeIPv4, ipv4Packet(v4C, v4D, protoUDP, 64, 0, udpDatagram(51000, portVXLAN, vxlanHeader(5001, inner)))),
		ethernetFrame(macA, macB, nil, etypeIPv6, ipv6Packet(v6C, v6D, 43, 64, 0, 0, segmentRouting(protoIPv4InIP, []netip.Addr{v6D}, tcpPacket(60)))),
		ethernetFrame(macA, macB, nil, etypeIPv6, ipv6Packet(v6A, v6B, 0, 63, 0x2e, 0xabcde, ipv6Options(protoUDP, udpDatagram(5353, 53, pad(200))))),
		ethernetFrame(macA, macB, nil, etypeIPv4, ipv4Packet(v4B, v4A, protoICMP, 250, 0, icmpMessage(3, 4, pad(548)))),
	}
	in := filepath.Join(t.TempDir(), "frames.pcap")
	f, err := os.Create(in)
	if err != nil {
		t.Fatal(err)
	}
	w, err := newPcapWriter(f, linkEthernet)
	if err != nil {
		t.Fatal(err)
	}
	ts := time.Unix(1700000000, 0)
	for _, fr := range frames {
		if err := w.write(ts, fr); err != nil {
			t.Fatal(err)
		}
		ts = ts.Add(time.Millisecond)
	}
	f.Close()
	rec := newRecorder(t)
	runPmacctd(t, in, "sfprobe", "", rec.addr(), "sfprobe_agentip: "+agentRouter.String())
	got := rec.settle(2 * time.Second)
	if len(got) == 0 {
		t.Fatal("pmacctd sent nothing")
	}
	writeCapture(t, filepath.Join(corpusDir, "pmacct-sflow-shapes.pcap"), got, 6343)
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

// TestSampledIPRecordLengthIsTheBytes: a 1,344-byte IPv4 packet sampled
// as a 128-byte header (frame_length 128: only what was captured) and a
// sampled IPv4 record counts 1,344 bytes on the IP basis, and at least
// that plus its Ethernet header on the frame basis.
func TestSampledIPRecordLengthIsTheBytes(t *testing.T) {
	frame := ethernetFrame(macA, macB, nil, etypeIPv4, tcpPacket(1344))
	dg := sflowV5Datagram(agentRouter, 1, 0, sflowFlowSample{seq: 1, rate: 1, records: []sflowRecord{
		sflowSampledHeader(packetEthernet, 128, 0, headerOf(frame, 128)),
		sflowSampledIP(1344, protoTCP, v4A, v4B, 40000, 443, 0x18, 0),
	}})
	for basis, want := range map[string]struct {
		bytes uint64
		basis record.ByteBasis
	}{byteBasisIP: {1344, record.ByteBasis_BYTE_BASIS_IP}, byteBasisFrame: {1358, record.ByteBasis_BYTE_BASIS_FRAME}} {
		cfg := testConfig(t)
		cfg.SFlowByteBasis = basis
		c, pub := newTestComponent(t, cfg)
		flows := flatten(decodeEach(c, pub, kindSFlow, [][]byte{dg}))
		if len(flows) != 1 || flows[0].Bytes != want.bytes || flows[0].ByteBasis != want.basis {
			t.Errorf("%s basis: %v, want %d bytes (%v)", basis, flows, want.bytes, want.basis)
		}
	}
}
