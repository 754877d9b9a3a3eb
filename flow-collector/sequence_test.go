package flowcollector

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/netstrata/netstrata/internal/record"
)

// replaySequence decodes datagrams in order with a fresh collector and
// returns what sequence numbers say was lost and how many domains were
// found numbered other than their RFC says.
func replaySequence(t *testing.T, kind listenerKind, datagrams [][]byte) (lost, nonRFC float64) {
	lost, nonRFC, _ = replayRecords(t, kind, datagrams)
	return lost, nonRFC
}

// replayRecords is replaySequence also returning the records each
// datagram produced.
func replayRecords(t *testing.T, kind listenerKind, datagrams [][]byte) (lost, nonRFC float64, per [][]*record.Flow) {
	t.Helper()
	c, pub := newTestComponent(t, testConfig(t))
	per = decodeEach(c, pub, kind, datagrams)
	return metricSum(t, c.r, "netstrata_flow_sequence_lost_total", "", ""),
		metricSum(t, c.r, "netstrata_flow_sequence_non_rfc_domains", "", ""), per
}

// TestRealCapturesReplayWithoutSequenceLoss replays every shipped
// capture of real softflowd and pmacct exports: nothing was lost, so
// nothing may be counted lost, whichever way the exporter numbers its
// messages; softflowd's IPFIX (the count including its own records,
// options left out) is recognised and shown in the exporter's metrics.
func TestRealCapturesReplayWithoutSequenceLoss(t *testing.T) {
	for _, ec := range exporterCases {
		t.Run(ec.name, func(t *testing.T) {
			lost, nonRFC := replaySequence(t, ec.kind, loadCapture(t, ec.name))
			if lost != 0 {
				t.Errorf("%v units counted lost in a complete capture", lost)
			}
			want := 0.0
			if ec.name == "softflowd-ipfix" {
				want = 1
			}
			if nonRFC != want {
				t.Errorf("%v domains numbered other than the RFC says, want %v", nonRFC, want)
			}
		})
	}
}

// sequenceUnits reads with tshark what each datagram holds in the units
// its protocol numbers: IPFIX and v5 data records (flows), v9 export
// packets and sFlow datagrams one each.
func sequenceUnits(t *testing.T, ec exporterCase, datagrams [][]byte) []uint64 {
	t.Helper()
	units := make([]uint64, len(datagrams))
	version := strings.TrimPrefix(ec.name[strings.LastIndex(ec.name, "-")+1:], "v")
	if ec.kind == kindSFlow || version == "9" {
		for i := range units {
			units[i] = 1
		}
		return units
	}
	path := filepath.Join(t.TempDir(), "export.pcap")
	writeCapture(t, path, datagrams, 2055)
	rows := tsharkColumns(t, path, "cflow.protocol")
	if len(rows) != len(datagrams) {
		t.Fatalf("tshark reads %d datagrams of %d", len(rows), len(datagrams))
	}
	for i, r := range rows {
		if r[0] != "" {
			units[i] = uint64(strings.Count(r[0], ",") + 1)
		}
	}
	return units
}

// TestDroppedDatagramsCountExactlyTheRecordsRemoved runs each real
// exporter over traffic large enough for many datagrams, replays its
// export whole (0 lost), then with datagrams removed on purpose: the
// loss counted must be exactly what tshark reads in the removed ones,
// and the records carry it: the units removed just before a kept
// datagram on that datagram's last record only (or, when it yields
// none, on the next that does), 0 on every other record.
func TestDroppedDatagramsCountExactlyTheRecordsRemoved(t *testing.T) {
	pcap := filepath.Join(t.TempDir(), "traffic.pcap")
	f, err := os.Create(pcap)
	if err != nil {
		t.Fatal(err)
	}
	_, err = synthTraffic(f, 7, 1200, true, time.Unix(1700000000, 0))
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	for _, ec := range exporterCases {
		t.Run(ec.name, func(t *testing.T) {
			rec := newRecorder(t)
			ec.run(t, pcap, rec.addr())
			datagrams := rec.settle(500 * time.Millisecond)
			if len(datagrams) < 12 {
				t.Fatalf("the exporter sent %d datagrams", len(datagrams))
			}
			if lost, _ := replaySequence(t, ec.kind, datagrams); lost != 0 {
				t.Errorf("clean replay of %d datagrams: %v lost", len(datagrams), lost)
			}
			units := sequenceUnits(t, ec, datagrams)
			var kept [][]byte
			var removed uint64
			var before []uint64 // units removed just before each kept datagram
			// Past the first datagrams (templates, and the exporter's
			// numbering learnt), remove one in five and a pair, never
			// the last: a loss shows only when a later message arrives.
			gap := uint64(0)
			for i, d := range datagrams {
				drop := i >= 6 && i < len(datagrams)-1 && (i%5 == 0 || i == 8 || i == 9) && !hasTemplate(d)
				if drop {
					removed += units[i]
					gap += units[i]
					continue
				}
				kept = append(kept, d)
				before, gap = append(before, gap), 0
			}
			lost, nonRFC, per := replayRecords(t, ec.kind, kept)
			checkLostOnRecords(t, before, per)
			t.Logf("%d datagrams, %d removed holding %d units: %v counted lost (%v domains numbered their own way)",
				len(datagrams), len(datagrams)-len(kept), removed, lost, nonRFC)
			if lost != float64(removed) {
				t.Errorf("removed %d units, %v counted lost", removed, lost)
			}
		})
	}
}

// checkLostOnRecords checks that each datagram's records carry, on one
// record, the units removed before it plus what earlier datagrams
// without records could not carry.
func checkLostOnRecords(t *testing.T, before []uint64, per [][]*record.Flow) {
	t.Helper()
	var owed, carried uint64
	for i, flows := range per {
		owed += before[i]
		if len(flows) == 0 {
			continue
		}
		var sum uint64
		for _, f := range flows[:len(flows)-1] {
			sum += uint64(f.SequenceLost)
		}
		if last := flows[len(flows)-1].SequenceLost; sum != 0 || uint64(last) != owed {
			t.Errorf("datagram %d: its last record carries %d lost units, the %d others %d, want %d and 0", i, last, len(flows)-1, sum, owed)
		}
		sum += uint64(flows[len(flows)-1].SequenceLost)
		carried += sum
		owed = 0
	}
	if owed != 0 {
		t.Errorf("%d lost units on no record (no later datagram yielded one)", owed)
	}
	t.Logf("%d lost units carried by records", carried)
}

// numberStream numbers messages of the given units the way n reads them.
func numberStream(n numbering, units []seqUnits) []uint32 {
	seqs := make([]uint32, len(units))
	var total uint32
	for i, u := range units {
		count := u.data + u.options
		if n == numberingOwnDataOnly || n == numberingRFCDataOnly {
			count = u.data
		}
		if n == numberingOwn || n == numberingOwnDataOnly {
			total += count
			seqs[i] = total
		} else {
			seqs[i] = total
			total += count
		}
	}
	return seqs
}

// FuzzSequenceNumbering feeds a stream numbered by one of the readings,
// with messages removed, to the accounting: it never counts more lost
// than the whole stream held and keeps a numbering it still believes
// possible (exactness is TestDroppedDatagramsCountExactlyTheRecordsRemoved's).
func FuzzSequenceNumbering(f *testing.F) {
	f.Add(uint8(numberingOwnDataOnly), []byte{3, 0x85, 4, 5, 6, 0x47, 2, 9, 0x43, 8})
	f.Add(uint8(numberingRFC), []byte{1, 2, 3, 4, 0x45, 6, 7})
	f.Fuzz(func(t *testing.T, which uint8, msgs []byte) {
		n := numbering(which % uint8(numberings))
		units := make([]seqUnits, len(msgs))
		var all uint64
		for i, b := range msgs {
			units[i] = seqUnits{data: uint32(b&0x3f) + 1, options: uint32(b >> 7)}
			all += uint64(units[i].data + units[i].options)
		}
		seqs := numberStream(n, units)
		var s *seqStream
		var lost uint64
		for i, b := range msgs {
			if b&0x40 != 0 && i > 0 {
				continue // removed
			}
			if s == nil {
				s = &seqStream{seq: seqs[i], units: units[i], alive: allNumberings}
				continue
			}
			lost += uint64(s.advance(seqs[i], units[i]).lost)
			if s.mode >= numberings || s.alive&(1<<s.mode) == 0 {
				t.Fatalf("numbering %d, alive %04b", s.mode, s.alive)
			}
		}
		if lost > all {
			t.Fatalf("%d lost of a stream of %d", lost, all)
		}
	})
}
