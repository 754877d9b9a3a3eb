package flowcollector

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"flag"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

var updateIPFIXCorpus = flag.Bool("update-ipfix-corpus", false,
	"rewrite the IPFIX/v9 entries of testdata/corpus from the shapes and tshark's reading of them")

// TestIPFIXCorpusIsCurrent: each IPFIX/v9 shape is an entry of the
// exporter corpus (testdata/corpus/README.md), which runs it once through
// the whole pipeline: its datagrams, and the flows tshark reads in them by
// the rules TestIPFIXShapesDecodeAsTsharkReadsThem checks the decoder
// against. -update-ipfix-corpus rewrites them.
func TestIPFIXCorpusIsCurrent(t *testing.T) {
	if *updateIPFIXCorpus {
		for _, e := range pmacctEntries {
			writePmacctEntry(t, e.name, e.version)
		}
	}
	for _, s := range corpusShapes(t) {
		t.Run(s.name, func(t *testing.T) {
			dir := t.TempDir()
			pcap := filepath.Join(dir, s.name+".pcap")
			writeCapture(t, pcap, s.datagrams, 4739)
			var flows []map[string]any
			for _, recs := range tsharkRecords(t, pcap, "mpls.label==24005,pwethcw") {
				for _, r := range recs {
					ws := expectedFlows(r)
					if sec := sectionOf(t, r); sec != nil {
						size, _ := r.first("cflow.data_link_frame_size")
						expectSection(ws[0], sec, size)
					}
					for _, w := range ws {
						flows = append(flows, corpusObject(w, s.datagrams[0]))
					}
				}
			}
			js, err := json.MarshalIndent(flows, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			js = append(js, '\n')
			datagrams, err := os.ReadFile(pcap)
			if err != nil {
				t.Fatal(err)
			}
			base := filepath.Join("testdata", "corpus", s.name)
			files := []struct {
				path string
				data []byte
			}{{base + ".pcap", datagrams}, {base + ".json", js}}
			if isPmacctEntry(s.name) {
				files = files[1:] // pmacctd's own, written above
			}
			for _, f := range files {
				if *updateIPFIXCorpus {
					if err := os.WriteFile(f.path, f.data, 0o644); err != nil {
						t.Fatal(err)
					}
					continue
				}
				if old, err := os.ReadFile(f.path); err != nil || !bytes.Equal(old, f.data) {
					t.Errorf("%s is not what the shape and tshark say (err %v): go test ./flow-collector -run TestIPFIXCorpusIsCurrent -update-ipfix-corpus", f.path, err)
				}
			}
		})
	}
}

// pmacctEntries are corpus entries real pmacctd makes (nfprobe, IPFIX
// and NetFlow v9) of frames with a VLAN tag, an MPLS stack and IPv6: MACs
// 56/80 on ingress templates and 81/57 on egress ones, VLANs 58/59, the
// top label 70. -update-ipfix-corpus runs pmacctd again.
var pmacctEntries = []struct{ name, version string }{
	{"pmacct-ipfix-mac-vlan-mpls", "10"},
	{"pmacct-v9-mac-vlan-mpls", "9"},
}

// corpusShapes are the IPFIX/v9 shapes built here and those real
// exporters made, as the corpus holds them.
func corpusShapes(t *testing.T) []exportShape {
	shapes := ipfixShapes()
	for _, e := range pmacctEntries {
		frames, link, err := readPcap(filepath.Join("testdata", "corpus", e.name+".pcap"))
		if err != nil {
			t.Fatal(err)
		}
		datagrams, _ := udpPayloads(frames, link)
		shapes = append(shapes, exportShape{e.name, datagrams})
	}
	return shapes
}

func isPmacctEntry(name string) bool {
	for _, e := range pmacctEntries {
		if e.name == name {
			return true
		}
	}
	return false
}

// writePmacctEntry runs pmacctd over the frames and keeps its datagrams.
func writePmacctEntry(t *testing.T, name, version string) {
	tcp := ipv4Packet(v4A, v4B, protoTCP, 61, 0x10, tcpSegment(33000, 443, 0x18, pad(1000)))
	frames := [][]byte{
		ethernetFrame(macA, macB, []vlanTag{{etypeVLAN, 809}}, etypeIPv4, tcp),
		ethernetFrame(macA, macB, nil, etypeMPLS, mplsStack([]uint32{16004, 24001}, ipv4Packet(v4C, v4D, protoUDP, 64, 0, udpDatagram(1000, 2000, pad(300))))),
		ethernetFrame(macB, macA, nil, etypeIPv6, ipv6Packet(v6A, v6B, protoUDP, 63, 0x2e, 0xabcde, udpDatagram(5353, 53, pad(200)))),
	}
	in := filepath.Join(t.TempDir(), "frames.pcap")
	f, err := os.Create(in)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := newPcapWriter(f, linkEthernet)
	ts := time.Unix(1700000000, 0)
	for _, fr := range frames {
		if err == nil {
			err = w.write(ts, fr)
		}
		ts = ts.Add(time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	rec := newRecorder(t)
	runPmacctd(t, in, "nfprobe", version, rec.addr(),
		"aggregate: src_host, dst_host, src_port, dst_port, proto, tos, src_mac, dst_mac, vlan, mpls_label_top")
	got := rec.settle(2 * time.Second)
	if len(got) == 0 {
		t.Fatal("pmacctd sent nothing")
	}
	writeCapture(t, filepath.Join("testdata", "corpus", name+".pcap"), got, 4739)
}

// corpusObject is one expected flow in the corpus's JSON: numbers as
// numbers, addresses as text (none: "::"), MACs as aa:bb:cc:dd:ee:ff,
// the label stack as an array, and the flow type.
func corpusObject(w columns, datagram []byte) map[string]any {
	o := map[string]any{"flow_type": "ipfix"}
	if binary.BigEndian.Uint16(datagram) == 9 {
		o["flow_type"] = "netflow_v9"
	}
	for col, v := range w {
		switch {
		case col == "mpls_labels":
			labels := []json.Number{}
			for _, l := range strings.Split(v, ",") {
				if l != "" {
					labels = append(labels, json.Number(l))
				}
			}
			o[col] = labels
		case strings.HasSuffix(col, "_mac"):
			n, _ := strconv.ParseUint(v, 10, 64)
			o[col] = net.HardwareAddr(binary.BigEndian.AppendUint64(nil, n)[2:]).String()
		case strings.HasSuffix(col, "_ip") || col == "next_hop":
			if v == "" {
				v = "::"
			}
			o[col] = v
		default:
			o[col] = json.Number(v)
		}
	}
	return o
}
