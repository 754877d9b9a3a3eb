package flowcollector

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"flag"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/netstrata/netstrata/internal/testenv"
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
		for _, e := range realEntries {
			if _, err := os.Stat(filepath.Join("testdata", "corpus", e.name+".pcap")); err == nil {
				continue // real exporters stamp their times: delete the .pcap to make it again
			}
			writeCapture(t, filepath.Join("testdata", "corpus", e.name+".pcap"), e.make(t), 4739)
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
			if isRealEntry(s.name) {
				files = files[1:] // the exporter's own, written above
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

// realEntries are corpus entries real exporters make; -update-ipfix-corpus
// runs the exporter for an entry without a .pcap, and rewrites every
// entry's .json from tshark.
var realEntries = []struct {
	name string
	make func(t *testing.T) [][]byte
}{
	// pmacctd (nfprobe) over frames with a VLAN tag, an MPLS stack and
	// IPv6: MACs 56/80 on ingress templates and 81/57 on egress ones,
	// VLANs 58/59, the top label 70.
	{"pmacct-ipfix-mac-vlan-mpls", func(t *testing.T) [][]byte { return runPmacctEntry(t, "10") }},
	{"pmacct-v9-mac-vlan-mpls", func(t *testing.T) [][]byte { return runPmacctEntry(t, "9") }},
	// nfdump's NetFlow v9 exporter: softflowd's flows stored by nfcapd,
	// sent by nfreplay (a template in every datagram, forwarding
	// status, ICMP type, engine type and id, direction).
	{"nfdump-v9-nfreplay", runNfreplayEntry},
}

// corpusShapes are the IPFIX/v9 shapes built here and those real
// exporters made, as the corpus holds them.
func corpusShapes(t *testing.T) []exportShape {
	shapes := ipfixShapes()
	for _, e := range realEntries {
		frames, link, err := readPcap(filepath.Join("testdata", "corpus", e.name+".pcap"))
		if err != nil {
			t.Fatal(err)
		}
		datagrams, _ := udpPayloads(frames, link)
		shapes = append(shapes, exportShape{e.name, datagrams})
	}
	return shapes
}

func isRealEntry(name string) bool {
	for _, e := range realEntries {
		if e.name == name {
			return true
		}
	}
	return false
}

// runPmacctEntry runs pmacctd over the frames and returns its datagrams.
func runPmacctEntry(t *testing.T, version string) [][]byte {
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
	return recorded(t, rec, "pmacctd")
}

// runNfreplayEntry stores softflowd's NetFlow v9 capture with nfcapd and
// returns what nfreplay sends of it.
func runNfreplayEntry(t *testing.T) [][]byte {
	testenv.Command(t, "nfcapd", "nfreplay")
	dir := t.TempDir()
	port := strconv.Itoa(int(freeUDPPort(t)))
	capd := exec.Command("nfcapd", "-w", dir, "-p", port, "-t", "3600")
	if err := capd.Start(); err != nil {
		t.Fatal(err)
	}
	s := newSender(t, netip.MustParseAddrPort("127.0.0.1:"+port))
	time.Sleep(time.Second) // nfcapd binds its socket
	s.send(t, loadCapture(t, "softflowd-v9")...)
	time.Sleep(time.Second)
	_ = capd.Process.Signal(os.Interrupt) // flushes the file
	if err := capd.Wait(); err != nil {
		t.Fatalf("nfcapd: %v", err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "nfcapd.*"))
	if len(files) != 1 {
		t.Fatalf("nfcapd wrote %v", files)
	}
	rec := newRecorder(t)
	to := netip.MustParseAddrPort(rec.addr())
	if out, err := exec.Command("nfreplay", "-r", files[0], "-v", "9", "-H", "127.0.0.1", "-p", strconv.Itoa(int(to.Port()))).CombinedOutput(); err != nil {
		t.Fatalf("nfreplay: %v\n%s", err, out)
	}
	got := recorded(t, rec, "nfreplay")
	return got[:min(len(got), 8)] // each holds its template: a few cover the shape
}

func recorded(t *testing.T, rec *recorder, exporter string) [][]byte {
	got := rec.settle(2 * time.Second)
	if len(got) == 0 {
		t.Fatalf("%s sent nothing", exporter)
	}
	return got
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
