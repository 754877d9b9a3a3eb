package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/netstrata/netstrata/internal/testenv"
)

// This file writes a corpus entry's expected flows from tshark's reading
// of its datagrams (-corpus-expect), never from netstrata's: for NetFlow
// v5/v9 and IPFIX, the fields below of every data record. Review what it
// writes, and add what it does not know (sFlow, the newer fields) from
// tshark's dissection by hand.

// tsharkColumns maps tshark's cflow fields to flow columns.
var tsharkColumns = map[string]string{
	"cflow.srcaddr": "src_ip", "cflow.srcaddrv6": "src_ip", "cflow.dstaddr": "dst_ip", "cflow.dstaddrv6": "dst_ip",
	"cflow.nexthop": "next_hop", "cflow.nexthopv6": "next_hop",
	"cflow.srcport": "src_port", "cflow.dstport": "dst_port", "cflow.protocol": "proto",
	"cflow.octets": "bytes", "cflow.packets": "packets",
	"cflow.inputint": "in_if", "cflow.outputint": "out_if",
	"cflow.tcpflags": "tcp_flags", "cflow.tos": "ip_tos",
	"cflow.srcas": "src_as", "cflow.dstas": "dst_as",
	"cflow.srcmask": "src_mask", "cflow.srcmaskv6": "src_mask", "cflow.dstmask": "dst_mask", "cflow.dstmaskv6": "dst_mask",
	"cflow.srcmac": "src_mac", "cflow.dstmac": "dst_mac",
}

// tsharkFlowTypes maps cflow.version to flow_type.
var tsharkFlowTypes = map[string]string{"5": "netflow_v5", "9": "netflow_v9", "10": "ipfix"}

// writeCorpusExpectations writes <name>.json for each entry without one.
func writeCorpusExpectations(t *testing.T, entries []*corpusEntry) {
	t.Helper()
	tshark := testenv.Command(t, "tshark")
	for _, e := range entries {
		if e.expect != nil {
			continue
		}
		out, err := exec.Command(tshark, "-r", e.pcap, "-T", "json").Output()
		if err != nil {
			t.Fatalf("tshark -r %s: %v", e.pcap, err)
		}
		var packets []struct {
			Source struct {
				Layers map[string]any `json:"layers"`
			} `json:"_source"`
		}
		if err := json.Unmarshal(out, &packets); err != nil {
			t.Fatalf("tshark -r %s: %v", e.pcap, err)
		}
		for _, p := range packets {
			cflow, _ := p.Source.Layers["cflow"].(map[string]any)
			version, _ := cflow["cflow.version"].(string)
			for _, rec := range tsharkRecords(cflow) {
				if flow := tsharkFlow(rec, tsharkFlowTypes[version]); flow != nil {
					e.expect = append(e.expect, flow)
				}
			}
			if sflow, ok := p.Source.Layers["sflow"].(map[string]any); ok {
				e.expect = append(e.expect, tsharkSFlows(sflow)...)
			}
		}
		if len(e.expect) == 0 {
			t.Fatalf("tshark reads no NetFlow/IPFIX data record or sFlow flow sample in %s: write %s.json by hand", e.pcap, e.name)
		}
		b, err := json.MarshalIndent(e.expect, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		path := strings.TrimSuffix(e.pcap, ".pcap") + ".json"
		if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %d flows to %s: review them", len(e.expect), path)
	}
}

// tsharkRecords finds the records of a cflow layer: the "Flow N" objects
// of its sets and NetFlow v5's "pdu i/n", in order.
func tsharkRecords(layer map[string]any) []map[string]any {
	keys := make([]string, 0, len(layer))
	for k := range layer {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return naturalLess(keys[i], keys[j]) })
	var out []map[string]any
	for _, k := range keys {
		sub, ok := layer[k].(map[string]any)
		if !ok {
			continue
		}
		if strings.HasPrefix(k, "Flow ") || strings.HasPrefix(k, "pdu ") {
			out = append(out, sub)
		} else if strings.HasPrefix(k, "Set ") || strings.HasPrefix(k, "FlowSet ") {
			out = append(out, tsharkRecords(sub)...)
		}
	}
	return out
}

// tsharkFlow maps a data record's fields to columns; nil for a record
// that is not a flow (options data).
func tsharkFlow(rec map[string]any, flowType string) map[string]any {
	flow := map[string]any{}
	for field, col := range tsharkColumns {
		if v, ok := rec[field].(string); ok {
			flow[col] = v
		}
	}
	if flow["bytes"] == nil && flow["src_ip"] == nil {
		return nil
	}
	switch rec["cflow.direction"] {
	case "0":
		flow["direction"] = "ingress"
	case "1":
		flow["direction"] = "egress"
	}
	if flowType != "" {
		flow["flow_type"] = flowType
	}
	return flow
}

// tsharkHeaderColumns maps the fields tshark dissects in an sFlow
// sampled header to flow columns.
var tsharkHeaderColumns = map[string]string{
	"eth.src": "src_mac", "eth.dst": "dst_mac", "eth.type": "etype",
	"ip.src": "src_ip", "ip.dst": "dst_ip", "ip.proto": "proto", "ip.ttl": "ip_ttl", "ip.dsfield": "ip_tos",
	"ipv6.src": "src_ip", "ipv6.dst": "dst_ip", "ipv6.nxt": "proto", "ipv6.hlim": "ip_ttl", "ipv6.flow": "ipv6_flow_label",
	"tcp.srcport": "src_port", "tcp.dstport": "dst_port", "tcp.flags": "tcp_flags",
	"udp.srcport": "src_port", "udp.dstport": "dst_port",
	"icmp.type": "icmp_type", "icmp.code": "icmp_code", "icmpv6.type": "icmp_type", "icmpv6.code": "icmp_code",
}

// tsharkSFlows maps the flow samples of an sFlow datagram to flows: the
// agent, the sampling rate, the interfaces (sFlow's format bits as
// in_if_kind/out_if_kind), the extended switch VLANs and the sampled
// header's Ethernet, IP and transport fields; bytes are the IP length
// (netstrata's default byte basis), one packet per sample.
func tsharkSFlows(layer map[string]any) []map[string]any {
	agent, _ := layer["sflow_245.agent"].(string)
	if agent == "" {
		agent, _ = layer["sflow_245.agentv6"].(string)
	}
	keys := make([]string, 0, len(layer))
	for k := range layer {
		if strings.HasPrefix(k, "Flow sample, seq ") {
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(i, j int) bool { return naturalLess(keys[i], keys[j]) })
	var out []map[string]any
	for _, k := range keys {
		sample := layer[k].(map[string]any)
		flow := map[string]any{"flow_type": "sflow_v5", "exporter_ip": agent, "packets": "1"}
		if rate, ok := sample["sflow.flow_sample.sampling_rate"].(string); ok {
			flow["sampling_rate"] = rate
		}
		sflowInterface(flow, "in", sample["sflow.flow_sample.input_interface"])
		sflowInterface(flow, "out", sample["sflow.flow_sample.output_interface"])
		if sw, ok := sample["Extended switch data"].(map[string]any); ok {
			flow["src_vlan"], flow["dst_vlan"] = sw["sflow_245.vlan.in"], sw["sflow_245.vlan.out"]
		}
		raw, _ := sample["Raw packet header"].(map[string]any)
		tree, _ := raw["sflow_245.header_tree"].(map[string]any)
		for _, proto := range []string{"eth", "ip", "ipv6", "tcp", "udp", "icmp", "icmpv6"} {
			fields, _ := tree[proto].(map[string]any)
			for field, col := range tsharkHeaderColumns {
				if v, ok := fields[field].(string); ok && strings.HasPrefix(field, proto+".") {
					flow[col] = v
				}
			}
		}
		if ip, ok := tree["ip"].(map[string]any); ok {
			flow["bytes"] = ip["ip.len"]
		} else if ip6, ok := tree["ipv6"].(map[string]any); ok {
			if n, err := strconv.Atoi(fmt.Sprint(ip6["ipv6.plen"])); err == nil {
				flow["bytes"] = strconv.Itoa(n + 40)
			}
		}
		out = append(out, flow)
	}
	return out
}

// sflowInterface sets <side>_if and <side>_if_kind from an sFlow
// interface: format 0 is an ifIndex (0x3FFFFFFF: the device itself,
// stored as 0), 1 discarded, 2 multiple (stored as 0, kind said).
func sflowInterface(flow map[string]any, side string, v any) {
	n, err := strconv.ParseUint(fmt.Sprint(v), 0, 32)
	if err != nil {
		return
	}
	kind, index := "ifindex", n
	switch {
	case n == 0x3fffffff:
		kind, index = "internal", 0
	case n>>30 == 1:
		kind, index = "discarded", 0
	case n>>30 == 2:
		kind, index = "multiple", 0
	}
	flow[side+"_if"], flow[side+"_if_kind"] = strconv.FormatUint(index, 10), kind
}

// naturalLess orders "Set 2" before "Set 10" (for readability: the
// expected flows are matched in any order).
func naturalLess(a, b string) bool {
	pa, pb := strings.Fields(a), strings.Fields(b)
	if len(pa) > 1 && len(pb) > 1 && pa[0] == pb[0] {
		return leadingNumber(pa[1]) < leadingNumber(pb[1])
	}
	return a < b
}

func leadingNumber(s string) int {
	n := 0
	for _, r := range s {
		if r < '0' || r > '9' {
			break
		}
		n = n*10 + int(r-'0')
	}
	return n
}
