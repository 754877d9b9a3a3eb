package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"sort"
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
		}
		if len(e.expect) == 0 {
			t.Fatalf("tshark reads no NetFlow/IPFIX data record in %s: write %s.json by hand", e.pcap, e.name)
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
