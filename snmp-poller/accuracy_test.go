package snmppoller

import (
	"math"
	"net"
	"testing"

	"github.com/netstrata/netstrata/internal/record"
)

// Each UDP datagram crosses the veth as one Ethernet frame: 14 bytes of
// Ethernet header, 20 of IPv4, 8 of UDP, then the payload (the kernel
// counts frames without preamble or FCS).
const frameOverhead = 14 + 20 + 8

// strayFrames is how many frames the counters may differ by: nothing else
// crosses the link (no IPv6, static neighbours), so 0 is expected; one
// frame of slack keeps a stray kernel frame from failing the build.
const strayFrames = 1

func findInterface(t *testing.T, recs []*record.InterfaceStats, name string) *record.InterfaceStats {
	t.Helper()
	for _, r := range recs {
		if r.IfName == name {
			return r
		}
	}
	t.Fatalf("interface %s not among the %d interfaces snmpd reported", name, len(recs))
	return nil
}

func TestPolledCountersMatchTrafficSentThroughAVethForV2cAndV3(t *testing.T) {
	link := newVethLink(t)
	s := startSnmpd(t)

	hostSock, err := net.ListenUDP("udp4", &net.UDPAddr{IP: link.hostIP})
	if err != nil {
		t.Fatal(err)
	}
	defer hostSock.Close()
	go drain(hostSock)
	nsSock, err := listenUDPInNetns(link.ns, &net.UDPAddr{IP: link.nsIP})
	if err != nil {
		t.Fatal(err)
	}
	defer nsSock.Close()
	go drain(nsSock)

	for _, tc := range []struct {
		name   string
		target Target
		// Different volumes per case so one cannot pass on the other's.
		inN, inSize, outN, outSize int
	}{
		{"v2c", s.v2cTarget("edge-v2c"), 1500, 1000, 700, 400},
		{"v3-authPriv-sha256-aes", s.v3Target("edge-v3", snmpdUsers[0]), 900, 1200, 1100, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, pub := newTestComponent(t, oneTargetConfig(tc.target))
			before := findInterface(t, pollOnce(t, c, pub, tc.target.Name), link.host)

			// Into the host end (its ifIn*) from the namespace, and out of it.
			sendPaced(t, nsSock, hostSock.LocalAddr().(*net.UDPAddr), tc.inN, tc.inSize)
			sendPaced(t, hostSock, nsSock.LocalAddr().(*net.UDPAddr), tc.outN, tc.outSize)

			after := findInterface(t, pollOnce(t, c, pub, tc.target.Name), link.host)
			if !after.RateValid || after.CounterReset || after.OverSpeed || !after.HcCounters {
				t.Fatalf("record flags: valid=%v reset=%v over=%v hc=%v", after.RateValid, after.CounterReset, after.OverSpeed, after.HcCounters)
			}
			if after.PrevTimeNs != before.TimeNs {
				t.Fatalf("prev_time_ns %d is not the previous poll's %d", after.PrevTimeNs, before.TimeNs)
			}
			check := func(what string, got uint64, frames, size int) {
				t.Helper()
				want := uint64(frames * (size + frameOverhead))
				slack := uint64(strayFrames * (size + frameOverhead))
				if got+slack < want || got > want+slack {
					t.Errorf("%s: %d octets over the window, sent %d (%d frames of %d)", what, got, want, frames, size+frameOverhead)
				}
			}
			checkPkts := func(what string, got uint64, frames int) {
				t.Helper()
				if math.Abs(float64(got)-float64(frames)) > strayFrames {
					t.Errorf("%s: %d packets over the window, sent %d", what, got, frames)
				}
			}
			check("in", after.DeltaInOctets, tc.inN, tc.inSize)
			check("out", after.DeltaOutOctets, tc.outN, tc.outSize)
			checkPkts("in", after.DeltaInPkts, tc.inN)
			checkPkts("out", after.DeltaOutPkts, tc.outN)
			// The rate's window is measured on the monotonic clock, the
			// record's times on the wall clock, which may be slewed.
			secs := float64(after.TimeNs-after.PrevTimeNs) / 1e9
			if want := float64(after.DeltaInOctets) * 8 / secs; math.Abs(after.InBps-want) > want*1e-2 {
				t.Errorf("in_bps %g, want %g (delta over the poll window)", after.InBps, want)
			}
			t.Logf("%s: in %d octets / %d pkts, out %d octets / %d pkts over %.3fs (%s, speed %d)", tc.name,
				after.DeltaInOctets, after.DeltaInPkts, after.DeltaOutOctets, after.DeltaOutPkts, secs, after.IfName, after.SpeedBps)
		})
	}
}
