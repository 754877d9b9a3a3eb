package flowcollector

import (
	"encoding/binary"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/netstrata/netstrata/internal/record"
	"github.com/netstrata/netstrata/internal/testenv"
)

// runTshark runs tshark over a capture of sFlow datagrams (UDP 6343)
// with args, and returns its output.
func runTshark(t *testing.T, path string, args ...string) []byte {
	t.Helper()
	testenv.Command(t, "tshark")
	out, err := exec.Command("tshark", append([]string{"-r", path, "-d", "udp.port==6343,sflow"}, args...)...).Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	return out
}

// tsharkColumns runs tshark over a capture and returns, per frame, the
// comma-separated values of each field.
func tsharkColumns(t *testing.T, path string, fields ...string) [][]string {
	t.Helper()
	args := []string{"-T", "fields"}
	for _, f := range fields {
		args = append(args, "-e", f)
	}
	out := runTshark(t, path, args...)
	var rows [][]string
	for _, line := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		rows = append(rows, strings.Split(line, "\t"))
	}
	return rows
}

// sumList adds the comma-separated numbers of s, each plus add, skipping
// the first skip of them.
func sumList(s string, skip int, add uint64) uint64 {
	var sum uint64
	for i, v := range strings.Split(s, ",") {
		var n uint64
		if _, err := fmt.Sscan(v, &n); err != nil || i < skip {
			continue
		}
		sum += n + add
	}
	return sum
}

// TestSFlowCountsIPBytesAsTsharkReadsThem decodes real pmacct sFlow
// samples and compares each datagram's bytes with tshark's reading of
// the sampled headers: the IP packets' lengths by default (IPv4 total
// length, IPv6 payload length + 40), the frames (frame_length less the
// stripped bytes) on the frame basis.
func TestSFlowCountsIPBytesAsTsharkReadsThem(t *testing.T) {
	path := captureName("pmacct-sfprobe")
	rows := tsharkColumns(t, path, "ip.len", "ipv6.plen", "sflow_245.header.frame_length", "sflow_245.header.payload_stripped")
	datagrams := loadCapture(t, "pmacct-sfprobe")
	if len(rows) != len(datagrams) {
		t.Fatalf("tshark reads %d frames, the capture has %d datagrams", len(rows), len(datagrams))
	}
	for _, basis := range []string{byteBasisIP, byteBasisFrame} {
		cfg := testConfig(t)
		cfg.SFlowByteBasis = basis
		c, pub := newTestComponent(t, cfg)
		var got, want uint64
		for i, flows := range decodeEach(c, pub, kindSFlow, datagrams) {
			var n uint64
			for _, f := range flows {
				n += f.Bytes
				if wantBasis := record.ByteBasis(record.ByteBasis_value["BYTE_BASIS_"+strings.ToUpper(basis)]); f.ByteBasis != wantBasis {
					t.Fatalf("%s basis: flow says %s", basis, f.ByteBasis)
				}
			}
			r := rows[i]
			w := sumList(r[0], 1, 0) + sumList(r[1], 0, 40) // the first ip.len is the capture's own UDP datagram
			if basis == byteBasisFrame {
				w = sumList(r[2], 0, 0) - sumList(r[3], 0, 0)
			}
			if n != w {
				t.Errorf("%s basis, datagram %d: %d bytes, tshark reads %d", basis, i, n, w)
			}
			got, want = got+n, want+w
		}
		t.Logf("%s basis: %d bytes in %d samples, tshark %d", basis, got, len(published(pub)), want)
	}
}

// TestSFlowBytesMatchNetFlowOnTheSameTraffic compares pmacct's sFlow
// and NetFlow v9 exports of the same synthetic traffic (the shipped
// captures): on every 5-tuple whose every packet was sampled, sFlow and
// NetFlow must count the same bytes.
func TestSFlowBytesMatchNetFlowOnTheSameTraffic(t *testing.T) {
	c, pub := newTestComponent(t, testConfig(t))
	nf := totals(flatten(decodeEach(c, pub, kindNetFlow, loadCapture(t, "pmacct-nfprobe-v9"))))
	for _, basis := range []string{byteBasisFrame, byteBasisIP} {
		cfg := testConfig(t)
		cfg.SFlowByteBasis = basis
		c, pub := newTestComponent(t, cfg)
		sf := totals(flatten(decodeEach(c, pub, kindSFlow, loadCapture(t, "pmacct-sfprobe"))))
		var sBytes, nBytes uint64
		tuples := 0
		for k, s := range sf {
			n, ok := nf[k]
			if !ok || n.packets != s.packets {
				continue // pmacct's sFlow probe skips packets of a fast pcap
			}
			sBytes, nBytes, tuples = sBytes+s.bytes, nBytes+n.bytes, tuples+1
		}
		if tuples < len(nf)/2 {
			t.Fatalf("only %d of %d 5-tuples fully sampled", tuples, len(nf))
		}
		ratio := float64(sBytes) / float64(nBytes)
		t.Logf("%s basis: sFlow/NetFlow bytes on %d fully sampled 5-tuples: %d / %d = %.4f", basis, tuples, sBytes, nBytes, ratio)
		if basis == byteBasisIP && sBytes != nBytes {
			t.Errorf("sFlow counts %.4f× NetFlow's bytes on the same packets", ratio)
		}
	}
}

// sflowIfOffsets are where a flow sample's input and output words sit in
// a datagram from an IPv4 agent: the 28-byte datagram header, the
// sample's format and length, then sequence, source, rate, pool, drops.
const sflowInOffset, sflowOutOffset = 28 + 8 + 20, 28 + 8 + 24

// TestSFlowInterfaceFormatsAreDecodedPerTheSpec reads pmacct's samples
// (whose interfaces are all 0x3FFFFFFF: the capture came from no
// interface of the device) and the same datagram rewritten with each
// format of the sFlow v5 spec, against tshark's reading of them.
func TestSFlowInterfaceFormatsAreDecodedPerTheSpec(t *testing.T) {
	datagrams := loadCapture(t, "pmacct-sfprobe")
	c, pub := newTestComponent(t, testConfig(t))
	for _, f := range flatten(decodeEach(c, pub, kindSFlow, datagrams)) {
		if f.InIf != 0 || f.OutIf != 0 || f.InIfKind != record.InterfaceKind_INTERFACE_KIND_INTERNAL || f.OutIfKind != record.InterfaceKind_INTERFACE_KIND_INTERNAL {
			t.Fatalf("pmacct's 0x3FFFFFFF read as in %d (%s) out %d (%s)", f.InIf, f.InIfKind, f.OutIf, f.OutIfKind)
		}
	}

	cases := []struct {
		in, out         uint32
		tsharkOut       string // output format, value as tshark reads them
		wantIn, wantOut sflowIf
	}{
		{in: 7, out: 1<<30 | 3, tsharkOut: "1 3",
			wantIn: sflowIf{index: 7}, wantOut: sflowIf{kind: record.InterfaceKind_INTERFACE_KIND_DISCARDED, detail: 3}},
		{in: 0x3fffffff, out: 2<<30 | 4, tsharkOut: "2 4",
			wantIn: sflowIf{kind: record.InterfaceKind_INTERFACE_KIND_INTERNAL}, wantOut: sflowIf{kind: record.InterfaceKind_INTERFACE_KIND_MULTIPLE, detail: 4}},
		{in: 5, out: 2 << 30, tsharkOut: "2 0",
			wantIn: sflowIf{index: 5}, wantOut: sflowIf{kind: record.InterfaceKind_INTERFACE_KIND_MULTIPLE}},
		{in: 0, out: 12, tsharkOut: "0 12",
			wantIn: sflowIf{}, wantOut: sflowIf{index: 12}},
	}
	var patched [][]byte
	for _, tc := range cases {
		dg := append([]byte(nil), datagrams[0]...)
		if binary.BigEndian.Uint32(dg[28:])&0xfff != 1 {
			t.Fatal("the capture's first sample is not a flow sample")
		}
		binary.BigEndian.PutUint32(dg[sflowInOffset:], tc.in)
		binary.BigEndian.PutUint32(dg[sflowOutOffset:], tc.out)
		patched = append(patched, dg)
	}
	path := filepath.Join(t.TempDir(), "formats.pcap")
	writeCapture(t, path, patched, 6343)
	rows := tsharkColumns(t, path, "sflow.flow_sample.input_interface", "sflow.flow_sample.output_interface_format", "sflow.flow_sample.output_interface_value", "sflow.flow_sample.output_interface")
	c, pub = newTestComponent(t, testConfig(t))
	for i, flows := range decodeEach(c, pub, kindSFlow, patched) {
		tc := cases[i]
		// tshark: the first sample's output as "format value" (a plain
		// ifIndex is shown as format 0 with its value).
		first := func(s string) string { return strings.Split(s, ",")[0] }
		read := first(rows[i][1]) + " " + first(rows[i][2])
		if first(rows[i][1]) == "" {
			read = "0 " + first(rows[i][3])
		}
		if read != tc.tsharkOut || first(rows[i][0]) != fmt.Sprint(tc.in) {
			t.Errorf("case %d: tshark reads input %s, output format/value %q; the test meant %d, %q", i, first(rows[i][0]), read, tc.in, tc.tsharkOut)
		}
		f := flows[0]
		in := sflowIf{f.InIf, f.InIfKind, f.InIfDetail}
		out := sflowIf{f.OutIf, f.OutIfKind, f.OutIfDetail}
		if in != tc.wantIn || out != tc.wantOut {
			t.Errorf("case %d: input %#x output %#x decoded as %+v, %+v; want %+v, %+v", i, tc.in, tc.out, in, out, tc.wantIn, tc.wantOut)
		}
	}
}
