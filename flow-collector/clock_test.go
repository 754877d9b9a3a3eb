package flowcollector

import (
	"math"
	"testing"
	"time"

	"github.com/netstrata/netstrata/internal/bus/bustest"
	"github.com/netstrata/netstrata/internal/record"
)

// decodeAt decodes datagrams as if each arrived at at.
func decodeAt(c *Component, pub *bustest.Publisher, kind listenerKind, datagrams [][]byte, at time.Time) []*record.Flow {
	d := newDecoder(c)
	before := len(pub.Messages())
	for _, dg := range datagrams {
		d.handle(kind, dg, testExporter, at)
	}
	return publishedSince(pub, before)
}

// TestReplayedCaptureIsPlacedByTheMeasuredSkew replays real exports of
// traffic from 2023 today, as a user replaying a capture does. softflowd
// reading a pcap stamps its export headers with the pcap's clock: the
// skew is years, its flows are placed by it at today's receive time,
// keep their durations and say so (time_basis, the shift), and the skew
// shows in the exporter's gauge. pmacct stamps its headers with the wall
// clock but its flows with the pcap's: no skew explains them, so they
// are marked to be placed at their receive time, their own times kept.
func TestReplayedCaptureIsPlacedByTheMeasuredSkew(t *testing.T) {
	for _, tc := range []struct {
		name          string
		basis         record.TimeBasis
		clockFromPcap bool
	}{
		{"softflowd-v9", record.TimeBasis_TIME_BASIS_SKEW_CORRECTED, true},
		{"softflowd-ipfix", record.TimeBasis_TIME_BASIS_SKEW_CORRECTED, true},
		{"softflowd-v5", record.TimeBasis_TIME_BASIS_SKEW_CORRECTED, true},
		{"pmacct-nfprobe-ipfix", record.TimeBasis_TIME_BASIS_RECEIVED, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, pub := newTestComponent(t, testConfig(t))
			now := time.Now()
			flows := decodeAt(c, pub, kindNetFlow, loadCapture(t, tc.name), now)
			if len(flows) == 0 {
				t.Fatal("no flows")
			}
			for _, f := range flows {
				start, end := int64(f.TimeFlowStartNs), int64(f.TimeFlowEndNs)
				usable := record.FlowTimesUsable(start, end, now.UnixNano())
				if f.TimeBasis != tc.basis || usable != (tc.basis != record.TimeBasis_TIME_BASIS_RECEIVED) {
					t.Fatalf("flow %s to %s (%s), received %s", time.Unix(0, start).UTC(), time.Unix(0, end).UTC(), f.TimeBasis, now.UTC())
				}
				if raw := time.Unix(0, start-f.ExporterClockSkewNs); raw.Year() != 2023 {
					t.Fatalf("the exporter's own start is not kept: %s", raw)
				}
			}
			gauge := metricSum(t, c.r, "netstrata_flow_exporter_clock_skew_seconds", "", "")
			if want := now.Sub(time.Unix(1700000000, 0)).Seconds(); tc.clockFromPcap && math.Abs(gauge-want) > 120 {
				t.Errorf("clock skew gauge %.0f s, the capture is %.0f s old", gauge, want)
			}
			t.Logf("clock skew gauge %.0f s", gauge)
		})
	}
}

// v9Flow is a NetFlow v9 datagram (exported at 1700000000, sysUptime
// 100 s) with one flow that started and ended the given milliseconds of
// uptime.
func v9Flow(first, last uint32) []byte {
	b := newV9Builder(1)
	b.template(256, []field{{ieSourceIPv4Address, 4}, {ieDestinationIPv4Address, 4}, {ieOctetDeltaCount, 4},
		{iePacketDeltaCount, 4}, {ieFlowStartSysUpTime, 4}, {ieFlowEndSysUpTime, 4}})
	b.data(256, []byte{10, 0, 0, 1}, []byte{10, 0, 0, 2}, u32(1500), u32(1), u32(first), u32(last))
	return b.bytes()
}

// TestFlowTimesFollowTheExporterClock places a v9 flow that ended 2 s
// before export (and lasted 30 s) received at several offsets from the
// exporter's clock.
func TestFlowTimesFollowTheExporterClock(t *testing.T) {
	const exportNs = int64(1700000000 * time.Second)
	endNs := exportNs - int64(2*time.Second)
	cases := []struct {
		name      string
		late      time.Duration // receive time minus export time
		life      uint32        // ms
		basis     record.TimeBasis
		shiftedBy time.Duration
	}{
		// Within the threshold: the exporter's clock is believed.
		{"in step", 500 * time.Millisecond, 30000, record.TimeBasis_TIME_BASIS_EXPORTER, 0},
		// 5 minutes behind: believable to a reader, but a spike window
		// would be 5 minutes early; shifted.
		{"behind", 5 * time.Minute, 30000, record.TimeBasis_TIME_BASIS_SKEW_CORRECTED, 5 * time.Minute},
		// Ahead: the flow would end after it arrived.
		{"ahead", -time.Minute, 30000, record.TimeBasis_TIME_BASIS_SKEW_CORRECTED, -time.Minute},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, pub := newTestComponent(t, testConfig(t))
			flows := decodeAt(c, pub, kindNetFlow, [][]byte{v9Flow(100000-2000-tc.life, 98000)}, time.Unix(0, exportNs+int64(tc.late)))
			if len(flows) != 1 {
				t.Fatalf("%d flows", len(flows))
			}
			f := flows[0]
			wantEnd := endNs + int64(tc.shiftedBy)
			if f.TimeBasis != tc.basis || int64(f.TimeFlowEndNs) != wantEnd || f.ExporterClockSkewNs != int64(tc.shiftedBy) ||
				f.TimeFlowEndNs-f.TimeFlowStartNs != uint64(tc.life)*1e6 {
				t.Errorf("flow %s..%s basis %s shift %v; want end %s basis %s shift %v",
					time.Unix(0, int64(f.TimeFlowStartNs)).UTC(), time.Unix(0, int64(f.TimeFlowEndNs)).UTC(), f.TimeBasis,
					time.Duration(f.ExporterClockSkewNs), time.Unix(0, wantEnd).UTC(), tc.basis, tc.shiftedBy)
			}
		})
	}
	t.Run("life beyond an hour", func(t *testing.T) {
		c, pub := newTestComponent(t, testConfig(t))
		// Started 2 h of uptime earlier (wrapping past 0): a life
		// longer than record.FlowMaxLife is not believed.
		last := uint32(98000)
		flows := decodeAt(c, pub, kindNetFlow, [][]byte{v9Flow(last-7200000, last)}, time.Unix(0, exportNs))
		if f := flows[0]; f.TimeBasis != record.TimeBasis_TIME_BASIS_RECEIVED || int64(f.TimeFlowEndNs) != endNs {
			t.Errorf("basis %s, end %s: want received, the exporter's end kept", f.TimeBasis, time.Unix(0, int64(f.TimeFlowEndNs)).UTC())
		}
	})
}
