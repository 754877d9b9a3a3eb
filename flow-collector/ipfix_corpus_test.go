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
)

var updateIPFIXCorpus = flag.Bool("update-ipfix-corpus", false,
	"rewrite the IPFIX/v9 entries of testdata/corpus from the shapes and tshark's reading of them")

// TestIPFIXCorpusIsCurrent: each IPFIX/v9 shape is an entry of the
// exporter corpus (testdata/corpus/README.md), which runs it once through
// the whole pipeline: its datagrams, and the flows tshark reads in them by
// the rules TestIPFIXShapesDecodeAsTsharkReadsThem checks the decoder
// against. -update-ipfix-corpus rewrites them.
func TestIPFIXCorpusIsCurrent(t *testing.T) {
	for _, s := range ipfixShapes() {
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
			for _, f := range []struct {
				path string
				data []byte
			}{{base + ".pcap", datagrams}, {base + ".json", js}} {
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
